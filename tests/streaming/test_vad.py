"""Cutting PCM into utterances by level and silence."""

from __future__ import annotations

import random
import struct

import pytest

from django_audio.exceptions import ConfigurationError
from django_audio.streaming.vad import UtteranceCutter, VadConfig, rms
from django_audio.testing.audio import tone_pcm

RATE = 16000


def silence(seconds: float) -> bytes:
    return tone_pcm(seconds, RATE, amplitude=0.0)


def tone(seconds: float, amplitude: float = 0.3) -> bytes:
    return tone_pcm(seconds, RATE, amplitude=amplitude)


def noise(seconds: float, level: float) -> bytes:
    rng = random.Random(7)
    peak = int(32767 * level)
    n = int(seconds * RATE)
    return struct.pack(f"<{n}h", *(rng.randint(-peak, peak) for _ in range(n)))


def cut(pcm: bytes, chunk: int = 1000, **config: float) -> list:
    cutter = UtteranceCutter(RATE, VadConfig(**config))
    out = []
    for i in range(0, len(pcm), chunk):  # odd chunk sizes: frames span feeds
        out += cutter.feed(pcm[i : i + chunk])
    return out + cutter.flush()


def test_rms_levels():
    assert rms(b"") == 0.0
    assert rms(silence(0.1)) == 0.0
    assert rms(tone(0.1, 0.5)) == pytest.approx(0.5 / 2**0.5, rel=0.01)


def test_two_bursts_make_two_utterances_with_offsets():
    pcm = silence(1.0) + tone(0.6) + silence(1.0) + tone(0.9) + silence(1.0)
    first, second = cut(pcm)
    # Starts include PADDING_MS (200 ms) before the first voiced frame.
    assert first.start == pytest.approx(0.8, abs=0.04)
    assert first.end == pytest.approx(1.6 + 0.2, abs=0.04)
    assert second.start == pytest.approx(2.6 - 0.2, abs=0.04)
    assert (first.index, second.index) == (0, 1)
    assert len(first.pcm) == round((first.end - first.start) * RATE) * 2
    assert not first.forced


def test_utterance_pcm_is_the_audio_at_its_offsets():
    pcm = silence(0.5) + tone(0.5) + silence(1.0)
    (u,) = cut(pcm)
    start = round(u.start * RATE) * 2
    assert u.pcm == pcm[start : start + len(u.pcm)]


def syllables(seconds: float) -> bytes:
    """Continuous speech: 240 ms voiced, 60 ms dips (far shorter than a pause)."""
    return (tone(0.24) + silence(0.06)) * round(seconds / 0.3)


def test_long_speech_is_cut_at_the_maximum():
    pieces = cut(syllables(5.1), max_utterance_seconds=2.0)
    assert [p.forced for p in pieces] == [True, True, False]
    assert all(p.duration <= 2.0 for p in pieces)
    assert sum(p.duration for p in pieces) == pytest.approx(5.1, abs=0.1)


def test_clicks_shorter_than_min_speech_are_dropped():
    assert cut(silence(0.5) + tone(0.03) + silence(1.0), min_speech_ms=120) == []


def test_quiet_audio_is_silence():
    assert cut(tone(2.0, amplitude=0.005)) == []


def test_steady_noise_is_learnt_as_the_floor():
    background = noise(6.0, 0.05)
    pieces = cut(background)
    # The noise floor is learnt within seconds, so noise alone does not run on forever.
    assert sum(p.duration for p in pieces) < 4.0
    speech = bytearray(background)
    burst = tone(0.8, 0.6)
    offset = int(5.0 * RATE) * 2
    speech[offset : offset + len(burst)] = burst
    last = cut(bytes(speech))[-1]
    assert last.start == pytest.approx(5.0 - 0.2, abs=0.1)


def test_open_utterance_is_flushed_at_the_end():
    (u,) = cut(silence(0.3) + tone(0.5))
    assert u.end == pytest.approx(0.8, abs=0.04)


def test_partial_last_frame_is_not_lost():
    cutter = UtteranceCutter(RATE, VadConfig())
    cutter.feed(tone(1.0) + b"\x01\x00" * 7)
    (u,) = cutter.flush()
    assert u.end >= 1.0


def test_config_from_mapping():
    config = VadConfig.from_mapping({"SILENCE_MS": 300})
    assert config.silence_ms == 300
    assert config.frame_ms == 30
    with pytest.raises(ConfigurationError, match="SILENCE"):
        VadConfig.from_mapping({"SILENCE": 300})
    with pytest.raises(ConfigurationError):
        VadConfig.from_mapping({"THRESHOLD": "loud"})
    with pytest.raises(ConfigurationError):
        VadConfig.from_mapping({"FRAME_MS": 0})


def test_config_from_settings(settings):
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "VAD": {"MAX_UTTERANCE_SECONDS": 3}}
    assert VadConfig.from_settings().max_utterance_seconds == 3
