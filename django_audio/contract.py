"""OpenAI's audio contract as typed Python objects.

Requests validate themselves (raising :class:`~django_audio.exceptions.InvalidRequest`
naming the parameter) before any provider sees them. Results and stream events carry
``to_dict()`` producing the exact wire shape, and ``from_dict()`` reading it back, so the
same objects serve the provider layer, the services, the HTTP surface and the websockets.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar, Generic, Literal, TypeAlias, TypeVar

from .exceptions import InvalidRequest

T = TypeVar("T")

# --------------------------------------------------------------------------- enums

TRANSCRIPTION_FORMATS = ("json", "text", "srt", "verbose_json", "vtt", "diarized_json")
TRANSLATION_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
TEXT_FORMATS = ("text", "srt", "vtt")
SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
STREAM_FORMATS = ("audio", "sse")
TIMESTAMP_GRANULARITIES = ("word", "segment")
TRANSCRIPTION_INCLUDES = ("logprobs",)
BUILTIN_VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx",
    "sage", "shimmer", "verse", "marin", "cedar",
)  # fmt: skip
CHAT_AUDIO_FORMATS = ("wav", "aac", "mp3", "flac", "opus", "pcm16")
CHAT_INPUT_AUDIO_FORMATS = ("wav", "mp3")
MAX_KNOWN_SPEAKERS = 4
MAX_INSTRUCTIONS = 4096

#: Content type of each speech ``response_format`` (pcm is raw 24 kHz 16-bit LE mono).
SPEECH_CONTENT_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
#: Content type of each plain-text transcription format.
TEXT_CONTENT_TYPES: dict[str, str] = {
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


class Capability:
    """Names of the operations a provider can declare in ``capabilities``."""

    TRANSCRIBE = "transcribe"
    TRANSCRIBE_STREAM = "transcribe_stream"
    TRANSLATE = "translate"
    SPEECH = "speech"
    SPEECH_SSE = "speech_sse"
    VOICES = "voices"
    VOICE_CONSENTS = "voice_consents"
    CHAT_AUDIO = "chat_audio"
    DIARIZE = "diarize"

    ALL: ClassVar[frozenset[str]] = frozenset(
        {
            TRANSCRIBE, TRANSCRIBE_STREAM, TRANSLATE, SPEECH, SPEECH_SSE,
            VOICES, VOICE_CONSENTS, CHAT_AUDIO, DIARIZE,
        }
    )  # fmt: skip


def _require(value: object, param: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidRequest(f"Missing required parameter: '{param}'.", param=param)


def _one_of(value: object, choices: Sequence[str], param: str) -> None:
    if value not in choices:
        raise InvalidRequest(
            f"Invalid value for '{param}': {value!r}. Supported values are: "
            + ", ".join(f"'{c}'" for c in choices)
            + ".",
            param=param,
            code="invalid_value",
        )


# --------------------------------------------------------------------------- audio input


@dataclass
class AudioFile:
    """An audio payload: a path on disk, bytes, or an open binary file.

    Paths and open files are streamed to providers in chunks, never read whole.
    """

    content: bytes | IO[bytes] | str | os.PathLike[str]
    filename: str = "audio"
    content_type: str | None = None

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], content_type: str | None = None) -> AudioFile:
        """An audio file on disk."""
        return cls(Path(path), filename=Path(path).name, content_type=content_type)

    @property
    def path(self) -> Path | None:
        """The file's path on disk, when it has one."""
        if isinstance(self.content, str | os.PathLike):
            return Path(self.content)
        name = getattr(self.content, "name", None)
        if isinstance(name, str) and os.path.isfile(name):
            return Path(name)
        return None

    @property
    def size(self) -> int | None:
        """Size in bytes, when it can be known without reading."""
        if isinstance(self.content, bytes):
            return len(self.content)
        if isinstance(self.content, str | os.PathLike):
            return os.path.getsize(self.content)
        size = getattr(self.content, "size", None)
        if isinstance(size, int):
            return size
        with contextlib.suppress(OSError, AttributeError, ValueError):
            pos = self.content.tell()
            end = self.content.seek(0, io.SEEK_END)
            self.content.seek(pos)
            return end - pos
        return None

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """Open for reading from the start; does not close a caller's file object."""
        if isinstance(self.content, bytes):
            yield io.BytesIO(self.content)
        elif isinstance(self.content, str | os.PathLike):
            with open(self.content, "rb") as fh:
                yield fh
        else:
            with contextlib.suppress(OSError, AttributeError, ValueError):
                self.content.seek(0)
            yield self.content

    def read(self) -> bytes:
        """All the bytes (for small payloads such as voice samples)."""
        with self.open() as fh:
            return fh.read()

    def validate(self, param: str, max_size: int | None) -> None:
        """Refuse an empty or oversized payload, naming ``param``."""
        size = self.size
        if size == 0:
            raise InvalidRequest(f"The '{param}' is empty.", param=param, code="empty_file")
        if max_size is not None and size is not None and size > max_size:
            raise InvalidRequest(
                f"The '{param}' is {size} bytes; the limit is {max_size} bytes.",
                param=param,
                code="file_too_large",
            )


