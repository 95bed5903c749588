"""Pieces shared by the models: public ids, statuses, file-field factory."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..storage import UploadPath, audio_storage

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


def make_public_id(prefix: str) -> str:
    """A random public id such as ``tr_3f9c…`` (24 hex characters after the prefix)."""
    return f"{prefix}_{secrets.token_hex(12)}"


# Module-level callables so migrations can reference them.
def new_transcript_id() -> str:
    """Public id of a transcript (``tr_…``)."""
    return make_public_id("tr")


def new_speech_id() -> str:
    """Public id of a speech asset (``sp_…``)."""
    return make_public_id("sp")


def new_consent_id() -> str:
    """Public id of a voice consent (``cons_…``)."""
    return make_public_id("cons")


def new_voice_id() -> str:
    """Public id of a custom voice (``voice_…``)."""
    return make_public_id("voice")


class JobStatus(models.TextChoices):
    """Life cycle of a transcript or a speech asset."""

    PENDING = "pending", _("pending")
    RUNNING = "running", _("running")
    COMPLETED = "completed", _("completed")
    FAILED = "failed", _("failed")
    INCOMPLETE = "incomplete", _("incomplete")


def public_id_field(default: Any) -> models.CharField[str, str]:
    """The unique, non-sequential id the API exposes instead of the primary key."""
    return models.CharField(
        _("public id"), max_length=40, unique=True, editable=False, default=default
    )


def owner_field(related_name: str) -> models.ForeignKey[Any, Any]:
    """The user a row belongs to (``null`` once the row outlives a deleted system user)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name=related_name,
    )


def audio_file_field(kind: str, verbose_name: StrOrPromise) -> models.FileField:
    """A file field on the audio storage with a server-generated name under ``kind``."""
    return models.FileField(
        verbose_name,
        storage=audio_storage,
        upload_to=UploadPath(kind),
        max_length=255,
        blank=True,
    )


class StoredAudio(models.Model):
    """Abstract: metadata of the audio file a row holds (the field itself is per model)."""

    original_name = models.CharField(
        _("original name"),
        max_length=255,
        blank=True,
        help_text=_("The name the client gave; informational only, never used as a path."),
    )
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    audio_format = models.CharField(
        _("audio format"), max_length=16, blank=True, help_text=_("Detected from the content.")
    )
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    duration = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)

    class Meta:
        abstract = True
