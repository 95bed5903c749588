"""The test provider: every operation, call recording, failure injection, async forms."""

from __future__ import annotations

import base64
import io
import wave

import pytest

from django_audio.contract import (
    AudioFile,
    Capability,
    DurationUsage,
    PlainText,
    SpeechAudioDelta,
    SpeechAudioDone,
    SpeechRequest,
    TokenUsage,
    TranscriptionDiarized,
    TranscriptionRequest,
    TranscriptionVerbose,
    TranscriptTextDelta,
    TranscriptTextDone,
    TranscriptTextSegment,
    Translation,
    TranslationRequest,
    TranslationVerbose,
)
from django_audio.exceptions import (
    InvalidRequest,
    ProviderError,
    StreamInterrupted,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
)
from django_audio.providers import providers
from django_audio.providers.test import Call, TestProvider
from django_audio.testing import make_silence_wav, make_wav

TEXT = "The quick brown fox jumps over the lazy dog."
CHAT = {
    "model": "gpt-4o-audio-preview",
    "modalities": ["text", "audio"],
    "audio": {"voice": "alloy", "format": "wav"},
    "messages": [{"role": "user", "content": "Say hi"}],
}


@pytest.fixture
def provider() -> TestProvider:
    return TestProvider(chunk_size=1024)


def wav_file(seconds: float = 2.0) -> AudioFile:
    return AudioFile(make_wav(seconds), filename="clip.wav", content_type="audio/wav")


def stt(fmt: str = "json", seconds: float = 2.0, **kwargs: object) -> TranscriptionRequest:
    return TranscriptionRequest(
        file=wav_file(seconds), model="gpt-4o-transcribe", response_format=fmt, **kwargs
    )  # type: ignore[arg-type]


def tts(fmt: str = "wav", text: str = "Hello there!", **kwargs: object) -> SpeechRequest:
    return SpeechRequest(
        model="gpt-4o-mini-tts", input=text, voice="alloy", response_format=fmt, **kwargs
    )  # type: ignore[arg-type]


