"""``OpenAIFastPath``: Bearer requests to the ``/v1`` views skip the middleware, nothing else.

A live uvicorn server runs ``BodyLimitMiddleware(OpenAIFastPath(full))`` where the full
application carries an extra marker middleware, so each test can see which way a request went.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from django.core.asgi import get_asgi_application
from django.core.signals import request_finished, request_started
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.test import Client, override_settings
from django.urls import get_resolver
from django.urls.resolvers import URLResolver

from django_audio.api.asgi import BodyLimitMiddleware, OpenAIFastPath
from django_audio.models import SpeechAsset, Transcript

from .conftest import Account, LiveServer, make_account, send_oversized_upload

MARKER = "X-Full-Stack"


class FullStackMarker:
    """Marks every response that went through the project's middleware chain."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response[MARKER] = "1"
        return response


@pytest.fixture(scope="module")
def fast_server(django_db_setup: Any, django_db_blocker: Any) -> Iterator[LiveServer]:
    """A live server whose /v1 Bearer requests take the lean path."""
    from django.conf import settings

    with django_db_blocker.unblock():
        middleware = [*settings.MIDDLEWARE, f"{__name__}.FullStackMarker"]
        with override_settings(MIDDLEWARE=middleware):
            full = get_asgi_application()
        server = LiveServer(BodyLimitMiddleware(OpenAIFastPath(full)))
        yield server
        server.stop()


@pytest.fixture
def carol(fast_server: LiveServer, live_db: Any) -> Iterator[Account]:
    """A user with a key, SDK clients pointed at the fast-path server."""
    account = make_account(fast_server, "carol")
    yield account
    account.client.close()


def _http(server: LiveServer, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.Client(base_url=server.v1, headers=headers, timeout=30)


def test_sdk_calls_take_the_lean_path_and_are_stored(carol: Account, wav: bytes) -> None:
    raw = carol.client.audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=("a.wav", wav, "audio/wav")
    )
    assert MARKER not in raw.headers
    transcription = raw.parse()
    row = Transcript.objects.get(public_id=raw.headers["X-Audio-Transcript-Id"])
    assert row.owner == carol.user
    assert row.status == "completed"
    assert row.text == transcription.text

    with carol.client.audio.speech.with_streaming_response.create(
        model="tts-1", input="Hello there.", voice="alloy"
    ) as speech:
        assert MARKER not in speech.headers
        assert speech.headers["content-type"] == "audio/mpeg"
        audio = speech.read()
    assert audio
    asset = SpeechAsset.objects.get(owner=carol.user)
    assert asset.status == "completed"
    assert asset.audio.read() == audio

    consents = carol.client.audio.voice_consents.with_raw_response.list()
    assert MARKER not in consents.headers
    # SecurityMiddleware's response headers still apply on the lean path.
    assert consents.headers["x-content-type-options"] == "nosniff"


def test_errors_keep_the_openai_shape_on_the_lean_path(
    fast_server: LiveServer, carol: Account, wav: bytes
) -> None:
    with _http(fast_server, "sk-audio-wrong-key") as http:
        bad_key = http.get("audio/voice_consents")
    assert bad_key.status_code == 401
    assert MARKER not in bad_key.headers
    assert bad_key.json()["error"]["type"] == "invalid_request_error"

    with pytest.raises(openai.BadRequestError) as info:
        carol.client.audio.transcriptions.create(
            model="whisper-1",
            file=("a.wav", wav, "audio/wav"),
            temperature="hot",  # type: ignore[arg-type]
        )
    assert info.value.response.status_code == 400
    assert MARKER not in info.value.response.headers
    assert info.value.body["param"] == "temperature"  # type: ignore[index]

    with _http(fast_server, carol.key) as http:
        wrong_method = http.delete("audio/transcriptions")
    assert wrong_method.status_code == 405
    assert MARKER not in wrong_method.headers
    assert wrong_method.json()["error"]["message"]


