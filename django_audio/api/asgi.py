"""ASGI middleware refusing oversized request bodies before Django reads them.

Django's ASGI handler reads the whole body (to a spooled temporary file) before any view
runs, so a view cannot stop an oversized upload early. Wrap the application::

    application = BodyLimitMiddleware(get_asgi_application(), prefixes=("/v1/",))

A request under one of ``prefixes`` whose ``Content-Length`` is over the limit (by default
``max(MAX_UPLOAD_SIZE, MAX_VOICE_SAMPLE_SIZE)`` plus 1 MiB for the other form fields) is
answered 413 at once, its body unread; a chunked body is cut off the moment it passes the
limit. The answer is OpenAI's error body.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from .uploads import max_body_size

__all__ = ["BodyLimitMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _too_large_body(limit: int) -> bytes:
    return json.dumps(
        {
            "error": {
                "message": f"The request body is larger than the limit of {limit} bytes.",
                "type": "invalid_request_error",
                "param": None,
                "code": "request_too_large",
            }
        }
    ).encode()


class BodyLimitMiddleware:
    """Answer 413 to bodies over the limit under ``prefixes`` without reading them."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefixes: Sequence[str] = ("/v1/",),
        limit: int | Callable[[], int] | None = None,
    ) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self._limit = limit

    @property
    def limit(self) -> int:
        """The body limit in bytes (read from the settings on every request by default)."""
        if self._limit is None:
            return max_body_size()
        return self._limit() if callable(self._limit) else self._limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the bytes as they arrive."""
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        limit = self.limit
        length = _content_length(scope)
        if length is not None and length > limit:
            await _reject(send, limit)
            return
        received = 0
        cut = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, cut
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django sees a disconnect and stops reading; we answer below.
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if cut and not started:
            await _reject(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reject(send: Send, limit: int) -> None:
    body = _too_large_body(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
