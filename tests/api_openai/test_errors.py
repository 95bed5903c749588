"""Every error status of ``/v1``, in OpenAI's error shape, with nothing half-stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from django.conf import settings as django_settings

from django_audio.exceptions import UpstreamTimeout
from django_audio.models import ApiKey, JobStatus, SpeechAsset, Transcript, Voice, VoiceConsent
from django_audio.testing.audio import make_wav

from .conftest import Account, LiveServer, approved_consent, send_oversized_upload


def media_files() -> set[str]:
    root = Path(django_settings.MEDIA_ROOT)
    return {str(p) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def no_new_files() -> Iterator[None]:
    """The test must leave no file behind in storage."""
    before = media_files()
    yield
    assert media_files() - before == set()


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None
) -> dict[str, Any]:
    """``httpx`` keyword arguments for a multipart body (even one with no file part)."""
    boundary = "testboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    for name, (filename, data) in (files or {}).items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: audio/wav\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {
        "content": body,
        "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    }


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


@pytest.fixture
def http(live_server_v1: LiveServer, alice: Account) -> Iterator[httpx.Client]:
    """A plain HTTP client with alice's key, for bodies the SDK would never send."""
    with httpx.Client(
        base_url=live_server_v1.v1, headers={"Authorization": f"Bearer {alice.key}"}, timeout=30
    ) as client:
        yield client


# --------------------------------------------------------------------------- 401


def test_missing_key_is_401(live_server_v1: LiveServer, alice: Account) -> None:
    response = httpx.get(f"{live_server_v1.v1}/audio/voice_consents")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = error_of(response)
    assert error["code"] == "missing_api_key"
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize("key", ["sk-audio-00000000-nope", "not-a-key", "sk-audio-"])
def test_wrong_key_is_401_and_never_echoed(live_server_v1: LiveServer, key: str) -> None:
    client = openai.OpenAI(base_url=live_server_v1.v1, api_key=key, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.audio.voice_consents.list()
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    assert key not in info.value.message


def test_revoked_key_and_inactive_user_are_401(alice: Account) -> None:
    alice.client.audio.voice_consents.list()
    ApiKey.objects.get(user=alice.user).revoke()
    with pytest.raises(openai.AuthenticationError):
        alice.client.audio.voice_consents.list()
    ApiKey.objects.update(revoked_at=None)
    alice.user.is_active = False
    alice.user.save()
    with pytest.raises(openai.AuthenticationError):
        alice.client.audio.voice_consents.list()


# --------------------------------------------------------------------------- 400


def test_missing_fields_name_the_param(http: httpx.Client, no_new_files: None) -> None:
    wav = make_wav(0.2)
    cases = [
        ("audio/transcriptions", multipart({"model": "whisper-1"}), "file"),
        ("audio/transcriptions", multipart({}, {"file": ("a.wav", wav)}), "model"),
        ("audio/translations", multipart({"model": "whisper-1"}), "file"),
        ("audio/transcriptions", multipart({"model": "whisper-1", "file": "text"}), "file"),
        ("audio/speech", {"json": {"model": "tts-1", "voice": "alloy"}}, "input"),
        ("audio/speech", {"json": {"model": "tts-1", "input": "Hi"}}, "voice"),
        ("audio/speech", {"json": {"input": "Hi", "voice": "alloy"}}, "model"),
        ("audio/voice_consents", multipart({}, {"recording": ("r.wav", wav)}), "name"),
        (
            "audio/voice_consents",
            multipart({"name": "A"}, {"recording": ("r.wav", wav)}),
            "language",
        ),
        ("audio/voice_consents", multipart({"name": "A", "language": "en"}), "recording"),
        ("audio/voices", multipart({"name": "V", "consent": "cons_x"}), "audio_sample"),
        ("chat/completions", {"json": {"model": "gpt-4o"}}, "messages"),
    ]
    for path, kwargs, param in cases:
        response = http.post(path, **kwargs)
        assert response.status_code == 400, (path, response.text)
        error = error_of(response)
        assert error["param"] == param, (path, error)
        assert param in error["message"]
        assert error["type"] == "invalid_request_error"
    assert Transcript.objects.count() == SpeechAsset.objects.count() == 0
    assert VoiceConsent.objects.count() == 0


def test_invalid_values_name_the_param(alice: Account, no_new_files: None) -> None:
    wav = make_wav(0.2)
    cases: list[tuple[Any, str]] = [
        (lambda: alice.client.audio.transcriptions.create(
            file=("a.wav", wav), model="m", response_format="xml"), "response_format"),
        (lambda: alice.client.audio.transcriptions.create(
            file=("a.wav", wav), model="m", temperature=3), "temperature"),
        (lambda: alice.client.audio.transcriptions.create(
            file=("a.wav", wav), model="m", include=["tokens"]), "include[]"),
        (lambda: alice.client.audio.transcriptions.create(
            file=("a.wav", wav), model="m", response_format="srt", stream=True), "stream"),
        (lambda: alice.client.audio.transcriptions.create(
            file=("a.wav", wav), model="m", extra_body={"colour": "red"}), "colour"),
        (lambda: alice.client.audio.speech.create(
            model="tts-1", input="x", voice="alloy", speed=9), "speed"),
        (lambda: alice.client.audio.speech.create(
            model="tts-1", input="x", voice="alloy", response_format="ogg"), "response_format"),
        (lambda: alice.client.audio.speech.create(
            model="tts-1", input="x" * 4097, voice="alloy"), "input"),
        (lambda: alice.client.audio.speech.create(
            model="tts-1", input="x", voice="alloy", extra_body={"pitch": 2}), "pitch"),
        (lambda: alice.client.audio.speech.create(
            model="tts-1", input="x", voice={"name": "v"}), "voice"),
        (lambda: alice.client.audio.voice_consents.create(
            name="A", recording=("r.wav", wav), language="english!"), "language"),
        (lambda: alice.client.audio.voice_consents.list(limit=500), "limit"),
        (lambda: alice.client.audio.voice_consents.list(after="cons_unknown"), "after"),
        (lambda: alice.client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}],
            modalities=["audio"]), "audio"),
        (lambda: alice.client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": [
                {"type": "input_audio", "input_audio": {"data": "!!", "format": "wav"}}]}]),
         "messages[0].content[0].input_audio"),
    ]  # fmt: skip
    for call, param in cases:
        with pytest.raises(openai.BadRequestError) as info:
            call()
        assert info.value.status_code == 400
        assert info.value.param == param, (param, info.value.body)
    assert Transcript.objects.count() == SpeechAsset.objects.count() == 0


