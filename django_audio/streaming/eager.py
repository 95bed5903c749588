"""Run a coroutine in the caller's step, and in a task only if it has to wait.

Relaying one caption event to a viewer is a websocket send that, on uvicorn and daphne,
never waits: the frame goes into the transport's buffer. Handing it to another task costs a
trip through the event loop, behind everything else ready at that moment — under load, most
of the relay's added latency. :func:`run_eagerly` runs the send at once instead, like
Python 3.12's eager tasks, on every supported Python; a send that does wait (a server
applying back-pressure) is finished by a task, so the caller never blocks on a slow client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["run_eagerly"]

logger = logging.getLogger("django_audio.streaming")


def run_eagerly(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[None] | None:
    """Run ``coro`` now; ``None`` if it finished, else the task that finishes it.

    It runs in the caller's context up to its first wait. Its result is discarded; an
    exception is logged (raised synchronously, or by the task), never propagated, so one
    failing client cannot break the delivery to the others.
    """
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return None
    except Exception:
        logger.exception("An eagerly run coroutine failed")
        return None
    task = asyncio.ensure_future(_finish(coro, waiting_on))
    task.add_done_callback(_log_failure)
    return task


async def _finish(coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
    """Drive ``coro`` on from where it first waited, as its own task would have."""
    while True:
        error = await _wait(waiting_on)
        try:
            waiting_on = coro.send(None) if error is None else coro.throw(error)
        except StopIteration:
            return


async def _wait(waiting_on: Any) -> BaseException | None:
    """Wait for what the coroutine yielded; returns an exception to throw into it, if any."""
    if waiting_on is not None and not asyncio.isfuture(waiting_on):
        return RuntimeError(f"Bad yield from an eagerly run coroutine: {waiting_on!r}")
    try:
        if waiting_on is None:  # a bare yield (asyncio.sleep(0)): give way once
            await asyncio.sleep(0)
        else:
            # Taken over, as a Task takes over what its coroutine yields; awaiting it again
            # with the flag still set would be refused ("await wasn't used with future").
            waiting_on._asyncio_future_blocking = False
            await waiting_on
    except asyncio.CancelledError as exc:
        # This task was cancelled. If the future was cancelled with it, resuming the
        # coroutine re-raises inside it; otherwise the cancellation must be thrown in.
        if waiting_on is None or not waiting_on.cancelled():
            return exc
    except BaseException:  # noqa: S110 - the future's own error: resuming re-raises it
        pass
    return None


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("An eagerly run coroutine failed", exc_info=task.exception())
