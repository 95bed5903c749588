"""Signed, short-lived websocket tokens, and signed caption session ids.

Browsers cannot set an ``Authorization`` header on a websocket, so an API-key client first
asks the authenticated endpoint :func:`issue_token_view` for a token and then connects with
``?token=…``. A token is a ``django.core.signing`` value (salted, timestamped) naming the
user; it expires after ``WEBSOCKET_TOKEN_MAX_AGE`` seconds. Nothing is stored server-side,
so tokens work across any number of processes.

Caption session ids are signed the same way (with another salt): the id carries its owner,
so any process can check that a viewer may join without shared state.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..conf import audio_settings
from ..models import ApiKey

__all__ = [
    "TokenAuthMiddleware",
    "issue_token",
    "issue_token_view",
    "new_session_id",
    "parse_session_id",
    "read_token",
]

TOKEN_SALT = "django_audio.streaming.token"  # noqa: S105 - a salt, not a secret
SESSION_SALT = "django_audio.streaming.session"
#: Query-string parameter carrying the token.
TOKEN_PARAM = "token"  # noqa: S105 - a parameter name


def issue_token(user: Any) -> str:
    """A signed token for ``user``, valid for ``WEBSOCKET_TOKEN_MAX_AGE`` seconds."""
    return signing.dumps({"u": str(user.pk)}, salt=TOKEN_SALT)


def read_token(token: str, max_age: int | None = None) -> str:
    """The user pk a token names; ``signing.BadSignature`` (or ``SignatureExpired``) if not."""
    age = audio_settings.WEBSOCKET_TOKEN_MAX_AGE if max_age is None else max_age
    data = signing.loads(token, salt=TOKEN_SALT, max_age=age)
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        raise signing.BadSignature("Malformed token.")
    return str(data["u"])


def _user_by_pk(pk: str) -> Any:
    model = get_user_model()
    try:
        user = model._default_manager.get(pk=pk)
    except (model.DoesNotExist, ValueError):
        return None
    return user if user.is_active else None


class TokenAuthMiddleware(BaseMiddleware):  # type: ignore[misc]
    """Sets ``scope["user"]`` from a ``?token=`` query parameter when one is given.

    Without a token the user set by ``AuthMiddlewareStack`` (the session cookie) stays. A bad
    or expired token leaves an anonymous user and records why in
    ``scope["django_audio_auth_error"]``, so the consumer can say so before closing.
    """

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tokens = query.get(TOKEN_PARAM)
        if tokens:
            scope = dict(scope)
            try:
                pk = read_token(tokens[0])
            except signing.SignatureExpired:
                scope["user"], scope["django_audio_auth_error"] = AnonymousUser(), "token_expired"
            except signing.BadSignature:
                scope["user"], scope["django_audio_auth_error"] = AnonymousUser(), "invalid_token"
            else:
                user = await sync_to_async(_user_by_pk)(pk)
                if user is None:
                    scope["user"], scope["django_audio_auth_error"] = (
                        AnonymousUser(),
                        "invalid_token",
                    )
                else:
                    scope["user"] = user
        return await super().__call__(scope, receive, send)


def _error(status: int, message: str, code: str) -> JsonResponse:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None,
                      "code": code}}  # fmt: skip
    return JsonResponse(body, status=status)


@csrf_exempt  # a token in a cross-site response is unreadable to the other site (no CORS)
@never_cache
@require_POST
def issue_token_view(request: HttpRequest) -> HttpResponse:
    """``POST``: a websocket token for the logged-in user or the ``Bearer`` API key's owner."""
    user: Any = request.user if getattr(request, "user", None) else None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        key = ApiKey.objects.authenticate(header[len("Bearer ") :].strip())
        if key is None:
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        key.touch()
        user = key.user
    if user is None or not user.is_authenticated:
        return _error(401, "Log in or send 'Authorization: Bearer <API key>'.", "unauthenticated")
    max_age = audio_settings.WEBSOCKET_TOKEN_MAX_AGE
    return JsonResponse({"token": issue_token(user), "expires_in": max_age, "param": TOKEN_PARAM})


# --------------------------------------------------------------------------- session ids


def new_session_id(user: Any) -> tuple[str, str]:
    """A new caption session id for ``user`` and its key (the part used in group names)."""
    key = secrets.token_hex(12)
    return signing.Signer(salt=SESSION_SALT).sign(f"{key}-{user.pk}"), key


def parse_session_id(session_id: str) -> tuple[str, str]:
    """The key and owner pk of a session id; ``signing.BadSignature`` when forged."""
    value = signing.Signer(salt=SESSION_SALT).unsign(session_id)
    key, sep, owner = value.partition("-")
    if not sep or len(key) != 24 or not all(c in "0123456789abcdef" for c in key):
        raise signing.BadSignature("Malformed session id.")
    return key, owner
