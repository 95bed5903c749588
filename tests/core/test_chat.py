"""Chat completions with audio: replies stored, expired audio bridged by transcript."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from django_audio import services
from django_audio.exceptions import ConsentError, InvalidRequest, UpstreamServerError
from django_audio.models import JobStatus, SpeechAsset, UsageRecord
from django_audio.providers.test import TestProvider
from django_audio.testing.audio import make_wav

from .conftest import stored_files

pytestmark = pytest.mark.django_db


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-audio-preview",
        "modalities": ["text", "audio"],
        "audio": {"voice": "alloy", "format": "wav"},
        "messages": [{"role": "user", "content": "Tell me a joke."}],
        **extra,
    }


def test_audio_reply_is_stored(provider: TestProvider, media: Path, user: Any) -> None:
    out = services.chat_with_audio(user, _body())
    reply = out.completion.audio
    assert reply is not None
    asset = SpeechAsset.objects.get()
    assert out.asset == asset
    assert asset.kind == SpeechAsset.Kind.CHAT_REPLY
    assert asset.status == JobStatus.COMPLETED
    assert asset.transcript == reply.transcript
    assert asset.upstream_audio_id == reply.id
    assert asset.expires_at is not None
    assert int(asset.expires_at.timestamp()) == reply.expires_at
    assert asset.input == "Tell me a joke."
    assert asset.audio.read() == reply.audio_bytes
    assert asset.audio.name.endswith(".wav")
    usage = UsageRecord.objects.get(speech_asset=asset)
    assert usage.operation == "chat"
    assert usage.total_tokens == out.completion.data["usage"]["total_tokens"]


def test_text_only_chat_records_usage_only(provider: TestProvider, media: Path, user: Any) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    out = services.chat_with_audio(user, body)
    assert out.asset is None
    assert not SpeechAsset.objects.exists()
    assert UsageRecord.objects.get().operation == "chat"
    assert stored_files(media) == []


def test_expired_reply_reference_is_replaced_by_its_transcript(
    provider: TestProvider, media: Path, user: Any, other: Any
) -> None:
    first = services.chat_with_audio(user, _body())
    audio_id = first.asset.upstream_audio_id  # type: ignore[union-attr]
    follow_up = _body(
        messages=[
            {"role": "user", "content": "Tell me a joke."},
            {"role": "assistant", "audio": {"id": audio_id}},
            {"role": "user", "content": "Another one."},
        ]
    )
    services.chat_with_audio(user, follow_up)
    sent = provider.calls_for("chat_completion")[-1]["body"]["messages"][1]
    assert sent == {"role": "assistant", "audio": {"id": audio_id}}  # not expired: untouched

    SpeechAsset.objects.filter(upstream_audio_id=audio_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    services.chat_with_audio(user, follow_up)
    sent = provider.calls_for("chat_completion")[-1]["body"]["messages"][1]
    assert sent == {"role": "assistant", "content": first.asset.transcript}  # type: ignore[union-attr]
    assert follow_up["messages"][1] == {"role": "assistant", "audio": {"id": audio_id}}

    # Another user's reference is never resolved against this user's replies.
    services.chat_with_audio(other, follow_up)
    sent = provider.calls_for("chat_completion")[-1]["body"]["messages"][1]
    assert sent == {"role": "assistant", "audio": {"id": audio_id}}


def test_custom_voice_in_chat_is_consent_checked(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    consent = services.submit_consent(user, name="Ann", recording=make_wav(0.5), language="en")
    services.approve_consent(consent, actor=staff)
    voice = services.create_voice(user, name="Ann", sample=make_wav(0.5), consent=consent)
    services.chat_with_audio(user, _body(audio={"voice": {"id": voice.public_id}, "format": "mp3"}))
    sent = provider.calls_for("chat_completion")[-1]["body"]
    assert sent["audio"]["voice"] == {"id": voice.upstream_id}
    services.revoke_consent(consent, actor=user)
    with pytest.raises(ConsentError):
        services.chat_with_audio(
            user, _body(audio={"voice": {"id": voice.public_id}, "format": "mp3"})
        )


def test_bad_chat_input_stores_nothing(provider: TestProvider, media: Path, user: Any) -> None:
    with pytest.raises(InvalidRequest) as err:
        services.chat_with_audio(user, _body(audio={"voice": "alloy", "format": "ogg"}))
    assert err.value.param == "audio.format"
    with pytest.raises(InvalidRequest):
        services.chat_with_audio(
            user,
            _body(messages=[{"role": "user", "content": [{"type": "input_audio",
                                                          "input_audio": {"data": "!!",
                                                                          "format": "wav"}}]}]),
        )  # fmt: skip
    assert not SpeechAsset.objects.exists()
    assert provider.calls == []


def test_upstream_failure_marks_reply_failed(
    provider: TestProvider, media: Path, user: Any
) -> None:
    provider.fail_next(502)
    with pytest.raises(UpstreamServerError):
        services.chat_with_audio(user, _body())
    asset = SpeechAsset.objects.get()
    assert asset.status == JobStatus.FAILED
    assert not UsageRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_streamed_reply_is_stored(provider: TestProvider, media: Path, user: Any) -> None:
    provider.chunk_size = 1000
    stream = await services.astream_chat_with_audio(
        user,
        _body(audio={"voice": "alloy", "format": "pcm16"}, stream_options={"include_usage": True}),
    )
    chunks = [c async for c in stream]
    audio = b"".join(
        base64.b64decode(c.audio.data) for c in chunks if c.audio is not None and c.audio.data
    )
    transcript = "".join(c.audio.transcript or "" for c in chunks if c.audio is not None)
    asset = await SpeechAsset.objects.aget()
    assert asset.status == JobStatus.COMPLETED
    assert asset.transcript == transcript
    assert asset.upstream_audio_id.startswith("audio_")
    assert asset.expires_at is not None
    assert await sync_to_async(asset.audio.read)() == audio
    assert asset.audio.name.endswith(".pcm")
    usage = await UsageRecord.objects.aget()
    assert usage.total_tokens > 0


@pytest.mark.django_db(transaction=True)
async def test_streamed_reply_cut_is_incomplete(
    provider: TestProvider, media: Path, user: Any
) -> None:
    stream = await services.astream_chat_with_audio(user, _body())
    for _ in range(3):
        await stream.__anext__()
    await stream.aclose()
    asset = await SpeechAsset.objects.aget()
    assert asset.status == JobStatus.INCOMPLETE
    assert asset.transcript  # the words heard so far


@pytest.mark.django_db(transaction=True)
async def test_async_chat(provider: TestProvider, media: Path, user: Any) -> None:
    out = await services.achat_with_audio(user, _body())
    assert out.asset is not None
    assert (await SpeechAsset.objects.aget()).status == JobStatus.COMPLETED


@pytest.mark.django_db(transaction=True)
async def test_streamed_reply_closed_before_first_chunk(
    provider: TestProvider, media: Path, user: Any
) -> None:
    stream = await services.astream_chat_with_audio(user, _body())
    await stream.aclose()
    asset = await SpeechAsset.objects.aget()
    assert asset.status == JobStatus.INCOMPLETE
    assert not asset.audio
