"""Live captions over a real ASGI stack: speaker, viewers, storage, and every bad input."""

from __future__ import annotations

import asyncio
import json
import wave
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from django_audio.contract import AsyncStream, Capability, TranscriptTextDelta
from django_audio.models import JobStatus, Transcript
from django_audio.providers import providers
from django_audio.providers.test import TestProvider
from django_audio.streaming.protocol import CloseCode
from django_audio.streaming.tokens import issue_token

from .conftest import (
    RATE,
    TEXT,
    closed_with,
    communicator,
    events_until,
    frames,
    session_cookie,
    speech_like,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def _start(comm: Any, **fields: Any) -> dict[str, Any]:
    connected, _ = await comm.connect()
    assert connected
    await comm.send_json_to({"type": "start", "sample_rate": RATE, **fields})
    (created,) = await events_until(comm, "session.created")
    return created


async def _stored(public_id: str) -> Transcript:
    return await Transcript.objects.aget(public_id=public_id)


def _duration_of(row: Transcript) -> float:
    with row.audio.open("rb") as fh, wave.open(fh) as w:
        return w.getnframes() / w.getframerate()


async def test_speaker_session_is_captioned_and_stored(alice, provider):
    cookie = await sync_to_async(session_cookie)(alice)
    comm = communicator("/ws/audio/captions/", cookie)
    created = await _start(comm, language="en", prompt="Animals.")
    assert created["session"]["sample_rate"] == RATE
    pcm = speech_like(bursts=2)
    for frame in frames(pcm):
        await comm.send_to(bytes_data=frame)
    await comm.send_json_to({"type": "stop"})
    events, code = await closed_with(comm)
    assert code == 1000
    kinds = [e["type"] for e in events]
    assert kinds.count("input_audio_buffer.committed") == 2
    assert kinds.count("transcript.text.done") == 2
    assert kinds[-1] == "session.ended"
    seqs = [created["seq"]] + [e["seq"] for e in events]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    dones = [e for e in events if e["type"] == "transcript.text.done"]
    deltas = [e for e in events if e["type"] == "transcript.text.delta"]
    assert "".join(d["delta"] for d in deltas if d["item_id"] == dones[0]["item_id"]) == TEXT
    # Offsets are from the session start: the first burst begins at 0.5 s, the second 1.4 s later.
    assert 0.2 <= dones[0]["start"] <= 0.5 < dones[0]["end"] <= dones[1]["start"]
    assert 1.6 <= dones[1]["start"] <= 1.9
    ended = events[-1]
    assert ended["reason"] == "stop"
    row = await _stored(ended["transcript"]["id"])
    assert row.kind == Transcript.Kind.LIVE_CAPTION
    assert row.status == JobStatus.COMPLETED
    assert row.owner_id == alice.pk
    assert row.text == f"{TEXT} {TEXT}"
    assert [s["start"] for s in row.segments] == [d["start"] for d in dones]
    assert row.language == "en"
    assert await sync_to_async(_duration_of)(row) == pytest.approx(len(pcm) / 2 / RATE)
    calls = provider.calls_for("stream_transcription")
    assert len(calls) == 2
    assert calls[0]["request"].prompt == "Animals."


async def test_audio_frames_skip_channels_database_cleanup(alice, provider, monkeypatch):
    """Binary frames and relayed events do not each take a trip to the database thread."""
    import channels.consumer

    cleanups: list[None] = []
    real = channels.consumer.aclose_old_connections

    async def counting() -> None:
        cleanups.append(None)
        await real()

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counting)
    cookie = await sync_to_async(session_cookie)(alice)
    comm = communicator("/ws/audio/captions/", cookie)
    await _start(comm)  # connect and start: cleaned up as before
    before = len(cleanups)
    assert before == 2
    pcm = speech_like(bursts=1)
    for frame in frames(pcm):
        await comm.send_to(bytes_data=frame)
    await events_until(comm, "transcript.text.done")
    assert len(cleanups) == before  # no clean-up for any of the audio frames
    await comm.send_json_to({"type": "stop"})
    events, code = await closed_with(comm)
    assert code == 1000
    assert events[-1]["type"] == "session.ended"
    assert len(cleanups) == before + 1  # the "stop" text message still gets it


