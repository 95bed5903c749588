"""``/v1/chat/completions`` with audio through the official SDK."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from django.utils import timezone
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from django_audio.models import JobStatus, SpeechAsset
from django_audio.testing.audio import make_wav
from django_audio.testing.payloads import DEFAULT_CHAT_REPLY

from .conftest import Account


def _messages() -> list[dict[str, Any]]:
    audio = base64.b64encode(make_wav(0.5)).decode()
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this recording?"},
                {"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}},
            ],
        }
    ]


def test_audio_reply_is_forwarded_and_stored(alice: Account, test_provider: Any) -> None:
    completion = alice.client.chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "wav"},
        messages=_messages(),
    )
    assert isinstance(completion, ChatCompletion)
    audio = completion.choices[0].message.audio
    assert audio is not None
    assert audio.transcript.startswith(DEFAULT_CHAT_REPLY)
    sent = test_provider.calls_for("chat_completion")[-1]["body"]
    assert sent["modalities"] == ["text", "audio"]
    assert sent["audio"] == {"voice": "alloy", "format": "wav"}
    assert sent["messages"][0]["content"][1]["type"] == "input_audio"
    asset = SpeechAsset.objects.get()
    assert (asset.owner, asset.kind, asset.status) == (
        alice.user,
        SpeechAsset.Kind.CHAT_REPLY,
        JobStatus.COMPLETED,
    )
    assert asset.upstream_audio_id == audio.id
    assert asset.transcript == audio.transcript
    with asset.audio.open("rb") as fh:
        assert fh.read() == base64.b64decode(audio.data)


def test_expired_reply_is_replaced_by_its_stored_transcript(
    alice: Account, test_provider: Any
) -> None:
    first = alice.client.chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "wav"},
        messages=_messages(),
    )
    audio_id = first.choices[0].message.audio.id
    transcript = first.choices[0].message.audio.transcript
    follow_up = [
        *_messages(),
        {"role": "assistant", "audio": {"id": audio_id}},
        {"role": "user", "content": "And then?"},
    ]
    alice.client.chat.completions.create(model="gpt-4o-audio-preview", messages=follow_up)
    sent = test_provider.calls_for("chat_completion")[-1]["body"]["messages"][1]
    assert sent["audio"] == {"id": audio_id}, "not expired yet: forwarded as is"

    SpeechAsset.objects.filter(upstream_audio_id=audio_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    alice.client.chat.completions.create(model="gpt-4o-audio-preview", messages=follow_up)
    sent = test_provider.calls_for("chat_completion")[-1]["body"]["messages"][1]
    assert "audio" not in sent
    assert sent["content"] == transcript


def test_streamed_chat_with_audio(alice: Account) -> None:
    stream = alice.client.chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "verse", "format": "pcm16"},
        messages=_messages(),
        stream=True,
    )
    chunks = list(stream)
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    pieces = [c.choices[0].delta.audio for c in chunks if c.choices and c.choices[0].delta.audio]
    assert pieces[-1].expires_at
    audio = b"".join(base64.b64decode(p.data) for p in pieces if p.data)
    transcript = "".join(p.transcript or "" for p in pieces)
    assert transcript.startswith(DEFAULT_CHAT_REPLY)
    asset = SpeechAsset.objects.get()
    assert asset.status == JobStatus.COMPLETED
    assert asset.transcript == transcript
    with asset.audio.open("rb") as fh:
        assert fh.read() == audio


async def test_async_sdk_chat(alice: Account) -> None:
    client = alice.aclient
    completion = await client.chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "mp3"},
        messages=_messages(),
    )
    assert completion.choices[0].message.audio is not None
    stream = await client.chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "wav"},
        messages=_messages(),
        stream=True,
    )
    chunks = [chunk async for chunk in stream]
    await client.close()
    assert chunks
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert await SpeechAsset.objects.filter(owner=alice.user, status="completed").acount() == 2


def test_text_only_chat_stores_no_audio(alice: Account) -> None:
    completion = alice.client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
    )
    assert completion.choices[0].message.audio is None
    assert SpeechAsset.objects.count() == 0
