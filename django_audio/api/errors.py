"""The one place where errors become HTTP responses, in OpenAI's error shape.

Every error body is ``{"error": {"message", "type", "param", "code"}}``. :func:`error_parts`
decides status, body and headers for django-audio's errors, Django's and DRF's;
:func:`error_response` wraps them in a ``JsonResponse`` for plain views and
:func:`exception_handler` in a DRF ``Response`` (set it as DRF's ``EXCEPTION_HANDLER`` or per
view). An unexpected exception is logged and answered with a generic 500 body whose text
reveals nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core import exceptions as django_exceptions
from django.http import Http404, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ..exceptions import (
    AudioError,
    AuthenticationError,
    InvalidRequest,
    PayloadTooLarge,
    PermissionDeniedError,
    RateLimited,
    UnsupportedMediaType,
    UpstreamRateLimited,
)

__all__ = [
    "AuthenticationError",
    "ErrorParts",
    "PayloadTooLarge",
    "PermissionDeniedError",
    "RateLimited",
    "UnsupportedMediaType",
    "error_parts",
    "error_response",
    "exception_handler",
]

logger = logging.getLogger("django_audio.api")


# --------------------------------------------------------------------------- mapping

#: Error codes of ``InvalidRequest`` that mean "too large" rather than "invalid" (→ 413).
_TOO_LARGE_CODES = frozenset({"file_too_large", "request_too_large"})


@dataclass
class ErrorParts:
    """Status, OpenAI error body and extra headers of one error response."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _body(message: str, error_type: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def _retry_after(seconds: float | None) -> dict[str, str]:
    if seconds is None or seconds < 0:
        return {}
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def _first_detail(detail: Any, path: str = "") -> tuple[str | None, str]:
    """The first (param, message) of a DRF/Django validation detail (dicts name fields)."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = str(key)
            if name in ("non_field_errors", "__all__"):
                param, message = _first_detail(value, path)
                return (param or None), message
            return _first_detail(value, f"{path}.{name}" if path else name)
        return (path or None), "Invalid request."
    if isinstance(detail, list | tuple):
        if not detail:
            return (path or None), "Invalid request."
        if isinstance(detail[0], Mapping | list | tuple):
            return _first_detail(detail[0], path)
        return (path or None), str(detail[0])
    return (path or None), str(detail)


def _audio_error(exc: AudioError) -> ErrorParts:
    status = exc.status
    if isinstance(exc, InvalidRequest) and exc.code in _TOO_LARGE_CODES:
        status = 413
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | UpstreamRateLimited):
        headers = _retry_after(exc.retry_after) or {"Retry-After": "1"}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return ErrorParts(status, exc.to_dict(), headers)


def _drf_error(exc: drf_exceptions.APIException) -> ErrorParts:
    status = int(exc.status_code)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else None
    if isinstance(exc, drf_exceptions.ValidationError):
        param, message = _first_detail(exc.detail)
        first_code = _first_detail(codes)[1] if not isinstance(codes, str) else codes
        return ErrorParts(400, _body(message, "invalid_request_error", param, first_code))
    message = str(exc.detail) if not isinstance(exc.detail, list | dict) else str(exc)
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return ErrorParts(
            401,
            _body(message, "invalid_request_error", None, code or "invalid_api_key"),
            {"WWW-Authenticate": 'Bearer realm="api"'},
        )
    if isinstance(exc, drf_exceptions.Throttled):
        return ErrorParts(
            429,
            _body(message, "rate_limit_error", None, "rate_limit_exceeded"),
            _retry_after(getattr(exc, "wait", None)) or {"Retry-After": "1"},
        )
    if isinstance(exc, drf_exceptions.PermissionDenied):
        return ErrorParts(403, _body(message, "permission_error", None, code))
    if isinstance(exc, drf_exceptions.NotFound):
        return ErrorParts(404, _body(message, "invalid_request_error", None, "not_found"))
    error_type = "server_error" if status >= 500 else "invalid_request_error"
    return ErrorParts(status, _body(message, error_type, None, code))


def error_parts(exc: BaseException) -> ErrorParts:
    """Status, body and headers for ``exc``; unknown exceptions become a logged 500."""
    if isinstance(exc, AudioError):
        return _audio_error(exc)
    if isinstance(exc, drf_exceptions.APIException):
        return _drf_error(exc)
    if isinstance(exc, Http404):
        message = str(exc) or "Not found."
        return ErrorParts(404, _body(message, "invalid_request_error", None, "not_found"))
    if isinstance(exc, django_exceptions.ObjectDoesNotExist):
        return ErrorParts(404, _body("Not found.", "invalid_request_error", None, "not_found"))
    if isinstance(exc, django_exceptions.PermissionDenied):
        message = str(exc) or "You do not have permission to perform this action."
        return ErrorParts(403, _body(message, "permission_error", None, "permission_denied"))
    if isinstance(exc, django_exceptions.RequestDataTooBig):
        return ErrorParts(
            413,
            _body(
                "The request body is larger than the server accepts.",
                "invalid_request_error",
                None,
                "request_too_large",
            ),
        )
    if isinstance(exc, django_exceptions.TooManyFieldsSent | django_exceptions.TooManyFilesSent):
        return ErrorParts(400, _body(str(exc), "invalid_request_error", None, "too_many_fields"))
    if isinstance(exc, django_exceptions.ValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        param, message = _first_detail(detail)
        return ErrorParts(400, _body(message, "invalid_request_error", param, "invalid_value"))
    if isinstance(exc, MultiPartParserError | UnreadablePostError):
        return ErrorParts(
            400,
            _body(
                f"The multipart body could not be parsed: {exc}",
                "invalid_request_error",
                None,
                "invalid_multipart",
            ),
        )
    if isinstance(exc, django_exceptions.SuspiciousOperation):
        return ErrorParts(400, _body("Bad request.", "invalid_request_error", None, None))
    logger.error("Unexpected error in the audio API", exc_info=exc)
    return ErrorParts(
        500,
        _body("The server had an error while processing your request.", "server_error", None, None),
    )


def error_response(exc: BaseException) -> JsonResponse:
    """A ``JsonResponse`` in OpenAI's error shape for ``exc`` (for plain Django views)."""
    parts = error_parts(exc)
    response = JsonResponse(parts.body, status=parts.status)
    for name, value in parts.headers.items():
        response[name] = value
    return response


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF ``EXCEPTION_HANDLER`` answering every error in OpenAI's error shape."""
    parts = error_parts(exc)
    set_rollback()
    return Response(parts.body, status=parts.status, headers=parts.headers)
