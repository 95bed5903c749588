"""Shared parameter checks; each raises ``InvalidRequest`` naming the parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from ..exceptions import InvalidRequest


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


VoiceParam: TypeAlias = str | Mapping[str, str]


def voice_id(voice: VoiceParam) -> str:
    """The voice name or custom voice id of a ``voice`` parameter."""
    return voice if isinstance(voice, str) else str(voice.get("id", ""))


def validate_voice(voice: VoiceParam, param: str = "voice") -> None:
    """A voice is a non-empty name or exactly ``{"id": "..."}``."""
    if isinstance(voice, Mapping):
        if set(voice) != {"id"} or not isinstance(voice["id"], str) or not voice["id"].strip():
            raise InvalidRequest(
                f'Invalid \'{param}\': a custom voice is given as {{"id": "voice_..."}}.',
                param=param,
            )
    elif not isinstance(voice, str) or not voice.strip():
        raise InvalidRequest(f"Missing required parameter: '{param}'.", param=param)


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


_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def validate_language_tag(value: str, param: str = "language") -> None:
    """A BCP 47 language tag such as ``en`` or ``en-US``."""
    if not isinstance(value, str) or not _BCP47.match(value):
        raise InvalidRequest(
            f"'{param}' must be a BCP 47 language tag such as 'en' or 'en-US'; got {value!r}.",
            param=param,
        )
