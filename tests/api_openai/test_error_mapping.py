"""The one error mapping (unit level), DRF's API-key authentication, and the settings check."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.test import APIRequestFactory

from django_audio.api.auth import ApiKeyAuthentication
from django_audio.api.errors import error_parts, exception_handler
from django_audio.exceptions import ConsentError, InvalidRequest, UpstreamRateLimited
from django_audio.models import ApiKey

# --------------------------------------------------------------------------- DRF pieces


@api_view(["GET"])
@authentication_classes([ApiKeyAuthentication])
@permission_classes([IsAuthenticated])
def whoami(request: Any) -> Any:
    from rest_framework.response import Response

    return Response({"user": request.user.username})


def test_drf_api_key_authentication(db: Any) -> None:
    user = get_user_model().objects.create_user("dave", "d@example.com", "pw")
    _, key = ApiKey.objects.create_key(user, name="drf")
    factory = APIRequestFactory()
    ok = whoami(factory.get("/", HTTP_AUTHORIZATION=f"Bearer {key}"))
    assert ok.status_code == 200
    assert ok.data == {"user": "dave"}
    bad = whoami(factory.get("/", HTTP_AUTHORIZATION="Bearer sk-audio-0000-nope"))
    assert bad.status_code == 401
    assert bad["WWW-Authenticate"].startswith("Bearer")
    none = whoami(factory.get("/"))
    assert none.status_code == 401, "no credentials: 401 (not 403), with a challenge"


@pytest.mark.parametrize(
    ("exc", "status", "param", "code"),
    [
        (InvalidRequest("Bad 'x'.", param="x"), 400, "x", None),
        (
            InvalidRequest("Too big.", param="file", code="file_too_large"),
            413,
            "file",
            "file_too_large",
        ),
        (ConsentError("No consent.", param="voice"), 403, "voice", "consent_required"),
        (Http404("Nope."), 404, None, "not_found"),
        (PermissionDenied(), 403, None, "permission_denied"),
        (RequestDataTooBig(), 413, None, "request_too_large"),
        (DjangoValidationError({"name": ["Too long."]}), 400, "name", "invalid_value"),
        (drf.ValidationError({"language": ["Not a tag."]}), 400, "language", "invalid"),
        (drf.ParseError("Malformed."), 400, None, "parse_error"),
        (drf.NotAuthenticated(), 401, None, "not_authenticated"),
        (drf.PermissionDenied(), 403, None, "permission_denied"),
        (drf.NotFound(), 404, None, "not_found"),
        (drf.UnsupportedMediaType("text/csv"), 415, None, "unsupported_media_type"),
        (drf.Throttled(wait=12.2), 429, None, "rate_limit_exceeded"),
        (UpstreamRateLimited("Slow down.", retry_after=3), 429, None, "rate_limit_exceeded"),
        (RuntimeError("secret details"), 500, None, None),
    ],
)
def test_error_mapping(exc: Exception, status: int, param: str | None, code: str | None) -> None:
    parts = error_parts(exc)
    assert parts.status == status
    error = parts.body["error"]
    assert (error["param"], error["code"]) == (param, code)
    assert set(error) == {"message", "type", "param", "code"}
    if status == 429:
        assert int(parts.headers["Retry-After"]) >= 3
    if status == 500:
        assert "secret" not in error["message"]
    response = exception_handler(exc, {})
    assert response.status_code == status
    assert response.data == parts.body


def test_rate_limit_setting_is_checked(settings: Any) -> None:
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "RATE_LIMIT": "often"}
    ids = [m.id for m in checks.run_checks(tags=["django_audio"])]
    assert "django_audio.E008" in ids
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "RATE_LIMIT": None}
    assert checks.run_checks(tags=["django_audio"]) == []


async def test_authenticate_request_for_plain_async_views(transactional_db: Any) -> None:
    from asgiref.sync import sync_to_async
    from django.test import AsyncRequestFactory

    from django_audio.api.auth import authenticate_request
    from django_audio.api.errors import AuthenticationError

    user = await sync_to_async(get_user_model().objects.create_user)("erin", "e@x.org", "pw")
    _, key = await sync_to_async(ApiKey.objects.create_key)(user, "async")
    factory = AsyncRequestFactory()
    request = factory.get("/", headers={"Authorization": f"Bearer {key}"})
    assert await authenticate_request(request) == user
    assert request.auth.user_id == user.pk  # type: ignore[attr-defined]
    with pytest.raises(AuthenticationError) as info:
        await authenticate_request(factory.get("/", headers={"Authorization": "Bearer nope"}))
    assert info.value.code == "invalid_api_key"
    with pytest.raises(AuthenticationError) as info:
        await authenticate_request(factory.get("/"))
    assert info.value.code == "missing_api_key"
