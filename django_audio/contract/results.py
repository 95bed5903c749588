"""Typed results of transcriptions and translations, with their wire shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias

from .constants import TEXT_CONTENT_TYPES


class _Wire:
    """Mixin: ``to_dict()`` drops ``None`` optionals and the local-only ``request_id``."""

    _local_fields: ClassVar[tuple[str, ...]] = ("request_id",)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:  # type: ignore[attr-defined]
            if name in self._local_fields:
                continue
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, _Wire):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass
class Logprob(_Wire):
    """One token's log probability."""

    token: str
    logprob: float
    bytes: list[int] | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Logprob:
        return cls(token=d.get("token", ""), logprob=d.get("logprob", 0.0), bytes=d.get("bytes"))


@dataclass
class TokenUsage(_Wire):
    """``usage`` counted in tokens."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_token_details: dict[str, int] | None = None
    type: Literal["tokens"] = "tokens"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TokenUsage:
        return cls(
            input_tokens=int(d.get("input_tokens") or 0),
            output_tokens=int(d.get("output_tokens") or 0),
            total_tokens=int(d.get("total_tokens") or 0),
            input_token_details=d.get("input_token_details"),
        )


@dataclass
class DurationUsage(_Wire):
    """``usage`` counted in seconds of audio."""

    seconds: float = 0.0
    type: Literal["duration"] = "duration"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DurationUsage:
        return cls(seconds=float(d.get("seconds") or 0))


Usage: TypeAlias = TokenUsage | DurationUsage


def usage_from_dict(d: Mapping[str, Any] | None) -> Usage | None:
    """Read either ``usage`` variant; some upstreams omit ``type`` or rename fields."""
    if not d:
        return None
    if d.get("type") == "duration" or ("seconds" in d and "input_tokens" not in d):
        return DurationUsage.from_dict(d)
    if "input_tokens" not in d and "prompt_tokens" in d:  # chat-style names
        d = {
            "input_tokens": d.get("prompt_tokens"),
            "output_tokens": d.get("completion_tokens"),
            "total_tokens": d.get("total_tokens"),
        }
    return TokenUsage.from_dict(d)


@dataclass
class TranscriptionWord(_Wire):
    """A word with its start and end in seconds."""

    word: str
    start: float
    end: float

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TranscriptionWord:
        return cls(word=d["word"], start=float(d["start"]), end=float(d["end"]))


@dataclass
class TranscriptionSegment(_Wire):
    """A segment of a verbose transcription."""

    id: int
    start: float
    end: float
    text: str
    seek: int = 0
    tokens: list[int] = field(default_factory=list)
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TranscriptionSegment:
        return cls(
            id=int(d.get("id", 0)),
            start=float(d["start"]),
            end=float(d["end"]),
            text=d.get("text", ""),
            seek=int(d.get("seek", 0)),
            tokens=list(d.get("tokens") or []),
            temperature=float(d.get("temperature") or 0.0),
            avg_logprob=float(d.get("avg_logprob") or 0.0),
            compression_ratio=float(d.get("compression_ratio") or 0.0),
            no_speech_prob=float(d.get("no_speech_prob") or 0.0),
        )


@dataclass
class DiarizedSegment(_Wire):
    """A segment with its speaker label (``diarized_json``)."""

    id: str
    start: float
    end: float
    text: str
    speaker: str
    type: str = "transcript.text.segment"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DiarizedSegment:
        return cls(
            id=str(d.get("id", "")),
            start=float(d["start"]),
            end=float(d["end"]),
            text=d.get("text", ""),
            speaker=str(d.get("speaker", "")),
        )


@dataclass
class Transcription(_Wire):
    """``response_format=json`` result."""

    text: str
    logprobs: list[Logprob] | None = None
    usage: Usage | None = None
    languages: list[dict[str, str]] | None = None
    request_id: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], request_id: str | None = None) -> Transcription:
        lps = d.get("logprobs")
        return cls(
            text=d.get("text", ""),
            logprobs=[Logprob.from_dict(x) for x in lps] if lps is not None else None,
            usage=usage_from_dict(d.get("usage")),
            languages=d.get("languages"),
            request_id=request_id,
        )


@dataclass
class TranscriptionVerbose(_Wire):
    """``response_format=verbose_json`` result, with words and segments."""

    text: str
    language: str
    duration: float
    words: list[TranscriptionWord] | None = None
    segments: list[TranscriptionSegment] | None = None
    usage: Usage | None = None
    request_id: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], request_id: str | None = None) -> TranscriptionVerbose:
        words, segs = d.get("words"), d.get("segments")
        return cls(
            text=d.get("text", ""),
            language=d.get("language", ""),
            duration=float(d.get("duration") or 0.0),
            words=[TranscriptionWord.from_dict(w) for w in words] if words is not None else None,
            segments=[TranscriptionSegment.from_dict(s) for s in segs]
            if segs is not None
            else None,
            usage=usage_from_dict(d.get("usage")),
            request_id=request_id,
        )


@dataclass
class TranscriptionDiarized(_Wire):
    """``response_format=diarized_json`` result, with speaker-labelled segments."""

    text: str
    duration: float
    segments: list[DiarizedSegment]
    usage: Usage | None = None
    task: str = "transcribe"
    request_id: str | None = None

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any], request_id: str | None = None
    ) -> TranscriptionDiarized:
        return cls(
            text=d.get("text", ""),
            duration=float(d.get("duration") or 0.0),
            segments=[DiarizedSegment.from_dict(s) for s in d.get("segments") or []],
            usage=usage_from_dict(d.get("usage")),
            task=d.get("task", "transcribe"),
            request_id=request_id,
        )


@dataclass
class Translation(_Wire):
    """Translation ``json`` result."""

    text: str
    request_id: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], request_id: str | None = None) -> Translation:
        return cls(text=d.get("text", ""), request_id=request_id)


@dataclass
class TranslationVerbose(_Wire):
    """Translation ``verbose_json`` result."""

    text: str
    language: str
    duration: float
    segments: list[TranscriptionSegment] | None = None
    request_id: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], request_id: str | None = None) -> TranslationVerbose:
        segs = d.get("segments")
        return cls(
            text=d.get("text", ""),
            language=d.get("language", ""),
            duration=float(d.get("duration") or 0.0),
            segments=[TranscriptionSegment.from_dict(s) for s in segs]
            if segs is not None
            else None,
            request_id=request_id,
        )


class PlainText(str):
    """A ``text`` / ``srt`` / ``vtt`` result: the text itself, plus where it came from."""

    response_format: str
    request_id: str | None

    def __new__(
        cls, text: str, response_format: str = "text", request_id: str | None = None
    ) -> PlainText:
        obj = super().__new__(cls, text)
        obj.response_format = response_format
        obj.request_id = request_id
        return obj

    @property
    def content_type(self) -> str:
        """The HTTP content type this text is served with."""
        return TEXT_CONTENT_TYPES.get(self.response_format, TEXT_CONTENT_TYPES["text"])


TranscriptionResult: TypeAlias = (
    Transcription | TranscriptionVerbose | TranscriptionDiarized | PlainText
)
TranslationResult: TypeAlias = Translation | TranslationVerbose | PlainText


def parse_transcription(
    response_format: str, data: Mapping[str, Any], request_id: str | None = None
) -> Transcription | TranscriptionVerbose | TranscriptionDiarized:
    """Pick the typed result for a JSON transcription body."""
    if response_format == "verbose_json":
        return TranscriptionVerbose.from_dict(data, request_id)
    if response_format == "diarized_json":
        return TranscriptionDiarized.from_dict(data, request_id)
    return Transcription.from_dict(data, request_id)


def parse_translation(
    response_format: str, data: Mapping[str, Any], request_id: str | None = None
) -> Translation | TranslationVerbose:
    """Pick the typed result for a JSON translation body."""
    if response_format == "verbose_json":
        return TranslationVerbose.from_dict(data, request_id)
    return Translation.from_dict(data, request_id)
