"""Small helpers shared by several test packages."""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from django_audio.testing.audio import make_wav


def stored_files(root: Path) -> list[Path]:
    """Every file under ``root``."""
    return sorted(p for p in root.rglob("*") if p.is_file())


def wav_upload(name: str = "talk.wav", seconds: float = 1.0) -> SimpleUploadedFile:
    """A real WAV as a browser upload."""
    return SimpleUploadedFile(name, make_wav(seconds), content_type="audio/wav")
