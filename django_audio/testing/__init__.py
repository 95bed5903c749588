"""The public test kit: a test provider, a fake OpenAI upstream, and small audio helpers.

``TestProvider`` answers every operation deterministically in-process and records calls;
``FakeUpstream`` is a real local HTTP server speaking OpenAI's audio API, with fault
injection, for testing anything that talks HTTP to an upstream. See ``docs/testing.md``.

The heavy names are imported on first use, so ``from django_audio.testing import
make_wav`` needs neither Django settings nor uvicorn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .audio import make_silence_wav, make_wav

if TYPE_CHECKING:
    from ..providers.test import TestProvider
    from .fake_app import FakeOpenAIApp
    from .fake_upstream import FakeUpstream
    from .records import RecordedRequest

__all__ = [
    "FakeOpenAIApp",
    "FakeUpstream",
    "RecordedRequest",
    "TestProvider",
    "make_silence_wav",
    "make_wav",
]

_LAZY = {
    "TestProvider": "django_audio.providers.test",
    "FakeOpenAIApp": "django_audio.testing.fake_app",
    "FakeUpstream": "django_audio.testing.fake_upstream",
    "RecordedRequest": "django_audio.testing.records",
}


def __getattr__(name: str) -> Any:
    # Lazy: providers.test imports this package's audio helpers, so an eager import here
    # would be circular; it also keeps uvicorn/Django out of plain audio-helper imports.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
