"""Turning what a caller hands us into checked audio: content sniffed, size checked, hashed."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeAlias

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile

from ..contract import AudioFile
from ..exceptions import InvalidRequest
from ..sniff import HEAD_SIZE, AudioFormat, duration, sniff

#: What services accept as audio: a Django upload or file, our ``AudioFile``, a path, bytes.
AudioSource: TypeAlias = (
    "UploadedFile[Any] | File[Any] | AudioFile | str | os.PathLike[str] | bytes"
)

_CHUNK = 1024 * 1024


@dataclass
class Upload:
    """Audio that passed the checks, with what we learnt about it."""

    audio: AudioFile
    format: AudioFormat
    size: int
    sha256: str
    original_name: str
    declared_type: str
    duration: float | None

    @property
    def storage_name(self) -> str:
        """The name handed to storage: only the extension (from the content) is used."""
        return f"audio{self.format.extension}"

    def metadata(self) -> dict[str, Any]:
        """Field values of :class:`~django_audio.models.base.StoredAudio`."""
        return {
            "original_name": self.original_name[:255],
            "content_type": self.format.content_type,
            "audio_format": self.format.name,
            "size": self.size,
            "duration": self.duration,
            "sha256": self.sha256,
        }

    def save_to(self, field: FieldFile) -> str:
        """Write the audio to ``field``'s storage (row not saved); returns the stored name."""
        with self.audio.open() as fh:
            # A plain File: FileSystemStorage would *move* a TemporaryUploadedFile away.
            field.save(self.storage_name, File(fh), save=False)
            # The provider reads the same object next; AudioFile sizes it from the position.
            with contextlib.suppress(OSError, ValueError):
                fh.seek(0)
        return str(field.name)


def as_audio_file(source: AudioSource, default_name: str = "audio") -> AudioFile:
    """Wrap any accepted source in an :class:`AudioFile` without reading it."""
    if isinstance(source, AudioFile):
        return source
    if isinstance(source, bytes):
        return AudioFile(source, filename=default_name)
    if isinstance(source, str | os.PathLike):
        return AudioFile.from_path(source)
    if isinstance(source, UploadedFile):
        path = getattr(source, "temporary_file_path", None)
        name = Path(source.name or default_name).name
        if callable(path):  # streamed from disk, never loaded whole
            return AudioFile(Path(path()), filename=name, content_type=source.content_type)
        return AudioFile(_binary(source), filename=name, content_type=source.content_type)
    name = Path(source.name or default_name).name
    return AudioFile(_binary(source), filename=name)


def _binary(source: File[Any]) -> IO[bytes]:
    """The underlying binary file of a Django ``File`` (opened for reading if closed)."""
    inner = getattr(source, "file", None)
    return inner if inner is not None else source


def check_audio(
    source: AudioSource,
    *,
    param: str,
    max_size: int | None,
    declared_type: str | None = None,
    pcm_rate: int = 24000,
) -> Upload:
    """Refuse empty, oversized or non-audio input (by content), naming ``param``."""
    audio = as_audio_file(source)
    audio.validate(param, max_size)
    declared = declared_type or audio.content_type or ""
    with audio.open() as fh:
        fmt = sniff(fh.read(HEAD_SIZE), declared)
        if fmt is None:
            raise InvalidRequest(
                f"The '{param}' is not a supported audio file (checked by its content). "
                "Supported: wav, mp3, ogg/opus, flac, webm, mp4/m4a, aac, aiff.",
                param=param,
                code="invalid_audio",
            )
        size, digest = _hash(fh, param, max_size)
        seconds = duration(fh, fmt, pcm_rate=pcm_rate)
    return Upload(
        audio=audio,
        format=fmt,
        size=size,
        sha256=digest,
        original_name=audio.filename,
        declared_type=declared,
        duration=seconds,
    )


def _hash(fh: IO[bytes], param: str, max_size: int | None) -> tuple[int, str]:
    """Size and SHA-256 from the start, stopping as soon as the limit is passed."""
    fh.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := fh.read(_CHUNK):
        size += len(chunk)
        if max_size is not None and size > max_size:
            raise InvalidRequest(
                f"The '{param}' is larger than the limit of {max_size} bytes.",
                param=param,
                code="file_too_large",
            )
        digest.update(chunk)
    fh.seek(0)
    if size == 0:
        raise InvalidRequest(f"The '{param}' is empty.", param=param, code="empty_file")
    return size, digest.hexdigest()
