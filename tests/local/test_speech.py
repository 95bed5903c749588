"""espeak-ng speech through the provider: six formats, speed, voices, streaming, SSE."""

from __future__ import annotations

import base64
import itertools

import numpy as np
import pytest

from django_audio.contract import (
    BUILTIN_VOICES,
    AudioFile,
    SpeechAudioDelta,
    SpeechAudioDone,
    SpeechRequest,
)
from django_audio.exceptions import InvalidRequest, UnsupportedFeature
from django_audio.local.transcoding import PCM_RATE, probe_duration
from django_audio.local.tts import VOICES, speakable
from django_audio.providers.local import LocalProvider

from .conftest import speak

pytestmark = pytest.mark.local_engine

TEXT = "The local engine speaks every format. This sentence is long enough to measure."

#: Magic bytes at the start of each format (mp3 carries an ID3 tag first).
MAGIC = {"mp3": b"ID3", "opus": b"OggS", "aac": b"\xff\xf1", "flac": b"fLaC", "wav": b"RIFF"}


@pytest.fixture(scope="module")
def pcm_seconds(local: LocalProvider) -> float:
    pcm = speak(local, TEXT, "pcm")
    assert len(pcm) % 2 == 0
    return len(pcm) / 2 / PCM_RATE


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav"])
def test_each_format_decodes_back_to_the_right_duration(
    local: LocalProvider, fmt: str, pcm_seconds: float
) -> None:
    data = speak(local, TEXT, fmt)
    assert data.startswith(MAGIC[fmt])
    if fmt == "opus":
        assert b"OpusHead" in data[:100]
    if fmt == "wav":
        assert data[8:12] == b"WAVE"
    # Encoder priming/padding (mp3, aac) adds at most ~0.1 s.
    assert probe_duration(AudioFile(data, f"a.{fmt}")) == pytest.approx(pcm_seconds, abs=0.12)


def test_pcm_is_24khz_16bit_mono(local: LocalProvider, pcm_seconds: float) -> None:
    wav = speak(local, TEXT, "wav")
    assert int.from_bytes(wav[24:28], "little") == PCM_RATE  # sample rate
    assert int.from_bytes(wav[22:24], "little") == 1  # channels
    assert int.from_bytes(wav[34:36], "little") == 16  # bits per sample
    # The sentence takes a few seconds at espeak's default 175 words per minute.
    assert 3.0 < pcm_seconds < 8.0


def test_speed_scales_duration(local: LocalProvider, pcm_seconds: float) -> None:
    fast = len(speak(local, TEXT, "pcm", speed=2.0)) / 2 / PCM_RATE
    slow = len(speak(local, TEXT, "pcm", speed=0.5)) / 2 / PCM_RATE
    slowest = len(speak(local, TEXT, "pcm", speed=0.25)) / 2 / PCM_RATE
    assert fast == pytest.approx(pcm_seconds / 2, rel=0.25)
    assert slow == pytest.approx(pcm_seconds * 2, rel=0.25)
    # Below espeak's 80 wpm floor the extra time comes from pauses between words.
    assert slowest == pytest.approx(pcm_seconds * 4, rel=0.3)


def test_raw_stream_yields_chunks_before_the_end(local: LocalProvider) -> None:
    text = " ".join([TEXT] * 8)
    request = SpeechRequest(model="tts-1", input=text, voice="echo", response_format="mp3")
    with local.speech(request) as stream:
        assert stream.content_type == "audio/mpeg"
        chunks = list(stream)
    assert len(chunks) > 5, "audio should arrive in many chunks, not one clip"
    assert probe_duration(AudioFile(b"".join(chunks), "long.mp3")) > 20


def test_closing_a_stream_early_frees_the_engine(local: LocalProvider) -> None:
    request = SpeechRequest(model="tts-1", input=" ".join([TEXT] * 20), voice="ash")
    stream = local.speech(request)
    first = next(stream)
    stream.close()
    assert first
    # The engine lock was released: another synthesis completes.
    assert speak(local, "Still here.", "pcm")


