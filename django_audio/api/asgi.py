"""ASGI middleware refusing oversized request bodies before Django reads them.

Django's ASGI handler reads the whole body (to a spooled temporary file) before any view
runs, so a view cannot stop an oversized upload early. Wrap the application::

    application = BodyLimitMiddleware(get_asgi_application(), prefixes=("/v1/",))

A request under one of ``prefixes`` whose ``Content-Length`` is over the limit (by default
``max(MAX_UPLOAD_SIZE, MAX_VOICE_SAMPLE_SIZE)`` plus 1 MiB for the other form fields) is
answered 413 at once, its body unread; a chunked body is cut off the moment it passes the
limit. The answer is OpenAI's error body.

:class:`OpenAIFastPath` (opt-in) serves Bearer-authenticated requests for the OpenAI-compatible
views through a Django handler without the project's middleware chain, which under ASGI costs
thread hops per sync-only middleware; everything else goes to the full project application::

    application = BodyLimitMiddleware(OpenAIFastPath(get_asgi_application()))
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, ResolverMatch, resolve

from .uploads import max_body_size

__all__ = ["BodyLimitMiddleware", "OpenAIFastPath", "WorkerThreads"]

#: The URL namespace (``app_name``) of the OpenAI-compatible views.
OPENAI_APP_NAME = "django_audio_openai"
_SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
#: Scope key carrying the URL match from the router to the lean handler.
_MATCH_KEY = "django_audio.resolver_match"

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


# --------------------------------------------------------------------------- the lean path


class WorkerThreads:
    """A few long-lived threads, each lent to one request at a time for its sync work.

    Django's ASGI handler runs each request's sync code (ORM, signals) in a thread made for
    that request, so every request opens a new database connection and ``CONN_MAX_AGE`` has
    nothing to reuse. Lending a request one of these threads instead (its thread-sensitive
    context) keeps that request's calls on one thread as before, while the thread, and the
    connection it holds, outlives the request: ``request_started`` / ``request_finished``
    still close connections older than ``CONN_MAX_AGE`` (every one, at Django's default of
    0), exactly as under a threaded WSGI server. When all ``size`` threads are busy, a request
    gets a thread of its own, as Django would give it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._free: list[ThreadSensitiveContext] = []
        self._made = 0

    @contextlib.asynccontextmanager
    async def lend(self) -> AsyncIterator[None]:
        """Run the block's thread-sensitive calls on a pooled thread (or a new one)."""
        if self._free:
            context = self._free.pop()  # the most recently used: its connection is warm
        elif self._made < self.size:
            self._made += 1
            context = ThreadSensitiveContext()
        else:
            async with ThreadSensitiveContext():
                yield
            return
        # The context is never exited, so asgiref keeps its one-thread executor alive.
        token = SyncToAsync.thread_sensitive_context.set(context)
        try:
            yield
        finally:
            SyncToAsync.thread_sensitive_context.reset(token)
            self._free.append(context)


class _LeanHandler(ASGIHandler):
    """Django's ASGI handler with no project middleware: only the host and security checks.

    ``request_started`` / ``request_finished`` still fire (database connections are closed or
    reused as usual); ``ALLOWED_HOSTS`` is still enforced; when ``SecurityMiddleware`` is in
    ``MIDDLEWARE`` its request and response hooks (HTTPS redirect, HSTS, ``nosniff``,
    referrer and cross-origin-opener policies) run inline, without a thread hop, since they do
    no I/O.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        """Build the chain ``host check → [security] → view``; nothing from ``MIDDLEWARE``."""
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        get_response = self._get_response_async  # type: ignore[attr-defined]
        security = (
            SecurityMiddleware(get_response)
            if _SECURITY_MIDDLEWARE in settings.MIDDLEWARE
            else None
        )

        async def chain(request: HttpRequest) -> HttpResponseBase:
            request.get_host()  # DisallowedHost → 400, as CommonMiddleware would do
            if security is not None:
                redirect = security.process_request(request)
                if redirect is not None:
                    return redirect
            response: HttpResponseBase = await get_response(request)
            if security is not None:
                # Only sets headers; typed for HttpResponse but fine for streaming replies.
                response = security.process_response(request, response)  # type: ignore[arg-type]
            return response

        self._middleware_chain = convert_exception_to_response(chain)

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        """The match :class:`OpenAIFastPath` made when routing (no second URL resolution)."""
        match = getattr(request, "scope", {}).get(_MATCH_KEY)
        if not isinstance(match, ResolverMatch):
            return super().resolve_request(request)
        request.resolver_match = match
        return match

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, threads: WorkerThreads
    ) -> None:
        """Handle one request with its sync work on a thread lent by ``threads``."""
        async with threads.lend():
            await self.handle(scope, receive, send)  # type: ignore[arg-type]


def _authorization_is_bearer(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            return bytes(value).strip()[:7].lower() == b"bearer "
    return False


class OpenAIFastPath:
    """Serve Bearer requests for the OpenAI-compatible views without the middleware chain.

    A request goes the lean way only when it is HTTP, carries ``Authorization: Bearer …`` and
    its path resolves (in ``ROOT_URLCONF``) to a view of ``django_audio.api.openai.urls``.
    Those views authenticate the key themselves, need no session, CSRF token or messages, and
    turn every error into OpenAI's error body. Everything else — session-authenticated browser
    calls (which keep their CSRF check), other URLs, websockets, lifespan — goes to ``app``.
    Wrap the result in :class:`BodyLimitMiddleware` so the body limit covers both paths.

    The lean requests run their sync work on ``threads`` long-lived :class:`WorkerThreads`,
    so with ``CONN_MAX_AGE`` above 0 they reuse their database connections.
    """

    def __init__(self, app: ASGIApp, *, threads: int = 8) -> None:
        self.app = app
        self.threads = WorkerThreads(threads)
        self._lean: _LeanHandler | None = None

    def _lean_match(self, scope: Scope) -> ResolverMatch | None:
        """The URL match of a request that goes the lean way, else ``None``."""
        if scope["type"] != "http" or not _authorization_is_bearer(scope):
            return None
        path = str(scope.get("path", ""))
        root = str(scope.get("root_path", ""))
        if root and path.startswith(root):
            path = path[len(root) :]
        try:
            match = resolve(path)
        except Resolver404:
            return None
        return match if OPENAI_APP_NAME in match.app_names else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one connection: the lean handler or the full application."""
        match = self._lean_match(scope)
        if match is None:
            await self.app(scope, receive, send)
            return
        if self._lean is None:
            # Built lazily: the settings and URLconf must be loaded first.
            self._lean = _LeanHandler()
        await self._lean.serve({**scope, _MATCH_KEY: match}, receive, send, self.threads)
