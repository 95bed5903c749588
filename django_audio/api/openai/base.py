"""Plumbing shared by the ``/v1`` views: dispatch, auth, limits, bodies, streaming replies."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from functools import wraps
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, JsonResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import MethodNotAllowed

from ...conf import audio_settings
from ...exceptions import AudioError, InvalidRequest
from ...streaming.sse import EVENT_STREAM, encode_event
from ..auth import authenticate_request_sync
from ..errors import PayloadTooLarge, UnsupportedMediaType, error_parts, error_response
from ..ratelimit import check_rate_limit
from ..uploads import FORM_OVERHEAD, parse_multipart, parse_multipart_sync

logger = logging.getLogger("django_audio.api")

Handler = Callable[..., Awaitable[HttpResponseBase]]
View = Callable[..., HttpResponseBase]

__all__ = [
    "Form",
    "endpoint",
    "form_bool",
    "form_float",
    "json_body",
    "read_form",
    "sse_response",
]


#: Where :func:`endpoint` leaves a form it parsed for :func:`read_form`.
_PARSED_FORM = "_django_audio_form"

FormLimits = Callable[[], Mapping[str, int]]


def _admit(request: HttpRequest, count: bool, form: FormLimits | None) -> Any:
    """Authenticate, count the request against the rate limit, parse a multipart POST."""
    user = authenticate_request_sync(request)
    if not count:
        return user
    check_rate_limit(user)
    multipart = request.content_type == "multipart/form-data"
    if form is not None and request.method == "POST" and multipart:
        setattr(request, _PARSED_FORM, Form(*parse_multipart_sync(request, form())))
    return user


def endpoint(*, form: FormLimits | None = None, **handlers: Handler) -> View:
    """One async view per URL dispatching on the method (``GET=…, POST=…``).

    Every request is authenticated (API key or session) and counted against the user's rate
    limit; every error becomes OpenAI's error body. CSRF is checked by the authentication
    for session users only, since API clients send no cookies. With ``form`` (the file
    limits), a multipart POST is parsed in the same worker-thread call, once the caller is
    known, and :func:`read_form` hands the handler that form.
    """
    allowed = {method.upper(): handler for method, handler in handlers.items()}

    async def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            handler = allowed.get(str(request.method))
            # Key lookup, last-use stamp, rate limit (and a multipart body) in one hop.
            user = await sync_to_async(_admit)(request, handler is not None, form)
            if handler is None:
                raise MethodNotAllowed(str(request.method))
            return await handler(request, user, *args, **kwargs)
        except Exception as exc:
            response = error_response(exc)
            if response.status_code == 405:
                response["Allow"] = ", ".join(sorted(allowed))
            return response

    first = next(iter(allowed.values()))
    wraps(first)(view)
    view.__name__ = view.__qualname__ = first.__name__
    # Django serves coroutine functions as async views; the stubs only know sync ones.
    return cast(View, csrf_exempt(view))


# --------------------------------------------------------------------------- request bodies


def json_limit() -> int:
    """Largest JSON body: a base64 audio upload (4/3 of the file limit) plus the rest."""
    return audio_settings.MAX_UPLOAD_SIZE * 4 // 3 + FORM_OVERHEAD


async def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; 415 for another content type, 400 for malformed JSON."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {request.content_type or '(none)'!r}: "
            "this endpoint takes application/json."
        )
    limit = json_limit()
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(
            f"The request body is {length} bytes; the limit is {limit} bytes.",
            code="request_too_large",
        )
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(
            f"The request body is larger than the limit of {limit} bytes.",
            code="request_too_large",
        )
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            f"We could not parse the JSON body of your request ({exc}). "
            "The body must be a JSON object.",
            code="invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest(
            "We could not parse the JSON body of your request: expected a JSON object, got "
            f"{type(body).__name__ if body is not None else 'nothing'}.",
            code="invalid_json",
        )
    return body


class Form:
    """A parsed multipart form: text fields, file parts, and which names were used."""

    def __init__(self, data: QueryDict, files: MultiValueDict[str, UploadedFile[Any]]) -> None:
        self.data = data
        self.files = files

    def names(self) -> set[str]:
        """Every field and file name sent."""
        return set(self.data) | set(self.files)

    def text(self, name: str, *, required: bool = False) -> str | None:
        """A text field (``None`` when absent or empty unless ``required``)."""
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name)
            return None
        return str(value)

    def many(self, name: str) -> list[str]:
        """A repeated field sent as ``name[]`` (or plain ``name``)."""
        values = self.data.getlist(f"{name}[]") or self.data.getlist(name)
        return [str(v) for v in values]

    def upload(self, name: str) -> UploadedFile[Any]:
        """A required file part; a text field of that name means a file was expected."""
        upload = self.files.get(name)
        if upload is None:
            if name in self.data:
                raise InvalidRequest(
                    f"'{name}' must be a file upload (multipart file part), not a text field.",
                    param=name,
                )
            raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name)
        return upload

    def nested(self, name: str) -> dict[str, str]:
        """Fields sent as ``name[key]`` (how the SDKs flatten objects in forms)."""
        prefix = f"{name}["
        return {
            key[len(prefix) : -1]: str(self.data[key])
            for key in self.data
            if key.startswith(prefix) and key.endswith("]")
        }


async def read_form(request: HttpRequest, limits: Mapping[str, int]) -> Form:
    """Parse a multipart request, file parts to disk, each checked against ``limits``.

    A form already parsed by the :func:`endpoint` (given ``form=``) is returned as it is.
    """
    parsed = getattr(request, _PARSED_FORM, None)
    if isinstance(parsed, Form):
        return parsed
    data, files = await parse_multipart(request, limits)
    return Form(data, files)


def form_bool(value: str | None, param: str) -> bool | None:
    """``true``/``false`` (any case, or 1/0) of a form field."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise InvalidRequest(f"'{param}' must be true or false; got {value!r}.", param=param)


