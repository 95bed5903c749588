"""Speech services: stored clips, the fingerprint cache, streaming, consent checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from django_audio import services
from django_audio.contract import SpeechAudioDelta, SpeechAudioDone, SpeechRequest, Stream
from django_audio.exceptions import (
    ConsentError,
    InvalidRequest,
    NotFound,
    RequestCancelled,
    UpstreamRateLimited,
)
from django_audio.models import JobStatus, SpeechAsset, UsageRecord, Voice, VoiceConsent
from django_audio.providers import providers
from django_audio.providers.test import TestProvider
from django_audio.signals import pre_synthesize
from django_audio.testing.audio import encode_speech, make_wav, speech_seconds

from .conftest import stored_files

pytestmark = pytest.mark.django_db

TEXT = "Hello from django-audio."


def _voice(user: Any, staff: Any) -> Voice:
    consent = services.submit_consent(user, name="Ann", recording=make_wav(0.5), language="en")
    services.approve_consent(consent, actor=staff)
    return services.create_voice(user, name="Ann", sample=make_wav(0.5), consent=consent)


def test_synthesize_stores_the_clip(provider: TestProvider, media: Path, user: Any) -> None:
    out = services.synthesize(user, input=TEXT, voice="alloy", model="tts-1", response_format="wav")
    asset = SpeechAsset.objects.get(pk=out.asset.pk)
    assert out.cached is False
    assert asset.status == JobStatus.COMPLETED
    assert asset.public_id.startswith("sp_")
    assert asset.voice_name == "alloy"
    assert asset.content_type == "audio/wav"
    expected = encode_speech(speech_seconds(TEXT), "wav")
    assert asset.audio.read() == expected
    assert asset.size == len(expected)
    assert asset.duration == pytest.approx(speech_seconds(TEXT), abs=0.01)
    assert asset.audio.name.endswith(".wav")
    usage = UsageRecord.objects.get(speech_asset=asset)
    assert usage.characters == len(TEXT)
    assert usage.cached is False
    assert len(stored_files(media)) == 1


def test_identical_request_reuses_the_clip(
    provider: TestProvider, media: Path, user: Any, other: Any
) -> None:
    first = services.synthesize(user, input=TEXT, voice="alloy", model="tts-1")
    again = services.synthesize(user, input=TEXT, voice="alloy", model="tts-1")
    assert again.cached is True
    assert again.asset.pk == first.asset.pk
    assert len(provider.calls_for("speech")) == 1
    assert UsageRecord.objects.filter(cached=True).count() == 1
    # Any difference is a new clip; another owner never gets someone else's clip.
    services.synthesize(user, input=TEXT, voice="alloy", model="tts-1", speed=1.5)
    services.synthesize(user, input=TEXT, voice="echo", model="tts-1")
    services.synthesize(other, input=TEXT, voice="alloy", model="tts-1")
    assert len(provider.calls_for("speech")) == 4
    assert len(stored_files(media)) == 4


def test_cache_can_be_switched_off(
    provider: TestProvider, media: Path, user: Any, settings: Any
) -> None:
    services.synthesize(user, input=TEXT, voice="alloy", model="tts-1")
    out = services.synthesize(user, input=TEXT, voice="alloy", model="tts-1", use_cache=False)
    assert out.cached is False
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "SPEECH_CACHE": False}
    out = services.synthesize(user, input=TEXT, voice="alloy", model="tts-1")
    assert out.cached is False
    assert len(provider.calls_for("speech")) == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "param"),
    [
        ({"input": "x" * 5000}, InvalidRequest, "input"),
        ({"input": ""}, InvalidRequest, "input"),
        ({"speed": 9.0}, InvalidRequest, "speed"),
        ({"response_format": "ogg"}, InvalidRequest, "response_format"),
        ({"voice": {"id": "voice_unknown"}}, NotFound, "voice"),
        ({"voice": "voice_unknown"}, NotFound, "voice"),
    ],
)
def test_refused_requests_store_nothing(
    provider: TestProvider,
    media: Path,
    user: Any,
    kwargs: dict[str, Any],
    error: type[Exception],
    param: str,
) -> None:
    args: dict[str, Any] = {"input": TEXT, "voice": "alloy", "model": "tts-1", **kwargs}
    with pytest.raises(error) as err:
        services.synthesize(user, **args)
    assert err.value.param == param  # type: ignore[attr-defined]
    assert not SpeechAsset.objects.exists()
    assert stored_files(media) == []
    assert provider.calls == []


def test_custom_voice_reaches_the_provider_by_upstream_id(
    provider: TestProvider, media: Path, user: Any, other: Any, staff: Any
) -> None:
    voice = _voice(user, staff)
    out = services.synthesize(user, input=TEXT, voice={"id": voice.public_id}, model="tts-1")
    assert out.asset.voice == voice
    assert out.asset.voice_name == voice.public_id
    request: SpeechRequest = provider.calls_for("speech")[-1]["request"]
    assert request.voice == {"id": voice.upstream_id}
    with pytest.raises(NotFound):
        services.synthesize(other, input=TEXT, voice={"id": voice.public_id}, model="tts-1")


def test_pending_consent_voice_is_refused(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    voice = _voice(user, staff)
    VoiceConsent.objects.filter(pk=voice.consent_id).update(status="pending")
    with pytest.raises(ConsentError):
        services.synthesize(user, input=TEXT, voice={"id": voice.public_id}, model="tts-1")
    assert not SpeechAsset.objects.exists()


def test_cache_hit_still_checks_consent(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    voice = _voice(user, staff)
    services.synthesize(user, input=TEXT, voice={"id": voice.public_id}, model="tts-1")
    services.revoke_consent(voice.consent, actor=user)
    with pytest.raises(ConsentError):
        services.synthesize(user, input=TEXT, voice={"id": voice.public_id}, model="tts-1")


def test_upstream_failure_marks_failed_without_file(
    provider: TestProvider, media: Path, user: Any
) -> None:
    provider.fail_next(429, retry_after=3)
    with pytest.raises(UpstreamRateLimited):
        services.synthesize(user, input=TEXT, voice="alloy", model="tts-1")
    asset = SpeechAsset.objects.get()
    assert asset.status == JobStatus.FAILED
    assert asset.error
    assert not asset.audio
    assert stored_files(media) == []
    # A failed clip is never served from the cache.
    assert services.synthesize(user, input=TEXT, voice="alloy", model="tts-1").cached is False


def test_pre_synthesize_cancels(provider: TestProvider, media: Path, user: Any) -> None:
    def refuse(sender: Any, **kw: Any) -> None:
        raise RequestCancelled("No speech today.")

    pre_synthesize.connect(refuse)
    try:
        with pytest.raises(RequestCancelled):
            services.synthesize(user, input=TEXT, voice="alloy", model="tts-1")
    finally:
        pre_synthesize.disconnect(refuse)
    assert not SpeechAsset.objects.exists()
    assert provider.calls == []


def test_query_count(
    provider: TestProvider, media: Path, user: Any, django_assert_max_num_queries: Any
) -> None:
    # 5 statements + 2 savepoint pairs (transactions inside the test's own transaction).
    with django_assert_max_num_queries(9):
        services.synthesize(user, input=TEXT, voice="alloy", model="tts-1")
    with django_assert_max_num_queries(3):
        services.synthesize(user, input=TEXT, voice="alloy", model="tts-1")


# --------------------------------------------------------------------------- streaming


class ClosingProvider(TestProvider):
    """Records whether the upstream speech stream was closed."""

    closed = 0

    def _speech(self, request: SpeechRequest) -> Stream[bytes]:
        inner = super()._speech(request)

        def close() -> None:
            type(self).closed += 1

        return Stream(iter(inner), close=close, content_type=inner.content_type)


@pytest.mark.django_db(transaction=True)
async def test_stream_saves_the_same_bytes(provider: TestProvider, media: Path, user: Any) -> None:
    provider.chunk_size = 1000
    stream = await services.astream_speech(
        user, input=TEXT * 3, voice="alloy", model="tts-1", response_format="mp3"
    )
    assert stream.content_type == "audio/mpeg"
    chunks = [c async for c in stream]
    assert len(chunks) > 1
    asset = await SpeechAsset.objects.aget(pk=stream.asset.pk)
    assert asset.status == JobStatus.COMPLETED
    assert await sync_to_async(asset.audio.read)() == b"".join(chunks)  # type: ignore[arg-type]


@pytest.mark.django_db(transaction=True)
async def test_sse_stream_saves_decoded_audio_and_usage(
    provider: TestProvider, media: Path, user: Any
) -> None:
    stream = await services.astream_speech(
        user, input=TEXT, voice="alloy", model="gpt-4o-mini-tts", response_format="wav", sse=True
    )
    assert stream.content_type == "text/event-stream"
    events = [e async for e in stream]
    assert isinstance(events[-1], SpeechAudioDone)
    audio = b"".join(e.audio for e in events if isinstance(e, SpeechAudioDelta))
    asset = await SpeechAsset.objects.aget(pk=stream.asset.pk)
    assert await sync_to_async(asset.audio.read)() == audio
    assert asset.usage["total_tokens"] > 0
    # The same request again streams the stored clip, as events too.
    again = await services.astream_speech(
        user, input=TEXT, voice="alloy", model="gpt-4o-mini-tts", response_format="wav", sse=True
    )
    assert again.cached is True
    replay = [e async for e in again]
    assert b"".join(e.audio for e in replay if isinstance(e, SpeechAudioDelta)) == audio
    assert isinstance(replay[-1], SpeechAudioDone)
    assert replay[-1].usage.total_tokens == asset.usage["total_tokens"]


@pytest.mark.django_db(transaction=True)
async def test_client_disconnect_closes_upstream_and_marks_incomplete(
    media: Path, user: Any
) -> None:
    provider = ClosingProvider(chunk_size=500)
    ClosingProvider.closed = 0
    with providers.override("default", provider):
        stream = await services.astream_speech(
            user, input=TEXT * 5, voice="alloy", model="tts-1", response_format="wav"
        )
        await stream.__anext__()
        await stream.aclose()
    asset = await SpeechAsset.objects.aget(pk=stream.asset.pk)
    assert asset.status == JobStatus.INCOMPLETE
    assert asset.error_code == "client_disconnected"
    assert not asset.audio
    assert ClosingProvider.closed == 1
    assert stored_files(media) == []


@pytest.mark.django_db(transaction=True)
async def test_revocation_mid_stream_blocks_the_next_use(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    voice = await sync_to_async(_voice)(user, staff)
    provider.chunk_size = 200
    stream = await services.astream_speech(
        user, input=TEXT * 4, voice={"id": voice.public_id}, model="tts-1", response_format="wav"
    )
    await stream.__anext__()
    consent = await VoiceConsent.objects.aget(pk=voice.consent_id)
    await sync_to_async(services.revoke_consent)(consent, actor=user, reason="stop")
    rest = [c async for c in stream]  # the clip already being spoken finishes
    assert rest
    with pytest.raises(ConsentError):
        await services.astream_speech(
            user, input="More.", voice={"id": voice.public_id}, model="tts-1"
        )
    with pytest.raises(ConsentError):
        await services.asynthesize(
            user, input=TEXT * 4, voice={"id": voice.public_id}, model="tts-1",
            response_format="wav",
        )  # fmt: skip
    assert (await Voice.objects.aget(pk=voice.pk)).status == Voice.Status.DISABLED


@pytest.mark.django_db(transaction=True)
async def test_stream_upstream_error_marks_failed(
    provider: TestProvider, media: Path, user: Any
) -> None:
    from django_audio.exceptions import StreamInterrupted

    provider.chunk_size = 100
    provider.fail_next(StreamInterrupted("cut"), after_events=2)
    stream = await services.astream_speech(user, input=TEXT, voice="alloy", model="tts-1")
    with pytest.raises(StreamInterrupted):
        async for _ in stream:
            pass
    asset = await SpeechAsset.objects.aget(pk=stream.asset.pk)
    assert asset.status == JobStatus.FAILED
    assert "cut" in asset.error
    assert stored_files(media) == []


@pytest.mark.django_db(transaction=True)
async def test_closed_before_first_chunk_still_closes_upstream(media: Path, user: Any) -> None:
    provider = ClosingProvider()
    ClosingProvider.closed = 0
    with providers.override("default", provider):
        async with await services.astream_speech(
            user, input=TEXT, voice="alloy", model="tts-1"
        ) as stream:
            pass  # the client went away before any audio was requested
    asset = await SpeechAsset.objects.aget(pk=stream.asset.pk)
    assert asset.status == JobStatus.INCOMPLETE
    assert ClosingProvider.closed == 1
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