def wav_frames(data: bytes) -> tuple[int, int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnframes()


# --------------------------------------------------------------------------- setup


def test_declares_every_capability_and_its_options() -> None:
    assert TestProvider.capabilities == Capability.ALL
    assert TestProvider.name == "test"
    assert TestProvider.option_names() == {
        "transcript_text",
        "translation_text",
        "chat_reply",
        "latency",
        "stream_delay",
        "chunk_size",
    }


def test_is_the_default_provider_of_the_test_settings() -> None:
    assert isinstance(providers["default"], TestProvider)


def test_can_be_swapped_in_with_override() -> None:
    mine = TestProvider(transcript_text="hello world")
    with providers.override("default", mine) as p:
        result = providers["default"].transcribe(stt())
    assert result.text == "hello world"  # type: ignore[union-attr]
    assert p.calls[0].operation == "transcribe"


# --------------------------------------------------------------------------- transcription


def test_transcribe_json_with_logprobs(provider: TestProvider) -> None:
    result = provider.transcribe(stt(include=["logprobs"]))
    assert result.text == TEXT  # type: ignore[union-attr]
    assert "".join(lp.token for lp in result.logprobs) == TEXT  # type: ignore[union-attr]
    assert isinstance(result.usage, TokenUsage)  # type: ignore[union-attr]
    assert result.request_id.startswith("req_test_")  # type: ignore[union-attr]


def test_whisper_json_has_duration_usage(provider: TestProvider) -> None:
    result = provider.transcribe(TranscriptionRequest(file=wav_file(2.4), model="whisper-1"))
    assert result.usage == DurationUsage(seconds=3)  # type: ignore[union-attr]


def test_transcribe_verbose_timestamps_follow_the_wav_duration(provider: TestProvider) -> None:
    result = provider.transcribe(
        stt("verbose_json", seconds=4.5, timestamp_granularities=["word", "segment"])
    )
    assert isinstance(result, TranscriptionVerbose)
    assert result.duration == 4.5
    assert [w.word for w in result.words or []] == TEXT.split()
    assert result.words[0].start == 0.0
    assert result.words[-1].end == 4.5
    assert result.segments
    assert result.segments[-1].end == 4.5
    assert result.to_dict()["segments"][0]["text"].strip() == "The quick brown fox jumps"


def test_transcribe_diarized_with_known_speakers(provider: TestProvider) -> None:
    ref = "data:audio/wav;base64," + base64.b64encode(make_wav(0.1)).decode()
    result = provider.transcribe(
        stt(
            "diarized_json", known_speaker_names=["ann", "bob"], known_speaker_references=[ref, ref]
        )
    )
    assert isinstance(result, TranscriptionDiarized)
    assert [s.speaker for s in result.segments] == ["ann", "bob"]
    assert result.segments[-1].end == 2.0


@pytest.mark.parametrize(
    ("fmt", "start"),
    [
        ("text", TEXT),
        ("srt", "1\n00:00:00,000 --> 00:00:01,111\n"),
        ("vtt", "WEBVTT\n\n00:00:00.000"),
    ],
)
def test_transcribe_plain_text_formats(provider: TestProvider, fmt: str, start: str) -> None:
    result = provider.transcribe(stt(fmt))
    assert isinstance(result, PlainText)
    assert result.startswith(start)
    assert result.response_format == fmt


def test_duration_of_non_wav_input_is_size_based(provider: TestProvider) -> None:
    request = TranscriptionRequest(
        file=AudioFile(b"\x00" * 64000, filename="x.mp3"),
        model="whisper-1",
        response_format="verbose_json",
    )
    assert provider.transcribe(request).duration == 2.0  # type: ignore[union-attr]


def test_stream_transcription_word_by_word(provider: TestProvider) -> None:
    with provider.stream_transcription(stt(include=["logprobs"])) as stream:
        events = list(stream)
    assert all(isinstance(e, TranscriptTextDelta) for e in events[:-1])
    assert "".join(e.delta for e in events[:-1]) == TEXT  # type: ignore[union-attr]
    done = events[-1]
    assert isinstance(done, TranscriptTextDone)
    assert done.text == TEXT
    assert isinstance(done.usage, TokenUsage)


def test_stream_transcription_diarized_segments(provider: TestProvider) -> None:
    request = TranscriptionRequest(file=wav_file(), model="gpt-4o-transcribe-diarize")
    events = list(provider.stream_transcription(request))
    segments = [e for e in events if isinstance(e, TranscriptTextSegment)]
    assert [s.speaker for s in segments] == ["A", "B"]


def test_translate(provider: TestProvider) -> None:
    def request(fmt: str) -> TranslationRequest:
        return TranslationRequest(
            file=AudioFile(make_silence_wav(3.0)), model="whisper-1", response_format=fmt
        )

    assert provider.translate(request("json")) == Translation(
        "This is a test translation.", request_id="req_test_000001"
    )
    verbose = provider.translate(request("verbose_json"))
    assert isinstance(verbose, TranslationVerbose)
    assert verbose.duration == 3.0
    assert provider.translate(request("srt")).startswith("1\n00:00:00,000 --> 00:00:03,000\n")  # type: ignore[union-attr]


# --------------------------------------------------------------------------- speech


def test_speech_wav_is_real_and_scales_with_the_text(provider: TestProvider) -> None:
    short = b"".join(provider.speech(tts(text="Hi.")))
    long = b"".join(provider.speech(tts(text="Hi. " * 40)))
    rate, frames_short = wav_frames(short)
    _, frames_long = wav_frames(long)
    assert rate == 24000
    assert frames_long > frames_short * 10


def test_speech_is_chunked_with_the_content_type(provider: TestProvider) -> None:
    stream = provider.speech(tts("pcm", text="x" * 100))
    chunks = list(stream)
    assert stream.content_type == "audio/pcm"
    assert all(len(c) == 1024 for c in chunks[:-1])
    assert sum(len(c) for c in chunks) == 2 * 24000 * 2  # 100 chars -> 2.0 s of 24 kHz 16-bit


@pytest.mark.parametrize(
    ("fmt", "magic"), [("mp3", b"ID3"), ("opus", b"OggS"), ("aac", b"\xff\xf1"), ("flac", b"fLaC")]
)
def test_speech_compressed_formats_decode(provider: TestProvider, fmt: str, magic: bytes) -> None:
    data = b"".join(provider.speech(tts(fmt)))
    assert data.startswith(magic)
    av = pytest.importorskip("av")
    with av.open(io.BytesIO(data)) as container:
        assert sum(f.samples for f in container.decode(container.streams.audio[0])) > 0


def test_speech_events_deltas_then_done(provider: TestProvider) -> None:
    raw = b"".join(provider.speech(tts()))
    events = list(provider.speech_events(tts()))
    assert all(isinstance(e, SpeechAudioDelta) for e in events[:-1])
    assert b"".join(e.audio for e in events[:-1]) == raw  # type: ignore[union-attr]
    done = events[-1]
    assert isinstance(done, SpeechAudioDone)
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens


def test_invalid_requests_fail_before_any_call(provider: TestProvider) -> None:
    with pytest.raises(InvalidRequest) as info:
        provider.speech(tts(speed=9))
    assert info.value.param == "speed"
    assert provider.calls == []


# --------------------------------------------------------------------------- voices & consents


def test_voices_and_consents_in_memory(provider: TestProvider) -> None:
    consents = [
        provider.create_voice_consent(f"p{i}", AudioFile(make_wav(0.2)), "en-US") for i in range(3)
    ]
    assert all(c.id.startswith("cons_") for c in consents)
    assert len({c.id for c in consents}) == 3
    page = provider.list_voice_consents(limit=2)
    assert [c.id for c in page.data] == [consents[0].id, consents[1].id]
    assert (page.first_id, page.last_id, page.has_more) == (consents[0].id, consents[1].id, True)
    rest = provider.list_voice_consents(after=page.last_id, limit=2)
    assert ([c.id for c in rest.data], rest.has_more) == ([consents[2].id], False)

    cid = consents[0].id
    assert provider.update_voice_consent(cid, "renamed").name == "renamed"
    assert provider.retrieve_voice_consent(cid).name == "renamed"

    voice = provider.create_voice("my voice", AudioFile(make_wav(1.0)), cid)
    assert voice.id.startswith("voice_")
    assert voice.type == "audio_sample"
    assert provider.voices == {voice.id: voice}
    assert provider.delete_voice(voice.id).to_dict() == {
        "id": voice.id,
        "deleted": True,
        "object": "audio.voice.deleted",
    }
    with pytest.raises(UpstreamNotFound) as info:
        provider.delete_voice(voice.id)
    assert info.value.upstream_status == 404
    assert info.value.body["error"]["code"] == "not_found"  # type: ignore[index]

    assert provider.delete_voice_consent(cid).object == "audio.voice_consent"
    with pytest.raises(UpstreamNotFound):
        provider.retrieve_voice_consent(cid)
    with pytest.raises(UpstreamNotFound):
        provider.update_voice_consent(cid, "x")


# --------------------------------------------------------------------------- chat


def test_chat_completion_with_audio(provider: TestProvider) -> None:
    completion = provider.chat_completion(CHAT)
    audio = completion.audio
    assert audio is not None
    assert audio.id.startswith("audio_")
    assert audio.transcript.endswith("You said: Say hi")
    assert wav_frames(audio.audio_bytes)[1] > 0
    assert completion.message["content"] is None


def test_stream_chat_completion_audio_deltas(provider: TestProvider) -> None:
    chunks = list(
        provider.stream_chat_completion({**CHAT, "audio": {"voice": "ash", "format": "pcm16"}})
    )
    deltas = [c.audio for c in chunks if c.audio is not None]
    assert "".join(d.transcript or "" for d in deltas).endswith("You said: Say hi")
    pcm = b"".join(base64.b64decode(d.data) for d in deltas if d.data)
    assert len(pcm) > 0
    assert deltas[-1].expires_at is not None
    assert deltas[-1].data is None
    assert chunks[-1].data["choices"][0]["finish_reason"] == "stop"


# --------------------------------------------------------------------------- recording


def test_calls_are_recorded_with_their_arguments(provider: TestProvider) -> None:
    request = stt()
    provider.transcribe(request)
    provider.list_voice_consents(limit=5)
    assert provider.calls == [
        Call("transcribe", {"request": request}),
        Call("list_voice_consents", {"after": None, "limit": 5}),
    ]
    operation, args = provider.calls[1]
    assert (operation, args["limit"]) == ("list_voice_consents", 5)
    assert provider.calls_for("transcribe") == [{"request": request}]
    assert provider.last_call == Call("list_voice_consents", {"after": None, "limit": 5})
    provider.reset()
    assert provider.calls == []
    assert provider.last_call is None


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, UpstreamBadRequest),
        (401, UpstreamAuthError),
        (404, UpstreamNotFound),
        (429, UpstreamRateLimited),
        (500, UpstreamServerError),
        (503, UpstreamServerError),
        (418, ProviderError),
    ],
)
def test_fail_next_with_status(provider: TestProvider, status: int, error: type[Exception]) -> None:
    provider.fail_next(status)
    with pytest.raises(error) as info:
        provider.transcribe(stt())
    exc = info.value
    assert isinstance(exc, ProviderError)
    assert exc.upstream_status == status
    assert set(exc.body["error"]) == {"message", "type", "param", "code"}  # type: ignore[index]
    assert exc.request_id
    assert exc.provider == "default"
    # Only once.
    assert provider.transcribe(stt()).text == TEXT  # type: ignore[union-attr]
    assert [c.operation for c in provider.calls] == ["transcribe", "transcribe"]


