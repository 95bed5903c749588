"""Custom voices and voice consents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .results import _Wire


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
