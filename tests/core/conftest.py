"""Fixtures for the model and service tests: a fresh test provider, users, media root."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.db import connections

from django_audio.testing.audio import make_wav
from tests.helpers import stored_files, wav_upload  # noqa: F401 - used by the tests here


@pytest.fixture
def user(django_user_model: Any) -> Any:
    """An ordinary user."""
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.fixture
def other(django_user_model: Any) -> Any:
    """Another ordinary user."""
    return django_user_model.objects.create_user("bob", password="pw")


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    """A staff user who may review consents."""
    return django_user_model.objects.create_user("reviewer", password="pw", is_staff=True)


@pytest.fixture
def wav() -> bytes:
    """One second of a real 16 kHz WAV tone."""
    return make_wav(1.0)


@pytest.fixture(autouse=True)
def _close_async_thread_connections(request: pytest.FixtureRequest) -> Iterator[None]:
    """After an async test, close the DB connection its ``sync_to_async`` thread opened.

    Otherwise PostgreSQL refuses to drop the test database at the end of the run.
    """
    yield
    if inspect.iscoroutinefunction(request.function):
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()
