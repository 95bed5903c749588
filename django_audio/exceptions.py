"""One error tree for django-audio.

Every error a caller can see at run time derives from :class:`AudioError` and also from
the builtin with the same meaning (``ValueError``, ``TimeoutError`` …), so callers can catch
either. Configuration problems are :class:`ConfigurationError` (an ``ImproperlyConfigured``)
and live outside the tree: they are reported by ``manage.py check``, not at request time.

Errors become HTTP responses or websocket close codes only at the edge, in one place each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "AudioError",
    "AuthenticationError",
    "ConfigurationError",
    "ConsentError",
    "InvalidRequest",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDeniedError",
    "ProviderError",
    "RateLimited",
    "RequestCancelled",
    "StreamInterrupted",
    "UnsupportedFeature",
    "UnsupportedMediaType",
    "UpstreamAuthError",
    "UpstreamBadRequest",
    "UpstreamConnectionError",
    "UpstreamNotFound",
    "UpstreamPermissionDenied",
    "UpstreamRateLimited",
    "UpstreamResponseError",
    "UpstreamServerError",
    "UpstreamTimeout",
]


class ConfigurationError(ImproperlyConfigured):
    """The ``DJANGO_AUDIO`` setting or a provider's options are wrong."""


class AudioError(Exception):
    """Base of every run-time error raised by django-audio.

    ``status`` is the HTTP status the edge should answer with; ``error_type``, ``param`` and
    ``code`` fill OpenAI's error body ``{"error": {"message", "type", "param", "code"}}``.
    """

    status: int = 500
    error_type: str = "server_error"
    default_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.provider = provider

    def to_dict(self) -> dict[str, Any]:
        """OpenAI's error body for this error."""
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(AudioError, ValueError):
    """A parameter is invalid; raised before any upstream call. ``param`` names it."""

    status = 400
    error_type = "invalid_request_error"


class UnsupportedFeature(AudioError, NotImplementedError):
    """The provider cannot do what was asked (a capability or an option it lacks)."""

    status = 400
    error_type = "invalid_request_error"
    default_code = "unsupported_feature"


class NotFound(AudioError, LookupError):
    """A local object (transcript, voice, consent …) does not exist or is not yours."""

    status = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class ConsentError(AudioError, PermissionError):
    """A custom voice was used without an approved consent, or the voice is disabled."""

    status = 403
    error_type = "invalid_request_error"
    default_code = "consent_required"


class RequestCancelled(AudioError):
    """A ``pre_*`` signal receiver cancelled the operation."""

    status = 400
    error_type = "invalid_request_error"
    default_code = "cancelled"


# Raised at the HTTP edge (authentication, limits, content types).


class AuthenticationError(AudioError, PermissionError):
    """No API key, or one that is unknown, revoked or belongs to an inactive user (401)."""

    status = 401
    error_type = "invalid_request_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(AudioError, PermissionError):
    """The user is authenticated but may not do this (403), e.g. a failed CSRF check."""

    status = 403
    error_type = "permission_error"
    default_code = "permission_denied"


class PayloadTooLarge(InvalidRequest):
    """The request body or an uploaded file is over its limit (413)."""

    status = 413
    default_code = "file_too_large"


class UnsupportedMediaType(InvalidRequest):
    """The request's ``Content-Type`` is not what the endpoint accepts (415)."""

    status = 415
    default_code = "unsupported_media_type"


class RateLimited(AudioError):
    """The user sent too many requests; ``retry_after`` is in seconds (429)."""

    status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ProviderError(AudioError):
    """The upstream provider failed. Carries its status, error body and request id.

    The API key is never part of the message or the attributes.
    """

    status = 502
    error_type = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int | None = None,
        body: Mapping[str, Any] | str | None = None,
        request_id: str | None = None,
        param: str | None = None,
        code: str | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code, provider=provider)
        self.upstream_status = upstream_status
        self.body = body
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.upstream_status is not None:
            parts.append(f"(upstream status {self.upstream_status})")
        if self.request_id:
            parts.append(f"[request id {self.request_id}]")
        return " ".join(parts)


class UpstreamBadRequest(ProviderError, ValueError):
    """The upstream rejected the request as invalid (400/422)."""

    status = 400
    error_type = "invalid_request_error"


class UpstreamAuthError(ProviderError, PermissionError):
    """The upstream refused the provider's credentials (401). Never retried."""

    status = 502
    error_type = "upstream_error"
    default_code = "upstream_authentication_failed"


class UpstreamPermissionDenied(ProviderError, PermissionError):
    """The upstream forbids this operation (403)."""

    status = 403
    error_type = "permission_error"


class UpstreamNotFound(ProviderError, LookupError):
    """The upstream does not know the object or model (404)."""

    status = 404
    error_type = "invalid_request_error"


class UpstreamRateLimited(ProviderError):
    """The upstream kept answering 429 after the retries. ``retry_after`` is in seconds."""

    status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UpstreamServerError(ProviderError):
    """The upstream kept failing with 5xx (or 408/409) after the retries."""

    status = 502


class UpstreamTimeout(ProviderError, TimeoutError):
    """The upstream did not answer in time."""

    status = 504
    error_type = "timeout_error"
    default_code = "upstream_timeout"


class UpstreamConnectionError(ProviderError, ConnectionError):
    """The upstream could not be reached."""

    status = 502
    default_code = "upstream_unreachable"


class UpstreamResponseError(ProviderError):
    """The upstream answered with something that does not follow the contract."""

    status = 502
    default_code = "upstream_malformed_response"


class StreamInterrupted(ProviderError):
    """A stream ended before its final event. Events already delivered stay delivered."""

    status = 502
    default_code = "upstream_stream_interrupted"
