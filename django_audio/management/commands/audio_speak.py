"""``manage.py audio_speak TEXT -o FILE [--voice …] [--format …]``: text to speech.

The clip is made by ``services.synthesize`` (so it is stored, and an identical earlier
request is reused) and then copied from storage to ``FILE``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ... import services
from ...contract import SPEECH_FORMATS
from ...exceptions import AudioError, ConfigurationError, ProviderError
from ...models import SpeechAsset
from ..progress import Progress, failed, usage_error
from .audio_transcribe import check_provider, find_user

_CHUNK = 64 * 1024


class Command(BaseCommand):
    """Synthesize TEXT into an audio file."""

    help = (
        "Turn TEXT ('-' reads stdin) into speech and write it to FILE; the clip is also "
        "stored. Exit status: 0 done, 1 the provider failed, 2 usage error or refused input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """TEXT, -o FILE and the speech options."""
        parser.add_argument("text", metavar="TEXT", help="What to say ('-' reads stdin).")
        parser.add_argument("-o", "--output", required=True, metavar="FILE", help="Audio file.")
        parser.add_argument(
            "--voice", default="alloy", help="Built-in voice or custom voice id (voice_…)."
        )
        parser.add_argument(
            "--format",
            default=None,
            choices=SPEECH_FORMATS,
            help="Audio format (default: from FILE's extension, else mp3).",
        )
        parser.add_argument("--model", default="gpt-4o-mini-tts", help="Speech model.")
        parser.add_argument("--speed", type=float, default=1.0, help="0.25 to 4.0.")
        parser.add_argument("--instructions", default=None, help="How to speak.")
        parser.add_argument("--provider", default=None, help="Provider alias (default: default).")
        parser.add_argument("--user", default=None, help="Username owning the clip.")
        parser.add_argument(
            "--no-cache", action="store_true", help="Always call the provider (no reuse)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Synthesize, then copy the stored clip to the output file."""
        text: str = sys.stdin.read() if options["text"] == "-" else options["text"]
        owner = find_user(options["user"])
        check_provider(options["provider"])
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise usage_error(f"The folder of {output} does not exist.")
        fmt = options["format"] or output.suffix.lstrip(".").lower()
        if fmt not in SPEECH_FORMATS:
            fmt = "mp3"
        try:
            outcome = services.synthesize(
                owner,
                input=text,
                voice=options["voice"],
                model=options["model"],
                instructions=options["instructions"],
                response_format=fmt,
                speed=options["speed"],
                provider=options["provider"],
                use_cache=False if options["no_cache"] else None,
            )
        except ProviderError as exc:
            raise failed(f"The provider failed: {exc}") from exc
        except (AudioError, ConfigurationError) as exc:
            raise usage_error(str(exc)) from exc
        size = self.copy(outcome.asset, output, enabled=options["verbosity"] >= 1)
        if options["verbosity"] >= 1:
            reused = " (reused a stored clip)" if outcome.cached else ""
            self.stderr.write(f"Wrote {size} bytes of {fmt} to {output}{reused}.")
        self.stdout.write(outcome.asset.public_id)

    def copy(self, asset: SpeechAsset, output: Path, *, enabled: bool) -> int:
        """Copy the clip from storage to ``output`` with a byte progress bar."""
        total = asset.size or 0
        progress = Progress(
            self.stderr, total, enabled=enabled and total > 0, unit=" B", every_step=False
        )
        written = 0
        with asset.audio.open("rb") as src, output.open("wb") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
                written += len(chunk)
                progress.advance(len(chunk))
        progress.close()
        return written
