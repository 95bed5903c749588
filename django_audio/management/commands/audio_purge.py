"""``manage.py audio_purge [--older-than DAYS] [--keep-text/--delete-text] [--dry-run]``.

Removes the stored audio of transcripts and speech clips older than the retention period
through ``services.purge_audio``. Consent recordings and voice samples are evidence of
consent and are never purged. Run it daily from cron or a scheduled task.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ... import services
from ...conf import audio_settings
from ..progress import usage_error


class Command(BaseCommand):
    """Delete old audio, keeping the text unless told otherwise."""

    help = (
        "Delete stored audio older than DAYS (default: DJANGO_AUDIO['RETENTION_DAYS']). "
        "Exit status: 0 done, 2 usage error (no period given or configured)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--older-than, --keep-text / --delete-text, --dry-run."""
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="DAYS",
            help="Age in days (default: the RETENTION_DAYS setting).",
        )
        text = parser.add_mutually_exclusive_group()
        text.add_argument(
            "--keep-text",
            dest="keep_text",
            action="store_true",
            default=None,
            help="Keep the rows and their text; delete only the audio.",
        )
        text.add_argument(
            "--delete-text",
            dest="keep_text",
            action="store_false",
            help="Delete the whole rows (text included).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be removed."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Purge (or count) and report."""
        days = options["older_than"]
        if days is None:
            days = audio_settings.RETENTION_DAYS
        if days is None:
            raise usage_error(
                "No retention period: pass --older-than DAYS or set DJANGO_AUDIO['RETENTION_DAYS']."
            )
        if days < 0:
            raise usage_error("--older-than must be 0 or more days.")
        keep_text = options["keep_text"]
        if keep_text is None:
            keep_text = audio_settings.RETENTION_KEEP_TEXT
        dry_run = options["dry_run"]
        report = services.purge_audio(days, keep_text, dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        what = "audio (text kept)" if keep_text else "rows with their audio"
        self.stdout.write(
            f"{verb} {what} older than {days} day(s): {report.transcripts} transcript(s), "
            f"{report.speech_assets} speech clip(s), {report.files} file(s)."
        )