def test_fail_next_rate_limit_carries_retry_after(provider: TestProvider) -> None:
    provider.fail_next(429, retry_after=7, message="slow down")
    with pytest.raises(UpstreamRateLimited) as info:
        provider.speech(tts())
    assert info.value.retry_after == 7
    assert info.value.body["error"]["message"] == "slow down"  # type: ignore[index]


def test_fail_next_with_exception_class_or_instance(provider: TestProvider) -> None:
    provider.fail_next(UpstreamTimeout)
    with pytest.raises(UpstreamTimeout):
        provider.chat_completion(CHAT)
    boom = ConnectionResetError("gone")
    provider.fail_next(boom, times=2)
    for _ in range(2):
        with pytest.raises(ConnectionResetError) as info:
            provider.list_voice_consents()
        assert info.value is boom
    assert provider.list_voice_consents().data == []


def test_fail_next_filtered_by_operation(provider: TestProvider) -> None:
    provider.fail_next(500, operation="speech")
    assert provider.transcribe(stt()).text == TEXT  # type: ignore[union-attr]
    with pytest.raises(UpstreamServerError):
        provider.speech(tts())
    with pytest.raises(ValueError, match="Unknown operation"):
        provider.fail_next(500, operation="transcription")


def test_fail_next_mid_stream(provider: TestProvider) -> None:
    provider.fail_next(StreamInterrupted("cut"), operation="speech_events", after_events=2)
    stream = provider.speech_events(tts(text="x" * 200))
    received = [next(stream), next(stream)]
    with pytest.raises(StreamInterrupted):
        next(stream)
    assert all(isinstance(e, SpeechAudioDelta) for e in received)
    # A mid-stream failure is never spent on a non-streaming call.
    provider.fail_next(500, after_events=1)
    assert provider.transcribe(stt()).text == TEXT  # type: ignore[union-attr]
    with pytest.raises(UpstreamServerError):
        list(provider.stream_transcription(stt()))


