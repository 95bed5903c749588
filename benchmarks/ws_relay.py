"""Relay overhead of live captions, and server memory per websocket connection.

One command::

    .venv/bin/python benchmarks/ws_relay.py     # 10 and 100 live sessions, 1000 flooded
    .venv/bin/python benchmarks/ws_relay.py --sessions 100 --repeat 3 --flood 0
    .venv/bin/python benchmarks/ws_relay.py --sessions 100 --lockstep   # worst case
    .venv/bin/python benchmarks/ws_relay.py --sessions 100 --burst --utterances 1  # old shape

What runs (all on this machine):

- an **upstream**: a minimal OpenAI-style SSE server (uvicorn, its own process) answering
  every streamed transcription with ``--events`` ``transcript.text.delta`` events spaced
  ``--interval`` ms apart, each carrying the wall-clock time it was written;
- **one server process** (uvicorn) running django-audio's consumers with the OpenAI
  provider pointed at that upstream;
- the clients, in three processes of their own (as real viewers sit in their own browsers,
  and so that one kind of client never waits while another is being handled): N speaker
  sockets (each talking live, in this process), N viewer sockets on the
  same sessions (fed through the per-process fan-out), and **in the same run** N clients
  reading the upstream's SSE directly (the baseline), each with a connection of its own
  opened beforehand. Every client times a message as its bytes arrive, in its protocol's
  ``data_received`` (``relay_clients.py``); the clients run on uvloop when it is installed,
  with the garbage collector off.

**Pairs.** Each session's stream is paired with one direct reader's: the speaker sends a
pair key as its ``prompt``, the direct reader sends the same key, and the upstream writes
every delta to both streams back to back with one timestamp. The websocket clients and the
baseline thus time the very same events, under the very same load.

**Live speech.** Every speaker sends its microphone's 100 ms PCM frames in real time,
``--utterances`` utterances back to back, each as long as its transcript's stream, so every
session streams all along; each session's first and last utterance are untimed (the other
sessions are still starting, or already done). An untimed round of ``--warmup`` sessions
runs first, so that the server's first use (imports, connection pools) is not timed. The
sessions start spread evenly over one utterance, as independent speakers would, so their
upstream streams are out of phase; ``--lockstep`` starts them all at once (the worst case).
``--burst`` sends each utterance at once and starts the sessions within one delta interval
(the shape of earlier versions). Last, ``--flood`` sessions (1,000) run in that burst shape,
one utterance each: more than one process keeps up with, checked for loss and order.

The server tunes its garbage collector with ``tune_gc()``, as the example project does;
``--default-gc`` leaves CPython's thresholds.

``--pin`` gives the server process a CPU of its own (the first) and runs the upstream and
the clients on the others, as in production, where the clients are other machines; without
it every process shares every CPU, and on a small machine the clients' own work then shows
up in the server's latency.

For each delta, latency = time received - time the upstream wrote it. The relay overhead
is the websocket latency minus the direct-SSE latency, at p50 and p99. Every session's
events are checked for loss (all deltas present) and order (``seq`` strictly increasing,
deltas in upstream order). Memory is the server's RSS growth divided by the number of
sockets: *idle* once all sessions are connected and started, *active* at the peak while
the captions stream. Server CPU is its user and system time over the streaming part, as a
share of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import itertools
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from relay_clients import SseClient, Stats, WsClient, multipart, percentile  # noqa: E402

RATE = 16000
#: Seconds a client waits for its whole stream before counting it as failed.
TIMEOUT = 300.0
#: Numbers the rounds of a run, for unique pair keys.
RUNS = itertools.count()


# --------------------------------------------------------------------------- upstream


#: A pair key in an upload's ``prompt`` field (see :func:`upstream_app`).
PAIR = re.compile(rb'name="prompt"\r\n\r\n(pair-[\w-]+)')
#: Seconds a stream waits for its partner before streaming alone.
PAIR_TIMEOUT = 60.0


def upstream_app(events: int, interval: float) -> Any:
    """An ASGI app streaming timestamped transcription deltas for every POST.

    Streams come in **pairs**: the server's request for a session (its ``prompt`` is
    ``pair-<key>``, set by the speaker) and the direct reader's request with the same key.
    Each delta is written to both streams back to back, with one timestamp, so a websocket
    client and its baseline time the very same events under the very same load. (The order
    of the two writes alternates, so neither side always goes first.)
    """
    waiting: dict[bytes, tuple[Any, asyncio.Event]] = {}

    async def stream(sends: list[Any]) -> None:
        for i in range(events):
            await asyncio.sleep(interval)
            delta = {"type": "transcript.text.delta", "delta": f" {i}:{time.time_ns()}"}
            body = f"data: {json.dumps(delta)}\n\n".encode()
            for send in sends if i % 2 else reversed(sends):
                await send({"type": "http.response.body", "body": body, "more_body": True})
        done = {"type": "transcript.text.done", "text": "bench",
                "usage": {"type": "tokens", "input_tokens": 1, "output_tokens": 1,
                          "total_tokens": 2}}  # fmt: skip
        end = f"data: {json.dumps(done)}\n\n".encode()
        for send in sends:
            await send({"type": "http.response.body", "body": end})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["method"] == "GET":  # a warm-up request: no stream
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"x-request-id", b"bench")],
            }
        )
        match = PAIR.search(body)
        if match is None:
            await stream([send])
        elif (partner := waiting.pop(match[1], None)) is not None:
            partner_send, streamed = partner
            try:
                await stream([partner_send, send])
            finally:
                streamed.set()
        else:
            streamed = asyncio.Event()
            waiting[match[1]] = (send, streamed)
            try:
                await asyncio.wait_for(streamed.wait(), PAIR_TIMEOUT)
            except TimeoutError:  # the partner never came: stream alone
                if waiting.pop(match[1], None) is not None:
                    await stream([send])
                else:
                    await streamed.wait()

    return app


def run_upstream(port: int, events: int, interval: float) -> None:
    import uvicorn

    # Idle connections are kept a minute (uvicorn's 5 s is httpx's keep-alive expiry too:
    # the two would race, and a request sent on a connection being closed fails).
    uvicorn.run(upstream_app(events, interval), host="127.0.0.1", port=port,
                log_level="warning", backlog=4096, timeout_keep_alive=60)  # fmt: skip


# --------------------------------------------------------------------------- measurement


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


#: Seconds of audio per frame, as the JS client's microphone capture sends them.
FRAME_SECONDS = 0.1


def utterance_frames(tone: float) -> list[bytes]:
    """One utterance: 0.2 s silence, ``tone`` s of tone, 0.8 s silence, in 100 ms frames."""
    from django_audio.testing.audio import tone_pcm

    pcm = tone_pcm(0.2, RATE, amplitude=0) + tone_pcm(tone, RATE) + tone_pcm(0.8, RATE, amplitude=0)
    step = int(RATE * FRAME_SECONDS) * 2
    return [pcm[i : i + step] for i in range(0, len(pcm), step)]


@dataclasses.dataclass(frozen=True)
class Speech:
    """How every speaker talks: ``utterances`` of ``frames``, live or all at once."""

    frames: list[bytes]
    utterances: int
    #: Frames sent as a microphone produces them (one every 100 ms), or each utterance at once.
    realtime: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Speech:
        if args.burst:  # the shape of earlier runs: short utterances, each sent at once
            return cls.burst(args.utterances)
        # Audio as long as its transcript's stream, so each session streams all along.
        tone = max(0.3, args.events * args.interval / 1000 - 1.0)
        return cls(utterance_frames(tone), args.utterances, realtime=True)

    @classmethod
    def burst(cls, utterances: int = 1) -> Speech:
        """Short utterances (1.6 s), each sent at once: the overload check's shape."""
        return cls(utterance_frames(0.6), utterances, realtime=False)

    @property
    def period(self) -> float:
        """Seconds of audio in one utterance."""
        return len(self.frames) * FRAME_SECONDS


