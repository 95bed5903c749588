"""The official ``openai`` SDK against the fake upstream: its shapes must satisfy the SDK."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from typing import Any

import pytest

from django_audio.testing import FakeUpstream, make_wav

from ..conftest import FAKE_API_KEY

openai = pytest.importorskip("openai")

TEXT = "The quick brown fox jumps over the lazy dog."


@pytest.fixture
def sdk(fake_upstream: FakeUpstream) -> Iterator[Any]:
    client = openai.OpenAI(api_key=FAKE_API_KEY, base_url=fake_upstream.url, max_retries=0)
    yield client
    client.close()


def test_sdk_transcriptions(sdk: Any) -> None:
    wav = ("clip.wav", make_wav(2.0), "audio/wav")
    plain = sdk.audio.transcriptions.create(
        file=wav, model="gpt-4o-transcribe", include=["logprobs"]
    )
    assert plain.text == TEXT
    assert plain.usage.type == "tokens"
    assert plain.logprobs[0].token == "The"
    verbose = sdk.audio.transcriptions.create(
        file=wav,
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert verbose.duration == 2.0
    assert verbose.words[-1].end == 2.0
    assert verbose.segments[0].start == 0.0
    diarized = sdk.audio.transcriptions.create(
        file=wav,
        model="gpt-4o-transcribe-diarize",
        response_format="diarized_json",
        chunking_strategy={"type": "server_vad", "threshold": 0.5},
    )
    assert [s.speaker for s in diarized.segments] == ["A", "B"]
    srt = sdk.audio.transcriptions.create(file=wav, model="whisper-1", response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> ")


def test_sdk_streaming_transcription(sdk: Any) -> None:
    stream = sdk.audio.transcriptions.create(
        file=("clip.wav", make_wav(1.0), "audio/wav"), model="gpt-4o-transcribe", stream=True
    )
    events = list(stream)
    assert events[-1].type == "transcript.text.done"
    assert "".join(e.delta for e in events[:-1]) == TEXT


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # SDK 3.5x deprecates translations
def test_sdk_translation(sdk: Any) -> None:
    result = sdk.audio.translations.create(file=("a.wav", make_wav(1.0)), model="whisper-1")
    assert result.text == "This is a test translation."


def test_sdk_speech_raw_and_sse(sdk: Any) -> None:
    with sdk.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="coral", input="Hello!", response_format="wav"
    ) as response:
        data = b"".join(response.iter_bytes())
    with wave.open(io.BytesIO(data)) as w:
        assert w.getframerate() == 24000
    # The SDK hands SSE speech back as the raw body: the events are the fake's to shape.
    sse = sdk.audio.speech.create(
        model="gpt-4o-mini-tts",
        voice="coral",
        input="Hello!",
        response_format="pcm",
        stream_format="sse",
    )
    assert sse.response.headers["content-type"].startswith("text/event-stream")
    assert b'"type":"speech.audio.done"' in sse.content


def test_sdk_voices_and_consents(sdk: Any) -> None:
    consents = [
        sdk.audio.voice_consents.create(
            name=f"person {i}", language="en-US", recording=("c.wav", make_wav(0.3), "audio/wav")
        )
        for i in range(3)
    ]
    page = sdk.audio.voice_consents.list(limit=2)
    assert [c.id for c in page.data] == [consents[0].id, consents[1].id]
    assert page.has_more is True
    # Auto-pagination follows the cursor (after=last_id) across pages.
    assert [c.id for c in sdk.audio.voice_consents.list(limit=2)] == [c.id for c in consents]
    renamed = sdk.audio.voice_consents.update(consents[0].id, name="Renamed")
    assert renamed.name == "Renamed"
    assert sdk.audio.voice_consents.retrieve(consents[0].id).name == "Renamed"
    voice = sdk.audio.voices.create(
        name="v", consent=consents[0].id, audio_sample=("s.wav", make_wav(1.0), "audio/wav")
    )
    assert voice.type == "audio_sample"
    deleted = sdk.audio.voices.delete(voice.id)
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        sdk.audio.voices.delete(voice.id)
    gone = sdk.audio.voice_consents.delete(consents[1].id)
    assert gone.deleted is True


def test_sdk_chat_audio(sdk: Any) -> None:
    completion = sdk.chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "wav"},
        messages=[{"role": "user", "content": "Hi"}],
    )
    audio = completion.choices[0].message.audio
    assert audio.id.startswith("audio_")
    assert audio.transcript.endswith("You said: Hi")
    chunks = list(
        sdk.chat.completions.create(
            model="gpt-4o-audio-preview",
            modalities=["text", "audio"],
            audio={"voice": "alloy", "format": "pcm16"},
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
        )
    )
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_sdk_sees_injected_errors(sdk: Any, fake_upstream: FakeUpstream) -> None:
    fake_upstream.fail(status=429, retry_after=1, message="slow down")
    with pytest.raises(openai.RateLimitError) as info:
        sdk.audio.voice_consents.list()
    assert info.value.request_id == fake_upstream.last_request.request_id
    assert info.value.body["message"] == "slow down"
    bad = openai.OpenAI(api_key="sk-wrong", base_url=fake_upstream.url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.audio.voice_consents.list()
