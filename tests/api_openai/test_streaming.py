"""Streams stream: items reach the client one by one, and a client leaving stops the upstream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from django_audio.models import JobStatus, SpeechAsset, Transcript
from django_audio.testing.audio import make_wav
from django_audio.testing.fake_upstream import FakeUpstream

from . import gated
from .conftest import Account

LONG = "Every item of this reply must reach the client before the next one is made. " * 6


@pytest.fixture
def gated_provider(settings: Any) -> Iterator[None]:
    """The default provider holds each stream after its first item until ``GATE`` opens."""
    gated.GATE.clear()
    settings.DJANGO_AUDIO = {
        **settings.DJANGO_AUDIO,
        "PROVIDERS": {"default": {"BACKEND": "tests.api_openai.gated.GatedProvider"}},
    }
    yield
    gated.GATE.set()


def test_raw_speech_reaches_the_client_chunk_by_chunk(alice: Account, gated_provider: None) -> None:
    with alice.client.audio.speech.with_streaming_response.create(
        model="tts-1", input=LONG, voice="alloy", response_format="pcm"
    ) as response:
        chunks = response.iter_bytes()
        first = next(chunks)
        gated.GATE.set()  # only now may the provider produce the rest
        rest = b"".join(chunks)
    assert first
    assert rest


def test_speech_events_reach_the_client_one_by_one(alice: Account, gated_provider: None) -> None:
    stream = alice.client.post(
        "/audio/speech",
        body={"model": "tts-1", "input": LONG, "voice": "alloy", "stream_format": "sse"},
        cast_to=dict,
        stream=True,
        stream_cls=openai.Stream[dict[str, Any]],
    )
    events = iter(stream)
    assert next(events)["type"] == "speech.audio.delta"
    gated.GATE.set()
    assert [e["type"] for e in events][-1] == "speech.audio.done"


def test_transcription_events_reach_the_client_one_by_one(
    alice: Account, gated_provider: None
) -> None:
    stream = alice.client.audio.transcriptions.create(
        file=("a.wav", make_wav(1.0)), model="gpt-4o-transcribe", stream=True
    )
    events = iter(stream)
    assert next(events).type == "transcript.text.delta"
    gated.GATE.set()
    assert [e.type for e in events][-1] == "transcript.text.done"


async def test_chat_chunks_reach_the_async_client_one_by_one(
    alice: Account, gated_provider: None
) -> None:
    stream = await alice.aclient.chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "pcm16"},
        messages=[{"role": "user", "content": "Tell me a story."}],
        stream=True,
    )
    first = await stream.__anext__()
    assert first.object == "chat.completion.chunk"
    gated.GATE.set()
    rest = [chunk async for chunk in stream]
    await alice.aclient.close()
    assert rest


@pytest.fixture
def openai_provider(settings: Any, fake_upstream: FakeUpstream) -> Iterator[FakeUpstream]:
    """The OpenAI provider pointed at the fake upstream, which sends slowly."""
    settings.DJANGO_AUDIO = {
        **settings.DJANGO_AUDIO,
        "PROVIDERS": {
            "default": {
                "BACKEND": "django_audio.providers.openai.OpenAIProvider",
                "OPTIONS": {"base_url": fake_upstream.url, "api_key": "sk-test"},
            }
        },
    }
    fake_upstream.pacing = 0.05
    fake_upstream.chunk_size = 512
    return fake_upstream


def _wait_for(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_client_leaving_cancels_the_upstream_speech(
    alice: Account, openai_provider: FakeUpstream
) -> None:
    with alice.client.audio.speech.with_streaming_response.create(
        model="tts-1", input=LONG * 3, voice="alloy", response_format="wav"
    ) as response:
        public_id = response.headers["x-audio-speech-id"]
        next(response.iter_bytes())
    # Closed after one chunk: the row ends "incomplete" (not "completed") with part of the audio.
    _wait_for(lambda: SpeechAsset.objects.get(public_id=public_id).status != JobStatus.RUNNING)
    asset = SpeechAsset.objects.get(public_id=public_id)
    assert asset.status == JobStatus.INCOMPLETE


def test_client_leaving_cancels_the_upstream_transcription(
    alice: Account, openai_provider: FakeUpstream
) -> None:
    openai_provider.pacing = 0.5  # the whole stream would take seconds: ample time
    with alice.client.audio.transcriptions.with_streaming_response.create(
        file=("a.wav", make_wav(3.0)), model="gpt-4o-transcribe", stream=True
    ) as response:
        next(response.iter_lines())
    _wait_for(lambda: Transcript.objects.get().status != JobStatus.RUNNING)
    assert Transcript.objects.get().status == JobStatus.INCOMPLETE


def test_through_the_openai_provider_end_to_end(
    alice: Account, openai_provider: FakeUpstream
) -> None:
    openai_provider.pacing = 0.0
    result = alice.client.audio.transcriptions.create(
        file=("a.wav", make_wav(1.0)), model="whisper-1"
    )
    assert result.text
    upstream = openai_provider.requests_to("/v1/audio/transcriptions")[-1]
    assert upstream.auth_header == "authorization"
    assert upstream.headers["authorization"] == "Bearer sk-test", "the site's key, not the caller's"
    events = list(
        alice.client.audio.transcriptions.create(
            file=("a.wav", make_wav(1.0)), model="gpt-4o-transcribe", stream=True
        )
    )
    assert events[-1].type == "transcript.text.done"
    audio = alice.client.audio.speech.create(model="tts-1", input="Hi", voice="alloy")
    assert audio.content