VoiceParam: TypeAlias = str | Mapping[str, str]


def voice_id(voice: VoiceParam) -> str:
    """The voice name or custom voice id of a ``voice`` parameter."""
    return voice if isinstance(voice, str) else str(voice.get("id", ""))


def validate_voice(voice: VoiceParam, param: str = "voice") -> None:
    """A voice is a non-empty name or exactly ``{"id": "..."}``."""
    if isinstance(voice, Mapping):
        if set(voice) != {"id"} or not isinstance(voice["id"], str) or not voice["id"].strip():
            raise InvalidRequest(
                f"Invalid '{param}': a custom voice is given as {{\"id\": \"voice_...\"}}.",
                param=param,
            )
    elif not isinstance(voice, str) or not voice.strip():
        raise InvalidRequest(f"Missing required parameter: '{param}'.", param=param)


# --------------------------------------------------------------------------- requests


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


def _validate_temperature(value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidRequest(
            f"'temperature' must be a number between 0 and 1; got {value!r}.",
            param="temperature",
        )


def _validate_chunking(value: str | Mapping[str, Any] | None) -> None:
    if value is None or value == "auto":
        return
    if isinstance(value, Mapping) and value.get("type") == "server_vad":
        unknown = set(value) - {"type", "prefix_padding_ms", "silence_duration_ms", "threshold"}
        if not unknown:
            return
    raise InvalidRequest(
        "'chunking_strategy' must be 'auto' or "
        '{"type": "server_vad", "prefix_padding_ms", "silence_duration_ms", "threshold"}.',
        param="chunking_strategy",
    )


# --------------------------------------------------------------------------- results


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
    def from_dict(
        cls, d: Mapping[str, Any], request_id: str | None = None
    ) -> TranscriptionVerbose:
        words, segs = d.get("words"), d.get("segments")
        return cls(
            text=d.get("text", ""),
            language=d.get("language", ""),
            duration=float(d.get("duration") or 0.0),
            words=[TranscriptionWord.from_dict(w) for w in words] if words is not None else None,
            segments=[TranscriptionSegment.from_dict(s) for s in segs] if segs is not None else None,
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
            segments=[TranscriptionSegment.from_dict(s) for s in segs] if segs is not None else None,
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


TranscriptionResult: TypeAlias = Transcription | TranscriptionVerbose | TranscriptionDiarized | PlainText
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


# --------------------------------------------------------------------------- stream events


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


# --------------------------------------------------------------------------- voices


@dataclass
class VoiceObject(_Wire):
    """``audio.voice``."""

    id: str
    name: str
    created_at: int
    type: str = "audio_sample"
    prompt: str | None = None
    object: str = "audio.voice"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VoiceObject:
        return cls(
            id=d["id"],
            name=d.get("name", ""),
            created_at=int(d.get("created_at") or 0),
            type=d.get("type") or "audio_sample",
            prompt=d.get("prompt"),
        )


@dataclass
class VoiceDeleted(_Wire):
    """Answer to deleting a voice."""

    id: str
    deleted: bool = True
    object: str = "audio.voice.deleted"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VoiceDeleted:
        return cls(id=d["id"], deleted=bool(d.get("deleted", True)))


@dataclass
class VoiceConsentObject(_Wire):
    """``audio.voice_consent``."""

    id: str
    name: str
    language: str
    created_at: int
    object: str = "audio.voice_consent"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VoiceConsentObject:
        return cls(
            id=d["id"],
            name=d.get("name", ""),
            language=d.get("language", ""),
            created_at=int(d.get("created_at") or 0),
        )


@dataclass
class VoiceConsentDeleted(_Wire):
    """Answer to deleting a consent (``object`` is ``audio.voice_consent`` here)."""

    id: str
    deleted: bool = True
    object: str = "audio.voice_consent"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VoiceConsentDeleted:
        return cls(id=d["id"], deleted=bool(d.get("deleted", True)))


@dataclass
class VoiceConsentPage(_Wire):
    """A page of consents in OpenAI's list envelope (cursor: ``after`` = ``last_id``)."""

    data: list[VoiceConsentObject]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None
    object: str = "list"

    def to_dict(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "data": [c.to_dict() for c in self.data],
            "first_id": self.first_id,
            "last_id": self.last_id,
            "has_more": self.has_more,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VoiceConsentPage:
        return cls(
            data=[VoiceConsentObject.from_dict(x) for x in d.get("data") or []],
            has_more=bool(d.get("has_more")),
            first_id=d.get("first_id"),
            last_id=d.get("last_id"),
        )


# --------------------------------------------------------------------------- chat audio


@dataclass
class ChatAudio(_Wire):
    """``choices[].message.audio`` of a chat completion."""

    id: str
    expires_at: int
    data: str
    transcript: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChatAudio:
        return cls(
            id=d["id"],
            expires_at=int(d.get("expires_at") or 0),
            data=d.get("data") or "",
            transcript=d.get("transcript") or "",
        )

    @property
    def audio_bytes(self) -> bytes:
        """The decoded audio."""
        return base64.b64decode(self.data) if self.data else b""


@dataclass
class ChatAudioDelta(_Wire):
    """``choices[].delta.audio`` of a streamed chat chunk (every field optional)."""

    id: str | None = None
    data: str | None = None
    expires_at: int | None = None
    transcript: str | None = None


@dataclass
class ChatCompletion:
    """A chat completion body, kept whole, with typed access to its audio reply."""

    data: dict[str, Any]
    request_id: str | None = None

    @property
    def message(self) -> dict[str, Any]:
        choices = self.data.get("choices") or [{}]
        return dict(choices[0].get("message") or {})

    @property
    def audio(self) -> ChatAudio | None:
        """The first choice's audio reply, if any."""
        audio = self.message.get("audio")
        return ChatAudio.from_dict(audio) if audio else None

    def to_dict(self) -> dict[str, Any]:
        return self.data


@dataclass
class ChatCompletionChunk:
    """One streamed ``chat.completion.chunk``, kept whole, with typed audio access."""

    data: dict[str, Any]

    @property
    def audio(self) -> ChatAudioDelta | None:
        """The first choice's audio delta, if any."""
        choices = self.data.get("choices") or []
        if not choices:
            return None
        audio = (choices[0].get("delta") or {}).get("audio")
        if not audio:
            return None
        return ChatAudioDelta(
            id=audio.get("id"),
            data=audio.get("data"),
            expires_at=audio.get("expires_at"),
            transcript=audio.get("transcript"),
        )

    def to_dict(self) -> dict[str, Any]:
        return self.data


# --------------------------------------------------------------------------- streams


class Stream(Generic[T]):
    """An open upstream stream (sync). Iterate it; ``close()`` cancels the upstream request.

    The request was already sent and its status checked when the stream was returned, so
    errors such as 400 or 401 surface at the call, not at the first ``next()``.
    """

    def __init__(
        self,
        items: Iterator[T],
        *,
        close: Callable[[], None] | None = None,
        content_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self._items = items
        self._close = close
        self.content_type = content_type
        self.request_id = request_id

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        return next(self._items)

    def close(self) -> None:
        """Stop reading and release the upstream connection."""
        close = getattr(self._items, "close", None)
        if close is not None:
            close()
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream(Generic[T]):
    """An open upstream stream (async). ``aclose()`` cancels the upstream request."""

    def __init__(
        self,
        items: AsyncIterator[T],
        *,
        aclose: Callable[[], Any] | None = None,
        content_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self._items = items
        self._aclose = aclose
        self.content_type = content_type
        self.request_id = request_id

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return await self._items.__anext__()

    async def aclose(self) -> None:
        """Stop reading and release the upstream connection."""
        inner = getattr(self._items, "aclose", None)
        if inner is not None:
            await inner()
        if self._aclose is not None:
            result = self._aclose()
            self._aclose = None
            if hasattr(result, "__await__"):
                await result

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# --------------------------------------------------------------------------- chat validation

_BCP47 = __import__("re").compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def validate_language_tag(value: str, param: str = "language") -> None:
    """A BCP 47 language tag such as ``en`` or ``en-US``."""
    if not isinstance(value, str) or not _BCP47.match(value):
        raise InvalidRequest(
            f"'{param}' must be a BCP 47 language tag such as 'en' or 'en-US'; got {value!r}.",
            param=param,
        )


def validate_chat_audio(body: Mapping[str, Any]) -> None:
    """Check the audio pieces of a chat completion request (the rest is the upstream's)."""
    _require(body.get("model"), "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    modalities = body.get("modalities")
    if modalities is not None:
        if not isinstance(modalities, list):
            raise InvalidRequest("'modalities' must be an array.", param="modalities")
        for m in modalities:
            _one_of(m, ("text", "audio"), "modalities")
    audio = body.get("audio")
    if modalities and "audio" in modalities and not audio:
        raise InvalidRequest(
            "'audio' ({\"voice\", \"format\"}) is required when modalities include 'audio'.",
            param="audio",
        )
    if audio is not None:
        if not isinstance(audio, Mapping):
            raise InvalidRequest("'audio' must be an object.", param="audio")
        validate_voice(audio.get("voice", ""), "audio.voice")
        _one_of(audio.get("format"), CHAT_AUDIO_FORMATS, "audio.format")
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping):
            raise InvalidRequest(f"'messages[{i}]' must be an object.", param=f"messages[{i}]")
        content = msg.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                if isinstance(part, Mapping) and part.get("type") == "input_audio":
                    _validate_input_audio(part.get("input_audio"), f"messages[{i}].content[{j}]")
        ref = msg.get("audio")
        if msg.get("role") == "assistant" and ref is not None:
            if not isinstance(ref, Mapping) or not isinstance(ref.get("id"), str):
                raise InvalidRequest(
                    "An assistant message's 'audio' must be {\"id\": \"audio_...\"}.",
                    param=f"messages[{i}].audio",
                )


def _validate_input_audio(value: Any, where: str) -> None:
    param = f"{where}.input_audio"
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"'{param}' must be an object with data and format.", param=param)
    _one_of(value.get("format"), CHAT_INPUT_AUDIO_FORMATS, f"{param}.format")
    data = value.get("data")
    try:
        if not isinstance(data, str) or not data:
            raise ValueError
        base64.b64decode(data, validate=True)
    except ValueError:
        raise InvalidRequest(f"'{param}.data' must be base64-encoded audio.", param=param) from None
