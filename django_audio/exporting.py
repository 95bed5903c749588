"""Transcript exports: plain text, SubRip, WebVTT and JSON, built from the stored timings.

One function, :func:`export_transcript`, used by the admin downloads, the management
commands and the REST API. Cues come from the diarized segments (with speakers) when there
are any, else the segments, else the words grouped into short lines; a transcript without
any timings becomes one cue spanning the audio. SRT is written by ``srt`` and WebVTT by
``webvtt-py`` so escaping and timestamp syntax follow those well-kept libraries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import srt
import webvtt

from .exceptions import InvalidRequest
from .models import Transcript

__all__ = ["EXPORT_FORMATS", "Cue", "export_transcript", "transcript_cues"]

#: Export format → (content type, file extension).
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "txt": ("text/plain; charset=utf-8", "txt"),
    "srt": ("application/x-subrip; charset=utf-8", "srt"),
    "vtt": ("text/vtt; charset=utf-8", "vtt"),
    "json": ("application/json", "json"),
}

#: Words grouped into one cue when only word timings exist.
WORDS_PER_CUE = 12
#: Longest cue built from words, in seconds.
MAX_CUE_SECONDS = 7.0


@dataclass(frozen=True)
class Cue:
    """One timed line of a transcript: start and end in seconds, text, optional speaker."""

    start: float
    end: float
    text: str
    speaker: str = ""


def _number(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0


def _clean(text: Any) -> str:
    # A cue is one paragraph: blank lines and the arrow would end it early in SRT and VTT.
    lines = [line.strip() for line in str(text or "").splitlines()]
    return "\n".join(line for line in lines if line).replace("-->", "->")


def _from_segments(segments: Iterable[Any]) -> list[Cue]:
    cues = []
    for seg in segments:
        if not isinstance(seg, Mapping):
            continue
        text = _clean(seg.get("text"))
        if not text:
            continue
        start = _number(seg.get("start"))
        end = max(start, _number(seg.get("end")))
        cues.append(Cue(start, end, text, str(seg.get("speaker") or "")))
    return cues


def _from_words(words: Sequence[Any]) -> list[Cue]:
    cues: list[Cue] = []
    line: list[str] = []
    start = end = 0.0
    for word in words:
        if not isinstance(word, Mapping) or not str(word.get("word", "")).strip():
            continue
        w_start, w_end = _number(word.get("start")), _number(word.get("end"))
        if line and (len(line) >= WORDS_PER_CUE or w_end - start > MAX_CUE_SECONDS):
            cues.append(Cue(start, end, " ".join(line)))
            line = []
        if not line:
            start = w_start
        line.append(_clean(word["word"]))
        end = max(start, w_end)
    if line:
        cues.append(Cue(start, end, " ".join(line)))
    return cues


def transcript_cues(transcript: Transcript) -> list[Cue]:
    """The timed lines of ``transcript``, best source first (see the module docstring)."""
    for cues in (
        _from_segments(transcript.diarized_segments or []),
        _from_segments(transcript.segments or []),
        _from_words(transcript.words or []),
    ):
        if cues:
            return cues
    text = _clean(transcript.text)
    return [Cue(0.0, _number(transcript.duration), text)] if text else []


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip text; a speaker is written as a ``Speaker: `` prefix (SRT has no voice tag)."""
    subs = [
        srt.Subtitle(
            index=i,
            start=timedelta(seconds=cue.start),
            end=timedelta(seconds=cue.end),
            content=f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text,
        )
        for i, cue in enumerate(cues, start=1)
    ]
    return str(srt.compose(subs, reindex=False))


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text; a speaker becomes a ``<v Speaker>`` voice span."""
    doc = webvtt.WebVTT()
    for i, cue in enumerate(cues, start=1):
        text = _vtt_escape(cue.text)
        if cue.speaker:
            text = f"<v {_vtt_escape(cue.speaker)}>{text}"
        doc.captions.append(
            webvtt.Caption(
                start=_vtt_time(cue.start), end=_vtt_time(cue.end), text=text, identifier=str(i)
            )
        )
    return str(doc.content)


def to_text(transcript: Transcript) -> str:
    """Plain text; with speakers, one ``Speaker: text`` line per diarized segment."""
    cues = _from_segments(transcript.diarized_segments or [])
    if any(cue.speaker for cue in cues):
        return "\n".join(f"{c.speaker}: {c.text}" if c.speaker else c.text for c in cues) + "\n"
    text = transcript.text or " ".join(c.text for c in transcript_cues(transcript))
    return text.rstrip("\n") + "\n" if text else ""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def to_json(transcript: Transcript) -> str:
    """Everything stored about the transcript's text, as indented JSON."""
    doc = {
        "id": transcript.public_id,
        "object": "transcript",
        "kind": transcript.kind,
        "status": transcript.status,
        "model": transcript.model,
        "language": transcript.language,
        "duration": transcript.duration,
        "text": transcript.text,
        "segments": transcript.segments or [],
        "words": transcript.words or [],
        "diarized_segments": transcript.diarized_segments or [],
        "speakers": transcript.speakers,
        "usage": transcript.usage or None,
        "created_at": _iso(transcript.created_at),
        "completed_at": _iso(transcript.completed_at),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def export_transcript(transcript: Transcript, fmt: str) -> tuple[str, str, str]:
    """``(content, content_type, filename)`` of ``transcript`` in ``fmt`` (txt/srt/vtt/json)."""
    fmt = (fmt or "").lower()
    if fmt not in EXPORT_FORMATS:
        raise InvalidRequest(
            f"Unknown export format '{fmt}'; use one of: {', '.join(EXPORT_FORMATS)}.",
            param="format",
            code="invalid_value",
        )
    content_type, ext = EXPORT_FORMATS[fmt]
    if fmt == "srt":
        content = to_srt(transcript_cues(transcript))
    elif fmt == "vtt":
        content = to_vtt(transcript_cues(transcript))
    elif fmt == "json":
        content = to_json(transcript)
    else:
        content = to_text(transcript)
    return content, content_type, f"{transcript.public_id}.{ext}"
