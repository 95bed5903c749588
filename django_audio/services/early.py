"""Starting the provider call while the row is still being stored (async paths only).

The async services validate a request and store its row in one worker-thread call, then call
the provider on the event loop. Storing (the audio file, the row, a commit) takes a few
milliseconds that the upstream request could already be using. :class:`EarlyCall` lets the
worker thread start the provider call on the event loop the moment the request has passed
every check, and carry on storing while the upstream works.

It only does so when nobody can veto the call: a connected ``pre_*`` receiver may cancel a
request (``RequestCancelled``), so with one connected the provider is called after the row is
stored, as before. Bad input never reaches the provider either way: the call starts after
validation, consent checks and the speech cache lookup.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from asgiref.sync import sync_to_async
from django.dispatch import Signal

__all__ = ["EarlyCall"]

T = TypeVar("T")
R = TypeVar("R")


class EarlyCall(Generic[T]):
    """A provider call that the worker thread may start before the row is stored.

    Create it on the event loop and run the storing code with :meth:`prepare`, which hands
    it this object (it calls :meth:`start` once the request is valid); then await
    :meth:`result` (which makes the call now if it was not started). If storing fails, the
    call is cancelled and whatever it opened is closed (:meth:`discard`).
    """

    def __init__(self, call: Callable[[Any], Awaitable[T]]) -> None:
        self._loop = asyncio.get_running_loop()
        self._call = call
        self._future: concurrent.futures.Future[T] | None = None
        self._discarded = False
        self._opened: list[T] = []

    @property
    def started(self) -> bool:
        """Whether the call was started early."""
        return self._future is not None

    def start(self, request: Any, *, unless: Signal, sender: Any) -> bool:
        """From the worker thread: start the call unless ``unless`` has receivers."""
        if unless.has_listeners(sender):
            return False

        async def run() -> T:
            opened = await self._call(request)
            self._opened.append(opened)
            if self._discarded:  # discarded while the call was finishing: close it here
                await _close(opened)
                raise asyncio.CancelledError
            return opened

        self._future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return True

    async def prepare(self, store: Callable[..., R], *args: Any) -> R:
        """``store(*args, self)`` in a worker thread; on any failure, :meth:`discard`."""
        try:
            return await sync_to_async(store)(*args, self)
        except BaseException:
            await self.discard()
            raise

    async def result(self, request: Any) -> T:
        """The call's result: the early one, or a call made now."""
        if self._future is None:
            return await self._call(request)
        return await asyncio.wrap_future(self._future)

    async def discard(self) -> None:
        """Cancel an early call; close what it returned if it had already finished.

        Runs on the event loop, as the call does, so the call either finished before (and
        what it opened is closed here) or finishes after and closes it itself.
        """
        self._discarded = True
        if self._future is not None:
            self._future.cancel()
        for opened in self._opened:
            await _close(opened)


async def _close(opened: Any) -> None:
    """Close a stream a provider call returned (results with nothing to close are left)."""
    close = getattr(opened, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
