"""Typed requests; ``validate()`` runs before any provider sees them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import InvalidRequest
from .audio import AudioFile
from .constants import (
    MAX_INSTRUCTIONS,
    MAX_KNOWN_SPEAKERS,
    SPEECH_CONTENT_TYPES,
    SPEECH_FORMATS,
    STREAM_FORMATS,
    TIMESTAMP_GRANULARITIES,
    TRANSCRIPTION_FORMATS,
    TRANSCRIPTION_INCLUDES,
    TRANSLATION_FORMATS,
)
from .validation import (
    VoiceParam,
    _one_of,
    _require,
    _validate_chunking,
    _validate_temperature,
    validate_voice,
)


@dataclass
class TranscriptionRequest:
    """``POST /audio/transcriptions``."""

    file: AudioFile
    model: str
    language: str | None = None
    prompt: str | None = None
    response_format: str = "json"
    temperature: float | None = None
    timestamp_granularities: Sequence[str] = ()
    include: Sequence[str] = ()
    chunking_strategy: str | Mapping[str, Any] | None = None
    known_speaker_names: Sequence[str] = ()
    known_speaker_references: Sequence[str] = ()
    stream: bool = False
    #: Extra form fields passed through to the upstream unchanged (extensions).
    extra: Mapping[str, Any] = field(default_factory=dict)

    def validate(self, max_upload_size: int | None = None) -> None:
        """Raise :class:`InvalidRequest` naming the first bad parameter."""
        _require(self.model, "model")
        _one_of(self.response_format, TRANSCRIPTION_FORMATS, "response_format")
        _validate_temperature(self.temperature)
        for g in self.timestamp_granularities:
            _one_of(g, TIMESTAMP_GRANULARITIES, "timestamp_granularities[]")
        if self.timestamp_granularities and self.response_format != "verbose_json":
            raise InvalidRequest(
                "'timestamp_granularities' requires response_format 'verbose_json'.",
                param="timestamp_granularities[]",
            )
        for inc in self.include:
            _one_of(inc, TRANSCRIPTION_INCLUDES, "include[]")
        if self.include and self.response_format != "json":
            raise InvalidRequest(
                "'include[]=logprobs' requires response_format 'json'.", param="include[]"
            )
        _validate_chunking(self.chunking_strategy)
        for name, items in (
            ("known_speaker_names[]", self.known_speaker_names),
            ("known_speaker_references[]", self.known_speaker_references),
        ):
            if len(items) > MAX_KNOWN_SPEAKERS:
                raise InvalidRequest(
                    f"'{name}' accepts at most {MAX_KNOWN_SPEAKERS} items; got {len(items)}.",
                    param=name,
                )
        if self.known_speaker_references:
            if len(self.known_speaker_references) != len(self.known_speaker_names):
                raise InvalidRequest(
                    "'known_speaker_references[]' needs one entry per 'known_speaker_names[]'.",
                    param="known_speaker_references[]",
                )
            for ref in self.known_speaker_references:
                if not str(ref).startswith("data:"):
                    raise InvalidRequest(
                        "'known_speaker_references[]' items must be data URLs "
                        "(data:audio/wav;base64,...).",
                        param="known_speaker_references[]",
                    )
        if self.stream and self.response_format not in ("json", "text"):
            raise InvalidRequest(
                "Streaming transcription supports response_format 'json' or 'text' only.",
                param="stream",
            )
        self.file.validate("file", max_upload_size)


@dataclass
class TranslationRequest:
    """``POST /audio/translations`` (into English)."""

    file: AudioFile
    model: str
    prompt: str | None = None
    response_format: str = "json"
    temperature: float | None = None

    def validate(self, max_upload_size: int | None = None) -> None:
        """Raise :class:`InvalidRequest` naming the first bad parameter."""
        _require(self.model, "model")
        _one_of(self.response_format, TRANSLATION_FORMATS, "response_format")
        _validate_temperature(self.temperature)
        self.file.validate("file", max_upload_size)


@dataclass
class SpeechRequest:
    """``POST /audio/speech``."""

    model: str
    input: str
    voice: VoiceParam
    instructions: str | None = None
    response_format: str = "mp3"
    speed: float = 1.0
    stream_format: str = "audio"

    def validate(self, max_input: int | None = 4096) -> None:
        """Raise :class:`InvalidRequest` naming the first bad parameter."""
        _require(self.model, "model")
        if not isinstance(self.input, str) or not self.input.strip():
            raise InvalidRequest("Missing required parameter: 'input'.", param="input")
        if max_input is not None and len(self.input) > max_input:
            raise InvalidRequest(
                f"'input' is {len(self.input)} characters; the limit is {max_input}.",
                param="input",
                code="string_above_max_length",
            )
        if self.instructions is not None and len(self.instructions) > MAX_INSTRUCTIONS:
            raise InvalidRequest(
                f"'instructions' is longer than {MAX_INSTRUCTIONS} characters.",
                param="instructions",
                code="string_above_max_length",
            )
        validate_voice(self.voice)
        _one_of(self.response_format, SPEECH_FORMATS, "response_format")
        _one_of(self.stream_format, STREAM_FORMATS, "stream_format")
        if isinstance(self.speed, bool) or not isinstance(self.speed, int | float):
            raise InvalidRequest("'speed' must be a number.", param="speed")
        if not 0.25 <= float(self.speed) <= 4.0:
            raise InvalidRequest(
                f"'speed' must be between 0.25 and 4.0; got {self.speed}.",
                param="speed",
                code="invalid_value",
            )

    @property
    def content_type(self) -> str:
        """Content type of the audio this request produces."""
        return SPEECH_CONTENT_TYPES[self.response_format]
