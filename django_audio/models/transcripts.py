"""Transcripts: transcriptions, translations and live captions with their source audio."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import (
    JobStatus,
    StoredAudio,
    audio_file_field,
    new_transcript_id,
    owner_field,
    public_id_field,
)


class Transcript(StoredAudio):
    """The text of one recording, with its segments, words and speakers, and the audio."""

    class Kind(models.TextChoices):
        """What produced the text."""

        TRANSCRIPTION = "transcription", _("transcription")
        TRANSLATION = "translation", _("translation")
        LIVE_CAPTION = "live_caption", _("live caption")

    Status = JobStatus

    public_id = public_id_field(new_transcript_id)
    owner = owner_field("audio_transcripts")
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.TRANSCRIPTION
    )
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    audio = audio_file_field("transcripts", _("source audio"))
    provider = models.CharField(_("provider alias"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=35, blank=True)
    prompt = models.TextField(_("prompt"), blank=True)
    response_format = models.CharField(_("response format"), max_length=20, blank=True)
    params = models.JSONField(
        _("request parameters"), default=dict, blank=True, help_text=_("Every request parameter.")
    )
    text = models.TextField(_("text"), blank=True)
    segments = models.JSONField(_("segments"), default=list, blank=True)
    words = models.JSONField(_("words"), default=list, blank=True)
    diarized_segments = models.JSONField(
        _("diarized segments"),
        default=list,
        blank=True,
        help_text=_("Segments with speaker labels."),
    )
    logprobs = models.JSONField(_("log probabilities"), default=list, blank=True)
    usage = models.JSONField(_("usage"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    upstream_request_id = models.CharField(_("upstream request id"), max_length=200, blank=True)
    task_id = models.CharField(
        _("background task id"), max_length=200, blank=True, help_text=_("Set when queued.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    completed_at = models.DateTimeField(_("finished"), null=True, blank=True)
    audio_purged_at = models.DateTimeField(
        _("audio purged"),
        null=True,
        blank=True,
        help_text=_("When the retention policy removed the audio (the text was kept)."),
    )

    class Meta:
        verbose_name = _("transcript")
        verbose_name_plural = _("transcripts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="da_transcript_owner_created"),
            models.Index(fields=["status", "-created_at"], name="da_transcript_status"),
            models.Index(fields=["kind", "-created_at"], name="da_transcript_kind"),
        ]

    def __str__(self) -> str:
        head = self.text[:60] + ("…" if len(self.text) > 60 else "")
        return f"{self.public_id} ({self.get_status_display()}) {head}".rstrip()

    @property
    def speakers(self) -> list[str]:
        """Distinct speaker labels of the diarized segments, in order of appearance."""
        seen: dict[str, None] = {}
        for seg in self.diarized_segments or []:
            if isinstance(seg, dict) and seg.get("speaker"):
                seen.setdefault(str(seg["speaker"]), None)
        return list(seen)

    @property
    def is_finished(self) -> bool:
        """Completed, failed or incomplete: nothing will change any more."""
        return self.status not in (JobStatus.PENDING, JobStatus.RUNNING)
