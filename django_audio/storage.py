"""Where audio files live: the ``STORAGES`` alias named by ``DJANGO_AUDIO["STORAGE"]``.

Every file field of django-audio points at :func:`audio_storage`, a lazy proxy that resolves
the configured alias on first use and again after the settings change, so switching to S3
through django-storages is one setting. File names are generated here, on the server, from
a random UUID — a client-supplied name never becomes a path.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, empty

from .conf import audio_settings

__all__ = ["UploadPath", "audio_storage", "delete_files", "delete_on_commit", "safe_extension"]

logger = logging.getLogger("django_audio.storage")

_EXTENSION = re.compile(r"^\.[a-z0-9]{1,5}$")


class _AudioStorage(LazyObject):  # type: ignore[type-arg]
    """Proxy to ``storages[DJANGO_AUDIO["STORAGE"]]``, re-resolved after a settings change."""

    def _setup(self) -> None:
        self._wrapped = storages[audio_settings.STORAGE]

    def _reset(self) -> None:
        self._wrapped = empty  # type: ignore[assignment]


_storage = _AudioStorage()
audio_settings.on_reload(_storage._reset)  # type: ignore[attr-defined]


def audio_storage() -> Storage:
    """The storage every django-audio file goes to (a lazy proxy; safe to keep a reference)."""
    return _storage  # type: ignore[return-value]


def safe_extension(filename: str) -> str:
    """The lower-cased extension of ``filename`` if it is short and plain, else ``""``."""
    dot = filename.rfind(".")
    ext = filename[dot:].lower() if dot >= 0 else ""
    return ext if _EXTENSION.match(ext) else ""


@deconstructible
class UploadPath:
    """``upload_to`` producing ``<UPLOAD_TO>/<kind>/YYYY/MM/<uuid><.ext>``.

    Only a short alphanumeric extension survives from the given name; services pass a name
    whose extension comes from the sniffed content, never the client's file name.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, instance: Any, filename: str) -> str:
        now = timezone.now()
        root = audio_settings.UPLOAD_TO.strip("/")
        return f"{root}/{self.kind}/{now:%Y/%m}/{uuid.uuid4().hex}{safe_extension(filename)}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UploadPath) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(("UploadPath", self.kind))


def delete_files(names: Iterable[str]) -> None:
    """Delete stored files now, logging (never raising) on storage errors."""
    storage = audio_storage()
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except Exception:  # a failed cleanup must not turn a success into an error
            logger.exception("Could not delete stored audio %s", name)


def delete_on_commit(*names: str, using: str = "default") -> None:
    """Delete stored files once the current transaction commits (now if there is none)."""
    kept = [n for n in names if n]
    if kept:
        transaction.on_commit(lambda: delete_files(kept), using=using)
