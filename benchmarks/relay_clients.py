"""The measuring clients of ``ws_relay.py``: websocket and SSE readers that time on arrival.

Both kinds are plain :class:`asyncio.Protocol` objects that parse what they receive in
``data_received`` and take its time there: a websocket message (websockets' sans-I/O
protocol) or an SSE event (h11) is timed as its bytes arrive, with no task switch, queue or
timer in between. So the instrument adds as little as it can, and the same on both sides of
the comparison; and the clients, which stand for other machines, take as little as they can
of the CPU that the server shares with them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import h11
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.typing import Origin
from websockets.uri import parse_uri

__all__ = ["SseClient", "Stats", "Stream", "WsClient", "multipart", "percentile"]


@dataclass
class Stats:
    """Latencies in ms and integrity counters of one kind of client."""

    latencies: list[float] = field(default_factory=list)
    #: The upstream's write time (ns) of each latency: it identifies the event of a pair.
    sent: list[int] = field(default_factory=list)
    lost: int = 0
    reordered: int = 0
    streams: int = 0
    errors: list[str] = field(default_factory=list)

    def pct(self, p: float) -> float:
        return percentile(self.latencies, p)

    def record(self, sent: int, now: int) -> None:
        self.sent.append(sent)
        self.latencies.append((now - sent) / 1e6)

    def paired(self, baseline: Stats) -> list[float]:
        """Per event: this client's latency minus the baseline's for the same event."""
        direct = dict(zip(baseline.sent, baseline.latencies, strict=True))
        return [
            latency - direct[sent]
            for sent, latency in zip(self.sent, self.latencies, strict=True)
            if sent in direct
        ]


def percentile(values: list[float], p: float) -> float:
    data = sorted(values)
    if not data:
        return math.nan
    return data[min(len(data) - 1, max(0, math.ceil(p / 100 * len(data)) - 1))]


class Stream:
    """One stream of caption (or SSE) events being timed: feed it events as they arrive."""

    def __init__(self, events: int, stats: Stats, timed: bool = True) -> None:
        self.events, self.stats = events, stats
        #: An untimed stream is still checked for loss and order, but adds no latencies.
        self.timed = timed
        self.indices: list[int] = []
        self.seqs: list[int] = []
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def feed(self, event: dict[str, Any], now: int) -> None:
        """Time one event received at ``now`` (ns); the final one completes the stream."""
        if self.done.done():
            return
        if "seq" in event:
            self.seqs.append(event["seq"])
        kind = event.get("type")
        if kind == "transcript.text.delta":
            index, _, sent = event["delta"].strip().partition(":")
            self.indices.append(int(index))
            if self.timed:
                self.stats.record(int(sent), now)
        elif kind == "error":  # the utterance failed upstream: what is missing counts lost
            self.stats.errors.append(str(event["error"].get("code") or event["error"]["message"]))
            self.finish()
        elif kind == "transcript.text.done":
            self.finish()

    def finish(self) -> None:
        """Count losses and reorderings; the stream is complete."""
        if self.done.done():
            return
        stats = self.stats
        stats.streams += 1
        stats.lost += self.events - len(set(self.indices))
        stats.reordered += sum(1 for a, b in itertools.pairwise(self.indices) if b <= a)
        stats.reordered += sum(1 for a, b in itertools.pairwise(self.seqs) if b <= a)
        self.done.set_result(None)


class WsClient(asyncio.Protocol):
    """A websocket client on websockets' sans-I/O protocol, timing messages on arrival.

    Messages go to :attr:`stream` while one is set, else to :meth:`recv`'s inbox.
    """

    def __init__(self, url: str, origin: str) -> None:
        self.protocol = ClientProtocol(parse_uri(url), origin=Origin(origin), max_size=None)
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        #: Events no stream took, each with its arrival time (ns); ``None`` once closed.
        self.inbox: asyncio.Queue[tuple[dict[str, Any], int] | None] = asyncio.Queue()
        self.stream: Stream | None = None

    @classmethod
    async def connect(cls, url: str, origin: str) -> WsClient:
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(
            lambda: cls(url, origin), parts.hostname, parts.port
        )
        await asyncio.wait_for(client.opened, 120)
        return client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's: not a subclass
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        self.protocol.receive_data(data)
        for item in self.protocol.events_received():
            if isinstance(item, Response):
                if self.protocol.handshake_exc is not None:
                    self.opened.set_exception(self.protocol.handshake_exc)
                else:
                    self.opened.set_result(None)
            elif item.opcode is Opcode.TEXT:
                event = json.loads(item.data)
                if self.stream is not None and not self.stream.done.done():
                    self.stream.feed(event, now)
                else:
                    self.inbox.put_nowait((event, now))
        self._flush()  # pongs, close replies

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if self.stream is not None and not self.stream.done.done():
            self.stream.stats.errors.append("connection lost")
            self.stream.finish()
        self.inbox.put_nowait(None)

    def _flush(self) -> None:
        data = self.protocol.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(data))

    def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self._flush()

    def send_bytes(self, data: bytes) -> None:
        self.protocol.send_binary(data)
        self._flush()

    async def recv(self) -> dict[str, Any]:
        """The next event not taken by a stream; ``ConnectionError`` once closed."""
        item = await self.inbox.get()
        if item is None:
            self.inbox.put_nowait(None)
            raise ConnectionError("the websocket is closed")
        return item[0]

    async def time_stream(self, events: int, stats: Stats, timed: bool = True) -> None:
        """Time every event up to the stream's final one (later ones wait in the inbox)."""
        self.stream = stream = Stream(events, stats, timed)
        while not self.inbox.empty():  # anything that came before, timed on its arrival
            queued = self.inbox.get_nowait()
            if queued is None:
                self.inbox.put_nowait(None)
                break
            stream.feed(*queued)
        try:
            await stream.done
        finally:
            self.stream = None

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.protocol.send_close()
            self._flush()
            self.transport.close()


