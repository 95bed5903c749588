"""Content sniffing: audio recognised by its bytes, never by its name."""

from __future__ import annotations

import io

import pytest

from django_audio import sniff
from django_audio.testing.audio import PYAV_ENCODING, encode_speech, make_wav

MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 100  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz
ADTS = b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 50


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (make_wav(0.1), "wav"),
        (MP3_FRAME, "mp3"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x05" + b"\x00" * 5 + MP3_FRAME, "mp3"),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"\x13OpusHead\x01", "opus"),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis", "ogg"),
        (b"fLaC\x00\x00\x00\x22" + b"\x00" * 40, "flac"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "mp4"),
        (ADTS, "aac"),
        (b"FORM\x00\x00\x10\x00AIFFCOMM", "aiff"),
    ],
)
def test_recognises_formats(head: bytes, name: str) -> None:
    fmt = sniff.sniff(head)
    assert fmt is not None
    assert fmt.name == name


@pytest.mark.parametrize(
    "head",
    [
        b"%PDF-1.7\n",
        b"\x89PNG\r\n\x1a\n",
        b"<html><body>hi</body></html>",
        b"RIFF\x00\x00\x00\x00AVI LIST",  # RIFF but not WAVE
        b"\xff\xff\xff\xff",  # bad frame header
        b"ID3\x04\x00\x00\x00\x00\x00\x02\x00\x00%PDF",  # tag, then no audio
        b"",
    ],
)
def test_refuses_non_audio(head: bytes) -> None:
    assert sniff.sniff(head) is None


def test_raw_pcm_only_when_declared() -> None:
    pcm = b"\x01\x02" * 100
    assert sniff.sniff(pcm) is None
    declared = sniff.sniff(pcm, "audio/pcm; rate=24000")
    assert declared is not None
    assert declared.name == "pcm"


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav"])
def test_recognises_generated_speech(fmt: str) -> None:
    data = encode_speech(0.5, fmt)
    found = sniff.sniff(data[: sniff.HEAD_SIZE])
    assert found is not None
    assert found.name == ("opus" if fmt == "opus" else fmt)


def test_wav_duration_and_position_restored() -> None:
    fh = io.BytesIO(make_wav(2.5, rate=8000))
    fh.seek(7)
    assert sniff.wav_duration(fh) == pytest.approx(2.5)
    assert fh.tell() == 7


def test_wav_duration_with_streamed_placeholder_size() -> None:
    data = bytearray(make_wav(1.0, rate=16000))
    data[40:44] = b"\xff\xff\xff\xff"  # "unknown" data size, as streamed WAVs carry
    assert sniff.wav_duration(io.BytesIO(bytes(data))) == pytest.approx(1.0)


def test_duration_of_pcm_and_unknown() -> None:
    pcm = io.BytesIO(b"\x00\x00" * 24000)
    assert sniff.duration(pcm, sniff.PCM, pcm_rate=24000) == pytest.approx(1.0)
    assert sniff.wav_duration(io.BytesIO(b"not a wav")) is None


@pytest.mark.skipif(not PYAV_ENCODING, reason="PyAV (the local extra) is not installed")
def test_duration_through_pyav() -> None:
    data = encode_speech(1.0, "flac")
    seconds = sniff.duration(io.BytesIO(data), sniff.FLAC)
    assert seconds == pytest.approx(1.0, abs=0.1)