def test_non_audio_upload_is_refused_by_content(alice: Account, no_new_files: None) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        # A .wav name and an audio content type do not make text audio.
        alice.client.audio.transcriptions.create(
            file=("speech.wav", b"<html>not audio at all</html>" * 20, "audio/wav"),
            model="whisper-1",
        )
    assert info.value.param == "file"
    assert info.value.code == "invalid_audio"
    with pytest.raises(openai.BadRequestError) as info:
        alice.client.audio.voice_consents.create(
            name="A", recording=("r.wav", b"\x00" * 2000), language="en"
        )
    assert info.value.param == "recording"
    assert Transcript.objects.count() == VoiceConsent.objects.count() == 0


def test_empty_upload_is_refused(alice: Account, no_new_files: None) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        alice.client.audio.transcriptions.create(file=("a.wav", b""), model="whisper-1")
    assert info.value.param == "file"


def test_malformed_json(http: httpx.Client) -> None:
    for body in (b"{not json", b"[1, 2]", b""):
        response = http.post(
            "audio/speech", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "invalid_json"
        assert "JSON" in error["message"]
    response = http.post(
        "chat/completions", content=b'{"model": ', headers={"Content-Type": "application/json"}
    )
    assert error_of(response)["code"] == "invalid_json"


def test_wrong_types_in_json_are_400_not_500(http: httpx.Client) -> None:
    for body, param in (
        ({"model": 1, "input": "x", "voice": "alloy"}, "model"),
        ({"model": "tts-1", "input": ["x"], "voice": "alloy"}, "input"),
        ({"model": "tts-1", "input": "x", "voice": "alloy", "speed": "fast"}, "speed"),
        ({"model": "tts-1", "input": "x", "voice": 5}, "voice"),
    ):
        response = http.post("audio/speech", json=body)
        assert response.status_code == 400, response.text
        assert error_of(response)["param"] == param


def test_unknown_method_is_405(http: httpx.Client) -> None:
    response = http.get("audio/speech")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert error_of(response)["type"] == "invalid_request_error"


# --------------------------------------------------------------------------- 403 / 404


def test_revoked_consent_voice_is_403(alice: Account) -> None:
    from django_audio import services

    consent = approved_consent(alice)
    voice = alice.client.audio.voices.create(
        name="V", audio_sample=("s.wav", make_wav(1.0)), consent=consent.public_id
    )
    services.revoke_consent(VoiceConsent.objects.get(pk=consent.pk), actor=alice.user)
    with pytest.raises(openai.PermissionDeniedError) as info:
        alice.client.audio.speech.create(model="tts-1", input="x", voice={"id": voice.id})
    assert info.value.status_code == 403
    assert info.value.param == "voice"
    assert SpeechAsset.objects.count() == 0


def test_unknown_ids_are_404(alice: Account) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        alice.client.audio.voice_consents.retrieve("cons_0123456789abcdef01234567")
    assert info.value.code == "not_found"
    with pytest.raises(openai.NotFoundError) as info:
        alice.client.audio.speech.create(model="tts-1", input="x", voice={"id": "voice_nope"})
    assert info.value.param == "voice"
    with pytest.raises(openai.NotFoundError) as info:
        alice.client.audio.voices.create(
            name="V", audio_sample=("s.wav", make_wav(0.5)), consent="cons_nope"
        )
    assert info.value.param == "consent"
    assert Voice.objects.count() == 0


# --------------------------------------------------------------------------- 413 / 415


def test_oversized_file_is_413_and_nothing_is_kept(
    alice: Account, settings: Any, no_new_files: None
) -> None:
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "MAX_UPLOAD_SIZE": 64 * 1024}
    with pytest.raises(openai.APIStatusError) as info:
        alice.client.audio.transcriptions.create(file=("big.wav", make_wav(4.0)), model="whisper-1")
    assert info.value.status_code == 413
    assert info.value.param == "file"
    assert info.value.code == "file_too_large"
    assert str(64 * 1024) in info.value.message
    assert Transcript.objects.count() == 0


