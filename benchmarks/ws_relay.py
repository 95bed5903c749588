"""Relay overhead of live captions, and server memory per websocket connection.

One command::

    .venv/bin/python benchmarks/ws_relay.py                # 10, 100 and 1000 sessions
    .venv/bin/python benchmarks/ws_relay.py --sessions 100 --events 30

What runs (all on this machine):

- an **upstream**: a minimal OpenAI-style SSE server (uvicorn, its own process) answering
  every streamed transcription with ``--events`` ``transcript.text.delta`` events spaced
  ``--interval`` ms apart, each carrying the wall-clock time it was written;
- **one server process** (uvicorn) running django-audio's consumers with the OpenAI
  provider pointed at that upstream;
- this process as the client: N caption sessions, each a speaker socket (sending one
  utterance of PCM) and a viewer socket (receiving through the per-process fan-out), and
  **in the same run** N clients reading the upstream's SSE directly.

For each delta, latency = time received - time the upstream wrote it. The relay overhead
is the websocket latency minus the direct-SSE latency, at p50 and p99. Every session's
events are checked for loss (all deltas present) and order (``seq`` strictly increasing,
deltas in upstream order). Memory is the server's RSS growth divided by the number of
sockets: *idle* once all sessions are connected and started, *active* at the peak while
the captions stream.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATE = 16000
#: Seconds a client waits for the next event before counting its stream as failed.
TIMEOUT = 120.0


# --------------------------------------------------------------------------- upstream


def upstream_app(events: int, interval: float) -> Any:
    """An ASGI app streaming timestamped transcription deltas for every POST."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:  # the upload is read and ignored
            message = await receive()
            more = message.get("more_body", False)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"x-request-id", b"bench")],
            }
        )
        for i in range(events):
            await asyncio.sleep(interval)
            delta = {"type": "transcript.text.delta", "delta": f" {i}:{time.time_ns()}"}
            body = f"data: {json.dumps(delta)}\n\n".encode()
            await send({"type": "http.response.body", "body": body, "more_body": True})
        done = {"type": "transcript.text.done", "text": "bench",
                "usage": {"type": "tokens", "input_tokens": 1, "output_tokens": 1,
                          "total_tokens": 2}}  # fmt: skip
        await send({"type": "http.response.body", "body": f"data: {json.dumps(done)}\n\n".encode()})

    return app


def run_upstream(port: int, events: int, interval: float) -> None:
    import uvicorn

    uvicorn.run(upstream_app(events, interval), host="127.0.0.1", port=port,
                log_level="warning", backlog=4096)  # fmt: skip


# --------------------------------------------------------------------------- measurement


