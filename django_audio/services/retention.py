"""Retention: remove old audio, keeping the text (or whole rows) as asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ..models import SpeechAsset, Transcript
from ..storage import delete_on_commit

__all__ = ["PurgeReport", "purge_audio"]

#: Rows handled per transaction, so a large purge never holds one long lock.
BATCH = 500


@dataclass
class PurgeReport:
    """What :func:`purge_audio` removed."""

    transcripts: int = 0
    speech_assets: int = 0
    files: int = 0
    rows_deleted: int = 0

    @property
    def total(self) -> int:
        """Rows touched."""
        return self.transcripts + self.speech_assets


def purge_audio(
    older_than_days: int,
    keep_text: bool = True,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete the audio of transcripts and speech clips created more than N days ago.

    With ``keep_text`` the rows stay (text, segments, transcript) with ``audio_purged_at``
    set; without it the rows are deleted. Consent recordings and voice samples are evidence
    of consent and are never purged. Files go once each batch commits.
    """
    if (
        isinstance(older_than_days, bool)
        or not isinstance(older_than_days, int)
        or older_than_days < 0
    ):
        raise ValueError("older_than_days must be a non-negative integer.")
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    report = PurgeReport()
    for model in (Transcript, SpeechAsset):
        qs = model.objects.filter(created_at__lt=cutoff).exclude(status__in=["pending", "running"])
        if keep_text:
            qs = qs.exclude(audio="")
        count = 0
        if dry_run:
            count = qs.count()
            report.files += qs.exclude(audio="").count()
        while not dry_run:
            with transaction.atomic():
                batch = list(qs.order_by("pk").values_list("pk", "audio")[:BATCH])
                if not batch:
                    break
                count += len(batch)
                names = [name for _, name in batch if name]
                report.files += len(names)
                pks = [pk for pk, _ in batch]
                if keep_text:
                    model.objects.filter(pk__in=pks).update(
                        audio="", audio_purged_at=timezone.now()
                    )
                    delete_on_commit(*names)
                else:
                    # Deleting through the ORM fires post_delete, which removes the files.
                    model.objects.filter(pk__in=pks).delete()
                    report.rows_deleted += len(pks)
        if model is Transcript:
            report.transcripts = count
        else:
            report.speech_assets = count
    return report
