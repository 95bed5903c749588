"""Streamed transcription and live captions: persisted when done, cut or broken."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from django_audio import services
from django_audio.contract import TranscriptTextDelta, TranscriptTextDone
from django_audio.exceptions import InvalidRequest, StreamInterrupted, UpstreamAuthError
from django_audio.models import JobStatus, Transcript, UsageRecord
from django_audio.providers.test import TestProvider
from django_audio.testing.audio import make_wav, tone_pcm

from .conftest import stored_files

pytestmark = pytest.mark.django_db(transaction=True)


async def _get(pk: int) -> Transcript:
    return await Transcript.objects.aget(pk=pk)


async def test_stream_completes_and_stores(provider: TestProvider, media: Path, user: Any) -> None:
    stream = await services.astream_transcription(user, make_wav(2.0), model="gpt-4o-transcribe")
    assert (await _get(stream.transcript.pk)).status == JobStatus.RUNNING
    events = [e async for e in stream]
    assert isinstance(events[0], TranscriptTextDelta)
    assert isinstance(events[-1], TranscriptTextDone)
    row = await _get(stream.transcript.pk)
    assert row.status == JobStatus.COMPLETED
    assert row.text == provider.transcript_text
    assert row.usage["type"] == "tokens"
    assert await UsageRecord.objects.filter(transcript=row).acount() == 1
    assert len(stored_files(media)) == 1


async def test_stream_cut_by_client_is_incomplete_with_partial_text(
    provider: TestProvider, media: Path, user: Any
) -> None:
    stream = await services.astream_transcription(user, make_wav(2.0), model="gpt-4o-transcribe")
    first = await stream.__anext__()
    second = await stream.__anext__()
    await stream.aclose()
    row = await _get(stream.transcript.pk)
    assert row.status == JobStatus.INCOMPLETE
    assert row.text == first.delta + second.delta  # type: ignore[union-attr]
    assert row.audio.name  # the upload is kept
    assert len(stored_files(media)) == 1


async def test_stream_broken_upstream_is_failed(
    provider: TestProvider, media: Path, user: Any
) -> None:
    provider.fail_next(StreamInterrupted("connection reset"), after_events=2)
    stream = await services.astream_transcription(user, make_wav(1.0), model="gpt-4o-transcribe")
    received: list[Any] = []

    async def drain() -> None:
        async for event in stream:
            received.append(event)

    with pytest.raises(StreamInterrupted):
        await drain()
    assert len(received) == 2
    row = await _get(stream.transcript.pk)
    assert row.status == JobStatus.FAILED
    assert "connection reset" in row.error
    assert row.text  # what arrived is kept


async def test_stream_error_before_first_event_is_raised_at_open(
    provider: TestProvider, media: Path, user: Any
) -> None:
    provider.fail_next(401)
    with pytest.raises(UpstreamAuthError):
        await services.astream_transcription(user, make_wav(1.0), model="gpt-4o-transcribe")
    row = await Transcript.objects.aget()
    assert row.status == JobStatus.FAILED
    assert len(stored_files(media)) == 1


async def test_stream_refuses_bad_input_before_storing(
    provider: TestProvider, media: Path, user: Any
) -> None:
    with pytest.raises(InvalidRequest) as err:
        await services.astream_transcription(
            user, make_wav(1.0), model="whisper-1", response_format="srt"
        )
    assert err.value.param == "stream"
    with pytest.raises(InvalidRequest):
        await services.astream_transcription(user, b"hello", model="whisper-1")
    assert await Transcript.objects.acount() == 0
    assert stored_files(media) == []


async def test_async_transcribe_and_translate(
    provider: TestProvider, media: Path, user: Any
) -> None:
    out = await services.atranscribe(user, make_wav(1.0), model="whisper-1")
    assert out.transcript.status == JobStatus.COMPLETED
    out = await services.atranslate(user, make_wav(1.0), model="whisper-1")
    assert out.transcript.kind == Transcript.Kind.TRANSLATION
    provider.fail_next(500)
    with pytest.raises(Exception):
        await services.atranscribe(user, make_wav(1.0), model="whisper-1")
    assert await Transcript.objects.filter(status=JobStatus.FAILED).acount() == 1


async def test_save_live_caption(media: Path, user: Any) -> None:
    pcm = tone_pcm(1.5, rate=16000)
    row = await services.asave_live_caption(
        user,
        io.BytesIO(pcm),
        segments=[
            {"id": "seg_1", "start": 0.0, "end": 0.7, "text": "hello", "speaker": "A"},
            {"id": "seg_2", "start": 0.7, "end": 1.5, "text": "world", "speaker": "B"},
        ],
        text="hello world",
        status=JobStatus.INCOMPLETE,
        model="gpt-4o-transcribe",
        language="en",
    )
    row = await _get(row.pk)
    assert row.kind == Transcript.Kind.LIVE_CAPTION
    assert row.status == JobStatus.INCOMPLETE
    assert row.speakers == ["A", "B"]
    assert row.duration == pytest.approx(1.5)
    data = await sync_to_async(row.audio.read)()
    assert data[:4] == b"RIFF"
    assert data[44:] == pcm
    usage = await UsageRecord.objects.aget(transcript=row)
    assert usage.operation == "live_caption"
    assert usage.seconds == pytest.approx(1.5)


def test_save_live_caption_without_audio_and_bad_status(media: Path, user: Any) -> None:
    row = services.save_live_caption(user, None, segments=[], text="", status="completed")
    assert not row.audio
    assert stored_files(media) == []
    with pytest.raises(InvalidRequest):
        services.save_live_caption(user, b"", segments=[], text="", status="running")


async def test_stream_closed_before_first_event(
    provider: TestProvider, media: Path, user: Any
) -> None:
    stream = await services.astream_transcription(user, make_wav(1.0), model="gpt-4o-transcribe")
    await stream.aclose()
    await stream.aclose()  # idempotent
    row = await _get(stream.transcript.pk)
    assert row.status == JobStatus.INCOMPLETE
    assert row.text == ""
    assert row.audio.name
