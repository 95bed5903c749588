"""Open upstream streams, sync and async, that can be closed to cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Stream(Generic[T]):
    """An open upstream stream (sync). Iterate it; ``close()`` cancels the upstream request.

    The request was already sent and its status checked when the stream was returned, so
    errors such as 400 or 401 surface at the call, not at the first ``next()``.
    """

    def __init__(
        self,
        items: Iterator[T],
        *,
        close: Callable[[], None] | None = None,
        content_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self._items = items
        self._close = close
        self.content_type = content_type
        self.request_id = request_id

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        return next(self._items)

    def close(self) -> None:
        """Stop reading and release the upstream connection."""
        close = getattr(self._items, "close", None)
        if close is not None:
            close()
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream(Generic[T]):
    """An open upstream stream (async). ``aclose()`` cancels the upstream request."""

    def __init__(
        self,
        items: AsyncIterator[T],
        *,
        aclose: Callable[[], Any] | None = None,
        content_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self._items = items
        self._aclose = aclose
        self.content_type = content_type
        self.request_id = request_id

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return await self._items.__anext__()

    async def aclose(self) -> None:
        """Stop reading and release the upstream connection."""
        inner = getattr(self._items, "aclose", None)
        if inner is not None:
            await inner()
        if self._aclose is not None:
            result = self._aclose()
            self._aclose = None
            if hasattr(result, "__await__"):
                await result

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
