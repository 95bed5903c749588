"""Typed stream events (``transcript.text.*`` and ``speech.audio.*``)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from .results import Logprob, TokenUsage, Usage, _Wire, usage_from_dict


@dataclass
class TranscriptTextDelta(_Wire):
    """``transcript.text.delta``: more text as it is recognised."""

    delta: str
    logprobs: list[Logprob] | None = None
    segment_id: str | None = None
    type: Literal["transcript.text.delta"] = "transcript.text.delta"


@dataclass
class TranscriptTextSegment(_Wire):
    """``transcript.text.segment``: a finished (diarized) segment."""

    id: str
    start: float
    end: float
    text: str
    speaker: str
    type: Literal["transcript.text.segment"] = "transcript.text.segment"


@dataclass
class TranscriptTextDone(_Wire):
    """``transcript.text.done``: the complete text, last event of a stream."""

    text: str
    logprobs: list[Logprob] | None = None
    usage: Usage | None = None
    languages: list[dict[str, str]] | None = None
    type: Literal["transcript.text.done"] = "transcript.text.done"


TranscriptionEvent: TypeAlias = TranscriptTextDelta | TranscriptTextSegment | TranscriptTextDone


def transcription_event_from_dict(d: Mapping[str, Any]) -> TranscriptionEvent:
    """Parse one transcription SSE event; raises ``KeyError``/``ValueError`` if malformed."""
    kind = d["type"]
    lps = d.get("logprobs")
    logprobs = [Logprob.from_dict(x) for x in lps] if lps is not None else None
    if kind == "transcript.text.delta":
        return TranscriptTextDelta(
            delta=d["delta"], logprobs=logprobs, segment_id=d.get("segment_id")
        )
    if kind == "transcript.text.segment":
        return TranscriptTextSegment(
            id=str(d["id"]),
            start=float(d["start"]),
            end=float(d["end"]),
            text=d["text"],
            speaker=str(d.get("speaker", "")),
        )
    if kind == "transcript.text.done":
        return TranscriptTextDone(
            text=d["text"],
            logprobs=logprobs,
            usage=usage_from_dict(d.get("usage")),
            languages=d.get("languages"),
        )
    raise ValueError(f"unknown transcription event type {kind!r}")


@dataclass
class SpeechAudioDelta(_Wire):
    """``speech.audio.delta``: a chunk of audio (bytes here, base64 on the wire)."""

    audio: bytes
    type: Literal["speech.audio.delta"] = "speech.audio.delta"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "audio": base64.b64encode(self.audio).decode("ascii")}


@dataclass
class SpeechAudioDone(_Wire):
    """``speech.audio.done``: the last event, with token usage."""

    usage: TokenUsage = field(default_factory=TokenUsage)
    type: Literal["speech.audio.done"] = "speech.audio.done"

    def to_dict(self) -> dict[str, Any]:
        u = self.usage
        return {
            "type": self.type,
            "usage": {
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "total_tokens": u.total_tokens,
            },
        }


SpeechEvent: TypeAlias = SpeechAudioDelta | SpeechAudioDone


def speech_event_from_dict(d: Mapping[str, Any]) -> SpeechEvent:
    """Parse one speech SSE event; raises ``KeyError``/``ValueError`` if malformed."""
    kind = d["type"]
    if kind == "speech.audio.delta":
        return SpeechAudioDelta(audio=base64.b64decode(d["audio"], validate=True))
    if kind == "speech.audio.done":
        return SpeechAudioDone(usage=TokenUsage.from_dict(d.get("usage") or {}))
    raise ValueError(f"unknown speech event type {kind!r}")