def test_everything_else_goes_through_the_full_stack(
    fast_server: LiveServer, carol: Account
) -> None:
    with _http(fast_server, carol.key) as http:
        unknown = http.get("audio/nothing-here")  # not a django-audio view
    assert unknown.status_code == 404
    assert unknown.headers[MARKER] == "1"

    with _http(fast_server) as http:
        anonymous = http.get("audio/voice_consents")  # no Bearer header
    assert anonymous.status_code == 401
    assert anonymous.headers[MARKER] == "1"
    assert anonymous.json()["error"]["code"] == "missing_api_key"


def test_session_calls_keep_their_csrf_check(fast_server: LiveServer, carol: Account) -> None:
    django_client = Client()
    django_client.force_login(carol.user)
    django_client.get("/admin/login/")  # sets the CSRF cookie
    cookies = {k: v.value for k, v in django_client.cookies.items()}
    with httpx.Client(base_url=fast_server.v1, cookies=cookies, timeout=30) as browser:
        listed = browser.get("audio/voice_consents")
        assert listed.status_code == 200
        assert listed.headers[MARKER] == "1"
        refused = browser.post(
            "audio/speech", json={"model": "tts-1", "input": "x", "voice": "alloy"}
        )
    assert refused.status_code == 403
    assert refused.headers[MARKER] == "1"
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert not SpeechAsset.objects.exists()


def test_request_signals_fire_on_the_lean_path(fast_server: LiveServer, carol: Account) -> None:
    seen: list[str] = []
    done = threading.Event()

    def started(**kwargs: Any) -> None:
        seen.append("started")

    def finished(**kwargs: Any) -> None:
        seen.append("finished")
        done.set()

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        response = carol.client.audio.voice_consents.with_raw_response.list()
        # request_finished fires when the server closes the response, after sending it.
        assert done.wait(10)
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    assert MARKER not in response.headers
    assert seen == ["started", "finished"]


def test_disallowed_host_is_refused_on_the_lean_path(
    fast_server: LiveServer, carol: Account
) -> None:
    with _http(fast_server, carol.key) as http, override_settings(ALLOWED_HOSTS=["127.0.0.1"]):
        allowed = http.get("audio/voice_consents")
        response = http.get("audio/voice_consents", headers={"Host": "evil.example"})
    assert allowed.status_code == 200
    assert response.status_code == 400
    assert MARKER not in response.headers


def test_body_limit_covers_the_lean_path(fast_server: LiveServer, carol: Account) -> None:
    status, body = send_oversized_upload(fast_server, carol.key)
    assert status == 413
    assert body["error"]["code"] == "request_too_large"
    assert not Transcript.objects.exists()


def test_lean_requests_reuse_worker_threads(carol: Account, fast_server: LiveServer) -> None:
    """Django makes a thread per request; the lean path lends long-lived ones instead."""
    names: list[str] = []

    def record(sender: Any, **kwargs: Any) -> None:
        names.append(threading.current_thread().name)

    request_started.connect(record)
    try:
        with _http(fast_server, carol.key) as client:
            for _ in range(8):
                assert client.get("/audio/voice_consents").status_code == 200
    finally:
        request_started.disconnect(record)
    assert len(names) == 8
    assert len(set(names)) <= 3, names


def test_lean_requests_resolve_their_url_once(
    carol: Account, fast_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The router's URL match is handed to the handler, not computed again."""
    root = get_resolver()
    original = URLResolver.resolve
    paths: list[str] = []

    def counting(self: URLResolver, path: str) -> Any:
        if self is root:
            paths.append(path)
        return original(self, path)

    monkeypatch.setattr(URLResolver, "resolve", counting)
    with _http(fast_server, carol.key) as client:
        response = client.get("/audio/voice_consents")
    assert response.status_code == 200
    assert MARKER not in response.headers
    assert paths == ["/v1/audio/voice_consents"]
