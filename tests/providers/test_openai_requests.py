"""Bad input, Azure routing, uploads, event loops, and keeping the API key secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
import traceback
from pathlib import Path
from typing import Any

import pytest

from django_audio.contract import AudioFile, SpeechRequest, TranscriptionRequest
from django_audio.exceptions import InvalidRequest, UpstreamAuthError, UpstreamServerError
from django_audio.providers.openai import OpenAIProvider
from django_audio.testing.audio import make_wav
from django_audio.testing.fake_upstream import FakeUpstream

from .conftest import FAST, call, collect, make_provider

REF = "data:audio/wav;base64,UklGRg=="
FIVE = list("abcde")
GRAINS = "timestamp_granularities[]"
REFS = "known_speaker_references[]"


def stt(file: AudioFile, **kwargs: Any) -> TranscriptionRequest:
    kwargs.setdefault("model", "gpt-4o-transcribe")
    return TranscriptionRequest(file=file, **kwargs)


def tts(**kwargs: Any) -> SpeechRequest:
    kwargs.setdefault("model", "tts-1")
    kwargs.setdefault("input", "Hello.")
    kwargs.setdefault("voice", "nova")
    return SpeechRequest(**kwargs)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "build", "param"),
    [
        ("transcribe", lambda f: stt(f, response_format="mp3"), "response_format"),
        ("transcribe", lambda f: stt(f, timestamp_granularities=["word"]), GRAINS),
        ("transcribe", lambda f: stt(AudioFile(b"", filename="empty.wav")), "file"),
        ("transcribe", lambda f: stt(f, known_speaker_names=FIVE), "known_speaker_names[]"),
        ("transcribe", lambda f: stt(f, known_speaker_references=[REF] * 5), REFS),
        ("stream_transcription", lambda f: stt(f, response_format="srt"), "stream"),
        ("speech", lambda f: tts(response_format="ogg"), "response_format"),
        ("speech", lambda f: tts(speed=0.2), "speed"),
        ("speech", lambda f: tts(speed=4.5), "speed"),
        ("speech", lambda f: tts(input="x" * 4097), "input"),
        ("speech_events", lambda f: tts(voice={"name": "x"}), "voice"),
    ],
)  # fmt: skip
async def test_bad_input_fails_before_any_upstream_request(
    provider: OpenAIProvider,
    fake_upstream: FakeUpstream,
    wav: AudioFile,
    mode: str,
    name: str,
    build: Any,
    param: str,
) -> None:
    with pytest.raises(InvalidRequest) as info:
        await call(provider, mode, name, build(wav))

    assert info.value.param == param
    assert isinstance(info.value, ValueError)
    assert fake_upstream.requests == []


async def test_bad_chat_and_consent_input_fails_before_any_request(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    body = {
        "model": "gpt-4o-audio-preview",
        "modalities": ["text", "audio"],
        "audio": {"voice": "alloy", "format": "ogg"},
        "messages": [{"role": "user", "content": "hi"}],
    }
    with pytest.raises(InvalidRequest) as info:
        await call(provider, mode, "chat_completion", body)
    assert info.value.param == "audio.format"

    with pytest.raises(InvalidRequest) as info:
        await call(provider, mode, "create_voice_consent", "Ann", wav, "not a tag")
    assert info.value.param == "language"

    with pytest.raises(InvalidRequest) as info:
        await call(provider, mode, "list_voice_consents", None, 101)
    assert info.value.param == "limit"
    assert fake_upstream.requests == []


# --------------------------------------------------------------------------- Azure


def azure(new_provider: Any, up: FakeUpstream, **options: Any) -> OpenAIProvider:
    opts: dict[str, Any] = {
        "base_url": f"{up.root_url}/openai",
        "api_version": "2025-04-01-preview",
    }
    opts.update(options)
    return new_provider(**opts)  # type: ignore[no-any-return]


async def test_azure_uses_model_as_deployment_api_key_header_and_api_version(
    new_provider: Any, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    provider = azure(new_provider, fake_upstream)
    result = await call(provider, mode, "transcribe", stt(wav, model="whisper-prod"))

    assert result.text
    rec = fake_upstream.requests[-1]
    assert rec.path == "/openai/deployments/whisper-prod/audio/transcriptions"
    assert rec.deployment == "whisper-prod"
    assert rec.query == {"api-version": "2025-04-01-preview"}
    assert rec.headers["api-key"] == "sk-test"
    assert "authorization" not in rec.headers


async def test_azure_fixed_deployment_for_speech_and_streams(
    new_provider: Any, fake_upstream: FakeUpstream, mode: str
) -> None:
    provider = azure(new_provider, fake_upstream, azure_deployment="tts-eastus")
    audio = b"".join(
        await collect(await call(provider, mode, "speech", tts(response_format="wav")))
    )
    events = await collect(await call(provider, mode, "speech_events", tts()))

    assert audio.startswith(b"RIFF")
    assert events[-1].type == "speech.audio.done"
    paths = {r.path for r in fake_upstream.requests}
    assert paths == {"/openai/deployments/tts-eastus/audio/speech"}
    assert all(r.api_version == "2025-04-01-preview" for r in fake_upstream.requests)


async def test_azure_deployment_in_base_url_for_chat(
    new_provider: Any, fake_upstream: FakeUpstream, mode: str
) -> None:
    provider = azure(
        new_provider, fake_upstream, base_url=f"{fake_upstream.root_url}/openai/deployments/gpt4o/"
    )
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}
    chunks = await collect(await call(provider, mode, "stream_chat_completion", body))

    assert chunks
    rec = fake_upstream.requests[-1]
    assert rec.path == "/openai/deployments/gpt4o/chat/completions"
    assert rec.auth_header == "api-key"


async def test_azure_v1_api_is_a_plain_base_url(
    new_provider: Any, fake_upstream: FakeUpstream, mode: str
) -> None:
    provider = new_provider(base_url=f"{fake_upstream.root_url}/openai/v1")
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}
    await call(provider, mode, "chat_completion", body)

    rec = fake_upstream.requests[-1]
    assert rec.path == "/openai/v1/chat/completions"
    assert rec.auth_header == "authorization"
    assert rec.query == {}


async def test_organization_project_and_default_headers(
    new_provider: Any, fake_upstream: FakeUpstream, mode: str
) -> None:
    provider = new_provider(
        organization="org-1", project="proj-2", default_headers={"X-Trace": "t-3"}
    )
    await call(provider, mode, "list_voice_consents", None, 20)

    headers = fake_upstream.requests[-1].headers
    assert headers["openai-organization"] == "org-1"
    assert headers["openai-project"] == "proj-2"
    assert headers["x-trace"] == "t-3"
    assert headers["user-agent"].startswith("django-audio/")


async def test_no_api_key_sends_no_authorization(
    new_provider: Any, fake_upstream: FakeUpstream, mode: str
) -> None:
    provider = new_provider(api_key=None)
    with pytest.raises(UpstreamAuthError):
        await call(provider, mode, "list_voice_consents", None, 20)
    assert fake_upstream.requests[-1].auth_header is None


# --------------------------------------------------------------------------- uploads


class ReadRecorder(io.RawIOBase):
    """A binary file that records the size of every read (to prove uploads stream)."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("rb")
        self.reads: list[int] = []

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self.reads.append(len(data))
        return data

    def close(self) -> None:
        self._fh.close()
        super().close()