# --------------------------------------------------------------------------- async


async def test_async_forms_run_the_same_hooks(provider: TestProvider) -> None:
    result = await provider.atranscribe(stt("verbose_json"))
    assert isinstance(result, TranscriptionVerbose)
    stream = await provider.aspeech(tts())
    audio = b"".join([chunk async for chunk in stream])
    assert wav_frames(audio)[0] == 24000
    events = [e async for e in await provider.astream_transcription(stt())]
    assert isinstance(events[-1], TranscriptTextDone)
    consent = await provider.acreate_voice_consent("x", AudioFile(make_wav(0.2)), "en")
    assert (await provider.aretrieve_voice_consent(consent.id)) == consent
    completion = await provider.achat_completion(CHAT)
    assert completion.audio is not None
    assert [c.operation for c in provider.calls] == [
        "transcribe",
        "speech",
        "stream_transcription",
        "create_voice_consent",
        "retrieve_voice_consent",
        "chat_completion",
    ]


async def test_async_stream_failure(provider: TestProvider) -> None:
    provider.fail_next(503, operation="stream_chat_completion", after_events=1)
    stream = await provider.astream_chat_completion(CHAT)
    first = await stream.__anext__()
    assert first.data["object"] == "chat.completion.chunk"
    with pytest.raises(UpstreamServerError):
        await stream.__anext__()


def test_slow_provider_options_are_honoured_without_changing_results() -> None:
    slow = TestProvider(latency=0.01, stream_delay=0.001)
    assert len(list(slow.speech_events(tts()))) > 1
    assert slow.transcribe(stt()).text == TEXT  # type: ignore[union-attr]
