"""Fixtures for the local engine: one provider (one loaded model) and one spoken clip per run."""

from __future__ import annotations

import pytest

from django_audio.contract import AudioFile, SpeechRequest
from django_audio.providers.local import LocalProvider

#: What the round-trip tests speak and expect back (plain words espeak says clearly).
SENTENCE = (
    "Good morning everyone. Today we will talk about the weather in the north of the "
    "country. It will be cold in the morning, with some rain in the afternoon."
)


@pytest.fixture(scope="session")
def local() -> LocalProvider:
    """The local provider with its model loaded once for the whole run."""
    provider = LocalProvider("local")
    provider.warm_up()
    return provider


def speak(provider: LocalProvider, text: str, fmt: str = "wav", **kwargs: object) -> bytes:
    """Synthesize ``text`` through the public speech API and collect the chunks."""
    request = SpeechRequest(
        model=str(kwargs.pop("model", "tts-1")),
        input=text,
        voice=kwargs.pop("voice", "alloy"),  # type: ignore[arg-type]
        response_format=fmt,
        **kwargs,  # type: ignore[arg-type]
    )
    with provider.speech(request) as stream:
        return b"".join(stream)


@pytest.fixture(scope="session")
def sentence_wav(local: LocalProvider) -> bytes:
    """:data:`SENTENCE` spoken by the ``alloy`` voice, as WAV."""
    return speak(local, SENTENCE)


@pytest.fixture
def sentence_file(sentence_wav: bytes) -> AudioFile:
    """A fresh upload of the spoken sentence."""
    return AudioFile(sentence_wav, filename="sentence.wav", content_type="audio/wav")
