"""Transcript text from recognised segments: joined text, stream deltas, SRT and WebVTT."""

from __future__ import annotations

from collections.abc import Iterable

from ..contract import TranscriptionSegment

__all__ = ["TextJoiner", "join_text", "to_srt", "to_vtt"]


class TextJoiner:
    """Builds the transcript one segment at a time; the deltas concatenate to :attr:`text`.

    Whisper starts each segment's text with a space; the first one is dropped and trailing
    spaces are trimmed, so ``"".join(deltas) == text`` holds exactly.
    """

    def __init__(self) -> None:
        self.text = ""

    def add(self, segment_text: str) -> str:
        """Append a segment; returns the delta (empty when the segment had no words)."""
        piece = segment_text.rstrip()
        if not self.text:
            piece = piece.lstrip()
        if not piece.strip():
            return ""
        self.text += piece
        return piece


def join_text(segments: Iterable[TranscriptionSegment]) -> str:
    """The transcript of ``segments``."""
    joiner = TextJoiner()
    for segment in segments:
        joiner.add(segment.text)
    return joiner.text


def _timestamp(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def to_srt(segments: Iterable[TranscriptionSegment]) -> str:
    """SubRip captions, numbered from 1 (empty string for no speech)."""
    cues = [
        f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{s.text.strip()}\n"
        for i, s in enumerate((s for s in segments if s.text.strip()), start=1)
    ]
    return "\n".join(cues)


def to_vtt(segments: Iterable[TranscriptionSegment]) -> str:
    """WebVTT captions (just the header for no speech)."""
    cues = [
        f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n{s.text.strip()}\n"
        for s in segments
        if s.text.strip()
    ]
    return "\n".join(["WEBVTT\n", *cues])
