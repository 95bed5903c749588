"""Background jobs through Django's Tasks API (``django.tasks``, or the ``django-tasks``
backport on Django 5.2).

Thin wrappers around the services. With no ``TASKS`` setting the immediate backend runs
each task at once, in process; for production configure a real backend and run its worker
(see ``docs/services.md``: the database backend of ``django-tasks-db`` and ``db_worker``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_tasks import task
else:
    try:  # Django 6.0+
        task = importlib.import_module("django.tasks").task
    except ImportError:  # Django 5.2: the backport
        from django_tasks import task

from .exceptions import AudioError

__all__ = ["transcribe_task"]


@task()
def transcribe_task(transcript_pk: int) -> str:
    """Run a queued transcription or translation; returns the row's final status."""
    from .services import run_transcription

    try:
        return run_transcription(transcript_pk).status
    except AudioError as exc:  # already stored on the row; the task itself succeeded
        return f"failed: {exc.code or 'error'}"
