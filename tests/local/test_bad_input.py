"""Bad input gets a clear error (or an empty result where the contract says so), never a crash."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import override_settings

from django_audio.contract import (
    AudioFile,
    Transcription,
    TranscriptionRequest,
    TranscriptionVerbose,
    TranscriptTextDone,
    TranslationRequest,
)
from django_audio.exceptions import InvalidRequest, UnsupportedFeature
from django_audio.local.languages import language_code
from django_audio.providers.local import LocalProvider

from .test_transcoding import wav_bytes

pytestmark = pytest.mark.local_engine


def request(file: AudioFile, **kwargs: object) -> TranscriptionRequest:
    return TranscriptionRequest(file=file, model=str(kwargs.pop("model", "whisper-1")), **kwargs)  # type: ignore[arg-type]


def test_corrupt_file(local: LocalProvider) -> None:
    rng = np.random.default_rng(7)
    garbage = AudioFile(rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes(), "broken.mp3")
    with pytest.raises(InvalidRequest) as err:
        local.transcribe(request(garbage))
    assert err.value.param == "file"
    assert err.value.status == 400
    assert "broken.mp3" in err.value.message
    assert "corrupt" in err.value.message


def test_corrupt_file_fails_at_the_call_when_streaming(local: LocalProvider) -> None:
    with pytest.raises(InvalidRequest) as err:
        local.stream_transcription(request(AudioFile(b"not audio at all" * 100, "x.wav")))
    assert err.value.param == "file"


def test_truncated_file(local: LocalProvider, sentence_wav: bytes) -> None:
    from .test_transcoding import remux

    mp3 = remux(sentence_wav, "mp3", "libmp3lame")
    with pytest.raises(InvalidRequest) as err:
        local.transcribe(request(AudioFile(mp3[:200], "cut.mp3")))
    assert err.value.param == "file"


def test_silence_gives_an_empty_transcript(local: LocalProvider) -> None:
    silence = AudioFile(wav_bytes(np.zeros(16_000 * 5, np.float32)), "silence.wav")
    result = local.transcribe(request(silence))
    assert isinstance(result, Transcription)
    assert result.text == ""
    verbose = local.transcribe(
        request(silence, response_format="verbose_json", timestamp_granularities=["word"])
    )
    assert isinstance(verbose, TranscriptionVerbose)
    assert verbose.text == ""
    assert verbose.words == []
    assert verbose.duration == pytest.approx(5.0)
    assert local.transcribe(request(silence, response_format="srt")) == ""
    assert local.transcribe(request(silence, response_format="vtt")) == "WEBVTT\n"
    with local.stream_transcription(request(silence)) as stream:
        events = list(stream)
    assert len(events) == 1
    assert isinstance(events[0], TranscriptTextDone)
    assert events[0].text == ""


def test_unknown_model_names_the_models_on_offer(
    local: LocalProvider, sentence_file: AudioFile
) -> None:
    with pytest.raises(InvalidRequest) as err:
        local.transcribe(request(sentence_file, model="whisper-2"))
    assert err.value.param == "model"
    assert err.value.code == "model_not_found"
    assert "whisper-1" in err.value.message
    assert "gpt-4o-transcribe" in err.value.message
    assert "tts-1" not in err.value.message
    with pytest.raises(InvalidRequest) as wrong_kind:
        local.transcribe(request(sentence_file, model="tts-1"))
    assert wrong_kind.value.param == "model"


def test_translation_is_refused_by_an_english_only_model(
    local: LocalProvider, sentence_file: AudioFile
) -> None:
    with pytest.raises(UnsupportedFeature) as err:
        local.translate(TranslationRequest(file=sentence_file, model="whisper-1"))
    assert "English-only" in err.value.message
    assert "tiny.en" in err.value.message
    assert err.value.status == 400


def test_diarization_is_unsupported(local: LocalProvider, sentence_file: AudioFile) -> None:
    with pytest.raises(UnsupportedFeature):
        local.transcribe(
            request(
                sentence_file, model="gpt-4o-transcribe-diarize", response_format="diarized_json"
            )
        )


@pytest.mark.parametrize(
    ("language", "fragment"), [("fr", "not supported"), ("xx", "ISO 639-1"), ("klingon", "ISO")]
)
def test_unsupported_language(
    local: LocalProvider, sentence_file: AudioFile, language: str, fragment: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        local.transcribe(request(sentence_file, language=language))
    assert err.value.param == "language"
    assert fragment in err.value.message


def test_language_codes() -> None:
    multilingual = ["en", "de", "fr", "es"]
    assert language_code("EN", multilingual, "m") == "en"
    assert language_code("de-AT", multilingual, "m") == "de"
    assert language_code("castilian", multilingual, "m") == "es"
    assert language_code("French", multilingual, "m") == "fr"


def test_oversized_upload_is_refused_before_decoding(local: LocalProvider) -> None:
    """A ten-hour file exceeds MAX_UPLOAD_SIZE long before it could reach the engine."""
    clip = AudioFile(wav_bytes(np.zeros(16_000, np.float32)), "long.wav")
    with (
        override_settings(DJANGO_AUDIO={"MAX_UPLOAD_SIZE": 10_000}),
        pytest.raises(InvalidRequest) as err,
    ):
        local.transcribe(request(clip))
    assert err.value.code == "file_too_large"
    assert err.value.param == "file"


def test_long_silent_file_streams_through(
    local: LocalProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """150 s of near-silence as Opus, in 60 s blocks: empty text, exact duration."""
    from django_audio.local import stt as stt_module

    from .test_transcoding import remux

    monkeypatch.setattr(stt_module, "BLOCK_SAMPLES", 60 * 16_000)
    rng = np.random.default_rng(3)
    quiet = (rng.standard_normal(16_000 * 150) * 1e-4).astype(np.float32)
    data = remux(wav_bytes(quiet), "ogg", "libopus")
    result = local.transcribe(request(AudioFile(data, "quiet.ogg"), response_format="verbose_json"))
    assert isinstance(result, TranscriptionVerbose)
    assert result.text == ""
    assert result.duration == pytest.approx(150.0, abs=0.1)


def test_max_duration_refuses_long_audio() -> None:
    """Bytes are bounded by MAX_UPLOAD_SIZE; time is bounded by the max_duration option."""
    provider = LocalProvider("short", max_duration=2.0)
    clip = AudioFile(wav_bytes(np.zeros(16_000 * 3, np.float32)), "three.wav")
    with pytest.raises(InvalidRequest) as err:
        provider.transcribe(request(clip))
    assert err.value.code == "audio_too_long"
    assert err.value.param == "file"
    assert "2 seconds" in err.value.message
