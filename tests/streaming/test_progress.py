"""Following a stored transcript's progress over a websocket."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from django_audio import services
from django_audio.models import JobStatus, Transcript
from django_audio.streaming.consumers import progress
from django_audio.streaming.protocol import CloseCode
from django_audio.testing import make_wav

from .conftest import TEXT, closed_with, communicator, events_until, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _queued(user):
    with override_settings(TASKS=DUMMY_TASKS):
        outcome = services.transcribe(user, make_wav(1.0), model="whisper-1", background=True)
    return outcome.transcript


async def _follow(user, public_id):
    comm = communicator(
        f"/ws/audio/transcripts/{public_id}/", await sync_to_async(session_cookie)(user)
    )
    connected, _ = await comm.connect()
    assert connected
    return comm


async def test_follower_sees_status_changes_until_finished(alice, provider, monkeypatch):
    monkeypatch.setattr(progress, "POLL_SECONDS", 0.05)
    row = await sync_to_async(_queued)(alice)
    assert row.status == JobStatus.PENDING
    comm = await _follow(alice, row.public_id)
    (first,) = await events_until(comm, "transcript.status")
    assert first == {"type": "transcript.status", "id": row.public_id, "kind": "transcription",
                     "status": "pending"}  # fmt: skip
    await sync_to_async(services.run_transcription)(row.pk)
    events, code = await closed_with(comm)
    assert code == CloseCode.NORMAL
    statuses = [e["status"] for e in events if e["type"] == "transcript.status"]
    assert statuses[-1] == "completed"
    assert events[-1]["text"] == TEXT


async def test_published_events_are_relayed(alice, provider):
    row = await sync_to_async(_queued)(alice)
    comm = await _follow(alice, row.public_id)
    await events_until(comm, "transcript.status")
    await progress.apublish_event(row.public_id, {"type": "transcript.text.delta", "delta": "hel"})
    assert (await events_until(comm, "transcript.text.delta"))[-1]["delta"] == "hel"
    await comm.disconnect()


async def test_finished_transcript_sends_its_status_and_closes(alice, provider):
    outcome = await sync_to_async(services.transcribe)(alice, make_wav(1.0), model="whisper-1")
    comm = await _follow(alice, outcome.transcript.public_id)
    events, code = await closed_with(comm)
    assert code == CloseCode.NORMAL
    assert events == [
        {"type": "transcript.status", "id": outcome.transcript.public_id,
         "kind": "transcription", "status": "completed", "text": TEXT}
    ]  # fmt: skip


async def test_failed_transcript_carries_its_error(alice, provider):
    provider.fail_next(500, operation="transcribe")
    with pytest.raises(Exception):
        await sync_to_async(services.transcribe)(alice, make_wav(1.0), model="whisper-1")
    row = await Transcript.objects.aget(owner=alice)
    comm = await _follow(alice, row.public_id)
    events, _ = await closed_with(comm)
    assert events[0]["status"] == "failed"
    assert events[0]["error"]["message"]


async def test_other_users_and_unknown_transcripts_are_not_found(alice, bob, provider):
    row = await sync_to_async(_queued)(alice)
    for user, public_id in ((bob, row.public_id), (alice, "tr_" + "0" * 24)):
        comm = communicator(
            f"/ws/audio/transcripts/{public_id}/", await sync_to_async(session_cookie)(user)
        )
        await comm.connect()
        events, code = await closed_with(comm)
        assert code == CloseCode.NOT_FOUND
        assert events[0]["error"]["code"] == "not_found"


async def test_staff_may_follow_anyone(alice, staff, provider):
    row = await sync_to_async(_queued)(alice)
    comm = await _follow(staff, row.public_id)
    assert (await events_until(comm, "transcript.status"))[0]["status"] == "pending"
    await comm.send_json_to({"type": "hello"})
    events, code = await closed_with(comm)
    assert code == CloseCode.BAD_MESSAGE
    assert events[-1]["type"] == "error"


async def test_unauthenticated(transactional_db, provider):
    comm = communicator("/ws/audio/transcripts/tr_x/")
    await comm.connect()
    _, code = await closed_with(comm)
    assert code == CloseCode.UNAUTHENTICATED


async def test_follower_receives_background_deltas_before_the_final_status(alice, provider):
    row = await sync_to_async(_queued)(alice)
    comm = await _follow(alice, row.public_id)
    await events_until(comm, "transcript.status")
    await sync_to_async(services.run_transcription)(row.pk)
    events, code = await closed_with(comm)
    assert code == CloseCode.NORMAL
    types = [e["type"] for e in events]
    deltas = [e["delta"] for e in events if e["type"] == "transcript.text.delta"]
    assert deltas, types
    assert "".join(deltas).strip() == TEXT
    assert types.index("transcript.text.done") < len(types) - 1
    assert events[-1]["status"] == "completed"
    stored = await Transcript.objects.aget(pk=row.pk)
    assert stored.text == TEXT