def timed(utterance: int, utterances: int) -> bool:
    """Whether utterance ``utterance`` (from 0) of each session is timed.

    Of three or more, each session's first and last are not: while they stream, the other
    sessions are still starting or already finishing, so fewer than N are live.
    """
    return utterances < 3 or 0 < utterance < utterances - 1


# --------------------------------------------------------------------------- clients


def ws_url(base: str, path: str, token: str) -> str:
    return f"{base}{path}?token={token}"


class Session:
    """The speaker's socket of one caption session (its viewer is in another process)."""

    def __init__(self, ws_url: str, origin: str, token: str, pair: str) -> None:
        self.ws_url, self.origin, self.token = ws_url, origin, token
        #: Sent as the prompt: the upstream pairs this session's stream with a direct one.
        self.pair = pair
        self.speaker: WsClient | None = None
        self.session_id = ""

    async def open(self) -> None:
        url = ws_url(self.ws_url, "/ws/audio/captions/", self.token)
        self.speaker = speaker = await WsClient.connect(url, self.origin)
        speaker.send_text(json.dumps({"type": "start", "sample_rate": RATE, "prompt": self.pair}))
        created = await speaker.recv()
        self.session_id = created["session"]["id"]

    async def speak(self, speech: Speech, delay: float = 0.0) -> None:
        """Send every utterance; live, each frame when its 100 ms of audio are over."""
        assert self.speaker is not None
        loop = asyncio.get_running_loop()
        start = loop.time() + delay
        for k in range(speech.utterances):
            for j, frame in enumerate(speech.frames):
                offset = k * speech.period + ((j + 1) * FRAME_SECONDS if speech.realtime else 0)
                if (wait := start + offset - loop.time()) > 0:
                    await asyncio.sleep(wait)
                self.speaker.send_bytes(frame)

    async def time_streams(self, events: int, stats: Stats, utterances: int) -> None:
        """Time the transcript of every utterance on the speaker's socket."""
        assert self.speaker is not None
        await time_ws(self.speaker, events, stats, utterances)

    async def close(self) -> None:
        speaker = self.speaker
        assert speaker is not None
        speaker.send_text(json.dumps({"type": "stop"}))
        with contextlib.suppress(Exception):
            async with asyncio.timeout(300):
                while (await speaker.recv())["type"] != "session.ended":
                    pass
        speaker.close()


