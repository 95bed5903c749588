"""Small, real audio for tests: WAV tones and silence, and the test speech encoder.

Everything here uses the standard library only, except :func:`encode_speech` for the
compressed formats (mp3, opus, aac, flac): it uses PyAV when it is importable (the
``local`` extra) and otherwise returns a short stand-in that starts with the format's
magic bytes, so content sniffing still works. :data:`PYAV_ENCODING` tells which.
"""

from __future__ import annotations

import functools
import importlib
import io
import math
import struct
import wave
from typing import Any

__all__ = [
    "MAGIC_HEADERS",
    "PYAV_ENCODING",
    "SPEECH_RATE",
    "audio_duration",
    "encode_speech",
    "make_silence_wav",
    "make_wav",
    "speech_seconds",
    "tone_pcm",
]

#: Sample rate of generated speech: OpenAI's ``pcm`` is 24 kHz 16-bit little-endian mono.
SPEECH_RATE = 24000
#: Seconds of generated speech per character of input (before ``speed``).
SECONDS_PER_CHAR = 0.02
#: Bounds on generated speech length, in seconds.
MIN_SPEECH_SECONDS = 0.1
MAX_SPEECH_SECONDS = 30.0

#: Leading bytes of each compressed format (used by the stand-ins without PyAV).
MAGIC_HEADERS: dict[str, bytes] = {
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xf3",
    "opus": b"OggS\x00\x02",
    "aac": b"\xff\xf1\x50\x80",
    "flac": b"fLaC\x00\x00\x00\x22",
}


def _load_pyav() -> Any:
    # PyAV is optional (the ``local`` extra); without it compressed speech is a stand-in.
    try:
        return importlib.import_module("av")
    except ImportError:  # pragma: no cover - depends on the environment
        return None


_av: Any = _load_pyav()
PYAV_ENCODING = _av is not None


def tone_pcm(
    seconds: float, rate: int = SPEECH_RATE, freq: float = 440.0, amplitude: float = 0.3
) -> bytes:
    """Raw 16-bit little-endian mono PCM of a sine tone (``amplitude`` 0 gives silence)."""
    frames = max(0, round(seconds * rate))
    peak = int(32767 * max(0.0, min(1.0, amplitude)))
    if peak == 0:
        return b"\x00\x00" * frames
    step = 2 * math.pi * freq / rate
    samples = [int(peak * math.sin(step * i)) for i in range(frames)]
    return struct.pack(f"<{frames}h", *samples)


def _wav_from_pcm(pcm: bytes, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def make_wav(seconds: float = 1.0, rate: int = 16000, freq: float = 440.0) -> bytes:
    """A real mono 16-bit WAV file holding a sine tone of ``seconds``."""
    return _wav_from_pcm(tone_pcm(seconds, rate, freq), rate)


def make_silence_wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A real mono 16-bit WAV file holding ``seconds`` of digital silence."""
    return _wav_from_pcm(tone_pcm(seconds, rate, amplitude=0.0), rate)


def audio_duration(data: bytes) -> float:
    """Duration of ``data`` in seconds: exact for WAV, else assumed 16 kHz 16-bit mono."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(data), "rb") as w:
                rate = w.getframerate()
                if rate > 0:
                    return round(w.getnframes() / rate, 3)
        except (wave.Error, EOFError, struct.error):
            pass
    # Not a WAV we can read: a stable size-based estimate keeps results deterministic.
    return round(max(len(data) / 32000, 0.1), 3)


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """Length of the speech generated for ``text``: proportional to its length."""
    seconds = len(text) * SECONDS_PER_CHAR / max(speed, 0.25)
    return round(max(MIN_SPEECH_SECONDS, min(MAX_SPEECH_SECONDS, seconds)), 3)


@functools.lru_cache(maxsize=64)
def encode_speech(seconds: float, response_format: str) -> bytes:
    """Speech-like audio of ``seconds`` in an OpenAI speech ``response_format``.

    ``wav`` and ``pcm`` (24 kHz 16-bit mono) are always real. ``mp3``, ``opus``, ``aac``
    and ``flac`` are real encodings when PyAV is importable, otherwise the format's magic
    bytes followed by the PCM (decoders will reject it; sniffers will not).
    """
    pcm = tone_pcm(seconds, SPEECH_RATE)
    if response_format in ("pcm", "pcm16"):
        return pcm
    if response_format == "wav":
        return _wav_from_pcm(pcm, SPEECH_RATE)
    if response_format not in MAGIC_HEADERS:
        raise ValueError(f"unknown speech format {response_format!r}")
    if _av is not None:
        return _encode_with_pyav(pcm, response_format)
    return MAGIC_HEADERS[response_format] + pcm


# format name -> (container, codec, sample rate the codec accepts)
_PYAV_TARGETS: dict[str, tuple[str, str, int]] = {
    "mp3": ("mp3", "libmp3lame", SPEECH_RATE),
    "opus": ("ogg", "libopus", 48000),
    "aac": ("adts", "aac", SPEECH_RATE),
    "flac": ("flac", "flac", SPEECH_RATE),
}


def _encode_with_pyav(pcm: bytes, response_format: str) -> bytes:
    av = _av
    container_name, codec, rate = _PYAV_TARGETS[response_format]
    out = io.BytesIO()
    with av.open(out, mode="w", format=container_name) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = SPEECH_RATE
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        for resampled in resampler.resample(frame):
            for packet in stream.encode(resampled):
                container.mux(packet)
        for resampled in resampler.resample(None):
            for packet in stream.encode(resampled):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()
