"""Voice consents, the custom voices made under them, and the append-only audit trail."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import (
    StoredAudio,
    audio_file_field,
    new_consent_id,
    new_voice_id,
    owner_field,
    public_id_field,
)


class VoiceConsent(StoredAudio):
    """A person's recorded consent to have their voice cloned, and its review."""

    class Status(models.TextChoices):
        """Review state; only ``approved`` makes voices usable."""

        PENDING = "pending", _("pending review")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        REVOKED = "revoked", _("revoked")

    public_id = public_id_field(new_consent_id)
    owner = owner_field("audio_voice_consents")
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(_("language (BCP 47)"), max_length=35)
    recording = audio_file_field("consents", _("consent recording"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    provider = models.CharField(_("provider alias"), max_length=100, blank=True)
    upstream_id = models.CharField(_("upstream consent id"), max_length=200, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("voice consent")
        verbose_name_plural = _("voice consents")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="da_consent_owner_created"),
            models.Index(fields=["status", "-created_at"], name="da_consent_status"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id}, {self.get_status_display()})"

    @property
    def is_approved(self) -> bool:
        """Whether voices made under this consent may be created and used."""
        return self.status == self.Status.APPROVED


class Voice(StoredAudio):
    """A custom voice, made from a sample under an approved :class:`VoiceConsent`."""

    class Status(models.TextChoices):
        """Only ``active`` voices can speak."""

        ACTIVE = "active", _("active")
        DISABLED = "disabled", _("disabled")

    public_id = public_id_field(new_voice_id)
    owner = owner_field("audio_voices")
    name = models.CharField(_("name"), max_length=200)
    consent = models.ForeignKey(
        VoiceConsent, verbose_name=_("consent"), on_delete=models.CASCADE, related_name="voices"
    )
    sample = audio_file_field("voices", _("audio sample"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    provider = models.CharField(_("provider alias"), max_length=100, blank=True)
    upstream_id = models.CharField(_("upstream voice id"), max_length=200, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.TextField(_("why disabled"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("custom voice")
        verbose_name_plural = _("custom voices")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="da_voice_owner_created"),
            models.Index(fields=["status"], name="da_voice_status"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id}, {self.get_status_display()})"

    @property
    def is_usable(self) -> bool:
        """Active, and its consent approved (reads ``consent``: select it with the voice)."""
        return self.status == self.Status.ACTIVE and self.consent.is_approved


class AppendOnlyError(PermissionError):
    """An audit entry cannot be changed or deleted."""


class ConsentEventQuerySet(models.QuerySet["ConsentEvent"]):
    """Refuses bulk updates and deletes: the audit trail is append-only."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Consent audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Consent audit entries cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("Consent audit entries cannot be changed.")


class ConsentEvent(models.Model):
    """One transition of a consent or one of its voices: who, when, from → to, and why.

    Entries are only ever added. The links to the consent and the actor carry no database
    constraint and are never cascaded, so the trail outlives deleted consents and users;
    ``consent_public_id`` and ``actor_name`` keep what they pointed at readable.
    """

    class Action(models.TextChoices):
        """What happened."""

        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        REVOKED = "revoked", _("revoked")
        REGISTERED = "registered", _("registered upstream")
        RENAMED = "renamed", _("renamed")
        DELETED = "deleted", _("deleted")
        VOICE_CREATED = "voice_created", _("voice created")
        VOICE_DISABLED = "voice_disabled", _("voice disabled")
        VOICE_DELETED = "voice_deleted", _("voice deleted")

    consent = models.ForeignKey(
        VoiceConsent,
        verbose_name=_("consent"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="events",
    )
    consent_public_id = models.CharField(_("consent id"), max_length=40, db_index=True)
    voice_public_id = models.CharField(_("voice id"), max_length=40, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(
        _("actor name"), max_length=150, blank=True, help_text=_("Empty for the system.")
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects: ClassVar[ConsentEventQuerySet] = ConsentEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("consent audit entry")
        verbose_name_plural = _("consent audit trail")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["consent", "created_at"], name="da_event_consent")]

    def __str__(self) -> str:
        who = self.actor_name or "system"
        return f"{self.consent_public_id}: {self.action} by {who}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: saving an existing entry is refused."""
        if not self._state.adding or kwargs.get("force_update"):
            raise AppendOnlyError("Consent audit entries cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refused: the audit trail is append-only."""
        raise AppendOnlyError("Consent audit entries cannot be deleted.")
