"""Every operation of the OpenAI audio contract through OpenAIProvider, over real HTTP.

Each test runs through the sync API and through the native async API (``mode``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from django_audio.contract import (
    SPEECH_FORMATS,
    AudioFile,
    ChatCompletion,
    DurationUsage,
    PlainText,
    SpeechAudioDelta,
    SpeechAudioDone,
    SpeechRequest,
    TokenUsage,
    Transcription,
    TranscriptionDiarized,
    TranscriptionRequest,
    TranscriptionVerbose,
    TranscriptTextDelta,
    TranscriptTextDone,
    TranscriptTextSegment,
    Translation,
    TranslationRequest,
    TranslationVerbose,
    VoiceConsentDeleted,
    VoiceConsentObject,
    VoiceDeleted,
    VoiceObject,
)
from django_audio.providers.openai import OpenAIProvider
from django_audio.testing import payloads
from django_audio.testing.audio import encode_speech, make_wav, speech_seconds
from django_audio.testing.fake_upstream import FakeUpstream

from .conftest import call, collect

TEXT = payloads.DEFAULT_TRANSCRIPT
SPEAKER_REF = "data:audio/wav;base64," + base64.b64encode(make_wav(0.2)).decode("ascii")


def stt(file: AudioFile, **kwargs: Any) -> TranscriptionRequest:
    kwargs.setdefault("model", "gpt-4o-transcribe")
    return TranscriptionRequest(file=file, **kwargs)


def tts(**kwargs: Any) -> SpeechRequest:
    kwargs.setdefault("model", "gpt-4o-mini-tts")
    kwargs.setdefault("input", "Hello from the provider tests.")
    kwargs.setdefault("voice", "alloy")
    return SpeechRequest(**kwargs)


def expected_audio(request: SpeechRequest) -> bytes:
    """What the fake synthesizes for ``request`` (deterministic)."""
    return encode_speech(speech_seconds(request.input, request.speed), request.response_format)


# --------------------------------------------------------------------------- transcriptions


async def test_transcription_json_with_logprobs_and_token_usage(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, wav_path: Path, mode: str
) -> None:
    result = await call(provider, mode, "transcribe", stt(wav, include=["logprobs"]))

    assert isinstance(result, Transcription)
    assert result.text == TEXT
    assert result.logprobs
    assert [lp.token for lp in result.logprobs][0] == "The"
    assert isinstance(result.usage, TokenUsage)
    assert result.usage.total_tokens > 0
    rec = fake_upstream.requests[-1]
    assert result.request_id == rec.request_id
    assert rec.path == "/v1/audio/transcriptions"
    assert rec.headers["authorization"] == "Bearer sk-test"
    assert rec.form["model"] == "gpt-4o-transcribe"
    assert rec.form["response_format"] == "json"
    assert rec.form["include[]"] == ["logprobs"]
    assert rec.files["file"].filename == "speech.wav"
    assert rec.files["file"].content_type == "audio/wav"
    assert rec.files["file"].data == make_wav(1.0)


async def test_transcription_duration_usage(
    provider: OpenAIProvider, wav: AudioFile, mode: str
) -> None:
    result = await call(provider, mode, "transcribe", stt(wav, model="whisper-1"))
    assert isinstance(result.usage, DurationUsage)
    assert result.usage.seconds == pytest.approx(1.0)


async def test_transcription_sends_every_parameter(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    request = stt(
        wav,
        model="gpt-4o-transcribe-diarize",
        language="en",
        prompt="A pangram.",
        response_format="diarized_json",
        temperature=0.2,
        chunking_strategy={"type": "server_vad", "silence_duration_ms": 300, "threshold": 0.4},
        known_speaker_names=["agent", "customer"],
        known_speaker_references=[SPEAKER_REF, SPEAKER_REF],
        extra={"keywords[]": ["fox", "dog"]},
    )
    result = await call(provider, mode, "transcribe", request)

    assert isinstance(result, TranscriptionDiarized)
    assert [s.speaker for s in result.segments] == ["agent", "customer"]
    assert result.segments[0].id == "seg_000"
    assert result.duration == pytest.approx(1.0)
    assert isinstance(result.usage, TokenUsage)
    form = fake_upstream.requests[-1].form
    assert form["language"] == "en"
    assert form["prompt"] == "A pangram."
    assert form["temperature"] == "0.2"
    assert json.loads(form["chunking_strategy"]) == {
        "type": "server_vad",
        "silence_duration_ms": 300,
        "threshold": 0.4,
    }
    assert form["known_speaker_names[]"] == ["agent", "customer"]
    assert form["known_speaker_references[]"] == [SPEAKER_REF, SPEAKER_REF]
    assert form["keywords[]"] == ["fox", "dog"]
    assert "stream" not in form


async def test_transcription_chunking_auto(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    await call(provider, mode, "transcribe", stt(wav, chunking_strategy="auto"))
    assert fake_upstream.requests[-1].form["chunking_strategy"] == "auto"


async def test_transcription_verbose_words_and_segments(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    request = stt(
        wav,
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    result = await call(provider, mode, "transcribe", request)

    assert isinstance(result, TranscriptionVerbose)
    assert result.language == "english"
    assert result.duration == pytest.approx(1.0)
    assert result.words is not None
    assert [w.word for w in result.words] == TEXT.split()
    assert result.segments is not None
    assert len(result.segments) == 2
    assert result.segments[1].start == pytest.approx(result.words[5].start)
    assert isinstance(result.usage, DurationUsage)
    grains = fake_upstream.requests[-1].form["timestamp_granularities[]"]
    assert grains == ["word", "segment"]


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
async def test_transcription_plain_text_formats(
    provider: OpenAIProvider, wav: AudioFile, mode: str, fmt: str
) -> None:
    result = await call(provider, mode, "transcribe", stt(wav, response_format=fmt))

    assert isinstance(result, PlainText)
    assert result == payloads.subtitles(TEXT, 1.0, fmt)
    assert result.response_format == fmt
    assert result.request_id


async def test_streaming_transcription_yields_typed_events(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    fake_upstream.pacing = 0.01
    stream = await call(provider, mode, "stream_transcription", stt(wav, include=["logprobs"]))
    events = await collect(stream)

    assert fake_upstream.requests[-1].form["stream"] == "true"
    deltas = [e for e in events if isinstance(e, TranscriptTextDelta)]
    assert len(deltas) == len(TEXT.split())
    assert all(d.logprobs for d in deltas)
    done = events[-1]
    assert isinstance(done, TranscriptTextDone)
    assert "".join(d.delta for d in deltas) == done.text == TEXT
    assert isinstance(done.usage, TokenUsage)
    assert stream.request_id == fake_upstream.requests[-1].request_id


async def test_streaming_diarized_transcription_yields_segments(
    provider: OpenAIProvider, wav: AudioFile, mode: str
) -> None:
    request = stt(wav, model="gpt-4o-transcribe-diarize", known_speaker_names=["ann", "bob"])
    events = await collect(await call(provider, mode, "stream_transcription", request))

    segments = [e for e in events if isinstance(e, TranscriptTextSegment)]
    assert [s.speaker for s in segments] == ["ann", "bob"]
    assert segments[0].id == "seg_000"
    assert segments[0].end > segments[0].start
    assert isinstance(events[-1], TranscriptTextDone)


# --------------------------------------------------------------------------- translations


@pytest.mark.parametrize("fmt", ["json", "verbose_json", "text", "srt", "vtt"])
async def test_translation_formats(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str, fmt: str
) -> None:
    request = TranslationRequest(
        file=wav, model="whisper-1", prompt="Be literal.", response_format=fmt, temperature=0.0
    )
    result = await call(provider, mode, "translate", request)

    if fmt == "json":
        assert isinstance(result, Translation)
        assert result.text == payloads.DEFAULT_TRANSLATION
    elif fmt == "verbose_json":
        assert isinstance(result, TranslationVerbose)
        assert result.language == "english"
        assert result.segments
    else:
        assert isinstance(result, PlainText)
        assert result == payloads.subtitles(payloads.DEFAULT_TRANSLATION, 1.0, fmt)
    rec = fake_upstream.requests[-1]
    assert rec.path == "/v1/audio/translations"
    assert rec.form == {
        "model": "whisper-1",
        "prompt": "Be literal.",
        "response_format": fmt,
        "temperature": "0.0",
    }


# --------------------------------------------------------------------------- speech


@pytest.mark.parametrize("fmt", SPEECH_FORMATS)
async def test_speech_every_format(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str, fmt: str
) -> None:
    request = tts(response_format=fmt)
    stream = await call(provider, mode, "speech", request)
    audio = b"".join(await collect(stream))

    assert audio == expected_audio(request)
    assert stream.content_type == request.content_type
    body = fake_upstream.requests[-1].json
    assert body == {
        "model": "gpt-4o-mini-tts",
        "input": request.input,
        "voice": "alloy",
        "response_format": fmt,
        "speed": 1.0,
    }


@pytest.mark.parametrize("voice", ["coral", {"id": "voice_123abc"}])
async def test_speech_voice_forms_instructions_and_speed(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str, voice: Any
) -> None:
    request = tts(voice=voice, instructions="Speak warmly.", speed=1.5, response_format="wav")
    audio = b"".join(await collect(await call(provider, mode, "speech", request)))

    assert audio == expected_audio(request)
    body = fake_upstream.requests[-1].json
    assert body["voice"] == voice
    assert body["instructions"] == "Speak warmly."
    assert body["speed"] == 1.5
    assert "stream_format" not in body


async def test_speech_audio_arrives_chunk_by_chunk(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    fake_upstream.pacing = 0.05
    fake_upstream.chunk_size = 2048
    request = tts(response_format="pcm")
    chunks = await collect(await call(provider, mode, "speech", request))

    expected = expected_audio(request)
    assert b"".join(chunks) == expected
    # The fake pauses between chunks, so they cannot have been buffered into one.
    assert len(chunks) >= 2
    assert all(len(c) <= 2048 for c in chunks)


async def test_speech_sse_when_upstream_honours_stream_format(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    fake_upstream.chunk_size = 2048
    request = tts(response_format="wav")
    stream = await call(provider, mode, "speech_events", request)
    events = await collect(stream)

    assert fake_upstream.requests[-1].json["stream_format"] == "sse"
    assert fake_upstream.requests[-1].headers["accept"] == "text/event-stream"
    deltas = [e for e in events if isinstance(e, SpeechAudioDelta)]
    assert len(deltas) >= 2
    assert b"".join(d.audio for d in deltas) == expected_audio(request)
    done = events[-1]
    assert isinstance(done, SpeechAudioDone)
    usage = payloads.speech_usage(request.input)
    assert (done.usage.input_tokens, done.usage.output_tokens, done.usage.total_tokens) == (
        usage["input_tokens"],
        usage["output_tokens"],
        usage["total_tokens"],
    )
    assert stream.content_type == "text/event-stream"


async def test_speech_sse_when_upstream_ignores_stream_format(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    fake_upstream.speech_ignores_sse = True
    request = tts(response_format="mp3")
    events = await collect(await call(provider, mode, "speech_events", request))

    assert fake_upstream.requests[-1].json["stream_format"] == "sse"
    assert all(isinstance(e, SpeechAudioDelta) for e in events[:-1])
    assert b"".join(e.audio for e in events[:-1]) == expected_audio(request)
    assert isinstance(events[-1], SpeechAudioDone)


async def test_raw_speech_decodes_an_sse_answer(
    provider: OpenAIProvider,
    fake_upstream: FakeUpstream,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Simulate a server that streams SSE although raw audio was asked for.
    build = provider._speech_call
    monkeypatch.setattr(provider, "_speech_call", lambda r: build(replace(r, stream_format="sse")))
    request = tts(response_format="flac")
    stream = await call(provider, mode, "speech", request)
    audio = b"".join(await collect(stream))

    assert fake_upstream.requests[-1].json["stream_format"] == "sse"
    assert audio == expected_audio(request)
    assert stream.content_type == "audio/flac"


# --------------------------------------------------------------------------- voices and consents


async def test_voice_create_and_delete(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    consent = await call(provider, mode, "create_voice_consent", "Ann", wav, "en-US")
    voice = await call(provider, mode, "create_voice", "Ann's voice", wav, consent.id)

    assert isinstance(voice, VoiceObject)
    assert voice.id.startswith("voice_")
    assert voice.name == "Ann's voice"
    assert voice.type == "audio_sample"
    assert voice.created_at > 0
    rec = fake_upstream.requests[-1]
    assert rec.path == "/v1/audio/voices"
    assert rec.form == {"name": "Ann's voice", "consent": consent.id}
    assert rec.files["audio_sample"].data == wav.read()

    deleted = await call(provider, mode, "delete_voice", voice.id)
    assert deleted == VoiceDeleted(id=voice.id, deleted=True)
    assert fake_upstream.requests[-1].method == "DELETE"
    assert voice.id not in fake_upstream.voices


async def test_voice_consent_lifecycle(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    created = await call(provider, mode, "create_voice_consent", "Bob", wav, "en-GB")
    assert isinstance(created, VoiceConsentObject)
    assert created.id.startswith("cons_")
    assert created.language == "en-GB"
    rec = fake_upstream.requests[-1]
    assert rec.form == {"name": "Bob", "language": "en-GB"}
    assert rec.files["recording"].size == wav.size

    fetched = await call(provider, mode, "retrieve_voice_consent", created.id)
    assert fetched == created

    renamed = await call(provider, mode, "update_voice_consent", created.id, "Robert")
    assert renamed.name == "Robert"
    assert renamed.id == created.id
    assert fake_upstream.requests[-1].json == {"name": "Robert"}

    deleted = await call(provider, mode, "delete_voice_consent", created.id)
    assert deleted == VoiceConsentDeleted(id=created.id, deleted=True)
    assert deleted.object == "audio.voice_consent"
    assert created.id not in fake_upstream.consents


async def test_voice_consent_pagination_walk(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, wav: AudioFile, mode: str
) -> None:
    ids = [
        (await call(provider, mode, "create_voice_consent", f"person {i}", wav, "en")).id
        for i in range(5)
    ]
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        page = await call(provider, mode, "list_voice_consents", after, 2)
        pages += 1
        seen += [c.id for c in page.data]
        assert page.first_id == page.data[0].id
        assert page.last_id == page.data[-1].id
        if not page.has_more:
            break
        after = page.last_id

    assert seen == ids
    assert pages == 3
    queries = [r.query for r in fake_upstream.requests_to("/voice_consents") if r.method == "GET"]
    assert queries == [
        {"limit": "2"},
        {"after": ids[1], "limit": "2"},
        {"after": ids[3], "limit": "2"},
    ]


# --------------------------------------------------------------------------- chat completions

CHAT = {
    "model": "gpt-4o-audio-preview",
    "modalities": ["text", "audio"],
    "audio": {"voice": "alloy", "format": "wav"},
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this recording?"},
                {
                    "type": "input_audio",
                    "input_audio": {
                        "data": base64.b64encode(make_wav(0.2)).decode("ascii"),
                        "format": "wav",
                    },
                },
            ],
        },
        {"role": "assistant", "audio": {"id": "audio_earlier"}},
        {"role": "user", "content": "Say it again."},
    ],
}


async def test_chat_completion_with_audio(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    result = await call(provider, mode, "chat_completion", CHAT)

    assert isinstance(result, ChatCompletion)
    audio = result.audio
    assert audio is not None
    assert audio.id.startswith("audio_")
    assert audio.expires_at > result.data["created"]
    assert audio.transcript
    assert audio.audio_bytes.startswith(b"RIFF")
    assert result.request_id == fake_upstream.requests[-1].request_id
    sent = fake_upstream.requests[-1].json
    assert sent == {**CHAT, "stream": False}
    assert fake_upstream.requests[-1].path == "/v1/chat/completions"


async def test_streamed_chat_completion_with_audio_deltas(
    provider: OpenAIProvider, fake_upstream: FakeUpstream, mode: str
) -> None:
    fake_upstream.chunk_size = 4096
    chunks = await collect(await call(provider, mode, "stream_chat_completion", CHAT))

    assert fake_upstream.requests[-1].json["stream"] is True
    audio = [c.audio for c in chunks if c.audio is not None]
    assert audio[0].id
    assert audio[0].id.startswith("audio_")
    transcript = "".join(a.transcript or "" for a in audio)
    data = b"".join(base64.b64decode(a.data) for a in audio if a.data)
    assert transcript
    assert data.startswith(b"RIFF")
    assert audio[-1].expires_at
    assert audio[-1].data is None
    assert chunks[-1].data["choices"][0]["finish_reason"] == "stop"
