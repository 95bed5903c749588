"""Recognise audio by its first bytes, never by its name; measure WAV durations.

Pure Python: the container formats OpenAI accepts are told apart by their magic numbers.
Raw PCM has none, so it is accepted only when the caller declares it. Durations come from
the WAV header, or from PyAV for other formats when it is installed (the ``local`` extra).
"""

from __future__ import annotations

import contextlib
import struct
from dataclasses import dataclass
from typing import IO

__all__ = ["HEAD_SIZE", "AudioFormat", "duration", "sniff", "wav_duration"]

#: Bytes read from the start of a file to recognise it.
HEAD_SIZE = 4096

PCM_CONTENT_TYPES = frozenset({"audio/pcm", "audio/l16", "audio/x-pcm", "audio/raw"})


@dataclass(frozen=True)
class AudioFormat:
    """A recognised audio container: short name, content type, file extension."""

    name: str
    content_type: str
    extension: str


WAV = AudioFormat("wav", "audio/wav", ".wav")
MP3 = AudioFormat("mp3", "audio/mpeg", ".mp3")
OGG = AudioFormat("ogg", "audio/ogg", ".ogg")
OPUS = AudioFormat("opus", "audio/ogg", ".opus")
FLAC = AudioFormat("flac", "audio/flac", ".flac")
WEBM = AudioFormat("webm", "audio/webm", ".webm")
MKV = AudioFormat("mka", "audio/x-matroska", ".mka")
MP4 = AudioFormat("mp4", "audio/mp4", ".m4a")
AAC = AudioFormat("aac", "audio/aac", ".aac")
AIFF = AudioFormat("aiff", "audio/aiff", ".aiff")
PCM = AudioFormat("pcm", "audio/pcm", ".pcm")


def _mpeg_frame(b: bytes) -> bool:
    """An MPEG-1/2 audio frame header (layer I-III, valid bitrate and sample rate)."""
    if len(b) < 4 or b[0] != 0xFF or (b[1] & 0xE0) != 0xE0:
        return False
    version, layer = (b[1] >> 3) & 3, (b[1] >> 1) & 3
    bitrate, rate = b[2] >> 4, (b[2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def _adts_frame(b: bytes) -> bool:
    """An AAC ADTS header (12-bit sync, layer 00, valid sampling index)."""
    return len(b) >= 7 and b[0] == 0xFF and (b[1] & 0xF6) == 0xF0 and ((b[2] >> 2) & 0xF) < 13


def _skip_id3(head: bytes) -> int:
    """Offset just past an ID3v2 tag at the start (0 if there is none)."""
    if len(head) >= 10 and head[:3] == b"ID3":
        size = 0
        for byte in head[6:10]:
            size = (size << 7) | (byte & 0x7F)
        return 10 + size + (10 if head[5] & 0x10 else 0)
    return 0


def sniff(head: bytes, declared_type: str | None = None) -> AudioFormat | None:
    """The audio format of a file starting with ``head``, or ``None`` if it is not audio.

    ``declared_type`` (a content type or format name) is consulted only for raw PCM, which
    has no signature of its own.
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:4] in (b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return WAV
    if head[:4] == b"fLaC":
        return FLAC
    if head[:4] == b"OggS":
        return OPUS if b"OpusHead" in head[:512] else OGG
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return WEBM if b"webm" in head[:64] else MKV
    if head[4:8] == b"ftyp":
        return MP4
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if head[:3] == b"ID3":
        after = _skip_id3(head)
        rest = head[after:]
        if not rest or _mpeg_frame(rest):  # a tag longer than the head read: trust it
            return MP3
        if rest[:4] == b"fLaC":
            return FLAC
        return AAC if _adts_frame(rest) else None
    if _adts_frame(head):
        return AAC
    if _mpeg_frame(head):
        return MP3
    declared = (declared_type or "").split(";")[0].strip().lower()
    if head and (declared in PCM_CONTENT_TYPES or declared == "pcm"):
        return PCM
    return None


def sniff_file(fh: IO[bytes], declared_type: str | None = None) -> AudioFormat | None:
    """:func:`sniff` on an open file, restoring its position."""
    pos = fh.tell()
    try:
        return sniff(fh.read(HEAD_SIZE), declared_type)
    finally:
        fh.seek(pos)


def wav_duration(fh: IO[bytes]) -> float | None:
    """Duration in seconds from a WAV file's ``fmt`` and ``data`` chunks, restoring position."""
    pos = fh.tell()
    try:
        fh.seek(0)
        riff = fh.read(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            return None
        byte_rate = 0
        while True:
            header = fh.read(8)
            if len(header) < 8:
                return None
            chunk, size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"fmt ":
                fmt = fh.read(size)
                if len(fmt) < 12:
                    return None
                byte_rate = struct.unpack("<I", fmt[8:12])[0]
                if size % 2:
                    fh.seek(1, 1)
            elif chunk == b"data":
                if not byte_rate:
                    return None
                # Streamed WAVs carry a placeholder size; measure what is really there.
                start = fh.tell()
                end = fh.seek(0, 2)
                available = end - start
                data = size if 0 < size <= available else available
                return data / byte_rate
            else:
                fh.seek(size + (size % 2), 1)
    except (OSError, struct.error, ValueError):
        return None
    finally:
        fh.seek(pos)


def duration(fh: IO[bytes], fmt: AudioFormat | None, pcm_rate: int = 24000) -> float | None:
    """Duration in seconds: WAV header, raw PCM size, or PyAV if installed; else ``None``."""
    if fmt is WAV:
        return wav_duration(fh)
    pos = fh.tell()
    try:
        if fmt is PCM:
            return (fh.seek(0, 2) // 2) / pcm_rate  # 16-bit mono
        return _av_duration(fh)
    finally:
        fh.seek(pos)


def _av_duration(fh: IO[bytes]) -> float | None:
    try:
        import av  # optional: the `local` extra
    except ImportError:
        return None
    with contextlib.suppress(Exception):  # PyAV raises many error types on odd input
        fh.seek(0)
        with av.open(fh, mode="r") as container:
            if container.duration:
                return float(container.duration) / av.time_base
            stream = container.streams.audio[0] if container.streams.audio else None
            if stream is not None and stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
    return None
