"""``/v1/audio/transcriptions`` and ``/v1/audio/translations`` through the official SDK."""

from __future__ import annotations

import openai
import pytest
from openai.types.audio import (
    Transcription,
    TranscriptionDiarized,
    TranscriptionTextDeltaEvent,
    TranscriptionTextDoneEvent,
    TranscriptionVerbose,
    Translation,
    TranslationVerbose,
)

from django_audio.models import JobStatus, Transcript
from django_audio.testing.payloads import DEFAULT_TRANSCRIPT, DEFAULT_TRANSLATION

from .conftest import Account

# The SDK marks translations deprecated; they are still part of the contract.
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")


def test_json_transcription_is_stored_for_the_caller(alice: Account, wav: bytes) -> None:
    raw = alice.client.audio.transcriptions.with_raw_response.create(
        file=("hello.wav", wav), model="whisper-1"
    )
    result = raw.parse()
    assert isinstance(result, Transcription)
    assert result.text == DEFAULT_TRANSCRIPT
    row = Transcript.objects.get(public_id=raw.headers["x-audio-transcript-id"])
    assert row.owner == alice.user
    assert row.status == JobStatus.COMPLETED
    assert row.text == DEFAULT_TRANSCRIPT
    assert row.original_name == "hello.wav"
    with row.audio.open("rb") as fh:
        assert fh.read() == wav


def test_every_parameter_reaches_the_provider(alice: Account, wav: bytes, test_provider) -> None:
    result = alice.client.audio.transcriptions.create(
        file=("a.wav", wav),
        model="gpt-4o-transcribe",
        language="en",
        prompt="A fox.",
        response_format="json",
        temperature=0.3,
        include=["logprobs"],
        chunking_strategy={"type": "server_vad", "threshold": 0.4, "silence_duration_ms": 300},
    )
    assert isinstance(result, Transcription)
    request = test_provider.calls_for("transcribe")[-1]["request"]
    assert request.model == "gpt-4o-transcribe"
    assert request.language == "en"
    assert request.prompt == "A fox."
    assert request.temperature == pytest.approx(0.3)
    assert list(request.include) == ["logprobs"]
    assert request.chunking_strategy == {
        "type": "server_vad",
        "threshold": 0.4,
        "silence_duration_ms": 300.0,
    }
    assert result.logprobs, "logprobs asked for and returned"


def test_verbose_json_with_granularities(alice: Account, wav: bytes, test_provider) -> None:
    result = alice.client.audio.transcriptions.create(
        file=("a.wav", wav),
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert isinstance(result, TranscriptionVerbose)
    assert result.words
    assert result.segments
    request = test_provider.calls_for("transcribe")[-1]["request"]
    assert list(request.timestamp_granularities) == ["word", "segment"]
    row = Transcript.objects.get()
    assert row.words
    assert row.segments


def test_diarized_json_with_known_speakers(alice: Account, wav: bytes, test_provider) -> None:
    ref = "data:audio/wav;base64,UklGRg=="
    result = alice.client.audio.transcriptions.create(
        file=("a.wav", wav),
        model="gpt-4o-transcribe-diarize",
        response_format="diarized_json",
        known_speaker_names=["Ada"],
        known_speaker_references=[ref],
        chunking_strategy="auto",
    )
    assert isinstance(result, TranscriptionDiarized)
    assert result.segments
    request = test_provider.calls_for("transcribe")[-1]["request"]
    assert list(request.known_speaker_names) == ["Ada"]
    assert list(request.known_speaker_references) == [ref]
    assert request.chunking_strategy == "auto"


@pytest.mark.parametrize(
    ("fmt", "content_type", "marker"),
    [
        ("text", "text/plain; charset=utf-8", DEFAULT_TRANSCRIPT),
        ("srt", "application/x-subrip; charset=utf-8", "00:00:00,000 --> "),
        ("vtt", "text/vtt; charset=utf-8", "WEBVTT"),
    ],
)
def test_text_formats_answer_text_with_their_content_type(
    alice: Account, wav: bytes, fmt: str, content_type: str, marker: str
) -> None:
    raw = alice.client.audio.transcriptions.with_raw_response.create(
        file=("a.wav", wav), model="whisper-1", response_format=fmt
    )
    assert raw.headers["content-type"] == content_type
    text = raw.parse()
    assert isinstance(text, str)
    assert marker in text
    assert Transcript.objects.get().response_format == fmt


def test_streamed_transcription_relays_events(alice: Account, wav: bytes) -> None:
    stream = alice.client.audio.transcriptions.create(
        file=("a.wav", wav), model="gpt-4o-mini-transcribe", stream=True
    )
    events = list(stream)
    deltas = [e for e in events if isinstance(e, TranscriptionTextDeltaEvent)]
    done = events[-1]
    assert len(deltas) > 1
    assert isinstance(done, TranscriptionTextDoneEvent)
    assert "".join(d.delta for d in deltas).strip() == done.text.strip()
    row = Transcript.objects.get()
    assert row.status == JobStatus.COMPLETED
    assert row.text == done.text
    assert row.owner == alice.user


def test_streamed_transcription_headers(alice: Account, wav: bytes) -> None:
    with alice.client.audio.transcriptions.with_streaming_response.create(
        file=("a.wav", wav), model="gpt-4o-mini-transcribe", stream=True
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert '"transcript.text.done"' in lines[-1]


def test_translation_json_verbose_and_text(alice: Account, wav: bytes) -> None:
    result = alice.client.audio.translations.create(file=("a.wav", wav), model="whisper-1")
    assert isinstance(result, Translation)
    assert result.text == DEFAULT_TRANSLATION
    verbose = alice.client.audio.translations.create(
        file=("a.wav", wav), model="whisper-1", response_format="verbose_json", prompt="Hi"
    )
    assert isinstance(verbose, TranslationVerbose)
    assert verbose.language
    raw = alice.client.audio.translations.with_raw_response.create(
        file=("a.wav", wav), model="whisper-1", response_format="vtt"
    )
    assert raw.headers["content-type"] == "text/vtt; charset=utf-8"
    assert raw.parse().startswith("WEBVTT")
    kinds = set(Transcript.objects.values_list("kind", flat=True))
    assert kinds == {Transcript.Kind.TRANSLATION}
    assert Transcript.objects.filter(owner=alice.user).count() == 3


async def test_async_sdk_transcription_stream_and_translation(alice: Account, wav: bytes) -> None:
    client = alice.aclient
    result = await client.audio.transcriptions.create(file=("a.wav", wav), model="whisper-1")
    assert isinstance(result, Transcription)
    assert result.text == DEFAULT_TRANSCRIPT
    text = await client.audio.transcriptions.create(
        file=("a.wav", wav), model="whisper-1", response_format="srt"
    )
    assert "-->" in text
    stream = await client.audio.transcriptions.create(
        file=("a.wav", wav), model="gpt-4o-transcribe", stream=True
    )
    events = [event async for event in stream]
    assert isinstance(events[-1], TranscriptionTextDoneEvent)
    translation = await client.audio.translations.create(file=("a.wav", wav), model="whisper-1")
    assert translation.text == DEFAULT_TRANSLATION
    await client.close()
    assert await Transcript.objects.filter(owner=alice.user).acount() == 4


def test_sdk_error_type_for_a_bad_parameter(alice: Account, wav: bytes) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        alice.client.audio.transcriptions.create(
            file=("a.wav", wav), model="whisper-1", response_format="json", stream=True,
            timestamp_granularities=["word"],
        )  # fmt: skip
    assert info.value.status_code == 400
    assert info.value.param == "timestamp_granularities[]"
    assert Transcript.objects.count() == 0
