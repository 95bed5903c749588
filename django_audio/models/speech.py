"""Speech assets: synthesized clips and the audio replies of chat completions."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .base import (
    JobStatus,
    StoredAudio,
    audio_file_field,
    new_speech_id,
    owner_field,
    public_id_field,
)


class SpeechAsset(StoredAudio):
    """One generated audio clip, the request that made it, and its cache fingerprint."""

    class Kind(models.TextChoices):
        """What produced the clip."""

        SPEECH = "speech", _("speech")
        CHAT_REPLY = "chat_reply", _("chat audio reply")

    Status = JobStatus

    public_id = public_id_field(new_speech_id)
    owner = owner_field("audio_speech_assets")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SPEECH)
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    input = models.TextField(_("input text"), blank=True)
    voice_name = models.CharField(
        _("voice name"),
        max_length=100,
        blank=True,
        help_text=_("A built-in voice name, or the public id of the custom voice."),
    )
    voice = models.ForeignKey(
        "django_audio.Voice",
        verbose_name=_("custom voice"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="speech_assets",
    )
    provider = models.CharField(_("provider alias"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    speed = models.FloatField(_("speed"), default=1.0)
    response_format = models.CharField(_("format"), max_length=10, default="mp3")
    params = models.JSONField(_("request parameters"), default=dict, blank=True)
    audio = audio_file_field("speech", _("audio"))
    usage = models.JSONField(_("usage"), default=dict, blank=True)
    fingerprint = models.CharField(
        _("request fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("Identical requests share it; used to reuse a stored clip."),
    )
    transcript = models.TextField(_("transcript"), blank=True)
    upstream_audio_id = models.CharField(_("upstream audio id"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("upstream audio expires"), null=True, blank=True)
    upstream_request_id = models.CharField(_("upstream request id"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    completed_at = models.DateTimeField(_("finished"), null=True, blank=True)
    audio_purged_at = models.DateTimeField(_("audio purged"), null=True, blank=True)

    class Meta:
        verbose_name = _("speech asset")
        verbose_name_plural = _("speech assets")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="da_speech_owner_created"),
            models.Index(fields=["status", "-created_at"], name="da_speech_status"),
            models.Index(fields=["owner", "fingerprint"], name="da_speech_fingerprint"),
            models.Index(fields=["owner", "upstream_audio_id"], name="da_speech_upstream_audio"),
        ]

    def __str__(self) -> str:
        text = self.input or self.transcript
        head = text[:60] + ("…" if len(text) > 60 else "")
        return f"{self.public_id} ({self.get_status_display()}) {head}".rstrip()

    @property
    def is_expired_upstream(self) -> bool:
        """Whether the upstream has forgotten this chat audio reply."""
        return self.expires_at is not None and self.expires_at <= timezone.now()
