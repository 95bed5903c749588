"""Fixtures for the REST resources: users, both ways of signing in, stored rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from django_audio import services
from django_audio.models import ApiKey, VoiceConsent
from django_audio.providers import providers
from django_audio.providers.test import TestProvider
from django_audio.testing.audio import make_wav

API = "/api/audio"


@pytest.fixture(autouse=True)
def _fresh(db: Any) -> Iterator[None]:
    """Every test starts with no throttle history and a reset test provider."""
    cache.clear()
    providers["default"].reset()  # type: ignore[attr-defined]
    yield
    cache.clear()


@pytest.fixture
def test_provider() -> TestProvider:
    """The default (test) provider, reset for this test (by ``_fresh``)."""
    provider = providers["default"]
    assert isinstance(provider, TestProvider)
    return provider


def make_user(username: str, *, staff: bool = False) -> Any:
    """A user with a password, staff if asked."""
    return get_user_model().objects.create_user(
        username, f"{username}@example.com", "pw", is_staff=staff
    )


@pytest.fixture
def alice() -> Any:
    """A regular user."""
    return make_user("alice")


@pytest.fixture
def bob() -> Any:
    """Another regular user."""
    return make_user("bob")


@pytest.fixture
def staff() -> Any:
    """A staff member."""
    return make_user("root", staff=True)


def session_client(user: Any) -> APIClient:
    """A client signed in through a real session cookie."""
    client = APIClient()
    client.force_login(user)
    return client


def key_client(user: Any) -> APIClient:
    """A client sending a fresh API key as ``Authorization: Bearer``."""
    _, raw = ApiKey.objects.create_key(user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture(params=["session", "api_key"])
def auth(request: pytest.FixtureRequest) -> Callable[[Any], APIClient]:
    """How the client signs in: session cookie, then API key (each test runs with both)."""
    return session_client if request.param == "session" else key_client


def wav_upload(name: str = "clip.wav", seconds: float = 1.0) -> SimpleUploadedFile:
    """A real WAV file as a multipart upload."""
    return SimpleUploadedFile(name, make_wav(seconds), content_type="audio/wav")


def transcribe(user: Any, **params: Any) -> Any:
    """A completed transcript of ``user`` stored through the service."""
    params.setdefault("model", "whisper-1")
    return services.transcribe(user, make_wav(1.0), **params).transcript


def synthesize(user: Any, text: str = "Hello there.", **params: Any) -> Any:
    """A stored speech clip (wav) of ``user``."""
    params.setdefault("model", "tts-1")
    params.setdefault("voice", "alloy")
    params.setdefault("response_format", "wav")
    return services.synthesize(user, input=text, use_cache=False, **params).asset


def consent(user: Any, *, approved_by: Any = None, name: str = "Ann") -> VoiceConsent:
    """A consent of ``user``, approved by ``approved_by`` when given."""
    row = services.submit_consent(user, name=name, recording=make_wav(1.0), language="en")
    if approved_by is not None:
        row = services.approve_consent(row, actor=approved_by)
    return row


def voice(user: Any, staff_user: Any, name: str = "Ann's voice") -> Any:
    """An active custom voice of ``user`` under a consent ``staff_user`` approved."""
    cons = consent(user, approved_by=staff_user)
    return services.create_voice(user, name=name, sample=make_wav(1.0), consent=cons)


def error_of(response: Any) -> dict[str, Any]:
    """The OpenAI-shaped error body, checked to have exactly its four keys."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return dict(body["error"])


def content_of(response: Any) -> bytes:
    """The whole body, read through the test client's iterator.

    Reading (rather than calling ``response.close()`` directly) keeps the test client's
    guard that stops the end of a streamed response from closing the test's connection.
    """
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)