def form_float(value: str | None, param: str) -> float | None:
    """A number of a form field."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidRequest(f"'{param}' must be a number; got {value!r}.", param=param) from None


def reject_unknown(names: set[str], known: set[str]) -> None:
    """400 naming the first parameter that is not part of the operation."""
    for name in sorted(names - known):
        raise InvalidRequest(f"Unrecognized request argument supplied: {name}", param=name)


# --------------------------------------------------------------------------- streaming replies

#: Headers every streamed reply carries: no proxy buffering, no caching.
STREAM_HEADERS = {"X-Accel-Buffering": "no", "Cache-Control": "no-cache"}


def streaming_response(
    chunks: AsyncIterator[bytes], content_type: str, headers: Mapping[str, str] | None = None
) -> StreamingHttpResponse:
    """A reply sent chunk by chunk as ``chunks`` yields (async: never buffered by Django)."""
    response = StreamingHttpResponse(chunks, content_type=content_type)
    for name, value in {**STREAM_HEADERS, **(headers or {})}.items():
        response[name] = value
    return response


def sse_response(
    events: AsyncIterator[bytes], headers: Mapping[str, str] | None = None
) -> StreamingHttpResponse:
    """An event stream of already-encoded SSE frames."""
    return streaming_response(events, f"{EVENT_STREAM}; charset=utf-8", headers)


def error_event(exc: BaseException) -> bytes:
    """An SSE frame ``data: {"error": {...}}`` (what the SDKs raise as ``APIError``)."""
    return encode_event(error_parts(exc).body)


async def relay(
    stream: Any,
    encode: Callable[[Any], bytes],
    *,
    sse_errors: bool,
    tail: bytes = b"",
) -> AsyncIterator[bytes]:
    """Yield ``encode(item)`` for each item of a service stream, closing it in every case.

    A client that goes away cancels this generator (``CancelledError``) and ``aclose()``
    closes the upstream request. An error mid-stream becomes an error event in an event
    stream; in raw audio it cuts the body short so the client sees it incomplete.
    """
    try:
        async for item in stream:
            yield encode(item)
        if tail:
            yield tail
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if isinstance(exc, AudioError):
            logger.warning("Stream ended by an upstream error: %s", exc)
        if not sse_errors:
            raise
        yield error_event(exc)  # unexpected errors are logged there, and told as a 500
    finally:
        await stream.aclose()


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> JsonResponse:
    """A JSON reply (dicts and lists alike)."""
    response = JsonResponse(data, status=status, safe=False)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