def test_speech_events(local: LocalProvider) -> None:
    coral_seconds = len(speak(local, TEXT, "pcm", voice="coral")) / 2 / PCM_RATE
    request = SpeechRequest(
        model="gpt-4o-mini-tts", input=TEXT, voice="coral", response_format="wav"
    )
    with local.speech_events(request) as stream:
        events = list(stream)
    deltas = [e for e in events if isinstance(e, SpeechAudioDelta)]
    done = events[-1]
    assert deltas
    assert isinstance(done, SpeechAudioDone)
    assert done.usage.input_tokens > 0
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens
    wire = [d.to_dict() for d in deltas]
    audio = b"".join(base64.b64decode(w["audio"]) for w in wire)
    assert audio.startswith(b"RIFF")
    assert probe_duration(AudioFile(audio)) == pytest.approx(coral_seconds, abs=0.05)
    assert set(done.to_dict()["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}


def voice_features(pcm: bytes) -> np.ndarray:
    """Duration, spectral centroid, zero-crossing rate and loudness of a 24 kHz clip."""
    a = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    spectrum = np.abs(np.fft.rfft(a))
    centroid = (spectrum * np.fft.rfftfreq(a.size, 1 / PCM_RATE)).sum() / spectrum.sum()
    crossings = (np.diff(np.sign(a)) != 0).mean() * PCM_RATE / 2
    return np.array([a.size / PCM_RATE, centroid, crossings, np.sqrt(np.square(a).mean())])


#: Differences that count as audible, per feature. espeak is not bit-exact from one call to
#: the next (repeats of one voice differ by under half of these); distinct voices differ by
#: more than this in at least one feature.
FEATURE_TOLERANCE = np.array([0.03, 60.0, 50.0, 0.005])


def test_every_builtin_voice_is_mapped_to_a_distinct_espeak_voice(local: LocalProvider) -> None:
    assert set(VOICES) == set(BUILTIN_VOICES)
    assert len({v.spec for v in VOICES.values()}) == len(VOICES)
    text = "Hello there, how are you today?"
    features = {name: voice_features(speak(local, text, "pcm", voice=name)) for name in VOICES}
    again = voice_features(speak(local, text, "pcm", voice="alloy"))
    assert (np.abs(again - features["alloy"]) / FEATURE_TOLERANCE).max() < 1.0
    for a, b in itertools.combinations(VOICES, 2):
        distance = (np.abs(features[a] - features[b]) / FEATURE_TOLERANCE).max()
        assert distance > 1.0, f"{a} and {b} sound alike"


def test_instructions_are_accepted_and_ignored(local: LocalProvider) -> None:
    plain = speak(local, "Hello there.", "pcm")
    instructed = speak(local, "Hello there.", "pcm", instructions="Speak like a pirate.")
    # Same voice, same speed: the same clip up to espeak's own call-to-call jitter.
    assert len(instructed) == pytest.approx(len(plain), abs=PCM_RATE * 0.03 * 2)


async def test_async_speech(local: LocalProvider) -> None:
    request = SpeechRequest(model="tts-1", input=TEXT, voice="sage", response_format="flac")
    stream = await local.aspeech(request)
    data = b"".join([chunk async for chunk in stream])
    await stream.aclose()
    assert data.startswith(b"fLaC")


@pytest.mark.parametrize("text", ["...", "?! -- ;", "\u200b\u200b", "\n\t."])
def test_text_with_nothing_to_say_is_refused(local: LocalProvider, text: str) -> None:
    assert not speakable(text)
    with pytest.raises(InvalidRequest) as err:
        speak(local, text)
    assert err.value.param == "input"


def test_numbers_and_symbols_are_speakable(local: LocalProvider) -> None:
    assert speakable("42")
    assert speakable("$")
    assert speakable("🙂")
    assert len(speak(local, "42 $", "pcm")) > PCM_RATE // 2


def test_blank_input_is_refused_by_the_contract(local: LocalProvider) -> None:
    with pytest.raises(InvalidRequest) as err:
        speak(local, "   ")
    assert err.value.param == "input"


def test_unknown_and_custom_voices(local: LocalProvider) -> None:
    with pytest.raises(InvalidRequest) as err:
        speak(local, "Hi.", voice="brian")
    assert err.value.param == "voice"
    assert "alloy" in err.value.message
    with pytest.raises(UnsupportedFeature) as unsupported:
        speak(local, "Hi.", voice={"id": "voice_123"})
    assert unsupported.value.param == "voice"


def test_unknown_speech_model(local: LocalProvider) -> None:
    with pytest.raises(InvalidRequest) as err:
        speak(local, "Hi.", model="tts-2")
    assert err.value.param == "model"
    assert "tts-1" in err.value.message
    assert "gpt-4o-mini-tts" in err.value.message
    with pytest.raises(InvalidRequest) as wrong_kind:
        speak(local, "Hi.", model="whisper-1")
    assert wrong_kind.value.param == "model"
    assert "speech" in wrong_kind.value.message
