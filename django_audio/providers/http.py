"""Shared httpx plumbing for providers that talk to an HTTP upstream.

One :class:`HttpTransport` per provider holds a pooled ``httpx.Client`` and one
``httpx.AsyncClient`` per running event loop (an async client must never be shared across
loops), sends :class:`HttpCall` descriptions with retries, maps failures to the typed errors
of :mod:`django_audio.exceptions`, and turns streamed responses into
:class:`~django_audio.contract.Stream` objects through a :class:`StreamDecoder`.

Retries: connection errors, 408, 409, 429 and 5xx are retried with exponential backoff and
full jitter, honouring ``retry-after-ms`` / ``Retry-After`` (bounded by ``max_retry_wait``)
and OpenAI's ``x-should-retry``. Read timeouts are not retried: the upstream may already be
doing the (billed) work. A stream is only retried before its response arrived; once it was
handed to the caller nothing is ever re-sent.

API keys are attached by :class:`ApiKeyAuth` per request, never logged, and scrubbed from
any upstream text that ends up in an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import mimetypes
import random
import threading
import time
import weakref
from collections.abc import (
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import httpx

from ..contract import AsyncStream, AudioFile, Stream
from ..exceptions import (
    AudioError,
    ProviderError,
    StreamInterrupted,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamConnectionError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamServerError,
    UpstreamTimeout,
)
from ..streaming.sse import ServerSentEvent, aiter_events, is_event_stream, iter_events

__all__ = [
    "ApiKeyAuth",
    "CoalescedStream",
    "HttpCall",
    "HttpConfig",
    "HttpTransport",
    "PayloadError",
    "Redactor",
    "RetryPolicy",
    "StreamDecoder",
    "StreamErrorEvent",
    "StreamTruncated",
    "build_request",
    "request_id_of",
    "retry_after",
]

logger = logging.getLogger("django_audio.providers.http")

T = TypeVar("T")

#: Statuses worth another attempt (besides connection errors).
RETRY_STATUSES = frozenset({408, 409, 429})
#: Longest upstream text kept in an exception body.
MAX_ERROR_TEXT = 2000


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class HttpConfig:
    """Connection settings of one upstream."""

    base_url: str
    #: Seconds to wait for each read (and write) once connected.
    timeout: float = 120.0
    #: Seconds to wait for a TCP/TLS connection (and for a free pooled connection).
    connect_timeout: float = 5.0
    max_connections: int = 100
    #: Idle connections kept for reuse (httpx's default); ``None``: up to ``max_connections``.
    #: httpcore 1.0.9 closes a freed connection whenever the pool holds more than this
    #: (busy ones included), so above it most new requests open a connection. Raising it is
    #: no free lunch either: every request and every release scans each idle connection
    #: against the whole pool, which made a burst of 100 new streams measurably slower.
    max_keepalive_connections: int | None = 20
    max_retries: int = 2
    max_retry_wait: float = 8.0
    #: First backoff step in seconds; doubles on every attempt (before jitter and the cap).
    backoff_base: float = 0.5
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)

    def timeouts(self) -> httpx.Timeout:
        """Separate connect / read / write / pool timeouts."""
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.timeout,
            write=self.timeout,
            pool=self.connect_timeout,
        )

    def limits(self) -> httpx.Limits:
        """Connection pool limits."""
        return httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections
            if self.max_keepalive_connections is None
            else min(self.max_keepalive_connections, self.max_connections),
        )


class ApiKeyAuth(httpx.Auth):
    """Adds the API key to each request (``Authorization: Bearer`` or Azure's ``api-key``).

    Kept out of the client's default headers so the key never shows in a repr.
    """

    def __init__(self, key: str, header: str = "Authorization", scheme: str | None = "Bearer"):
        self._key = key
        self._header = header
        self._scheme = scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the header and send."""
        value = f"{self._scheme} {self._key}" if self._scheme else self._key
        request.headers[self._header] = value
        yield request

    def __repr__(self) -> str:
        return f"<ApiKeyAuth header={self._header!r} key=[redacted]>"


class Redactor:
    """Removes secrets from upstream text before it reaches an exception or a log."""

    MASK = "[redacted]"

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Very short "secrets" would mangle ordinary words; no real key is that short.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        """``value`` with every secret masked."""
        for secret in self._secrets:
            value = value.replace(secret, self.MASK)
        return value

    def data(self, value: Any) -> Any:
        """A JSON-like value with every string masked."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


# --------------------------------------------------------------------------- retries


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the upstream asked us to wait (``retry-after-ms`` or ``Retry-After``)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        with contextlib.suppress(ValueError):
            return max(float(ms) / 1000.0, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    with contextlib.suppress(ValueError):
        return max(float(value), 0.0)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)
    return None


def _retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500


def _retryable_error(exc: httpx.HTTPError) -> bool:
    # Connection-level failures: the request never reached (or never got an answer
    # from) the upstream. Read/write timeouts are not retried on purpose.
    return isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.RemoteProtocolError
    ) or (isinstance(exc, httpx.NetworkError) and not isinstance(exc, httpx.TimeoutException))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by ``max_wait``."""

    max_retries: int = 2
    max_wait: float = 8.0
    base: float = 0.5

    def backoff(self, attempt: int) -> float:
        """A random wait in ``[0, min(max_wait, base * 2**attempt)]`` (full jitter)."""
        return random.uniform(0.0, min(self.max_wait, self.base * 2**attempt))

    def wait_after_response(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying this failed response, or ``None`` to give up."""
        if attempt >= self.max_retries:
            return None
        should = response.headers.get("x-should-retry", "").lower()
        if should == "false":
            return None
        if should != "true" and not _retryable_status(response.status_code):
            return None
        hinted = retry_after(response.headers)
        if hinted is not None:
            return min(hinted, self.max_wait)
        return self.backoff(attempt)

    def wait_after_error(self, exc: httpx.HTTPError, attempt: int) -> float | None:
        """Seconds to wait before retrying after a transport error, or ``None``."""
        if attempt >= self.max_retries or not _retryable_error(exc):
            return None
        return self.backoff(attempt)


# --------------------------------------------------------------------------- calls


def _content_type(audio: AudioFile) -> str:
    return (
        audio.content_type or mimetypes.guess_type(audio.filename)[0] or "application/octet-stream"
    )


@dataclass
class HttpCall:
    """One upstream request, described independently of sync or async sending."""

    method: str
    #: Path relative to the client's base URL (``audio/speech``).
    path: str
    json: Any = None
    #: Form fields; list values become repeated fields (``include[]``).
    data: Mapping[str, Any] | None = None
    #: File fields, streamed from disk or file objects in chunks.
    files: Mapping[str, AudioFile] | None = None
    params: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None

    @contextlib.contextmanager
    def opened(self) -> Iterator[dict[str, Any]]:
        """``build_request`` keyword arguments, with files open for the whole retry loop.

        httpx rewinds file objects before each attempt, so one open file serves them all.
        """
        with contextlib.ExitStack() as stack:
            kwargs: dict[str, Any] = {}
            if self.json is not None:
                kwargs["json"] = self.json
            if self.data:
                kwargs["data"] = {k: v for k, v in self.data.items() if v is not None}
            if self.files:
                kwargs["files"] = {
                    name: (audio.filename, stack.enter_context(audio.open()), _content_type(audio))
                    for name, audio in self.files.items()
                }
            if self.params:
                kwargs["params"] = {k: v for k, v in self.params.items() if v is not None}
            if self.headers:
                kwargs["headers"] = dict(self.headers)
            yield kwargs

    def describe(self) -> str:
        """``METHOD path`` for logs."""
        return f"{self.method} {self.path}"


#: Smallest write of a multipart request body (see :class:`CoalescedStream`).
SEND_CHUNK = 64 * 1024


class CoalescedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A request body whose small pieces are joined into writes of ``size`` bytes or more.

    httpx's multipart encoder yields every boundary, part header and field value as a
    piece of its own: about twenty for a small transcription form, each of which would
    otherwise cost a write (and a TCP segment) of its own. File contents still stream in
    chunks, so memory stays bounded for large uploads.
    """

    def __init__(self, stream: Any, size: int = SEND_CHUNK) -> None:
        self.stream, self.size = stream, size

    def __iter__(self) -> Iterator[bytes]:
        batch = _Batch(self.size)
        for piece in self.stream:
            if (data := batch.add(piece)) is not None:
                yield data
        if (data := batch.rest()) is not None:
            yield data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        batch = _Batch(self.size)
        async for piece in self.stream:
            if (data := batch.add(piece)) is not None:
                yield data
        if (data := batch.rest()) is not None:
            yield data


class _Batch:
    """The pieces of one pass over a body, waiting to be written together."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pieces: list[bytes] = []
        self.buffered = 0

    def add(self, piece: bytes) -> bytes | None:
        """Buffer ``piece``; returns the joined batch once it holds ``size`` bytes."""
        self.pieces.append(piece)
        self.buffered += len(piece)
        return self.rest() if self.buffered >= self.size else None

    def rest(self) -> bytes | None:
        """Whatever is buffered (``None`` when nothing is), emptying the batch."""
        data = b"".join(self.pieces) if self.pieces else None
        self.pieces, self.buffered = [], 0
        return data


def build_request(
    client: httpx.Client | httpx.AsyncClient, call: HttpCall, kwargs: dict[str, Any]
) -> httpx.Request:
    """The request of one attempt at ``call``; a multipart body is sent in few writes."""
    request = client.build_request(call.method, call.path, **kwargs)
    if call.files:
        request.stream = CoalescedStream(request.stream)
    return request


def request_id_of(response: httpx.Response) -> str | None:
    """The upstream's request id (``x-request-id``; Azure also sends ``apim-request-id``)."""
    value = response.headers.get("x-request-id") or response.headers.get("apim-request-id")
    return str(value) if value else None


# --------------------------------------------------------------------------- stream decoding


class PayloadError(ValueError):
    """Internal: an upstream payload does not follow the contract."""

    def __init__(self, detail: str, payload: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.payload = payload


class StreamTruncated(EOFError):
    """Internal: a stream ended before its final event."""


class StreamErrorEvent(Exception):
    """Internal: the upstream sent an ``{"error": …}`` event inside a stream."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        super().__init__("upstream error event")
        self.body = body


class StreamDecoder(Generic[T]):
    """Turns a streamed response into items; fed SSE events or raw byte chunks.

    The transport chooses by the response's Content-Type, so a decoder can accept both an
    event stream and a plain body (servers that ignore ``stream_format`` or ``stream``).
    Raise :class:`PayloadError`, :class:`StreamTruncated` or :class:`StreamErrorEvent`;
    the transport turns them into the public errors.
    """

    #: Content type the resulting stream advertises (``None``: the response's).
    content_type: str | None = None
    #: Content type of the response being decoded (set by the transport before feeding).
    response_content_type: str = ""

    def begin(self, response_content_type: str) -> None:
        """Called once with the response's Content-Type before anything is fed."""
        self.response_content_type = response_content_type

    def feed_event(self, event: ServerSentEvent) -> Iterable[T]:
        """Items for one SSE event."""
        raise PayloadError("unexpected event stream", event.data[:200])

    def feed_bytes(self, chunk: bytes) -> Iterable[T]:
        """Items for one chunk of a non-SSE body."""
        raise PayloadError("expected an event stream", chunk[:200].decode("utf-8", "replace"))

    def finish(self, sse: bool) -> Iterable[T]:
        """Items at the end of the body; raise :class:`StreamTruncated` if incomplete."""
        return ()


def parse_json_event(event: ServerSentEvent) -> dict[str, Any]:
    """The JSON object an SSE event carries; ``error`` events raise :class:`StreamErrorEvent`."""
    try:
        data = json.loads(event.data)
    except ValueError as exc:
        raise PayloadError("malformed JSON in event", event.data[:200]) from exc
    if not isinstance(data, dict):
        raise PayloadError("event is not a JSON object", event.data[:200])
    if event.event == "error" or (isinstance(data.get("error"), Mapping) and "type" not in data):
        raise StreamErrorEvent(data)
    return data


# --------------------------------------------------------------------------- transport


_STATUS_ERRORS: dict[int, type[ProviderError]] = {
    400: UpstreamBadRequest,
    401: UpstreamAuthError,
    403: UpstreamPermissionDenied,
    404: UpstreamNotFound,
    422: UpstreamBadRequest,
    429: UpstreamRateLimited,
}


class HttpTransport:
    """Pooled sync and per-loop async httpx clients, retries and error mapping."""

    def __init__(
        self,
        config: HttpConfig,
        *,
        provider: str,
        auth: httpx.Auth | None = None,
        secrets: Sequence[str | None] = (),
        user_agent: str = "django-audio",
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        # Custom transports (``httpx.MockTransport`` in tests, proxies, …).
        self._transport = transport
        self._async_transport = async_transport
        self.provider = provider
        self.policy = RetryPolicy(config.max_retries, config.max_retry_wait, config.backoff_base)
        self.redactor = Redactor(secrets)
        self._auth = auth
        self._headers = {"User-Agent": user_agent, **config.headers}
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        # id(loop) -> (weak loop, client): one AsyncClient per running event loop.
        self._aclients: dict[int, tuple[weakref.ref[asyncio.AbstractEventLoop], httpx.AsyncClient]]
        self._aclients = {}

    def __repr__(self) -> str:
        return f"<HttpTransport provider={self.provider!r} base_url={self.config.base_url!r}>"

    # ----------------------------------------------------------------- clients

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.config.base_url,
            "headers": self._headers,
            "params": dict(self.config.params),
            "auth": self._auth,
            "timeout": self.config.timeouts(),
            "limits": self.config.limits(),
            "follow_redirects": False,
        }

    @property
    def client(self) -> httpx.Client:
        """The pooled sync client (thread-safe; built on first use)."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(**self._client_kwargs(), transport=self._transport)
                client = self._client
        return client

    @property
    def aclient(self) -> httpx.AsyncClient:
        """The pooled async client of the running event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._aclients.get(id(loop))
            if entry is not None and entry[0]() is loop:
                return entry[1]
            # Forget clients of loops that are gone: their connections are unusable.
            for key, (ref, _) in list(self._aclients.items()):
                other = ref()
                if other is None or other.is_closed():
                    del self._aclients[key]
            client = httpx.AsyncClient(**self._client_kwargs(), transport=self._async_transport)
            self._aclients[id(loop)] = (weakref.ref(loop), client)
            return client

    def close(self) -> None:
        """Close the sync pool."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's async pool."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._aclients.pop(id(loop), None)
        if entry is not None and entry[0]() is loop:
            await entry[1].aclose()

    # ----------------------------------------------------------------- sending

    def send(self, call: HttpCall, *, stream: bool = False) -> httpx.Response:
        """Send with retries; the body is read unless ``stream``. Raises ProviderError."""
        client = self.client
        with call.opened() as kwargs:
            attempt = 0
            while True:
                request = build_request(client, call, kwargs)
                try:
                    response = client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    wait = self.policy.wait_after_error(exc, attempt)
                    if wait is None:
                        raise self.error_from_exception(exc) from exc
                    self._log_retry(call, attempt, wait, type(exc).__name__)
                    time.sleep(wait)
                    attempt += 1
                    continue
                if response.is_success:
                    if not stream:
                        try:
                            response.read()
                        except httpx.HTTPError as exc:
                            raise self.error_from_exception(exc, response) from exc
                        finally:
                            response.close()
                    return response
                with contextlib.suppress(httpx.HTTPError):
                    response.read()
                response.close()
                wait = self.policy.wait_after_response(response, attempt)
                if wait is None:
                    raise self.error_from_response(response)
                self._log_retry(call, attempt, wait, f"HTTP {response.status_code}")
                time.sleep(wait)
                attempt += 1

    async def asend(self, call: HttpCall, *, stream: bool = False) -> httpx.Response:
        """Async :meth:`send`."""
        client = self.aclient
        with call.opened() as kwargs:
            attempt = 0
            while True:
                request = build_request(client, call, kwargs)
                try:
                    response = await client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    wait = self.policy.wait_after_error(exc, attempt)
                    if wait is None:
                        raise self.error_from_exception(exc) from exc
                    self._log_retry(call, attempt, wait, type(exc).__name__)
                    await asyncio.sleep(wait)
                    attempt += 1
                    continue
                if response.is_success:
                    if not stream:
                        try:
                            await response.aread()
                        except httpx.HTTPError as exc:
                            raise self.error_from_exception(exc, response) from exc
                        finally:
                            await response.aclose()
                    return response
                with contextlib.suppress(httpx.HTTPError):
                    await response.aread()
                await response.aclose()
                wait = self.policy.wait_after_response(response, attempt)
                if wait is None:
                    raise self.error_from_response(response)
                self._log_retry(call, attempt, wait, f"HTTP {response.status_code}")
                await asyncio.sleep(wait)
                attempt += 1

    def _log_retry(self, call: HttpCall, attempt: int, wait: float, reason: str) -> None:
        logger.info(
            "Retrying %s for provider %r in %.3fs (retry %d of %d) after %s.",
            call.describe(),
            self.provider,
            wait,
            attempt + 1,
            self.config.max_retries,
            reason,
            extra={"provider": self.provider, "retry_wait": wait, "retry_attempt": attempt + 1},
        )

    # ----------------------------------------------------------------- parsing

    def json(self, response: httpx.Response) -> dict[str, Any]:
        """The response body as a JSON object, or :class:`UpstreamResponseError`."""
        try:
            data = response.json()
        except ValueError:
            raise self.malformed(response, "malformed JSON", response.text) from None
        if not isinstance(data, dict):
            raise self.malformed(response, "a JSON object was expected", response.text)
        return data

    def parse(self, response: httpx.Response, build: Callable[[dict[str, Any]], T]) -> T:
        """``build(json_body)``, turning missing or mistyped fields into a typed error."""
        data = self.json(response)
        try:
            return build(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise self.malformed(response, f"unexpected body ({exc!r})", response.text) from None

    def malformed(
        self, response: httpx.Response | None, detail: str, payload: str | None
    ) -> UpstreamResponseError:
        """An :class:`UpstreamResponseError` for a body that breaks the contract."""
        return UpstreamResponseError(
            f"Provider '{self.provider}' upstream sent a response that does not follow the "
            f"contract: {self.redactor.text(detail)}.",
            upstream_status=response.status_code if response is not None else None,
            body=self.redactor.text(payload[:MAX_ERROR_TEXT]) if payload else None,
            request_id=request_id_of(response) if response is not None else None,
            provider=self.provider,
        )

    # ----------------------------------------------------------------- errors

    def error_from_body(
        self,
        status: int | None,
        body: Mapping[str, Any] | str | None,
        request_id: str | None,
        headers: httpx.Headers | None = None,
    ) -> ProviderError:
        """The typed error for an upstream status and OpenAI error body."""
        err: Mapping[str, Any] = {}
        if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
            err = body["error"]
        elif isinstance(body, Mapping) and isinstance(body.get("message"), str):
            err = body  # some compatible servers send the error object unwrapped
        message = err.get("message") if isinstance(err.get("message"), str) else None
        if message is None and isinstance(body, str) and body.strip():
            message = body.strip()[:300]
        message = self.redactor.text(message or (f"HTTP {status}" if status else "error"))
        body = self.redactor.data(body)
        param = err.get("param") if isinstance(err.get("param"), str) else None
        code = err.get("code") if isinstance(err.get("code"), str) else None
        where = f"Provider '{self.provider}' upstream"
        kwargs: dict[str, Any] = {
            "upstream_status": status,
            "body": body,
            "request_id": request_id,
            "param": param,
            "code": code,
            "provider": self.provider,
        }
        cls = _STATUS_ERRORS.get(status or 0)
        if cls is UpstreamRateLimited:
            wait = retry_after(headers) if headers is not None else None
            return UpstreamRateLimited(
                f"{where} is rate limiting requests: {message}", retry_after=wait, **kwargs
            )
        if cls is not None:
            return cls(f"{where} refused the request: {message}", **kwargs)
        if status is None or status >= 500 or status in RETRY_STATUSES:
            return UpstreamServerError(f"{where} failed: {message}", **kwargs)
        if 400 <= status < 500:
            return UpstreamBadRequest(f"{where} refused the request: {message}", **kwargs)
        return UpstreamResponseError(f"{where} answered unexpectedly: {message}", **kwargs)

    def error_from_response(self, response: httpx.Response) -> ProviderError:
        """The typed error for a non-2xx response (its body already read)."""
        body: Mapping[str, Any] | str | None = None
        try:
            text = response.text
        except httpx.ResponseNotRead:
            text = ""
        if text:
            try:
                parsed = json.loads(text)
                body = parsed if isinstance(parsed, Mapping) else text[:MAX_ERROR_TEXT]
            except ValueError:
                body = text[:MAX_ERROR_TEXT]
        return self.error_from_body(
            response.status_code, body, request_id_of(response), response.headers
        )

    def error_from_exception(
        self,
        exc: httpx.HTTPError,
        response: httpx.Response | None = None,
        *,
        in_stream: bool = False,
    ) -> ProviderError:
        """The typed error for an httpx transport failure."""
        request_id = request_id_of(response) if response is not None else None
        status = response.status_code if response is not None else None
        detail = self.redactor.text(f"{type(exc).__name__}: {exc}".rstrip(": "))
        where = f"provider '{self.provider}' upstream"
        common: dict[str, Any] = {
            "upstream_status": status,
            "request_id": request_id,
            "provider": self.provider,
        }
        if isinstance(exc, httpx.TimeoutException):
            phase = {
                httpx.ConnectTimeout: "connecting to",
                httpx.ReadTimeout: "waiting for",
                httpx.WriteTimeout: "sending to",
                httpx.PoolTimeout: "waiting for a free connection to",
            }.get(type(exc), "talking to")
            return UpstreamTimeout(f"Timed out {phase} {where} ({detail}).", **common)
        if isinstance(exc, httpx.DecodingError):
            return UpstreamResponseError(
                f"Could not decode the body of {where}: {detail}.", **common
            )
        if in_stream:
            return StreamInterrupted(
                f"The stream from {where} broke off before its end ({detail}).", **common
            )
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError) and response is not None:
            return UpstreamResponseError(f"The response of {where} broke off ({detail}).", **common)
        return UpstreamConnectionError(f"Could not reach {where} ({detail}).", **common)

    # ----------------------------------------------------------------- streams

    def stream(self, response: httpx.Response, decoder: StreamDecoder[T]) -> Stream[T]:
        """A sync :class:`Stream` over an open response; closing it closes the response."""
        return Stream(
            self._pump(response, decoder),
            close=response.close,
            content_type=decoder.content_type or response.headers.get("content-type"),
            request_id=request_id_of(response),
        )

    def astream(self, response: httpx.Response, decoder: StreamDecoder[T]) -> AsyncStream[T]:
        """An :class:`AsyncStream` over an open response."""
        return AsyncStream(
            self._apump(response, decoder),
            aclose=response.aclose,
            content_type=decoder.content_type or response.headers.get("content-type"),
            request_id=request_id_of(response),
        )

    def _pump(self, response: httpx.Response, decoder: StreamDecoder[T]) -> Iterator[T]:
        sse = is_event_stream(response)
        decoder.begin(response.headers.get("content-type", ""))
        try:
            if sse:
                for event in iter_events(response):
                    yield from decoder.feed_event(event)
            else:
                for chunk in response.iter_bytes():
                    if chunk:
                        yield from decoder.feed_bytes(chunk)
            yield from decoder.finish(sse)
        except httpx.HTTPError as exc:
            raise self.error_from_exception(exc, response, in_stream=True) from exc
        except (PayloadError, StreamTruncated, StreamErrorEvent) as exc:
            raise self._stream_error(exc, response) from None
        finally:
            response.close()

    async def _apump(self, response: httpx.Response, decoder: StreamDecoder[T]) -> AsyncIterator[T]:
        sse = is_event_stream(response)
        decoder.begin(response.headers.get("content-type", ""))
        try:
            if sse:
                async for event in aiter_events(response):
                    for item in decoder.feed_event(event):
                        yield item
            else:
                async for chunk in response.aiter_bytes():
                    if chunk:
                        for item in decoder.feed_bytes(chunk):
                            yield item
            for item in decoder.finish(sse):
                yield item
        except httpx.HTTPError as exc:
            raise self.error_from_exception(exc, response, in_stream=True) from exc
        except (PayloadError, StreamTruncated, StreamErrorEvent) as exc:
            raise self._stream_error(exc, response) from None
        finally:
            await response.aclose()

    def _stream_error(self, exc: Exception, response: httpx.Response) -> AudioError:
        if isinstance(exc, StreamErrorEvent):
            return self.error_from_body(None, exc.body, request_id_of(response))
        if isinstance(exc, StreamTruncated):
            return StreamInterrupted(
                f"The stream from provider '{self.provider}' upstream ended before its final "
                "event.",
                upstream_status=response.status_code,
                request_id=request_id_of(response),
                provider=self.provider,
            )
        assert isinstance(exc, PayloadError)
        return self.malformed(response, exc.detail, exc.payload)
