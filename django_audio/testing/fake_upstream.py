"""A fake OpenAI audio upstream on a local port, for tests and benchmarks.

:class:`FakeUpstream` serves :class:`~django_audio.testing.fake_app.FakeOpenAIApp` with
uvicorn on ``127.0.0.1`` and a free port in a background thread::

    with FakeUpstream(api_key="sk-test") as up:
        client = httpx.Client(base_url=up.url, headers={"Authorization": "Bearer sk-test"})
        up.fail(status=429, times=1, retry_after=1)
        ...
        assert up.requests[-1].path == "/v1/audio/transcriptions"

The fault API (``fail``, ``delay_first_byte``, ``cut_stream``, ``malformed``), ``pacing``,
``chunk_size``, ``speech_ignores_sse``, ``requests`` and ``reset()`` are the app's.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from . import payloads
from .fake_app import FakeOpenAIApp
from .records import RecordedRequest, UploadedFile

__all__ = ["FakeOpenAIApp", "FakeUpstream", "RecordedRequest", "UploadedFile", "fake_upstream"]


# --------------------------------------------------------------------------- the server


class FakeUpstream:
    """Serve a :class:`FakeOpenAIApp` with uvicorn on 127.0.0.1 in a background thread.

    Use it as a context manager (or ``start()``/``stop()``). ``url`` is the OpenAI base URL
    (``http://127.0.0.1:PORT/v1``), ``root_url`` the server root (for Azure paths). The
    fault API (``fail``, ``delay_first_byte``, ``cut_stream``, ``malformed``), ``pacing``,
    ``chunk_size``, ``speech_ignores_sse``, ``requests`` and ``reset()`` are the app's.
    """

    def __init__(
        self,
        api_key: str | None = "sk-test",
        *,
        pacing: float = 0.0,
        chunk_size: int = 4096,
        speech_ignores_sse: bool = False,
        transcript_text: str = payloads.DEFAULT_TRANSCRIPT,
        translation_text: str = payloads.DEFAULT_TRANSLATION,
        chat_reply: str = payloads.DEFAULT_CHAT_REPLY,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app = FakeOpenAIApp(
            api_key,
            pacing=pacing,
            chunk_size=chunk_size,
            speech_ignores_sse=speech_ignores_sse,
            transcript_text=transcript_text,
            translation_text=translation_text,
            chat_reply=chat_reply,
        )
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- lifecycle

    def start(self) -> FakeUpstream:
        """Bind a free port and serve until :meth:`stop`."""
        if self._thread is not None:
            return self
        try:  # the ``test`` extra; imported here so the bare app works without it
            import uvicorn
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "FakeUpstream needs uvicorn: pip install 'django-audio[test]'"
            ) from exc

        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # listener says TCP, and without it every response pays ~40 ms of delayed-ACK stall.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            loop="asyncio",
            timeout_graceful_shutdown=1,
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-openai", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The fake OpenAI upstream did not start.")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server, self._thread = None, None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------- addresses

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The OpenAI base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"{self.root_url}/v1"

    @property
    def api_key(self) -> str | None:
        """The key the fake expects (``None`` accepts any)."""
        return self.app.api_key

    @api_key.setter
    def api_key(self, value: str | None) -> None:
        self.app.api_key = value

    # ------------------------------------------------------------- delegated test API

    @property
    def pacing(self) -> float:
        """Seconds between SSE events / audio chunks."""
        return self.app.pacing

    @pacing.setter
    def pacing(self, value: float) -> None:
        self.app.pacing = value

    @property
    def chunk_size(self) -> int:
        """Bytes of audio per raw chunk or ``speech.audio.delta``."""
        return self.app.chunk_size

    @chunk_size.setter
    def chunk_size(self, value: int) -> None:
        self.app.chunk_size = value

    @property
    def speech_ignores_sse(self) -> bool:
        """Answer ``stream_format=sse`` with raw audio, like some compatible servers."""
        return self.app.speech_ignores_sse

    @speech_ignores_sse.setter
    def speech_ignores_sse(self, value: bool) -> None:
        self.app.speech_ignores_sse = value

    @property
    def transcript_text(self) -> str:
        """The text every transcription "hears"."""
        return self.app.transcript_text

    @transcript_text.setter
    def transcript_text(self, value: str) -> None:
        self.app.transcript_text = value

    @property
    def translation_text(self) -> str:
        """The text every translation returns."""
        return self.app.translation_text

    @translation_text.setter
    def translation_text(self, value: str) -> None:
        self.app.translation_text = value

    @property
    def chat_reply(self) -> str:
        """The start of every chat reply."""
        return self.app.chat_reply

    @chat_reply.setter
    def chat_reply(self, value: str) -> None:
        self.app.chat_reply = value

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last reset, oldest first."""
        return self.app.requests

    @property
    def last_request(self) -> RecordedRequest | None:
        """The most recent request, if any."""
        return self.app.last_request

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Recorded requests whose path contains ``path``."""
        return self.app.requests_to(path)

    @property
    def voices(self) -> dict[str, dict[str, Any]]:
        """Voices created so far, by id."""
        return self.app.voices

    @property
    def consents(self) -> dict[str, dict[str, Any]]:
        """Voice consents created so far, by id."""
        return self.app.consents

    def reset(self) -> None:
        """Forget requests, faults, voices and consents; restore the constructor options."""
        self.app.reset()

    def fail(
        self,
        status: int = 429,
        times: int = 1,
        path: str | None = None,
        retry_after: float | None = None,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        """Answer ``status`` with an OpenAI error body to the next ``times`` matching requests."""
        self.app.fail(status, times, path, retry_after, message, code)

    def delay_first_byte(self, seconds: float, times: int = 1, path: str | None = None) -> None:
        """Sleep ``seconds`` before sending the response headers of matching requests."""
        self.app.delay_first_byte(seconds, times, path)

    def cut_stream(self, after_events: int = 2, times: int = 1, path: str | None = None) -> None:
        """Close the connection after ``after_events`` SSE events / audio chunks."""
        self.app.cut_stream(after_events, times, path)

    def malformed(
        self, times: int = 1, path: str | None = None, kind: str = "json", after_events: int = 0
    ) -> None:
        """A 200 with a non-JSON body (``json``) or an SSE event with non-JSON data (``event``)."""
        self.app.malformed(times, path, kind, after_events)


@contextlib.contextmanager
def fake_upstream(**options: Any) -> Iterator[FakeUpstream]:
    """``with fake_upstream() as up:`` — a started :class:`FakeUpstream`, stopped on exit."""
    with FakeUpstream(**options) as up:
        yield up
