"""Shared fixtures. Provider tests talk to the fake OpenAI upstream over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from django_audio.providers import providers
from django_audio.providers.test import TestProvider
from django_audio.testing.fake_upstream import FakeUpstream

#: The key the fake upstream expects; tests never see a real credential.
FAKE_API_KEY = "sk-test"


@pytest.fixture(scope="session")
def fake_upstream_server() -> Iterator[FakeUpstream]:
    """One fake OpenAI upstream (uvicorn on 127.0.0.1, free port) for the whole session."""
    with FakeUpstream(api_key=FAKE_API_KEY) as server:
        yield server


@pytest.fixture
def fake_upstream(fake_upstream_server: FakeUpstream) -> Iterator[FakeUpstream]:
    """The session's fake upstream, reset (no faults, records, voices, consents) for this test."""
    fake_upstream_server.reset()
    yield fake_upstream_server
    fake_upstream_server.reset()


@pytest.fixture
def provider() -> Iterator[TestProvider]:
    """A fresh TestProvider as the ``default`` alias."""
    p = TestProvider()
    with providers.override("default", p):
        yield p


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    """An empty MEDIA_ROOT for this test (the audio storage is the default file storage)."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root