async def open_viewer(config: dict[str, Any], session_id: str) -> WsClient:
    """A viewer socket on ``session_id``, past its ``session.state``."""
    url = ws_url(config["ws_url"], f"/ws/audio/captions/{session_id}/", config["token"])
    ws = await WsClient.connect(url, config["origin"])
    while (await ws.recv())["type"] != "session.state":
        pass
    return ws


async def direct_sse(
    client: SseClient, path: str, events: int, stats: Stats, pair: str, utterances: int
) -> None:
    """Read the upstream's SSE directly (the baseline), paired with session ``pair``.

    One request per utterance, each sent as soon as the last ends: the upstream holds it
    until the session's request for the same utterance arrives, then streams both.
    """
    fields = {"model": "gpt-4o-mini-transcribe", "stream": "true", "prompt": pair}
    body, content_type = multipart(fields, b"RIFF0000WAVE")
    for k in range(utterances):
        await client.time_stream(path, body, content_type, events, stats, timed(k, utterances))


async def time_ws(ws: WsClient, events: int, stats: Stats, utterances: int) -> None:
    """Time the transcript of every utterance on a caption socket."""
    for k in range(utterances):
        await ws.time_stream(events, stats, timed(k, utterances))


async def gather_limited(coros: list[Any], limit: int) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with sem:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


def start_delays(n: int, spread: float, lockstep: bool) -> list[float]:
    """When each of ``n`` sessions starts speaking: spread evenly over ``spread`` seconds.

    Independent speakers do not talk in step, so their utterances end (and their upstream
    streams start) spread out; ``lockstep`` starts every session at once instead (the worst
    case: every session's utterance, stream and deltas arrive in the same bursts).
    """
    return [0.0 if lockstep else i * spread / n for i in range(n)]