class SseClient(asyncio.Protocol):
    """A plain HTTP/1.1 client (h11) reading an SSE response, timing events on arrival."""

    def __init__(self) -> None:
        self.connection = h11.Connection(h11.CLIENT)
        self.transport: asyncio.Transport | None = None
        self.stream: Stream | None = None
        self.buffer = b""
        self.response_done: asyncio.Future[int] | None = None
        self.status = 0

    @classmethod
    async def connect(cls, host: str, port: int) -> SseClient:
        _, client = await asyncio.get_running_loop().create_connection(cls, host, port)
        return client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's: not a subclass

    async def request(self, method: str, target: str, body: bytes = b"", **headers: str) -> int:
        """Send a request and wait for the whole response; returns its status."""
        assert self.transport is not None
        if self.connection.our_state is h11.DONE:
            self.connection.start_next_cycle()
        self.response_done = asyncio.get_running_loop().create_future()
        head = [("host", "upstream"), ("content-length", str(len(body)))]
        head += [(name.replace("_", "-"), value) for name, value in headers.items()]
        out = self.connection.send(h11.Request(method=method, target=target, headers=head))
        out += self.connection.send(h11.Data(data=body)) if body else b""
        out += self.connection.send(h11.EndOfMessage())
        self.transport.write(out)
        return await self.response_done

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        self.connection.receive_data(data)
        while True:
            event = self.connection.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self.status = event.status_code
            elif isinstance(event, h11.Data):
                self._sse(bytes(event.data), now)
            elif isinstance(event, h11.EndOfMessage):
                if self.stream is not None:
                    self.stream.finish()
                if self.response_done is not None and not self.response_done.done():
                    self.response_done.set_result(self.status)

    def _sse(self, data: bytes, now: int) -> None:
        self.buffer += data
        *frames, self.buffer = self.buffer.split(b"\n\n")
        for frame in frames:
            for line in frame.split(b"\n"):
                if line.startswith(b"data: ") and self.stream is not None:
                    self.stream.feed(json.loads(line[6:]), now)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.response_done is not None and not self.response_done.done():
            self.response_done.set_exception(exc or ConnectionError("the upstream closed"))

    async def time_stream(
        self,
        target: str,
        body: bytes,
        content_type: str,
        events: int,
        stats: Stats,
        timed: bool = True,
    ) -> None:
        """POST ``body``, then time every event of the SSE response."""
        self.stream = stream = Stream(events, stats, timed)
        self.buffer = b""
        await self.request("POST", target, body, content_type=content_type)
        stream.finish()  # no-op if complete; else what is missing counts lost

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def multipart(fields: dict[str, str], file: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body of ``fields`` and one WAV ``file``; returns body, type."""
    boundary = "relaybenchmarkboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n".encode()
        + file
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
