"""API-key authentication (``Authorization: Bearer sk-audio-…``) and session fallback.

Plain async views call :func:`authenticate_request`; DRF views list
:class:`ApiKeyAuthentication` (then DRF's ``SessionAuthentication`` for browsers). A key's
``last_used_at`` is written at most once a minute. Raw keys are never logged and never put in
an error message.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from rest_framework import authentication
from rest_framework import exceptions as drf_exceptions
from rest_framework.request import Request

from ..models import ApiKey
from .errors import AuthenticationError, PermissionDeniedError

__all__ = [
    "ApiKeyAuthentication",
    "authenticate_request",
    "authenticate_request_sync",
    "bearer_token",
]

#: Methods that change nothing, so a session user needs no CSRF token for them.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

_MISSING = (
    "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' "
    "(create one with 'manage.py create_audio_api_key USERNAME')."
)
_INVALID = "Incorrect API key provided. Keys can be created and revoked by an administrator."


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (``""`` if empty), else ``None``."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if not isinstance(header, str):
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _check_key(key: ApiKey | None) -> Any:
    if key is None or not key.user.is_active:
        raise AuthenticationError(_INVALID)
    return key.user


def _csrf_failure(request: HttpRequest) -> str | None:
    """The reason the CSRF check fails for ``request``, or ``None`` when it passes."""

    def _no_response(request: HttpRequest) -> None:
        return None  # pragma: no cover - never called: only process_view is used

    check = CsrfViewMiddleware(_no_response)  # type: ignore[arg-type]
    check.process_request(request)
    response = check.process_view(request, None, (), {})  # type: ignore[arg-type]
    if response is None:
        return None
    return str(getattr(response, "reason_phrase", "")) or "CSRF verification failed."


async def authenticate_request(request: HttpRequest) -> Any:
    """The user behind ``request`` (API key, else session), or raise ``AuthenticationError``.

    Sets ``request.user`` and ``request.auth`` (the :class:`ApiKey`, ``None`` for sessions).
    Session-authenticated unsafe requests must pass Django's CSRF check.
    """
    token = bearer_token(request)
    if token is not None:
        if not token:
            raise AuthenticationError(_INVALID)
        key = await ApiKey.objects.aauthenticate(token)
        user = _check_key(key)
        assert key is not None
        await key.atouch()
        request.user = user
        request.auth = key  # type: ignore[attr-defined]
        return user
    auser = getattr(request, "auser", None)
    user = await auser() if auser is not None else None
    if user is None or not user.is_authenticated:
        raise AuthenticationError(_MISSING, code="missing_api_key")
    if request.method not in SAFE_METHODS:
        reason = await sync_to_async(_csrf_failure)(request)
        if reason is not None:
            raise PermissionDeniedError(f"CSRF Failed: {reason}", code="csrf_failed")
    request.user = user
    request.auth = None  # type: ignore[attr-defined]
    return user


def authenticate_request_sync(request: HttpRequest) -> Any:
    """Sync :func:`authenticate_request` for plain sync views."""
    token = bearer_token(request)
    if token is not None:
        if not token:
            raise AuthenticationError(_INVALID)
        key = ApiKey.objects.authenticate(token)
        user = _check_key(key)
        assert key is not None
        key.touch()
        request.user = user
        request.auth = key  # type: ignore[attr-defined]
        return user
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise AuthenticationError(_MISSING, code="missing_api_key")
    if request.method not in SAFE_METHODS:
        reason = _csrf_failure(request)
        if reason is not None:
            raise PermissionDeniedError(f"CSRF Failed: {reason}", code="csrf_failed")
    request.auth = None  # type: ignore[attr-defined]
    return user


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication by ``Authorization: Bearer <API key>``; other schemes pass through."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        """``(user, key)`` for a valid key, ``None`` without a bearer header, else 401."""
        token = bearer_token(request._request)
        if token is None:
            return None
        key = ApiKey.objects.authenticate(token) if token else None
        if key is None or not key.user.is_active:
            raise drf_exceptions.AuthenticationFailed(_INVALID, code="invalid_api_key")
        key.touch()
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        """Makes DRF answer 401 (not 403) when authentication is missing."""
        return f'{self.keyword} realm="api"'