class ClientProcess:
    """Viewers or direct readers, timed in a process of their own.

    Each kind of client reads in its own process, as real viewers sit in their own browsers:
    in one process, a viewer's message would wait while the speaker's copy of the same event
    is being handled, and the benchmark would time itself rather than the relay.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, role: str, config: dict[str, Any]) -> ClientProcess:
        """Start the process; returns once its sockets are open and it is reading them."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--client", role,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**26,
        )  # fmt: skip
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(config).encode() + b"\n")
        await process.stdin.drain()
        if (await process.stdout.readline()).strip() != b"ready":
            raise RuntimeError(f"the {role} client process did not start")
        return cls(process)

    def go(self) -> None:
        """Tell the process the sessions start speaking now."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")

    async def result(self) -> tuple[Stats, list[str]]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if await self.process.wait() or not line:
            raise RuntimeError(f"a client process failed (exit code {self.process.returncode})")
        data = json.loads(line)
        return Stats(**data["stats"]), data["failed"]


async def client_role(role: str) -> None:
    """The body of a :class:`ClientProcess`: JSON config in, ``ready``, ``go``, JSON out."""
    loop = asyncio.get_running_loop()
    config = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    events, utterances, stats, failed = config["events"], config["utterances"], Stats(), []
    clients: list[WsClient | SseClient] = []
    if role == "viewers":
        opened = await gather_limited([open_viewer(config, sid) for sid in config["sessions"]], 50)
        failed += [repr(r) for r in opened if isinstance(r, BaseException)]
        viewers = [ws for ws in opened if not isinstance(ws, BaseException)]
        clients += viewers
        collecting = asyncio.gather(
            *(asyncio.wait_for(time_ws(ws, events, stats, utterances), TIMEOUT)
              for ws in viewers),
            return_exceptions=True,
        )  # fmt: skip
        print("ready", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
    else:
        # One connection per reader, as each would be on its own, opened now (a request
        # answered with 204) so that the timed streams do not wait for TCP handshakes.
        upstream = urlsplit(config["upstream_url"])
        assert upstream.hostname is not None
        assert upstream.port is not None
        path = f"{upstream.path}/audio/transcriptions"
        readers = [await SseClient.connect(upstream.hostname, upstream.port)
                   for _ in config["pairs"]]  # fmt: skip
        clients += readers
        await asyncio.gather(*(r.request("GET", path) for r in readers))
        print("ready", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        collecting = asyncio.gather(
            *(
                asyncio.wait_for(direct_sse(r, path, events, stats, pair, utterances), TIMEOUT)
                for r, pair in zip(readers, config["pairs"], strict=True)
            ),
            return_exceptions=True,
        )
    failed += [repr(r) for r in await collecting if isinstance(r, BaseException)]
    for client in clients:
        client.close()
    print(json.dumps({"stats": dataclasses.asdict(stats), "failed": failed}), flush=True)


def summary(rows: list[dict[str, Any]]) -> None:
    """Per number of sessions: the median, lowest and highest added latency over the runs."""
    print("\nover the runs, added ms: median (lowest - highest)")
    for n, shape in sorted({(r["sessions"], r["shape"]) for r in rows}):
        runs = [r for r in rows if r["sessions"] == n and r["shape"] == shape]
        if len(runs) < 2:
            continue
        print(f"{n:>8} sessions, {len(runs)} runs:")
        for kind in ("speaker", "viewer"):
            cells = []
            for p in (50, 99):
                cells.append(spread(f"p{p}", [r[kind].pct(p) - r["direct"].pct(p) for r in runs]))
            for p in (50, 99):
                per_event = [percentile(r[kind].paired(r["direct"]), p) for r in runs]
                cells.append(spread(f"per event p{p}", per_event))
            print(f"  {kind:>7}: " + "; ".join(cells))


def spread(label: str, values: list[float]) -> str:
    values = sorted(values)
    return f"{label} {statistics.median(values):.2f} ({values[0]:.2f} - {values[-1]:.2f})"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time process ``pid`` has used, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_size(
    n: int,
    server: Any,
    upstream_url: str,
    token: str,
    args: argparse.Namespace,
    speech: Speech,
) -> dict[str, Any]:
    events = args.events
    pid = server.process.pid
    base = rss_kib(pid)
    run = next(RUNS)
    sessions = [Session(server.ws_url, server.url, token, f"pair-{run}-{i}") for i in range(n)]
    opened = await gather_limited([s.open() for s in sessions], 50)
    failed = [repr(r) for r in opened if isinstance(r, BaseException)]
    sessions = [s for s, r in zip(sessions, opened, strict=True) if r is None]
    spread = speech.period if speech.realtime else args.interval / 1000
    delays = start_delays(len(sessions), spread, args.lockstep)
    common = {"ws_url": server.ws_url, "origin": server.url, "token": token, "events": events,
              "utterances": speech.utterances}  # fmt: skip
    viewers = await ClientProcess.start(
        "viewers", {**common, "sessions": [s.session_id for s in sessions]}
    )
    direct = await ClientProcess.start("direct", {**common, "upstream_url": upstream_url,
                                                  "pairs": [s.pair for s in sessions]})  # fmt: skip
    await asyncio.sleep(1.0)
    idle = rss_kib(pid)
    speaker = Stats()
    peak = idle
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_kib(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    cpu, started = cpu_seconds(pid), time.monotonic()
    collecting = asyncio.gather(
        *(
            asyncio.wait_for(s.time_streams(events, speaker, speech.utterances), TIMEOUT)
            for s in sessions
            if s.speaker
        ),
        return_exceptions=True,
    )
    viewers.go()
    direct.go()
    await asyncio.gather(*(s.speak(speech, d) for s, d in zip(sessions, delays, strict=True)))
    failed += [repr(r) for r in await collecting if isinstance(r, BaseException)]
    (viewer, viewer_failed), (direct_stats, direct_failed) = (
        await viewers.result(),
        await direct.result(),
    )
    failed += viewer_failed + direct_failed
    cpu = (cpu_seconds(pid) - cpu) / (time.monotonic() - started)
    stop.set()
    await sampler
    await gather_limited([s.close() for s in sessions], 100)
    sockets = 2 * n
    return {
        "sessions": n,
        "shape": "live" if speech.realtime else "burst",
        "cpu": cpu,
        "speaker": speaker,
        "viewer": viewer,
        "direct": direct_stats,
        "idle_kib": (idle - base) / sockets,
        "active_kib": (peak - base) / sockets,
        "failed": failed,
    }


def report(rows: list[dict[str, Any]], args: argparse.Namespace, layer: str) -> None:
    speech = Speech.from_args(args)
    spread = "one interval" if args.burst else f"one utterance ({speech.period:.1f} s)"
    starts = "all at once" if args.lockstep else f"spread over {spread}"
    talk = "sent at once" if args.burst else "sent live, 100 ms frames"
    cpus = "server on a CPU of its own" if args.pin else "all processes share all CPUs"
    cpus += "; server GC: CPython's defaults" if args.default_gc else "; server GC: tune_gc()"
    untimed = "" if timed(0, speech.utterances) else ", each session's first and last untimed"
    print(
        f"\nrelay overhead ({speech.utterances} utterance(s) per session, {talk}{untimed}; "
        f"{args.events} deltas per stream, {args.interval:.0f} ms apart; sessions started "
        f"{starts}; channel layer: {layer}; {cpus}); ms"
    )
    head = (
        f"{'sessions':>8} | {'direct SSE p50/p99':>18} | {'speaker ws p50/p99':>18} | "
        f"{'viewer ws p50/p99':>18} | {'added p50/p99 (spk)':>19} | {'added p50/p99 (view)':>20}"
        f" | {'per event (spk)':>17} | {'per event (view)':>17}"
        f" | {'lost':>4} | {'reord':>5} | {'idle KiB/sock':>13} | {'active KiB/sock':>15}"
        f" | {'server CPU':>10}"
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
        ps, pv = s.paired(d), v.paired(d)
        flood = r["shape"] == "burst" and not args.burst
        label = f"{r['sessions']} burst" if flood else str(r["sessions"])
        print(
            f"{label:>8} | {pair(d.pct(50), d.pct(99)):>18} | "
            f"{pair(s.pct(50), s.pct(99)):>18} | {pair(v.pct(50), v.pct(99)):>18} | "
            f"{pair(s.pct(50) - d.pct(50), s.pct(99) - d.pct(99)):>19} | "
            f"{pair(v.pct(50) - d.pct(50), v.pct(99) - d.pct(99)):>20} | "
            f"{pair(percentile(ps, 50), percentile(ps, 99)):>17} | "
            f"{pair(percentile(pv, 50), percentile(pv, 99)):>17} | {lost:>4} | "
            f"{reordered:>5} | {r['idle_kib']:>13.1f} | {r['active_kib']:>15.1f}"
            f" | {r['cpu']:>9.0%}"
        )
    print(
        "\nlatency = client receive time - upstream write time (same clock); added = websocket"
        " - direct SSE, same run; per event = websocket - direct SSE latency of the same"
        " event (its pair), p50 / p99 of those differences."
        "\nN burst: the overload check (--flood): one 1.6 s utterance per session, sent at"
        " once, the sessions started within one delta interval; every event must arrive, in"
        " order. server CPU: of one core, while streaming."
        "\nspeaker: the speaker's own socket; viewer: a second socket fed by the per-process"
        " fan-out (relay.py; on the speaker's process here)."
        "\nclients: speakers, viewers and direct readers each read in a process of their own;"
        " each session's stream and one direct reader's get the same deltas (pairs)."
        "\nmemory: server RSS growth / sockets"
        " (2 per session); active = peak while streaming. Samples: "
        + ", ".join(f"{r['sessions']}: {len(r['viewer'].latencies)}" for r in rows)
    )


def pin_server(server: int, upstream: int) -> None:
    """Give the server (every thread) the first CPU, and the rest to the other processes.

    The client processes, started later by this one, inherit its CPUs.
    """
    cpus = sorted(os.sched_getaffinity(0))
    for pid, allowed in (
        (server, {cpus[0]}),
        (upstream, set(cpus[1:])),
        (os.getpid(), set(cpus[1:])),
    ):
        for task in Path(f"/proc/{pid}/task").iterdir():
            os.sched_setaffinity(int(task.name), allowed)


async def main_async(args: argparse.Namespace) -> None:
    from tests.serve.harness import Server, free_port, prepare, server_env

    if args.pin and len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("--pin needs at least two CPUs")
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
    if args.default_gc:  # else the server tunes its collector, as the example project does
        env["DJANGO_AUDIO_SERVE_GC"] = "default"
    if args.redis:  # channels_redis, as in production; else the in-memory layer
        env["DJANGO_AUDIO_TEST_REDIS"] = args.redis
    rows = []
    try:
        key = prepare(env)
        # No server pings: under saturation a late pong must not end a measured connection.
        server_args = ("--ws-ping-interval", "0")
        with Server(env, tmp / "server.log", kind="uvicorn", args=server_args) as server:
            if args.pin:
                pin_server(server.process.pid, upstream.pid)
            import httpx

            async with httpx.AsyncClient() as client:
                response = await client.post(
                    f"{server.url}/audio/ws-token/", headers={"Authorization": f"Bearer {key}"}
                )
            token = response.json()["token"]
            speech = Speech.from_args(args)
            if args.warmup:  # first use (imports, connection pools) is not what is measured
                await run_size(args.warmup, server, upstream_url, token, args, speech)
            rounds = [(n, speech) for _ in range(args.repeat) for n in args.sessions]
            rounds += [(args.flood, Speech.burst())] if args.flood else []
            for n, shape in rounds:
                started = time.monotonic()
                rows.append(await run_size(n, server, upstream_url, token, args, shape))
                print(f"{n} sessions done in {time.monotonic() - started:.1f} s", flush=True)
    finally:
        upstream.terminate()
        await upstream.wait()
    layer = "redis" if args.redis else "in-memory"
    report(rows, args, layer)
    if args.repeat > 1:
        summary(rows)


def run(main: Any) -> None:
    """Run a measuring client on uvloop when it is installed (uvicorn[standard] has it).

    The faster a client's loop, the less of its own delay ends up in the latencies (of the
    websockets and of the baseline).
    """
    # No collector pauses in the measuring clients: they would show up as relay latency.
    gc.disable()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="10,100",
                        type=lambda s: [int(x) for x in s.split(",")])  # fmt: skip
    parser.add_argument("--events", type=int, default=20, help="deltas per upstream stream")
    parser.add_argument("--interval", type=float, default=100.0, help="ms between deltas")
    parser.add_argument(
        "--redis", metavar="URL", help="use channels_redis at URL (default: in-memory layer)"
    )
    parser.add_argument(
        "--warmup", type=int, default=10, metavar="N",
        help="sessions of an untimed first round (0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--flood", type=int, default=1000, metavar="N",
        help="then N sessions in the burst shape, checked for lost and reordered events "
             "(0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--utterances", type=int, default=12, metavar="U",
        help="utterances per session, back to back (of three or more, the first and last "
             "are untimed)",
    )  # fmt: skip
    parser.add_argument(
        "--burst", action="store_true",
        help="send each utterance's audio at once, not live, and start the sessions within "
             "one delta interval (the shape of earlier runs; use with --utterances 1)",
    )  # fmt: skip
    parser.add_argument(
        "--default-gc", action="store_true",
        help="leave the server's garbage collector as CPython sets it (no tune_gc())",
    )  # fmt: skip
    parser.add_argument(
        "--lockstep", action="store_true",
        help="start every session at once (worst case) instead of spread out",
    )  # fmt: skip
    parser.add_argument(
        "--pin", action="store_true",
        help="give the server the first CPU to itself, the upstream and the clients the others",
    )  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="R",
        help="time every size R times on the same server, and summarise the runs",
    )  # fmt: skip
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=("viewers", "direct"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        run_upstream(args.upstream, args.events, args.interval / 1000)
        return
    if args.client:
        run(client_role(args.client))
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    run(main_async(args))


if __name__ == "__main__":
    main()
