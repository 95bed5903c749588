"""``/v1/audio/speech`` through the official SDK: raw audio per format, SSE, storage."""

from __future__ import annotations

import base64
from typing import Any

import openai
import pytest

from django_audio.models import JobStatus, SpeechAsset

from .conftest import Account

CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
TEXT = "The five boxing wizards jump quickly. " * 8


def stored_bytes(public_id: str) -> bytes:
    asset = SpeechAsset.objects.get(public_id=public_id)
    assert asset.status == JobStatus.COMPLETED
    with asset.audio.open("rb") as fh:
        return fh.read()


@pytest.mark.parametrize("fmt", list(CONTENT_TYPES))
def test_each_format_streams_with_its_content_type(alice: Account, fmt: str) -> None:
    with alice.client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", input=TEXT, voice="coral", response_format=fmt
    ) as response:
        assert response.headers["content-type"] == CONTENT_TYPES[fmt]
        assert response.headers["x-accel-buffering"] == "no"
        assert "content-length" not in response.headers  # sent chunked, as produced
        body = b"".join(response.iter_bytes())
        public_id = response.headers["x-audio-speech-id"]
    assert len(body) > 0
    assert stored_bytes(public_id) == body
    asset = SpeechAsset.objects.get(public_id=public_id)
    assert (asset.owner, asset.response_format, asset.voice_name) == (alice.user, fmt, "coral")


def test_parameters_reach_the_provider(alice: Account, test_provider: Any) -> None:
    audio = alice.client.audio.speech.create(
        model="gpt-4o-mini-tts",
        input="Hello there.",
        voice="onyx",
        instructions="Whisper.",
        speed=1.5,
        response_format="wav",
    )
    assert audio.content.startswith(b"RIFF")
    request = test_provider.calls_for("speech")[-1]["request"]
    assert (request.voice, request.instructions, request.speed) == ("onyx", "Whisper.", 1.5)


def test_identical_request_is_served_from_the_stored_clip(
    alice: Account, test_provider: Any
) -> None:
    first = alice.client.audio.speech.create(model="tts-1", input="Same.", voice="alloy")
    second = alice.client.audio.speech.create(model="tts-1", input="Same.", voice="alloy")
    assert first.content == second.content
    assert len(test_provider.calls_for("speech")) == 1


def _sse(client: openai.OpenAI, **body: Any) -> openai.Stream[dict[str, Any]]:
    # The SDK has no speech event types: use its generic SSE stream over plain dicts.
    return client.post(
        "/audio/speech",
        body={**body, "stream_format": "sse"},
        cast_to=dict,
        stream=True,
        stream_cls=openai.Stream[dict[str, Any]],
    )


def test_sse_speech_events(alice: Account) -> None:
    events = list(_sse(alice.client, model="gpt-4o-mini-tts", input=TEXT, voice="ash"))
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert len(deltas) > 1
    assert events[-1]["type"] == "speech.audio.done"
    assert set(events[-1]["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}
    audio = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    asset = SpeechAsset.objects.get()
    with asset.audio.open("rb") as fh:
        assert fh.read() == audio


async def test_async_sdk_speech(alice: Account) -> None:
    client = alice.aclient
    audio = await client.audio.speech.create(
        model="tts-1", input="Async hello.", voice="nova", response_format="flac"
    )
    assert audio.content.startswith(b"fLaC")
    async with client.audio.speech.with_streaming_response.create(
        model="tts-1", input=TEXT, voice="nova", response_format="pcm"
    ) as response:
        assert response.headers["content-type"] == "audio/pcm"
        chunks = [chunk async for chunk in response.iter_bytes()]
        public_id = response.headers["x-audio-speech-id"]
    stream = await client.post(
        "/audio/speech",
        body={"model": "tts-1", "input": "Events.", "voice": "nova", "stream_format": "sse"},
        cast_to=dict,
        stream=True,
        stream_cls=openai.AsyncStream[dict[str, Any]],
    )
    events = [event async for event in stream]
    await client.close()
    assert events[-1]["type"] == "speech.audio.done"
    asset = await SpeechAsset.objects.aget(public_id=public_id)
    assert asset.size == len(b"".join(chunks))
    assert await SpeechAsset.objects.filter(owner=alice.user).acount() == 3