async def test_viewer_receives_the_speakers_events(alice, provider):
    cookie = await sync_to_async(session_cookie)(alice)
    speaker = communicator("/ws/audio/captions/", cookie)
    created = await _start(speaker)
    session_id = created["session"]["id"]
    viewer = communicator(f"/ws/audio/captions/{session_id}/", cookie)
    connected, _ = await viewer.connect()
    assert connected
    joined = await events_until(viewer, "session.state")
    assert joined[0] == {"type": "session.joined", "session_id": session_id}
    assert joined[-1]["text"] == ""
    for frame in frames(speech_like(bursts=1)):
        await speaker.send_to(bytes_data=frame)
    await speaker.send_json_to({"type": "stop"})
    spoken, _ = await closed_with(speaker)
    seen = await events_until(viewer, "session.ended")
    assert [e for e in seen if e["type"] != "session.state"] == spoken
    await viewer.disconnect()


async def test_late_viewer_gets_text_so_far(alice, provider):
    cookie = await sync_to_async(session_cookie)(alice)
    speaker = communicator("/ws/audio/captions/", cookie)
    created = await _start(speaker)
    for frame in frames(speech_like(bursts=1)):
        await speaker.send_to(bytes_data=frame)
    await events_until(speaker, "transcript.text.done")
    viewer = communicator(f"/ws/audio/captions/{created['session']['id']}/", cookie)
    await viewer.connect()
    state = (await events_until(viewer, "session.state"))[-1]
    assert state["text"] == TEXT
    assert state["segments"][0]["id"] == "item_0000"
    await viewer.disconnect()
    await speaker.disconnect()


async def test_viewer_owner_check(alice, bob, staff, provider):
    alice_cookie = await sync_to_async(session_cookie)(alice)
    speaker = communicator("/ws/audio/captions/", alice_cookie)
    session_id = (await _start(speaker))["session"]["id"]
    bob_view = communicator(
        f"/ws/audio/captions/{session_id}/", await sync_to_async(session_cookie)(bob)
    )
    await bob_view.connect()
    events, code = await closed_with(bob_view)
    assert code == CloseCode.FORBIDDEN
    assert events[0]["error"]["code"] == "forbidden"
    forged = session_id.rsplit(":", 1)[0] + ":AAAA"
    bad = communicator(f"/ws/audio/captions/{forged}/", alice_cookie)
    await bad.connect()
    events, code = await closed_with(bad)
    assert code == CloseCode.NOT_FOUND
    assert events[0]["type"] == "error"
    staff_view = communicator(
        f"/ws/audio/captions/{session_id}/", await sync_to_async(session_cookie)(staff)
    )
    await staff_view.connect()
    assert (await events_until(staff_view, "session.joined"))[0]["session_id"] == session_id
    await staff_view.disconnect()
    await speaker.disconnect()


async def test_unauthenticated_start_is_refused(transactional_db, provider):
    comm = communicator("/ws/audio/captions/")
    await comm.connect()
    events, code = await closed_with(comm)
    assert code == CloseCode.UNAUTHENTICATED
    assert events[0]["error"]["code"] == "unauthenticated"
    assert await Transcript.objects.acount() == 0


async def test_token_authentication(alice, provider):
    token = await sync_to_async(issue_token)(alice)
    comm = communicator(f"/ws/audio/captions/?token={token}")
    created = await _start(comm)
    assert created["type"] == "session.created"
    await comm.send_json_to({"type": "stop"})
    events, code = await closed_with(comm)
    assert code == 1000
    row = await _stored(events[-1]["transcript"]["id"])
    assert row.owner_id == alice.pk
    assert row.text == ""


async def test_invalid_and_expired_tokens(alice, provider):
    comm = communicator("/ws/audio/captions/?token=nonsense")
    await comm.connect()
    events, code = await closed_with(comm)
    assert code == CloseCode.UNAUTHENTICATED
    assert events[0]["error"]["code"] == "invalid_token"
    token = await sync_to_async(issue_token)(alice)
    with override_settings(DJANGO_AUDIO={"WEBSOCKET_TOKEN_MAX_AGE": -1, "PROVIDERS": {
            "default": {"BACKEND": "django_audio.providers.test.TestProvider"}}}):  # fmt: skip
        comm = communicator(f"/ws/audio/captions/?token={token}")
        await comm.connect()
        events, code = await closed_with(comm)
    assert code == CloseCode.UNAUTHENTICATED
    assert events[0]["error"]["code"] == "token_expired"


async def test_foreign_origin_is_rejected(alice, provider):
    cookie = await sync_to_async(session_cookie)(alice)
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        comm = communicator("/ws/audio/captions/", cookie, origin=b"https://evil.example")
        connected, _ = await comm.connect()
    assert not connected


