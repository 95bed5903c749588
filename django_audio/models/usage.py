"""Usage per request: seconds of audio, characters and tokens, for per-user totals."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import owner_field


class UsageRecord(models.Model):
    """What one request consumed."""

    class Operation(models.TextChoices):
        """The kind of request."""

        TRANSCRIPTION = "transcription", _("transcription")
        TRANSLATION = "translation", _("translation")
        LIVE_CAPTION = "live_caption", _("live caption")
        SPEECH = "speech", _("speech")
        CHAT = "chat", _("chat completion")

    owner = owner_field("audio_usage")
    operation = models.CharField(_("operation"), max_length=20, choices=Operation.choices)
    provider = models.CharField(_("provider alias"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    seconds = models.FloatField(_("seconds of audio"), default=0.0)
    characters = models.PositiveIntegerField(_("characters"), default=0)
    input_tokens = models.PositiveIntegerField(_("input tokens"), default=0)
    output_tokens = models.PositiveIntegerField(_("output tokens"), default=0)
    total_tokens = models.PositiveIntegerField(_("total tokens"), default=0)
    cached = models.BooleanField(
        _("served from cache"), default=False, help_text=_("No upstream call was made.")
    )
    transcript = models.ForeignKey(
        "django_audio.Transcript",
        verbose_name=_("transcript"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="usage_records",
    )
    speech_asset = models.ForeignKey(
        "django_audio.SpeechAsset",
        verbose_name=_("speech asset"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="usage_records",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="da_usage_owner_created"),
            models.Index(fields=["operation", "-created_at"], name="da_usage_operation"),
        ]

    def __str__(self) -> str:
        when = f" ({self.created_at:%Y-%m-%d %H:%M})" if self.created_at else ""
        return f"{self.get_operation_display()} {self.model}{when}"
