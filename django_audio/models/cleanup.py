"""Stored files follow their rows: deleted once the deleting transaction commits."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_delete

from ..storage import delete_on_commit
from .speech import SpeechAsset
from .transcripts import Transcript
from .voices import Voice, VoiceConsent

#: Each model holding audio, with the name of its file field.
FILE_FIELDS: dict[type[models.Model], str] = {
    Transcript: "audio",
    SpeechAsset: "audio",
    VoiceConsent: "recording",
    Voice: "sample",
}


def _delete_file(sender: type[models.Model], instance: models.Model, using: str, **kw: Any) -> None:
    # After commit only: a rolled-back delete must not lose the audio of a row that stays.
    name = getattr(instance, FILE_FIELDS[sender]).name
    if name:
        delete_on_commit(name, using=using)


def connect() -> None:
    """Connect the cleanup receivers (idempotent)."""
    for model in FILE_FIELDS:
        post_delete.connect(
            _delete_file, sender=model, dispatch_uid=f"django_audio.cleanup.{model.__name__}"
        )