@pytest.mark.parametrize(
    ("message", "code", "error_code"),
    [
        ("not json", CloseCode.BAD_MESSAGE, "invalid_json"),
        (json.dumps([1, 2]), CloseCode.BAD_MESSAGE, "invalid_message"),
        (json.dumps({"type": "dance"}), CloseCode.BAD_MESSAGE, "unknown_message_type"),
        (json.dumps({"type": "stop"}), CloseCode.BAD_MESSAGE, "session_not_started"),
        (json.dumps({"type": "start", "rate": 1}), CloseCode.BAD_MESSAGE, "unknown_parameter"),
        (json.dumps({"type": "start", "sample_rate": 3}), CloseCode.BAD_MESSAGE, None),
        (json.dumps({"type": "start", "language": "english!"}), CloseCode.BAD_MESSAGE, None),
        ("x" * 70000, CloseCode.FRAME_TOO_LARGE, "frame_too_large"),
    ],
)
async def test_bad_control_messages(alice, provider, message, code, error_code):
    comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
    await comm.connect()
    await comm.send_to(text_data=message)
    events, close = await closed_with(comm)
    assert close == code
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["message"]
    if error_code:
        assert events[-1]["error"]["code"] == error_code
    assert await Transcript.objects.acount() == 0


async def test_audio_before_start(alice, provider):
    comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
    await comm.connect()
    await comm.send_to(bytes_data=b"\x00\x00" * 100)
    events, close = await closed_with(comm)
    assert close == CloseCode.BAD_MESSAGE
    assert events[0]["error"]["code"] == "session_not_started"


@pytest.mark.parametrize(
    ("bad_frame", "code"),
    [
        (b"\x01\x02\x03", CloseCode.UNSUPPORTED_AUDIO),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 100, CloseCode.UNSUPPORTED_AUDIO),
        (b"\x1a\x45\xdf\xa3" + b"\x00" * 100, CloseCode.UNSUPPORTED_AUDIO),
        (b'{"type": "stop"}', CloseCode.UNSUPPORTED_AUDIO),
        (b"\x00" * 70000, CloseCode.FRAME_TOO_LARGE),
    ],
)
async def test_bad_audio_keeps_what_was_received(alice, provider, bad_frame, code):
    """A bad frame ends the session with a code, and everything before it is kept."""
    comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
    await _start(comm)
    good = speech_like(bursts=1)
    for frame in frames(good):
        await comm.send_to(bytes_data=frame)
    await comm.send_to(bytes_data=bad_frame)
    events, close = await closed_with(comm)
    assert close == code
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1
    assert "error" in errors[0]
    ended = events[-1]
    assert ended["type"] == "session.ended"
    assert ended["reason"] == "error"
    row = await _stored(ended["transcript"]["id"])
    assert row.status == JobStatus.COMPLETED
    assert row.text == TEXT
    assert await sync_to_async(_duration_of)(row) == pytest.approx(len(good) / 2 / RATE)


async def test_second_start_is_refused(alice, provider):
    comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
    await _start(comm)
    await comm.send_json_to({"type": "start"})
    events, close = await closed_with(comm)
    assert close == CloseCode.BAD_MESSAGE
    assert events[0]["error"]["code"] == "session_already_started"
    assert events[-1]["type"] == "session.ended"


async def test_length_limit_saves_and_closes(alice, provider):
    audio = {"LIVE_CAPTION_MAX_SECONDS": 1, "PROVIDERS": {
        "default": {"BACKEND": "django_audio.providers.test.TestProvider"}}}  # fmt: skip
    with override_settings(DJANGO_AUDIO=audio), providers.override("default", provider):
        comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
        await _start(comm)
        for frame in frames(b"\x00\x00" * RATE * 2):
            await comm.send_to(bytes_data=frame)
        events, close = await closed_with(comm)
    assert close == CloseCode.SESSION_TOO_LONG
    assert events[-1]["reason"] == "max_length"
    row = await _stored(events[-1]["transcript"]["id"])
    assert row.status == JobStatus.COMPLETED
    assert await sync_to_async(_duration_of)(row) == pytest.approx(1.0)


async def test_concurrent_session_limit(alice, provider):
    audio = {"LIVE_CAPTION_MAX_SESSIONS": 1, "PROVIDERS": {
        "default": {"BACKEND": "django_audio.providers.test.TestProvider"}}}  # fmt: skip
    with override_settings(DJANGO_AUDIO=audio), providers.override("default", provider):
        cookie = await sync_to_async(session_cookie)(alice)
        first = communicator("/ws/audio/captions/", cookie)
        await _start(first)
        second = communicator("/ws/audio/captions/", cookie)
        await second.connect()
        await second.send_json_to({"type": "start"})
        events, close = await closed_with(second)
        assert close == CloseCode.TOO_MANY_SESSIONS
        assert events[0]["error"]["code"] == "too_many_sessions"
        await first.send_json_to({"type": "stop"})
        await closed_with(first)
        third = communicator("/ws/audio/captions/", cookie)
        assert (await _start(third))["type"] == "session.created"
        await third.disconnect()


