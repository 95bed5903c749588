"""Streamed speech over a websocket: binary audio out, the clip stored, consent enforced."""

from __future__ import annotations

import asyncio
import io
import json
import wave

import pytest
from asgiref.sync import sync_to_async

from django_audio import services
from django_audio.contract import AsyncStream
from django_audio.models import JobStatus, SpeechAsset
from django_audio.providers import providers
from django_audio.providers.test import TestProvider
from django_audio.streaming.protocol import CloseCode
from django_audio.testing import make_wav

from .conftest import closed_with, communicator, events_until, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(user):
    comm = communicator("/ws/audio/speech/", await sync_to_async(session_cookie)(user))
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _audio_until_done(comm):
    chunks = []
    while True:
        out = await comm.receive_output(10)
        if out.get("bytes") is not None:
            chunks.append(out["bytes"])
            continue
        event = json.loads(out["text"])
        if event["type"] in ("speech.audio.done", "error"):
            return b"".join(chunks), event


async def test_pcm_speech_streams_and_is_stored(alice, provider):
    comm = await _connect(alice)
    await comm.send_json_to(
        {"type": "speech.create", "input": "Hello there, general.", "voice": "coral", "speed": 1.5}
    )
    (started,) = await events_until(comm, "speech.started")
    assert started["response_format"] == "pcm"
    assert started["sample_rate"] == 24000
    audio, done = await _audio_until_done(comm)
    assert done["type"] == "speech.audio.done"
    assert done["bytes"] == len(audio) > 0
    asset = await SpeechAsset.objects.aget(public_id=started["speech_id"])
    assert asset.status == JobStatus.COMPLETED
    assert asset.owner_id == alice.pk
    assert asset.voice_name == "coral"
    assert asset.speed == 1.5
    stored = await sync_to_async(lambda: asset.audio.open("rb").read())()
    assert stored == audio
    # The same socket serves the next request; an identical one comes from the cache.
    await comm.send_json_to(
        {"type": "speech.create", "input": "Hello there, general.", "voice": "coral", "speed": 1.5}
    )
    (again,) = await events_until(comm, "speech.started")
    assert again["cached"] is True
    assert again["speech_id"] == started["speech_id"]
    cached_audio, _ = await _audio_until_done(comm)
    assert cached_audio == audio
    await comm.disconnect()


async def test_wav_speech_is_a_playable_file(alice, provider):
    comm = await _connect(alice)
    await comm.send_json_to(
        {"type": "speech.create", "input": "One two.", "response_format": "wav"}
    )
    (started,) = await events_until(comm, "speech.started")
    assert started["content_type"] == "audio/wav"
    assert "sample_rate" not in started
    audio, _ = await _audio_until_done(comm)
    with wave.open(io.BytesIO(audio)) as w:
        assert w.getnframes() > 0
    await comm.disconnect()


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "speech.create", "input": ""}, CloseCode.BAD_MESSAGE),
        ({"type": "speech.create", "input": "hi", "speed": 9}, CloseCode.BAD_MESSAGE),
        ({"type": "speech.create", "input": "hi", "response_format": "ogg"}, CloseCode.BAD_MESSAGE),
        ({"type": "speech.create", "input": "hi", "pitch": 2}, CloseCode.BAD_MESSAGE),
        ({"type": "speech.create", "input": "hi", "voice": "voice_nope"}, CloseCode.NOT_FOUND),
        ({"type": "sing"}, CloseCode.BAD_MESSAGE),
    ],
)
async def test_bad_speech_requests(alice, provider, message, code):
    comm = await _connect(alice)
    await comm.send_json_to(message)
    events, close = await closed_with(comm)
    assert close == code
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["message"]


async def test_binary_frames_are_refused(alice, provider):
    comm = await _connect(alice)
    await comm.send_to(bytes_data=b"\x00\x01")
    events, close = await closed_with(comm)
    assert close == CloseCode.BAD_MESSAGE
    assert events[0]["error"]["code"] == "unexpected_binary"


def _voice_with_revoked_consent(user, staff):
    consent = services.submit_consent(user, name="Ann", recording=make_wav(1.0), language="en")
    consent = services.approve_consent(consent, actor=staff, note="heard it")
    voice = services.create_voice(user, name="Ann's voice", sample=make_wav(1.0), consent=consent)
    services.revoke_consent(consent, actor=staff, reason="withdrawn")
    return voice


async def test_voice_without_approved_consent_is_refused(alice, staff, provider):
    voice = await sync_to_async(_voice_with_revoked_consent)(alice, staff)
    comm = await _connect(alice)
    await comm.send_json_to(
        {"type": "speech.create", "input": "Say it.", "voice": {"id": voice.public_id}}
    )
    events, close = await closed_with(comm)
    assert close == CloseCode.FORBIDDEN
    assert events[-1]["error"]["code"] in ("consent_required", "voice_disabled")
    assert provider.calls_for("speech") == []


async def test_unauthenticated(transactional_db, provider):
    comm = communicator("/ws/audio/speech/")
    await comm.connect()
    _, close = await closed_with(comm)
    assert close == CloseCode.UNAUTHENTICATED


class _SlowSpeech(TestProvider):
    def __init__(self) -> None:
        super().__init__()
        self.closed = asyncio.Event()

    async def _aspeech(self, request):
        async def chunks():
            yield b"\x00\x01" * 100
            await asyncio.Event().wait()  # never set: the stream hangs until closed

        async def close():
            self.closed.set()

        return AsyncStream(chunks(), aclose=close, content_type="audio/pcm")


async def test_cancel_and_busy(alice):
    slow = _SlowSpeech()
    with providers.override("default", slow):
        comm = await _connect(alice)
        await comm.send_json_to({"type": "speech.create", "input": "Long text."})
        (started,) = await events_until(comm, "speech.started")
        first = await comm.receive_output(10)
        assert first["bytes"] == b"\x00\x01" * 100
        await comm.send_json_to({"type": "speech.create", "input": "Another."})
        busy = await events_until(comm, "error")
        assert busy[-1]["error"]["code"] == "speech_in_progress"
        await comm.send_json_to({"type": "speech.cancel"})
        await events_until(comm, "speech.cancelled")
        assert slow.closed.is_set()
        asset = await SpeechAsset.objects.aget(public_id=started["speech_id"])
        assert asset.status == JobStatus.INCOMPLETE
        await comm.disconnect()


async def test_disconnect_cancels_upstream(alice):
    slow = _SlowSpeech()
    with providers.override("default", slow):
        comm = await _connect(alice)
        await comm.send_json_to({"type": "speech.create", "input": "Long text."})
        await events_until(comm, "speech.started")
        await comm.disconnect()
    assert slow.closed.is_set()


async def test_upstream_failure_is_reported_and_socket_stays_open(alice, provider):
    provider.fail_next(500, operation="speech")
    comm = await _connect(alice)
    await comm.send_json_to({"type": "speech.create", "input": "Fails once."})
    (error,) = await events_until(comm, "error")
    assert error["error"]["type"] == "upstream_error"
    await comm.send_json_to({"type": "speech.create", "input": "Works now."})
    await events_until(comm, "speech.started")
    _, done = await _audio_until_done(comm)
    assert done["type"] == "speech.audio.done"
    await comm.disconnect()
