"""Scale-out: two real server processes on Redis; a viewer on one sees captions from the other.

Runs in the CI's PostgreSQL + Redis pass (``DJANGO_AUDIO_TEST_REDIS``). The servers are a
daphne and a uvicorn process sharing a SQLite file and a Redis channel layer prefix.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.serve.harness import Server, prepare, server_env

from .conftest import TEXT, frames, speech_like

REDIS = os.environ.get("DJANGO_AUDIO_TEST_REDIS")

pytestmark = pytest.mark.skipif(
    not REDIS,
    reason="needs Redis: set DJANGO_AUDIO_TEST_REDIS=redis://127.0.0.1:6379/0 (done by .ci/run)",
)

websockets = pytest.importorskip("websockets.asyncio.client")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("two-process")
    env = server_env(tmp, DJANGO_AUDIO_TEST_REDIS=str(REDIS), DJANGO_AUDIO_SERVE_TEXT=TEXT)
    raw_key = prepare(env)
    with (
        Server(env, tmp / "a.log", kind="daphne") as a,
        Server(env, tmp / "b.log", kind="uvicorn") as b,
    ):
        yield {"a": a, "b": b, "key": raw_key, "db": env["DJANGO_AUDIO_SERVE_DB"]}


def _token(server: Server, key: str) -> str:
    response = httpx.post(
        f"{server.url}/audio/ws-token/", headers={"Authorization": f"Bearer {key}"}
    )
    response.raise_for_status()
    return str(response.json()["token"])


async def _until(ws: Any, kind: str) -> list[dict[str, Any]]:
    events = []
    while True:
        message = await asyncio.wait_for(ws.recv(), 30)
        if isinstance(message, bytes):
            continue
        event = json.loads(message)
        events.append(event)
        if event["type"] == kind:
            return events


async def test_viewer_on_another_process_receives_captions(cluster):
    a, b, key = cluster["a"], cluster["b"], cluster["key"]
    connect = websockets.connect
    async with connect(
        f"{a.ws_url}/ws/audio/captions/?token={_token(a, key)}", origin=a.url
    ) as speaker:
        await speaker.send(json.dumps({"type": "start", "sample_rate": 16000}))
        created = (await _until(speaker, "session.created"))[-1]
        session_id = created["session"]["id"]
        async with connect(
            f"{b.ws_url}/ws/audio/captions/{session_id}/?token={_token(b, key)}", origin=b.url
        ) as viewer:
            # session.state comes from the speaker's process, through Redis.
            before = await _until(viewer, "session.state")
            assert before[-1]["session_id"] == session_id
            for frame in frames(speech_like(bursts=2)):
                await speaker.send(frame)
            await speaker.send(json.dumps({"type": "stop"}))
            spoken = await _until(speaker, "session.ended")
            seen = before + await _until(viewer, "session.ended")
    relayed = [e for e in seen if e["type"] not in ("session.joined", "session.state")]
    assert relayed == spoken
    dones = [e for e in seen if e["type"] == "transcript.text.done"]
    assert [d["text"] for d in dones] == [TEXT, TEXT]
    transcript_id = spoken[-1]["transcript"]["id"]
    with sqlite3.connect(cluster["db"]) as db:
        text, status, kind = db.execute(
            "SELECT text, status, kind FROM django_audio_transcript WHERE public_id = ?",
            (transcript_id,),
        ).fetchone()
    assert (text, status, kind) == (f"{TEXT} {TEXT}", "completed", "live_caption")