async def test_upstream_error_on_one_utterance_does_not_end_the_session(alice, provider):
    provider.fail_next(500, operation="stream_transcription")
    comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
    await _start(comm)
    for frame in frames(speech_like(bursts=2)):
        await comm.send_to(bytes_data=frame)
    await comm.send_json_to({"type": "stop"})
    events, close = await closed_with(comm)
    assert close == 1000
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1
    assert errors[0]["item_id"] == "item_0000"
    assert errors[0]["error"]["type"] == "upstream_error"
    row = await _stored(events[-1]["transcript"]["id"])
    assert row.status == JobStatus.COMPLETED
    assert row.text == TEXT


class _NoStreaming(TestProvider):
    capabilities = Capability.ALL - {Capability.TRANSCRIBE_STREAM}


async def test_provider_without_streaming_gets_one_shot_requests(alice):
    with providers.override("default", _NoStreaming(transcript_text="one shot")) as p:
        comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
        await _start(comm)
        for frame in frames(speech_like(bursts=1)):
            await comm.send_to(bytes_data=frame)
        await comm.send_json_to({"type": "stop"})
        events, _ = await closed_with(comm)
    assert [e["text"] for e in events if e["type"] == "transcript.text.done"] == ["one shot"]
    assert len(p.calls_for("transcribe")) == 1


class _Endless(TestProvider):
    """A streaming upstream that never finishes; records when it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = asyncio.Event()
        self.closed = asyncio.Event()

    async def _astream_transcription(self, request):
        async def items():
            self.opened.set()
            yield TranscriptTextDelta(delta="partial")
            await asyncio.Event().wait()  # never set: the stream hangs until closed

        async def close():
            self.closed.set()

        return AsyncStream(items(), aclose=close)


async def test_disconnect_cancels_upstream_and_saves_incomplete(alice):
    endless = _Endless()
    with providers.override("default", endless):
        comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
        created = await _start(comm)
        pcm = speech_like(bursts=1)
        for frame in frames(pcm):
            await comm.send_to(bytes_data=frame)
        await events_until(comm, "transcript.text.delta")
        await comm.disconnect()
    assert endless.closed.is_set()
    row = await Transcript.objects.aget(params__session_id=created["session"]["id"])
    assert row.status == JobStatus.INCOMPLETE
    assert await sync_to_async(_duration_of)(row) == pytest.approx(len(pcm) / 2 / RATE)


async def test_stop_with_no_audio_saves_an_empty_transcript(alice, provider):
    comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
    await _start(comm)
    await comm.send_json_to({"type": "stop"})
    events, close = await closed_with(comm)
    assert close == 1000
    row = await _stored(events[-1]["transcript"]["id"])
    assert row.text == ""
    assert not row.audio
    assert row.status == JobStatus.COMPLETED
    assert provider.calls_for("stream_transcription") == []


async def test_viewer_messages_are_refused(alice, provider):
    cookie = await sync_to_async(session_cookie)(alice)
    speaker = communicator("/ws/audio/captions/", cookie)
    session_id = (await _start(speaker))["session"]["id"]
    viewer = communicator(f"/ws/audio/captions/{session_id}/", cookie)
    await viewer.connect()
    await viewer.send_json_to({"type": "stop"})
    events, close = await closed_with(viewer)
    assert close == CloseCode.BAD_MESSAGE
    assert events[-1]["error"]["code"] == "unknown_message_type"
    await speaker.send_json_to({"type": "stop"})
    _, close = await closed_with(speaker)
    assert close == 1000


async def test_client_vanishing_mid_send_still_saves_everything(alice, provider, monkeypatch):
    """A send failing because the client vanished must not abort saving the session."""
    from django_audio.streaming.consumers.captions import LiveCaptionConsumer

    comm = communicator("/ws/audio/captions/", await sync_to_async(session_cookie)(alice))
    created = await _start(comm)

    async def gone(self, text_data=None, bytes_data=None, close=False):
        raise OSError("client disconnected")  # what uvicorn's ClientDisconnected is

    monkeypatch.setattr(LiveCaptionConsumer, "send", gone)
    for frame in frames(speech_like(bursts=1)):
        await comm.send_to(bytes_data=frame)
    await comm.send_json_to({"type": "stop"})
    row = None
    for _ in range(200):  # the session is saved in the background after "stop"
        row = await Transcript.objects.filter(params__session_id=created["session"]["id"]).afirst()
        if row is not None:
            break
        await asyncio.sleep(0.05)
    await comm.disconnect()
    assert row is not None
    assert row.status == JobStatus.COMPLETED
    assert row.text == TEXT