@dataclass
class Stats:
    """Latencies in ms and integrity counters of one kind of client."""

    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    reordered: int = 0
    streams: int = 0
    errors: list[str] = field(default_factory=list)

    def pct(self, p: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return math.nan
        return data[min(len(data) - 1, max(0, math.ceil(p / 100 * len(data)) - 1))]


def _parse_delta(delta: str) -> tuple[int, int]:
    index, _, ns = delta.strip().partition(":")
    return int(index), int(ns)


def _check(indices: list[int], seqs: list[int], expected: int, stats: Stats) -> None:
    stats.streams += 1
    stats.lost += expected - len(set(indices))
    stats.reordered += sum(1 for a, b in itertools.pairwise(indices) if b <= a)
    stats.reordered += sum(1 for a, b in itertools.pairwise(seqs) if b <= a)


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def utterance_frames() -> list[bytes]:
    """One utterance: 0.2 s silence, 0.6 s tone, 0.8 s silence, in 100 ms frames."""
    from django_audio.testing.audio import tone_pcm

    pcm = tone_pcm(0.2, RATE, amplitude=0) + tone_pcm(0.6, RATE) + tone_pcm(0.8, RATE, amplitude=0)
    return [pcm[i : i + 3200] for i in range(0, len(pcm), 3200)]


# --------------------------------------------------------------------------- clients


class Session:
    """A speaker socket and a viewer socket on one caption session."""

    def __init__(self, ws_url: str, origin: str, token: str) -> None:
        self.ws_url, self.origin, self.token = ws_url, origin, token
        self.speaker: Any = None
        self.viewer: Any = None
        self.session_id = ""

    async def _connect(self, path: str) -> Any:
        from websockets.asyncio.client import connect

        return await connect(
            f"{self.ws_url}{path}?token={self.token}",
            origin=self.origin,  # type: ignore[arg-type]
            compression=None,
            ping_interval=None,
            max_size=None,
            open_timeout=120,
        )

    async def open(self) -> None:
        self.speaker = await self._connect("/ws/audio/captions/")
        await self.speaker.send(json.dumps({"type": "start", "sample_rate": RATE}))
        created = json.loads(await self.speaker.recv())
        self.session_id = created["session"]["id"]
        self.viewer = await self._connect(f"/ws/audio/captions/{self.session_id}/")
        while json.loads(await self.viewer.recv())["type"] != "session.state":
            pass

    async def speak(self, frames: list[bytes]) -> None:
        for frame in frames:
            await self.speaker.send(frame)

    async def collect(self, ws: Any, events: int, stats: Stats) -> None:
        indices: list[int] = []
        seqs: list[int] = []
        while True:
            message = await asyncio.wait_for(ws.recv(), TIMEOUT)
            now = time.time_ns()
            event = json.loads(message)
            seqs.append(event.get("seq", 0))
            if event["type"] == "transcript.text.delta":
                index, sent = _parse_delta(event["delta"])
                indices.append(index)
                stats.latencies.append((now - sent) / 1e6)
            elif event["type"] == "transcript.text.done":
                break
            elif event["type"] == "error":  # the utterance failed upstream: count it lost
                stats.errors.append(str(event["error"].get("code") or event["error"]["message"]))
                break
        _check(indices, seqs, events, stats)

    async def close(self) -> None:
        await self.speaker.send(json.dumps({"type": "stop"}))
        with contextlib.suppress(Exception):
            while json.loads(await asyncio.wait_for(self.speaker.recv(), 300))["type"] != (
                "session.ended"
            ):
                pass
        for ws in (self.viewer, self.speaker):
            with contextlib.suppress(Exception):
                await ws.close()


async def direct_sse(client: Any, url: str, events: int, stats: Stats) -> None:
    """Read the upstream's SSE directly (the baseline)."""
    indices: list[int] = []
    files = {"file": ("a.wav", b"RIFF0000WAVE", "audio/wav")}
    data = {"model": "gpt-4o-mini-transcribe", "stream": "true"}
    async with client.stream("POST", url, files=files, data=data) as response:
        async for line in response.aiter_lines():
            now = time.time_ns()
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event["type"] == "transcript.text.delta":
                index, sent = _parse_delta(event["delta"])
                indices.append(index)
                stats.latencies.append((now - sent) / 1e6)
    _check(indices, [], events, stats)


async def gather_limited(coros: list[Any], limit: int) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with sem:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


async def run_size(
    n: int, server: Any, upstream_url: str, token: str, events: int
) -> dict[str, Any]:
    import httpx

    frames = utterance_frames()
    pid = server.process.pid
    base = rss_kib(pid)
    sessions = [Session(server.ws_url, server.url, token) for _ in range(n)]
    opened = await gather_limited([s.open() for s in sessions], 50)
    failed = [repr(r) for r in opened if isinstance(r, BaseException)]
    sessions = [s for s, r in zip(sessions, opened, strict=True) if r is None]
    await asyncio.sleep(1.0)
    idle = rss_kib(pid)
    speaker, viewer, direct = Stats(), Stats(), Stats()
    peak = idle
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_kib(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        tasks = []
        for s in sessions:
            tasks.append(s.collect(s.speaker, events, speaker))
            tasks.append(s.collect(s.viewer, events, viewer))
        tasks += [
            direct_sse(client, f"{upstream_url}/audio/transcriptions", events, direct)
            for _ in range(n)
        ]
        collecting = asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(s.speak(frames) for s in sessions))
        for result in await collecting:
            if isinstance(result, BaseException):
                failed.append(repr(result))
    stop.set()
    await sampler
    await gather_limited([s.close() for s in sessions], 100)
    sockets = 2 * n
    return {
        "sessions": n,
        "speaker": speaker,
        "viewer": viewer,
        "direct": direct,
        "idle_kib": (idle - base) / sockets,
        "active_kib": (peak - base) / sockets,
        "failed": failed,
    }


def report(rows: list[dict[str, Any]], events: int, interval: float, layer: str) -> None:
    print(
        f"\nrelay overhead ({events} deltas per stream, {interval * 1000:.0f} ms apart, "
        f"channel layer: {layer}); ms"
    )
    head = (
        f"{'sessions':>8} | {'direct SSE p50/p99':>18} | {'speaker ws p50/p99':>18} | "
        f"{'viewer ws p50/p99':>18} | {'added p50/p99 (spk)':>19} | {'added p50/p99 (view)':>20}"
        f" | {'lost':>4} | {'reord':>5} | {'idle KiB/sock':>13} | {'active KiB/sock':>15}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        d, s, v = r["direct"], r["speaker"], r["viewer"]

        def pair(a: float, b: float) -> str:
            return f"{a:8.2f} /{b:8.2f}"

        if r["failed"]:
            print(f"  failed sockets: {len(r['failed'])}, e.g. {r['failed'][0][:200]}")
        for kind, stats in (("speaker", s), ("viewer", v), ("direct", d)):
            if stats.errors:
                print(f"  {kind} errors: {sorted(set(stats.errors))} x{len(stats.errors)}")
        lost = s.lost + v.lost + d.lost
        reordered = s.reordered + v.reordered + d.reordered
        print(
            f"{r['sessions']:>8} | {pair(d.pct(50), d.pct(99)):>18} | "
            f"{pair(s.pct(50), s.pct(99)):>18} | {pair(v.pct(50), v.pct(99)):>18} | "
            f"{pair(s.pct(50) - d.pct(50), s.pct(99) - d.pct(99)):>19} | "
            f"{pair(v.pct(50) - d.pct(50), v.pct(99) - d.pct(99)):>20} | {lost:>4} | "
            f"{reordered:>5} | {r['idle_kib']:>13.1f} | {r['active_kib']:>15.1f}"
        )
    print(
        "\nlatency = client receive time - upstream write time (same clock); added = websocket"
        " - direct SSE, same run.\nspeaker: the speaker's own socket; viewer: a second socket"
        " fed by the per-process fan-out (relay.py; on the speaker's process here)."
        "\nmemory: server RSS growth / sockets"
        " (2 per session); active = peak while streaming. Samples: "
        + ", ".join(f"{r['sessions']}: {len(r['viewer'].latencies)}" for r in rows)
    )


async def main_async(args: argparse.Namespace) -> None:
    from tests.serve.harness import Server, free_port, prepare, server_env

    tmp = Path(tempfile.mkdtemp(prefix="ws-relay-"))
    up_port = free_port()
    upstream_url = f"http://127.0.0.1:{up_port}/v1"
    upstream = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--upstream", str(up_port), "--events", str(args.events),
        "--interval", str(args.interval),
    )  # fmt: skip
    env = server_env(
        tmp,
        DJANGO_AUDIO_SERVE_PROVIDER="openai",
        DJANGO_AUDIO_SERVE_UPSTREAM=upstream_url,
        DJANGO_AUDIO_SERVE_MAX_SESSIONS="1000000",
        DJANGO_AUDIO_SERVE_TOKEN_MAX_AGE="86400",  # one token for every connection of the run
    )
    env.pop("DJANGO_AUDIO_TEST_REDIS", None)
    if args.redis:  # channels_redis, as in production; else the in-memory layer
        env["DJANGO_AUDIO_TEST_REDIS"] = args.redis
    rows = []
    try:
        key = prepare(env)
        # No server pings: under saturation a late pong must not end a measured connection.
        server_args = ("--ws-ping-interval", "0")
        with Server(env, tmp / "server.log", kind="uvicorn", args=server_args) as server:
            import httpx

            async with httpx.AsyncClient() as client:
                response = await client.post(
                    f"{server.url}/audio/ws-token/", headers={"Authorization": f"Bearer {key}"}
                )
            token = response.json()["token"]
            for n in args.sessions:
                started = time.monotonic()
                rows.append(await run_size(n, server, upstream_url, token, args.events))
                print(f"{n} sessions done in {time.monotonic() - started:.1f} s", flush=True)
    finally:
        upstream.terminate()
        await upstream.wait()
    report(rows, args.events, args.interval / 1000, "redis" if args.redis else "in-memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="10,100,1000",
                        type=lambda s: [int(x) for x in s.split(",")])  # fmt: skip
    parser.add_argument("--events", type=int, default=20, help="deltas per upstream stream")
    parser.add_argument("--interval", type=float, default=100.0, help="ms between deltas")
    parser.add_argument(
        "--redis", metavar="URL", help="use channels_redis at URL (default: in-memory layer)"
    )
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        run_upstream(args.upstream, args.events, args.interval / 1000)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
