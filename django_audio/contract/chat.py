"""The audio pieces of chat completions, and their validation."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidRequest
from .constants import CHAT_AUDIO_FORMATS, CHAT_INPUT_AUDIO_FORMATS
from .results import _Wire
from .validation import _one_of, _require, validate_voice


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
        bad_ref = not isinstance(ref, Mapping) or not isinstance(ref.get("id"), str)
        if msg.get("role") == "assistant" and ref is not None and bad_ref:
            raise InvalidRequest(
                'An assistant message\'s \'audio\' must be {"id": "audio_..."}.',
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
