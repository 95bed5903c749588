"""Upstream failures over real HTTP: retries, timeouts, cut streams, malformed answers."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from django_audio.contract import (
    AudioFile,
    SpeechAudioDelta,
    SpeechRequest,
    TranscriptionRequest,
    TranscriptTextDelta,
    TranslationRequest,
)
from django_audio.exceptions import (
    ProviderError,
    StreamInterrupted,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamConnectionError,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamServerError,
    UpstreamTimeout,
)
from django_audio.providers.openai import OpenAIProvider
from django_audio.testing.fake_upstream import FakeUpstream

from .conftest import call, collect


def stt(file: AudioFile, **kwargs: Any) -> TranscriptionRequest:
    return TranscriptionRequest(file=file, model="gpt-4o-transcribe", **kwargs)


def tts(**kwargs: Any) -> SpeechRequest:
    kwargs.setdefault("response_format", "pcm")
    return SpeechRequest(
        model="gpt-4o-mini-tts", input="Fault injection test.", voice="ash", **kwargs
    )


def retry_waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [r.retry_wait for r in caplog.records if hasattr(r, "retry_wait")]


async def drain(stream: Any) -> tuple[list[Any], BaseException | None]:
    """Items read before the stream failed, and the error (or ``None``)."""
    items: list[Any] = []
    try:
        if hasattr(stream, "__aiter__"):
            async for item in stream:
                items.append(item)
        else:
            for item in stream:
                items.append(item)
    except ProviderError as exc:
        return items, exc
    return items, None


# --------------------------------------------------------------------------- retries


async def test_429_then_success_honours_retry_after(
    new_provider: Any,
    fake_upstream: FakeUpstream,
    wav: AudioFile,
    mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = new_provider(max_retry_wait=5.0)
    fake_upstream.fail(status=429, times=1, retry_after=0.05)
    caplog.set_level(logging.INFO, logger="django_audio")

    result = await call(provider, mode, "transcribe", stt(wav))

    assert result.text
    assert [r.status for r in fake_upstream.requests] == [429, 200]
    assert retry_waits(caplog) == [0.05]


async def test_retry_after_is_bounded_by_max_retry_wait(
    new_provider: Any, fake_upstream: FakeUpstream, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    provider = new_provider(max_retry_wait=0.02)
    fake_upstream.fail(status=429, times=1, retry_after=60)
    caplog.set_level(logging.INFO, logger="django_audio")

    audio = b"".join(await collect(await call(provider, mode, "speech", tts())))

    assert audio
    assert retry_waits(caplog) == [0.02]
    assert [r.status for r in fake_upstream.requests] == [429, 200]


async def test_429_exhausting_retries_raises_rate_limited(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    fake_upstream.fail(status=429, times=10, retry_after=0.01, message="Slow down.")

    with pytest.raises(UpstreamRateLimited) as info:
        await call(provider, mode, "transcribe", stt(wav))

    exc = info.value
    assert len(fake_upstream.requests) == 3  # the first try and max_retries=2
    assert exc.upstream_status == 429
    assert exc.status == 429
    assert exc.retry_after == pytest.approx(0.01)
    assert exc.request_id == fake_upstream.requests[-1].request_id
    assert isinstance(exc.body, dict)
    assert exc.body["error"]["message"] == "Slow down."
    assert exc.code == "rate_limit_exceeded"
    assert "Slow down." in str(exc)
    assert exc.request_id in str(exc)


@pytest.mark.parametrize("status", [500, 503, 409])
async def test_retryable_statuses_exhaust_retries(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str, status: int
) -> None:
    fake_upstream.fail(status=status, times=10)

    with pytest.raises(UpstreamServerError) as info:
        await call(provider, mode, "translate", TranslationRequest(file=wav, model="whisper-1"))

    assert len(fake_upstream.requests) == 3
    assert info.value.upstream_status == status
    assert info.value.body["error"]["message"]  # type: ignore[index]


async def test_5xx_then_success_before_a_stream_starts(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    fake_upstream.fail(status=503, times=2)
    events = await collect(await call(provider, mode, "speech_events", tts()))

    assert isinstance(events[0], SpeechAudioDelta)
    assert [r.status for r in fake_upstream.requests] == [503, 503, 200]


async def test_401_is_not_retried(
    new_provider: Any, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    provider = new_provider(api_key="sk-wrong", max_retries=5)

    with pytest.raises(UpstreamAuthError) as info:
        await call(provider, mode, "transcribe", stt(wav))

    assert len(fake_upstream.requests) == 1
    assert info.value.upstream_status == 401
    assert info.value.code == "invalid_api_key"
    assert isinstance(info.value, PermissionError)


async def test_4xx_errors_are_typed_and_not_retried(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    with pytest.raises(UpstreamNotFound) as info:
        await call(provider, mode, "retrieve_voice_consent", "cons_missing")
    assert info.value.upstream_status == 404
    assert isinstance(info.value, LookupError)

    fake_upstream.fail(status=400, message="Bad voice.", code="invalid_value")
    with pytest.raises(UpstreamBadRequest) as bad:
        await call(provider, mode, "speech", tts())
    assert bad.value.code == "invalid_value"
    assert isinstance(bad.value, ValueError)
    assert len(fake_upstream.requests) == 2


async def test_connection_refused(new_provider: Any, wav: AudioFile, mode: str) -> None:
    with socket.socket() as sock:  # a port nobody listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = new_provider(base_url=f"http://127.0.0.1:{port}/v1", max_retries=1)

    with pytest.raises(UpstreamConnectionError) as info:
        await call(provider, mode, "transcribe", stt(wav))

    assert isinstance(info.value, ConnectionError)
    assert info.value.upstream_status is None


# --------------------------------------------------------------------------- timeouts


async def test_timeout_when_first_byte_is_late(
    new_provider: Any, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    provider = new_provider(timeout=0.2)
    fake_upstream.delay_first_byte(1.0)

    with pytest.raises(UpstreamTimeout) as info:
        await call(provider, mode, "transcribe", stt(wav))

    assert isinstance(info.value, TimeoutError)
    assert info.value.status == 504
    # A read timeout is not retried: the upstream may already be doing the work.
    assert len(fake_upstream.requests) == 1


# --------------------------------------------------------------------------- streams


async def test_cut_sse_stream_raises_after_delivered_events_without_retry(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    fake_upstream.chunk_size = 1024
    fake_upstream.cut_stream(after_events=2)

    items, error = await drain(await call(provider, mode, "speech_events", tts()))

    assert isinstance(error, StreamInterrupted)
    assert len(items) == 2
    assert all(isinstance(i, SpeechAudioDelta) for i in items)
    assert error.request_id == fake_upstream.requests[-1].request_id
    assert len(fake_upstream.requests) == 1


async def test_cut_transcription_stream(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    fake_upstream.cut_stream(after_events=3)

    items, error = await drain(await call(provider, mode, "stream_transcription", stt(wav)))

    assert isinstance(error, StreamInterrupted)
    assert [type(i) for i in items] == [TranscriptTextDelta] * 3
    assert len(fake_upstream.requests) == 1


async def test_cut_raw_audio_stream(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    fake_upstream.chunk_size = 1024
    fake_upstream.pacing = 0.01
    fake_upstream.cut_stream(after_events=2)

    items, error = await drain(await call(provider, mode, "speech", tts()))

    assert isinstance(error, StreamInterrupted)
    assert 0 < sum(len(i) for i in items) <= 2048
    assert len(fake_upstream.requests) == 1


async def test_cut_chat_stream_before_done(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    fake_upstream.cut_stream(after_events=4)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}

    items, error = await drain(await call(provider, mode, "stream_chat_completion", body))

    assert isinstance(error, StreamInterrupted)
    assert len(items) == 4


async def test_malformed_json_body(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    fake_upstream.malformed(kind="json")

    with pytest.raises(UpstreamResponseError) as info:
        await call(provider, mode, "transcribe", stt(wav))

    assert info.value.upstream_status == 200
    assert info.value.request_id == fake_upstream.requests[-1].request_id
    assert "not valid JSON" in str(info.value.body)
    assert len(fake_upstream.requests) == 1


async def test_malformed_event(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    fake_upstream.malformed(kind="event", after_events=2)

    items, error = await drain(await call(provider, mode, "stream_transcription", stt(wav)))

    assert isinstance(error, UpstreamResponseError)
    assert len(items) == 2
    assert "this is not json" in str(error.body)
