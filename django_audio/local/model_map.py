"""Which local engine serves which requested ``model``, so OpenAI client code runs unchanged.

A model map entry is ``"<requested model>": "<engine>"`` where the engine is ``"whisper"``
(the provider's configured speech-to-text model), ``"whisper:<name or path>"`` (a specific
faster-whisper model) or ``"espeak"`` (speech). The ``model_map`` option is merged over
:data:`DEFAULT_MODEL_MAP`; mapping a name to ``None`` removes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..exceptions import InvalidRequest

__all__ = ["DEFAULT_MODEL_MAP", "Engine", "build_model_map", "parse_engine", "resolve_model"]

STT = "stt"
TTS = "tts"

#: OpenAI's audio model ids and the local engine serving each.
DEFAULT_MODEL_MAP: dict[str, str] = {
    "whisper-1": "whisper",
    "gpt-4o-transcribe": "whisper",
    "gpt-4o-mini-transcribe": "whisper",
    "gpt-4o-mini-transcribe-2025-12-15": "whisper",
    "gpt-transcribe": "whisper",
    # Served as plain transcription; diarized_json itself is refused (no diarization).
    "gpt-4o-transcribe-diarize": "whisper",
    "tts-1": "espeak",
    "tts-1-hd": "espeak",
    "gpt-4o-mini-tts": "espeak",
    "gpt-4o-mini-tts-2025-12-15": "espeak",
}


@dataclass(frozen=True)
class Engine:
    """A local engine: ``kind`` is ``"stt"`` or ``"tts"``; ``model`` a faster-whisper spec."""

    kind: str
    model: str | None = None


def parse_engine(value: object) -> Engine:
    """Read one model map value; raises :class:`ValueError` describing the accepted forms."""
    if value == "espeak":
        return Engine(TTS)
    if value == "whisper":
        return Engine(STT)
    if isinstance(value, str) and value.startswith("whisper:") and value[8:].strip():
        return Engine(STT, value[8:].strip())
    raise ValueError(
        f"{value!r} is not a local engine; use 'whisper', 'whisper:<model name or path>' "
        "or 'espeak'."
    )


def build_model_map(overrides: Mapping[str, str | None] | None) -> dict[str, Engine]:
    """The defaults with ``overrides`` merged over them (``None`` removes an entry)."""
    merged: dict[str, str | None] = {**DEFAULT_MODEL_MAP, **dict(overrides or {})}
    return {name: parse_engine(value) for name, value in merged.items() if value is not None}


def resolve_model(model_map: Mapping[str, Engine], model: str, kind: str, what: str) -> Engine:
    """The engine for ``model``, which must serve ``kind``; else :class:`InvalidRequest`."""
    engine = model_map.get(model)
    if engine is not None and engine.kind == kind:
        return engine
    offered = sorted(name for name, e in model_map.items() if e.kind == kind)
    reason = "does not exist" if engine is None else f"cannot be used for {what}"
    raise InvalidRequest(
        f"The model {model!r} {reason} on the local engine. Models for {what}: "
        + (", ".join(offered) or "none")
        + ".",
        param="model",
        code="model_not_found",
    )
