"""A live ASGI server (uvicorn, real HTTP) running the test project, and SDK clients for it."""

from __future__ import annotations

import gc
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest
from django.contrib.auth import get_user_model
from django.core.asgi import get_asgi_application
from django.core.cache import cache
from django.db import connection

from django_audio import services
from django_audio.api.asgi import BodyLimitMiddleware
from django_audio.models import ApiKey, VoiceConsent
from django_audio.providers import providers
from django_audio.providers.test import TestProvider
from django_audio.testing.audio import make_wav


class LiveServer:
    """uvicorn serving the Django test project on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, app: Any = None) -> None:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = app or BodyLimitMiddleware(get_asgi_application())
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True, name="live-v1"
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert self.thread.is_alive(), "the server thread died"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.005)

    @property
    def url(self) -> str:
        """The server root."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def v1(self) -> str:
        """The OpenAI base URL."""
        return f"{self.url}/v1"

    def stop(self) -> None:
        """Stop serving."""
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture(scope="session")
def live_server_v1(django_db_setup: Any, django_db_blocker: Any) -> Iterator[LiveServer]:
    """One live server for the session (the database is set up first)."""
    with django_db_blocker.unblock():
        server = LiveServer()
        yield server
        server.stop()
        _close_server_connections()


def _close_server_connections() -> None:
    """Drop connections the server's worker threads left open, so the test DB can be dropped.

    Django closes a request's connection when the request finishes, but work that ends after
    the response (a stream's finaliser after the client left) runs in a thread that is gone
    by now; PostgreSQL would still count its session.
    """
    gc.collect()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def live_db(transactional_db: Any) -> Iterator[TestProvider]:
    """Real commits (the server thread must see the rows), no rate-limit history."""
    cache.clear()
    provider = providers["default"]
    assert isinstance(provider, TestProvider)
    provider.reset()
    yield provider
    cache.clear()


@pytest.fixture
def test_provider(live_db: TestProvider) -> TestProvider:
    """The default (test) provider, reset for this test."""
    return live_db


@dataclass
class Account:
    """A user with a raw API key and SDK clients using it."""

    user: Any
    key: str
    client: openai.OpenAI
    aclient: openai.AsyncOpenAI


def send_oversized_upload(server: LiveServer, key: str) -> tuple[int, dict[str, Any]]:
    """Announce a 200 MiB transcription upload, send 1 KiB, read the answer: (status, body).

    The answer arrives without the rest of the body: the limit is enforced before reading.
    """
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = (
            "POST /v1/audio/transcriptions HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\n"
            f"Authorization: Bearer {key}\r\n"
            "Content-Type: multipart/form-data; boundary=xyz\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"--xyz\r\n" + b"\x00" * 1024)
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    status_line, _, rest = reply.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


def make_account(server: LiveServer, username: str, *, staff: bool = False) -> Account:
    """A user, an API key, and sync/async SDK clients pointed at the live server."""
    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", "pw", is_staff=staff
    )
    _, key = ApiKey.objects.create_key(user, name="tests")
    return Account(
        user,
        key,
        openai.OpenAI(base_url=server.v1, api_key=key, max_retries=0, timeout=30),
        openai.AsyncOpenAI(base_url=server.v1, api_key=key, max_retries=0, timeout=30),
    )


@pytest.fixture
def alice(live_server_v1: LiveServer, live_db: TestProvider) -> Iterator[Account]:
    """A regular user with a key."""
    account = make_account(live_server_v1, "alice")
    yield account
    account.client.close()


@pytest.fixture
def bob(live_server_v1: LiveServer, live_db: TestProvider) -> Iterator[Account]:
    """Another regular user with a key."""
    account = make_account(live_server_v1, "bob")
    yield account
    account.client.close()


@pytest.fixture
def wav() -> bytes:
    """One second of a 440 Hz tone as WAV."""
    return make_wav(1.0)


def approved_consent(account: Account) -> VoiceConsent:
    """An approved consent owned by ``account`` (approved by a staff member)."""
    staff = get_user_model().objects.filter(is_staff=True).first()
    if staff is None:
        staff = get_user_model().objects.create_user("reviewer", "r@example.com", "pw")
        staff.is_staff = True
        staff.save()
    consent = services.submit_consent(
        account.user, name="Ada", recording=make_wav(2.0), language="en"
    )
    return services.approve_consent(consent, actor=staff)