async def test_uploads_are_streamed_in_chunks(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "long.wav"
    path.write_bytes(make_wav(8.0))  # 256 KB
    recorder = ReadRecorder(path)
    request = stt(AudioFile(recorder, filename="long.wav"))

    result = await call(provider, mode, "transcribe", request)

    assert result.text
    assert fake_upstream.requests[-1].files["file"].data == make_wav(8.0)
    assert max(recorder.reads) <= 64 * 1024 < len(make_wav(8.0))
    assert len([n for n in recorder.reads if n]) >= 4
    recorder.close()


async def test_file_objects_are_rewound_on_retry(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav_path: Path, mode: str
) -> None:
    fake_upstream.fail(status=500, times=1)
    with wav_path.open("rb") as fh:
        await call(provider, mode, "transcribe", stt(AudioFile(fh, filename="a.wav")))
        assert not fh.closed  # a caller's file object stays open

    first, second = fake_upstream.requests
    assert first.files["file"].data == second.files["file"].data == make_wav(1.0)


# --------------------------------------------------------------------------- event loops


def test_async_clients_are_per_event_loop(fake_upstream: FakeUpstream, wav: AudioFile) -> None:
    provider = make_provider(fake_upstream)

    async def once() -> str:
        result = await provider.atranscribe(stt(wav))
        await provider.aclose()  # this loop's pool; the next loop builds its own
        return str(result.text)

    # Two loops in sequence, then two at once in threads: a client shared across loops
    # would fail with "Event loop is closed" or "attached to a different loop".
    texts = [asyncio.run(once()), asyncio.run(once())]
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(asyncio.run(once()))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(set(texts + results)) == 1
    assert len(results) == 2
    assert len(fake_upstream.requests) == 4
    provider.close()


# --------------------------------------------------------------------------- secrets

SECRET = "sk-proj-SuperSecret-4f1c2e9a7b"


def _leaks(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for name in ("body", "message"):
        parts.append(json.dumps(getattr(exc, name, None), default=str))
    if hasattr(exc, "to_dict"):
        parts.append(json.dumps(exc.to_dict()))
    return "\n".join(parts)


def test_api_key_is_never_logged_or_put_in_errors(
    caplog: pytest.LogCaptureFixture, wav: AudioFile
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    with FakeUpstream(api_key=SECRET) as up:
        provider = make_provider(up, api_key=SECRET)
        azure = make_provider(
            up, api_key=SECRET, base_url=f"{up.root_url}/openai", api_version="2024-10-21"
        )

        # Upstreams sometimes echo the key back in their error messages.
        up.fail(status=401, message=f"Incorrect API key provided: {SECRET}.")
        with pytest.raises(UpstreamAuthError) as auth:
            provider.transcribe(stt(wav))
        up.fail(status=500, times=3, message=f"Internal error for key {SECRET}")
        with pytest.raises(UpstreamServerError) as server:
            azure.transcribe(stt(wav))
        assert b"".join(provider.speech(tts()))
        assert list(azure.speech_events(tts()))
        sent = [r.headers.get("authorization") or r.headers.get("api-key") for r in up.requests]
        provider.close()
        azure.close()

    # The key did go out (so the checks below can fail) ...
    assert sent == [f"Bearer {SECRET}"] * 1 + [SECRET] * 3 + [f"Bearer {SECRET}", SECRET]
    # ... but shows nowhere else.
    assert "[redacted]" in str(auth.value)
    assert "[redacted]" in str(server.value)
    for exc in (auth.value, server.value):
        assert SECRET not in _leaks(exc)
    assert caplog.records  # httpx and the retry logger did log
    assert SECRET not in caplog.text
    assert all(SECRET not in str(r.args) for r in caplog.records)
    assert SECRET not in repr(provider) + repr(provider._http) + repr(provider._http.client.auth)


def test_fast_options_are_valid() -> None:
    assert (
        OpenAIProvider.check_options("default", {**FAST, "base_url": "http://127.0.0.1:1/v1"}) == []
    )
