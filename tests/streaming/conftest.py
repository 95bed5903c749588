"""Fixtures for websocket tests: users with real session cookies, the ASGI stack, PCM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from django_audio.providers import providers
from django_audio.providers.test import TestProvider
from django_audio.streaming.routing import websocket_application
from django_audio.testing.audio import tone_pcm

RATE = 16000
TEXT = "the quick brown fox jumps over the lazy dog"


@pytest.fixture
def provider() -> Iterator[TestProvider]:
    """A test provider 'hearing' :data:`TEXT` in every utterance."""
    with providers.override("default", TestProvider(transcript_text=TEXT)) as p:
        yield p


@pytest.fixture
def alice(transactional_db: Any) -> Any:
    return get_user_model().objects.create_user("alice", password="pw")


@pytest.fixture
def bob(transactional_db: Any) -> Any:
    return get_user_model().objects.create_user("bob", password="pw")


@pytest.fixture
def staff(transactional_db: Any) -> Any:
    return get_user_model().objects.create_user("root", password="pw", is_staff=True)


def session_cookie(user: Any) -> bytes:
    """A real login session's cookie header for ``user``."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def communicator(
    path: str, cookie: bytes | None = None, origin: bytes = b"http://testserver"
) -> WebsocketCommunicator:
    """A communicator on the full stack (origin check, session auth, token auth, router)."""
    headers = [(b"origin", origin), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(websocket_application(), path, headers=headers)


def speech_like(bursts: int = 2, voiced: float = 0.6, pause: float = 0.8) -> bytes:
    """PCM alternating tone bursts ("speech") and silence, starting with silence."""
    pcm = tone_pcm(0.5, RATE, amplitude=0.0)
    for _ in range(bursts):
        pcm += tone_pcm(voiced, RATE, amplitude=0.3) + tone_pcm(pause, RATE, amplitude=0.0)
    return pcm


def frames(pcm: bytes, size: int = 3200) -> list[bytes]:
    """Split PCM into websocket frames (100 ms at 16 kHz by default)."""
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


async def events_until(
    comm: WebsocketCommunicator, kind: str, wait: float = 10
) -> list[dict[str, Any]]:
    """Receive JSON events up to and including the first of type ``kind``."""
    out: list[dict[str, Any]] = []
    while True:
        message = await comm.receive_from(wait)
        event = json.loads(message)
        out.append(event)
        if event["type"] == kind:
            return out


async def closed_with(comm: WebsocketCommunicator, wait: float = 10) -> tuple[list[Any], int]:
    """Drain the socket until it closes: the JSON events before, and the close code."""
    events: list[Any] = []
    while True:
        output = await comm.receive_output(wait)
        if output["type"] == "websocket.close":
            return events, output.get("code", 1000)
        if output.get("text") is not None:
            events.append(json.loads(output["text"]))
        else:
            events.append(output.get("bytes"))
