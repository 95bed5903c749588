"""Copying provider results onto :class:`~django_audio.models.Transcript` rows."""

from __future__ import annotations

import re
from typing import Any

from ..contract import (
    DurationUsage,
    PlainText,
    TranscriptionDiarized,
    TranscriptionVerbose,
    Translation,
    TranslationVerbose,
    Usage,
)
from ..models import Transcript

_CUE_TIME = re.compile(
    r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})\s*-->\s*(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
)


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def parse_cues(text: str) -> list[dict[str, Any]]:
    """Segments ``{id, start, end, text}`` from SRT or WebVTT text (unknown lines skipped)."""
    segments: list[dict[str, Any]] = []
    for block in re.split(r"\r?\n\s*\r?\n", text.strip()):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            match = _CUE_TIME.search(line)
            if match:
                g = match.groups()
                body = " ".join(x.strip() for x in lines[i + 1 :] if x.strip())
                segments.append(
                    {
                        "id": len(segments),
                        "start": _seconds(g[0], g[1], g[2], g[3]),
                        "end": _seconds(g[4], g[5], g[6], g[7]),
                        "text": body,
                    }
                )
                break
    return segments


def usage_dict(usage: Usage | None) -> dict[str, Any]:
    """Usage in its wire shape (``{}`` when absent)."""
    return usage.to_dict() if usage is not None else {}


def apply_result(row: Transcript, result: Any) -> None:
    """Fill ``row`` from any transcription or translation result (not saved)."""
    row.upstream_request_id = (getattr(result, "request_id", None) or "")[:200]
    if isinstance(result, PlainText):
        if result.response_format in ("srt", "vtt"):
            row.segments = parse_cues(str(result))
            row.text = " ".join(s["text"] for s in row.segments if s["text"])
        else:
            row.text = str(result)
        return
    row.text = result.text
    if isinstance(result, TranscriptionVerbose | TranslationVerbose):
        row.language = row.language or result.language[:35]
        row.duration = row.duration or result.duration or None
        row.segments = [s.to_dict() for s in result.segments or []]
        if isinstance(result, TranscriptionVerbose):
            row.words = [w.to_dict() for w in result.words or []]
            row.usage = usage_dict(result.usage)
    elif isinstance(result, TranscriptionDiarized):
        row.duration = row.duration or result.duration or None
        row.diarized_segments = [s.to_dict() for s in result.segments]
        row.usage = usage_dict(result.usage)
    elif not isinstance(result, Translation):  # plain json transcription
        row.logprobs = [lp.to_dict() for lp in result.logprobs or []]
        row.usage = usage_dict(result.usage)
        if result.languages and not row.language:
            row.language = str(result.languages[0].get("code", ""))[:35]


def audio_seconds(row: Transcript) -> float | None:
    """Seconds billed: the upstream's duration usage, else the measured duration."""
    if row.usage.get("type") == "duration":
        return float(DurationUsage.from_dict(row.usage).seconds)
    return row.duration
