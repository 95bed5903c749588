"""``manage.py audio_transcribe FILE… [--format …] [--language …]``: transcribe recordings.

Each file goes through ``services.transcribe`` (or ``translate``), so it is stored like an
upload: a :class:`~django_audio.models.Transcript` row with its audio. The export (txt, srt,
vtt or json) is printed, or written next to each other in ``--output-dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from ... import services
from ...conf import audio_settings
from ...exceptions import AudioError, ConfigurationError
from ...exporting import EXPORT_FORMATS, export_transcript
from ...models import Transcript
from ..progress import Progress, failed, usage_error

#: Formats that need timings from the provider.
TIMED = {"srt", "vtt", "json"}


def find_user(username: str | None) -> Any:
    """The user named ``username`` (``None`` for no owner); a usage error if unknown."""
    if not username:
        return None
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        raise usage_error(f"No user with username {username!r}.") from None


def check_provider(alias: str | None) -> None:
    """A usage error unless ``alias`` is a configured provider."""
    if alias and alias not in audio_settings.PROVIDERS:
        configured = ", ".join(audio_settings.PROVIDERS) or "none"
        raise usage_error(f"No provider alias {alias!r} (configured: {configured}).")


class Command(BaseCommand):
    """Transcribe (or translate) audio files and print or save the text."""

    help = (
        "Transcribe audio files through the configured provider and store them as "
        "transcripts. Exit status: 0 all done, 1 some files failed, 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """FILE… and the request options."""
        parser.add_argument("files", nargs="+", metavar="FILE", help="Audio files.")
        parser.add_argument(
            "--format", default="txt", choices=sorted(EXPORT_FORMATS), help="Output format."
        )
        parser.add_argument("--language", default="", help="ISO-639-1 code of the speech.")
        parser.add_argument("--model", default="whisper-1", help="Transcription model.")
        parser.add_argument("--provider", default=None, help="Provider alias (default: default).")
        parser.add_argument("--user", default=None, help="Username owning the transcripts.")
        parser.add_argument("--prompt", default="", help="Text to guide the model.")
        parser.add_argument(
            "--translate", action="store_true", help="Translate into English instead."
        )
        parser.add_argument(
            "--response-format",
            default=None,
            help="What to ask the provider for (default: verbose_json for srt/vtt/json, "
            "json for txt). Use json for models without verbose_json.",
        )
        parser.add_argument(
            "--output-dir",
            default=None,
            help="Write <name>.<format> files here instead of printing to stdout.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Check everything first (exit 2), then transcribe each file (exit 1 on failures)."""
        fmt: str = options["format"]
        owner = find_user(options["user"])
        check_provider(options["provider"])
        paths = [Path(name) for name in options["files"]]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise usage_error(f"No such file: {', '.join(missing)}")
        out_dir = Path(options["output_dir"]) if options["output_dir"] else None
        if out_dir is not None and not out_dir.is_dir():
            raise usage_error(f"--output-dir {out_dir} is not a directory.")
        params = self.request_params(options)
        progress = Progress(self.stderr, len(paths), enabled=options["verbosity"] >= 1)
        errors: list[str] = []
        for path in paths:
            try:
                transcript = self.transcribe(owner, path, options, params)
            except (AudioError, ConfigurationError) as exc:
                errors.append(f"{path}: {exc}")
                progress.advance(label=f"{path.name}: failed")
                continue
            self.emit(transcript, fmt, path, out_dir, many=len(paths) > 1)
            progress.advance(label=f"{path.name}: {transcript.public_id}")
        progress.close()
        if errors:
            for line in errors:
                self.stderr.write(line)
            raise failed(f"{len(errors)} of {len(paths)} file(s) failed.")

    def request_params(self, options: dict[str, Any]) -> dict[str, Any]:
        """Request parameters for the service from the command's options."""
        timed = options["format"] in TIMED
        response_format = options["response_format"] or ("verbose_json" if timed else "json")
        params: dict[str, Any] = {"response_format": response_format}
        if options["prompt"]:
            params["prompt"] = options["prompt"]
        if options["translate"]:
            return params
        if options["language"]:
            params["language"] = options["language"]
        if response_format == "verbose_json":
            params["timestamp_granularities"] = ["segment", "word"]
        return params

    def transcribe(
        self, owner: Any, path: Path, options: dict[str, Any], params: dict[str, Any]
    ) -> Transcript:
        """One file through the service."""
        call = services.translate if options["translate"] else services.transcribe
        outcome = call(
            owner,
            path,
            model=options["model"],
            provider=options["provider"],
            background=False,
            **params,
        )
        return outcome.transcript

    def emit(
        self, transcript: Transcript, fmt: str, path: Path, out_dir: Path | None, many: bool
    ) -> None:
        """Write the export to ``out_dir`` or stdout (with a header per file when many)."""
        content, _type, _name = export_transcript(transcript, fmt)
        if out_dir is not None:
            target = out_dir / f"{path.stem}.{EXPORT_FORMATS[fmt][1]}"
            target.write_text(content, encoding="utf-8")
            return
        if many:
            self.stdout.write(f"==> {path} <==")
        self.stdout.write(content, ending="" if content.endswith("\n") else "\n")
