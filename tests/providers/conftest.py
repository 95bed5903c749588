"""Fixtures for the OpenAI provider tests: a provider pointed at the fake upstream.

Every test that takes ``mode`` runs twice, once through the sync API and once through the
native async API, with the same body (see :func:`call` and :func:`collect`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from django_audio.contract import AsyncStream, AudioFile, Stream
from django_audio.providers.openai import OpenAIProvider
from django_audio.testing.audio import make_wav
from django_audio.testing.fake_upstream import FakeUpstream

from ..conftest import FAKE_API_KEY

#: Options that keep retries fast in tests.
FAST = {"max_retries": 2, "max_retry_wait": 0.01, "timeout": 5.0, "connect_timeout": 2.0}


def make_provider(up: FakeUpstream, **options: Any) -> OpenAIProvider:
    """An OpenAI provider talking to ``up`` with fast retries."""
    opts: dict[str, Any] = {"api_key": FAKE_API_KEY, "base_url": up.url, **FAST}
    opts.update(options)
    return OpenAIProvider("test-openai", **opts)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Run the test through the sync API, then through the async API."""
    return str(request.param)


@pytest.fixture
async def new_provider(
    fake_upstream: FakeUpstream,
) -> AsyncIterator[Callable[..., OpenAIProvider]]:
    """Build providers on the fake upstream with extra options; all pools closed afterwards."""
    made: list[OpenAIProvider] = []

    def build(**options: Any) -> OpenAIProvider:
        made.append(make_provider(fake_upstream, **options))
        return made[-1]

    yield build
    for p in made:
        p.close()
        await p.aclose()  # this loop's async pool (the fixture runs on the test's loop)


@pytest.fixture
def provider(new_provider: Callable[..., OpenAIProvider]) -> OpenAIProvider:
    """A provider on the fake upstream with the fast test options."""
    return new_provider()


async def call(provider: OpenAIProvider, mode: str, name: str, *args: Any) -> Any:
    """``provider.name(*args)`` in sync mode, ``await provider.aname(*args)`` in async mode."""
    if mode == "sync":
        return getattr(provider, name)(*args)
    return await getattr(provider, f"a{name}")(*args)


async def collect(stream: Stream[Any] | AsyncStream[Any]) -> list[Any]:
    """Every item of a sync or async stream, in order."""
    if isinstance(stream, AsyncStream):
        return [item async for item in stream]
    with stream:
        return list(stream)


@pytest.fixture
def wav_path(tmp_path: Path) -> Path:
    """A one-second WAV file on disk."""
    path = tmp_path / "speech.wav"
    path.write_bytes(make_wav(1.0))
    return path


@pytest.fixture
def wav(wav_path: Path) -> AudioFile:
    """The WAV file as an :class:`AudioFile` (streamed from disk)."""
    return AudioFile.from_path(wav_path, content_type="audio/wav")
