"""The audio helpers and reply builders of the test kit."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from django_audio.testing import audio, make_silence_wav, make_wav, payloads


def read_wav(data: bytes) -> tuple[int, int, int, bytes]:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.readframes(w.getnframes())


def test_make_wav_is_a_real_tone() -> None:
    rate, channels, width, frames = read_wav(make_wav(0.5, rate=8000, freq=1000.0))
    assert (rate, channels, width) == (8000, 1, 2)
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    assert len(samples) == 4000
    assert max(samples) > 9000  # 0.3 of full scale
    # 1 kHz at 8 kHz: 8 samples per period, so sample 2 is the positive peak.
    assert samples[2] == max(samples[:8])


def test_make_silence_wav_is_all_zeros() -> None:
    rate, _, _, frames = read_wav(make_silence_wav(0.25))
    assert rate == 16000
    assert frames == b"\x00" * 8000


def test_audio_duration_exact_for_wav_and_size_based_otherwise() -> None:
    assert audio.audio_duration(make_wav(1.5, rate=22050)) == 1.5
    assert audio.audio_duration(b"\x01" * 48000) == 1.5
    assert audio.audio_duration(b"RIFF....WAVEbroken") == 0.1


def test_speech_length_scales_with_text_and_speed() -> None:
    assert audio.speech_seconds("x" * 100) == 2.0
    assert audio.speech_seconds("x" * 100, speed=2.0) == 1.0
    assert audio.speech_seconds("x") == audio.MIN_SPEECH_SECONDS
    assert audio.speech_seconds("x" * 100_000) == audio.MAX_SPEECH_SECONDS


def test_without_pyav_compressed_speech_starts_with_the_magic_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audio, "_av", None)
    audio.encode_speech.cache_clear()
    try:
        for fmt, magic in audio.MAGIC_HEADERS.items():
            data = audio.encode_speech(0.5, fmt)
            assert data.startswith(magic)
            assert data[len(magic) :] == audio.tone_pcm(0.5)
    finally:
        audio.encode_speech.cache_clear()


def test_encode_speech_rejects_unknown_formats() -> None:
    with pytest.raises(ValueError, match="unknown speech format"):
        audio.encode_speech(1.0, "ogg")


def test_subtitle_timestamps_past_an_hour() -> None:
    srt = payloads.subtitles("one two", 3725.5, "srt")
    assert srt == "1\n00:00:00,000 --> 01:02:05,500\none two\n\n"
    assert payloads.subtitles("", 1.0, "vtt") == "WEBVTT\n\n"


def test_error_body_types_by_status() -> None:
    assert payloads.error_body(429)["error"]["code"] == "rate_limit_exceeded"
    assert payloads.error_body(401)["error"]["code"] == "invalid_api_key"
    assert payloads.error_body(502)["error"]["type"] == "server_error"
    assert payloads.error_body(400, "bad", param="x") == {
        "error": {"message": "bad", "type": "invalid_request_error", "param": "x", "code": None}
    }


def test_ids_are_stable_and_prefixed() -> None:
    assert payloads.make_id("cons", 1, "a") == payloads.make_id("cons", 1, "a")
    assert payloads.make_id("cons", 1, "a") != payloads.make_id("cons", 2, "a")
    assert payloads.make_id("voice", 1).startswith("voice_")