def test_oversized_body_is_refused_before_it_is_read(
    live_server_v1: LiveServer, alice: Account
) -> None:
    status, body = send_oversized_upload(live_server_v1, alice.key)
    assert status == 413
    assert body["error"]["code"] == "request_too_large"


def test_chunked_oversized_body_is_cut_off(live_server_v1: LiveServer, alice: Account) -> None:
    limit = 25 * 1024 * 1024 + 1024 * 1024

    def body() -> Iterator[bytes]:
        chunk = b"\x00" * (1024 * 1024)
        for _ in range(limit // len(chunk) + 4):
            yield chunk

    response = httpx.post(
        f"{live_server_v1.v1}/audio/transcriptions",
        content=body(),
        headers={
            "Authorization": f"Bearer {alice.key}",
            "Content-Type": "multipart/form-data; boundary=xyz",
        },
        timeout=30,
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"


def test_wrong_content_type_is_415(http: httpx.Client) -> None:
    response = http.post("audio/transcriptions", json={"model": "whisper-1"})
    assert response.status_code == 415
    error = error_of(response)
    assert "multipart/form-data" in error["message"]
    assert error["code"] == "unsupported_media_type"
    response = http.post("audio/speech", data={"model": "tts-1"})
    assert response.status_code == 415
    assert "application/json" in error_of(response)["message"]


# --------------------------------------------------------------------------- 429


def test_rate_limit_is_429_with_retry_after(alice: Account, settings: Any) -> None:
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "RATE_LIMIT": "2/minute"}
    alice.client.audio.voice_consents.list()
    alice.client.audio.voice_consents.list()
    with pytest.raises(openai.RateLimitError) as info:
        alice.client.audio.voice_consents.list()
    assert info.value.status_code == 429
    assert info.value.code == "rate_limit_exceeded"
    assert 1 <= int(info.value.response.headers["retry-after"]) <= 60


def test_upstream_rate_limit_is_429_with_its_retry_after(
    alice: Account, test_provider: Any
) -> None:
    test_provider.fail_next(429, retry_after=7)
    with pytest.raises(openai.RateLimitError) as info:
        alice.client.audio.speech.create(model="tts-1", input="x", voice="alloy")
    assert info.value.response.headers["retry-after"] == "7"
    assert SpeechAsset.objects.get().status == JobStatus.FAILED


# --------------------------------------------------------------------------- 502 / 504


def test_upstream_failures_are_502_and_504(alice: Account, test_provider: Any) -> None:
    wav = make_wav(0.3)
    test_provider.fail_next(500)
    with pytest.raises(openai.APIStatusError) as info:
        alice.client.audio.transcriptions.create(file=("a.wav", wav), model="whisper-1")
    assert info.value.status_code == 502
    assert info.value.type == "upstream_error"
    test_provider.fail_next(UpstreamTimeout("The upstream did not answer in time."))
    with pytest.raises(openai.APIStatusError) as info:
        alice.client.audio.transcriptions.create(file=("a.wav", wav), model="whisper-1")
    assert info.value.status_code == 504
    assert info.value.code == "upstream_timeout"
    test_provider.fail_next(401)
    with pytest.raises(openai.APIStatusError) as info:
        alice.client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status_code == 502, "the site's upstream credentials are not the caller's"
    rows = Transcript.objects.all()
    assert [r.status for r in rows] == [JobStatus.FAILED, JobStatus.FAILED]
    assert all(r.audio for r in rows), "the audio of a failed request is kept for a retry"


def test_stream_broken_midway_ends_with_an_error_event(alice: Account, test_provider: Any) -> None:
    test_provider.fail_next(500, operation="stream_transcription", after_events=2)
    stream = alice.client.audio.transcriptions.create(
        file=("a.wav", make_wav(0.5)), model="gpt-4o-transcribe", stream=True
    )
    received: list[Any] = []

    def read_all() -> None:
        received.extend(stream)

    with pytest.raises(openai.APIError):
        read_all()
    assert len(received) == 2
    assert Transcript.objects.get().status == JobStatus.FAILED


def test_no_error_is_a_bare_500(http: httpx.Client) -> None:
    # A grab bag of odd requests: each gets a 4xx in the OpenAI shape.
    form = "multipart/form-data"
    chat = {"model": "m", "messages": [{"role": "user"}], "stream": "yes"}
    odd = [
        http.post("audio/transcriptions", content=b"--x\r\n", headers={"Content-Type": form}),
        http.post(
            "audio/transcriptions",
            content=b"garbage",
            headers={"Content-Type": f"{form}; boundary=q"},
        ),
        http.post("audio/voice_consents/cons_x", json={"name": 5}),
        http.post("chat/completions", json={"model": "m", "messages": "hi"}),
        http.post("chat/completions", json=chat),
        http.get("audio/voice_consents", params={"limit": "ten"}),
        http.delete("audio/voices/" + "x" * 300),
    ]
    for response in odd:
        assert 400 <= response.status_code < 500, response.text
        error_of(response)


def test_raw_audio_broken_midway_is_cut_short(alice: Account, test_provider: Any) -> None:
    test_provider.fail_next(500, operation="speech", after_events=1)
    with alice.client.audio.speech.with_streaming_response.create(
        model="tts-1", input="A long sentence to say. " * 20, voice="alloy", response_format="pcm"
    ) as response:
        assert response.status_code == 200
        with pytest.raises(Exception) as info:
            response.read()
    assert "incomplete" in str(info.value).lower() or "closed" in str(info.value).lower()
    assert SpeechAsset.objects.get().status == JobStatus.FAILED
