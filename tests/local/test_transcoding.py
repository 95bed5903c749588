"""PyAV transcoding: every accepted container decodes, and long input stays in bounded blocks."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest

from django_audio.contract import AudioFile
from django_audio.exceptions import InvalidRequest
from django_audio.local.transcoding import (
    STT_RATE,
    AudioDecoder,
    encode_chunks,
    iter_blocks,
    probe_duration,
)

pytestmark = pytest.mark.local_engine


def remux(wav: bytes, container: str, codec: str) -> bytes:
    """Re-encode a WAV into another container (in memory), as a browser or phone would."""
    out = io.BytesIO()
    with av.open(io.BytesIO(wav)) as src, av.open(out, mode="w", format=container) as dst:
        stream = dst.add_stream(codec, rate=48_000 if codec == "libopus" else 24_000)
        for frame in src.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return out.getvalue()


def wav_bytes(samples: np.ndarray, rate: int = STT_RATE) -> bytes:
    """16-bit mono WAV of ``samples`` (floats in [-1, 1])."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


def concat_wav(*clips: bytes) -> bytes:
    """Join WAV clips of the same format."""
    frames, params = [], None
    for clip in clips:
        # Streamed WAV headers carry 0xFFFFFFFF sizes; read to the end of the data instead.
        with wave.open(io.BytesIO(clip)) as w:
            params = w.getparams()._replace(nframes=0)
            frames.append(w.readframes(-1))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        assert params is not None
        w.setparams(params)
        w.writeframes(b"".join(frames))
    return out.getvalue()


def tone(seconds: float, rate: int = STT_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.mark.parametrize(
    ("container", "codec", "name"),
    [
        ("wav", "pcm_s16le", "a.wav"),
        ("mp3", "libmp3lame", "a.mp3"),
        ("flac", "flac", "a.flac"),
        ("ogg", "libopus", "a.ogg"),
        ("webm", "libopus", "a.webm"),
        ("ipod", "aac", "a.m4a"),
        ("mp4", "aac", "a.mp4"),
        ("mpeg", "mp2", "a.mpeg"),
    ],
)
def test_every_accepted_container_decodes_to_16k_mono(
    container: str, codec: str, name: str
) -> None:
    data = remux(wav_bytes(tone(2.0, 22_050), rate=22_050), container, codec)
    decoder = AudioDecoder(AudioFile(data, name))
    pieces = list(decoder)
    assert all(p.dtype == np.float32 and p.ndim == 1 for p in pieces)
    # Codec priming and padding add at most a frame or two.
    assert decoder.duration == pytest.approx(2.0, abs=0.1)
    assert np.abs(np.concatenate(pieces)).max() == pytest.approx(0.3, abs=0.05)


def test_garbage_is_refused_at_open() -> None:
    with pytest.raises(InvalidRequest) as err:
        AudioDecoder(AudioFile(bytes(range(256)) * 40, "noise.mp3"))
    assert err.value.param == "file"
    assert "noise.mp3" in err.value.message
    assert "corrupt" in err.value.message


def test_header_only_file_has_no_audio() -> None:
    data = wav_bytes(tone(1.0))[:44]
    with pytest.raises(InvalidRequest) as err:
        probe_duration(AudioFile(data, "empty.wav"))
    assert err.value.param == "file"


def test_blocks_are_bounded_and_cut_in_quiet_places() -> None:
    """Seven minutes of 'speech' (tone) with a short pause every 7 s, fed frame by frame."""
    rate = STT_RATE
    unit = np.concatenate([tone(6.7), np.zeros(int(0.3 * rate), np.float32)])
    total = 60  # units -> 420 s

    def frames() -> object:
        for _ in range(total):
            yield from np.array_split(unit, 10)

    block, search = 60 * rate, 10 * rate
    sizes, cut_levels = [], []
    for b in iter_blocks(frames(), block, search):  # type: ignore[arg-type]
        assert b.size <= block
        sizes.append(b.size)
        cut_levels.append(float(np.abs(b[-400:]).max()))
    assert sum(sizes) == total * unit.size
    assert len(sizes) >= 7
    # Every cut but the last (the end of the input) falls inside a pause.
    assert all(level < 1e-6 for level in cut_levels[:-1]), cut_levels


def test_encoder_streams_in_pieces() -> None:
    pcm = (tone(5.0, 22_050) * 32767).astype(np.int16)
    pieces = np.array_split(pcm, 50)
    chunks = list(encode_chunks(iter(pieces), "mp3", 22_050, min_chunk=2048))
    assert len(chunks) > 3
    assert probe_duration(AudioFile(b"".join(chunks))) == pytest.approx(5.0, abs=0.1)
