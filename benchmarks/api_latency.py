"""What the Django path of ``/v1`` costs over calling the upstream directly.

One command, one run, side by side against the fake OpenAI upstream::

    .venv/bin/python benchmarks/api_latency.py [--requests 300] [--upload-mib 1024]

Measures:

1. Extra latency (p50 / p99) of a json transcription through Django (uvicorn → django-audio
   → OpenAI provider → fake upstream) over the same request sent to the fake directly, for
   two servers side by side: the default application (the full ``MIDDLEWARE`` chain) and the
   lean one (``OpenAIFastPath``: Bearer requests to the ``/v1`` views skip the chain).
2. Time to the first SSE event / first audio byte of the streaming paths (streamed
   transcription, raw speech, SSE speech, streamed chat), through Django and direct.
3. Peak memory growth of the server process while a 1 GiB WAV is uploaded through
   ``/v1/audio/transcriptions`` (the upstream is a sink that discards what it receives).
4. SQL queries per request for each operation.

Each Django server runs in its own process (uvicorn, one worker) so that the client, the
fake upstream and the servers do not share an interpreter lock. Every client sets
``TCP_NODELAY`` (as production HTTP clients and proxies do): otherwise Nagle's algorithm and
delayed ACKs add ~40 ms stalls to multipart POSTs that have nothing to do with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024
API_KEY_UPSTREAM = "sk-test"
#: ``--database postgres`` passes the servers this prefix and the database name.
PG_SCHEME = "postgres:"
PG_BENCH_DB = "django_audio_bench"


def recreate_postgres_database() -> None:
    """Drop and create the benchmark's own PostgreSQL database (trust auth, localhost)."""
    import psycopg

    params = {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')


# --------------------------------------------------------------------------- Django set-up


def configure(
    db_path: str, media_root: str, upstream: str, max_upload: int, conn_max_age: int = 0
) -> None:
    """Django with the test project's settings, a file database and the OpenAI provider."""
    import django
    from django.conf import settings

    import tests.settings as base

    values = {k: getattr(base, k) for k in dir(base) if k.isupper()}
    database: dict[str, Any]
    if db_path.startswith(PG_SCHEME):
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_path[len(PG_SCHEME) :],
            "USER": os.environ.get("PGUSER", "postgres"),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
        }
    else:
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": db_path,
            # WAL without an fsync per commit: what a tuned SQLite would use; the figures
            # are about django-audio, not the disk (production runs PostgreSQL).
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    # 0 (Django's default): a new connection per request (SQLite also re-reads the schema
    # on its first query, ~1.5 ms). Only the lean server's worker threads can reuse a
    # connection (Django's own ASGI handler makes a thread per request), so the "lean,
    # persistent" server runs with 60.
    database["CONN_MAX_AGE"] = conn_max_age
    values.update(
        DATABASES={"default": database},
        MEDIA_ROOT=media_root,
        # Uploads are spooled next to the media (see --workdir), not in the system /tmp.
        FILE_UPLOAD_TEMP_DIR=media_root,
        DEBUG=False,
        DJANGO_AUDIO={
            "PROVIDERS": {
                "default": {
                    "BACKEND": "django_audio.providers.openai.OpenAIProvider",
                    "OPTIONS": {
                        "base_url": upstream,
                        "api_key": API_KEY_UPSTREAM,
                        "max_retries": 0,
                    },
                }
            },
            "MAX_UPLOAD_SIZE": max_upload,
            "RATE_LIMIT": None,
            "SPEECH_CACHE": False,
        },
    )
    settings.configure(**values)
    django.setup()


def serve(
    port: int,
    db_path: str,
    media_root: str,
    upstream: str,
    max_upload: int,
    lean: bool,
    conn_max_age: int,
) -> None:
    """The server process: uvicorn running the project with the body-limit middleware."""
    configure(db_path, media_root, upstream, max_upload, conn_max_age)
    import uvicorn
    from django.core.asgi import get_asgi_application

    from django_audio.api.asgi import BodyLimitMiddleware, OpenAIFastPath

    django_app = get_asgi_application()
    app = BodyLimitMiddleware(OpenAIFastPath(django_app) if lean else django_app)
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``api_latency.py --serve`` in a child process."""

    def __init__(
        self,
        db: str,
        media: str,
        upstream: str,
        max_upload: int,
        lean: bool = False,
        conn_max_age: int = 0,
    ) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port), db, media, upstream,
             str(max_upload), "lean" if lean else "full", str(conn_max_age)],
            cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("the Django server did not start") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def status(self, field: str) -> int:
        """A ``/proc/<pid>/status`` memory figure, in bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    def reset_peak(self) -> bool:
        """Reset the peak resident size (Linux ``clear_refs`` 5); whether it worked."""
        try:
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# --------------------------------------------------------------------------- helpers


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    from django_audio.testing.audio import make_wav

    return make_wav(seconds, rate=rate)


def write_big_wav(path: Path, size: int) -> None:
    """A WAV file of ``size`` bytes of silence (16 kHz mono 16-bit), written in chunks."""
    data = size - 44
    rate = 16000
    header = (
        b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data" + struct.pack("<I", data)
    )  # fmt: skip
    chunk = b"\x00" * (8 * MiB)
    with path.open("wb") as fh:
        fh.write(header)
        left = data
        while left > 0:
            fh.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


# --------------------------------------------------------------------------- latency


def timed_rounds(n: int, calls: list[Callable[[], float]], warmup: int = 10) -> list[list[float]]:
    """Run the calls in turn ``n`` times (after a warm-up); each returns its seconds."""
    for _ in range(warmup):
        for call in calls:
            call()
    out: list[list[float]] = [[] for _ in calls]
    for _ in range(n):
        for times, call in zip(out, calls, strict=True):
            times.append(call())
    return out


def report(label: str, names: list[str], runs: list[list[float]]) -> list[str]:
    """One line per target; the first is the baseline the others are compared with."""
    base = runs[0]
    lines = [label]
    for name, times in zip(names, runs, strict=True):
        line = f"  {name:<22} p50 {ms(pct(times, 50))} p99 {ms(pct(times, 99))}"
        if times is not base:
            line += (
                f" | added p50 {ms(pct(times, 50) - pct(base, 50))}"
                f" p99 {ms(pct(times, 99) - pct(base, 99))} ms"
            )
        lines.append(line)
    return lines


def client(base_url: str, key: str) -> Any:
    """A sync httpx client with ``TCP_NODELAY`` (no Nagle / delayed-ACK stalls)."""
    import httpx

    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    return httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {key}"},
        transport=httpx.HTTPTransport(socket_options=nodelay),
    )


def measure_latency(
    fake_url: str, servers: dict[str, ServerProcess], key: str, n: int
) -> list[str]:
    import httpx

    audio = wav_bytes(1.0)
    names = ["direct", *servers]
    clients = [client(fake_url, API_KEY_UPSTREAM)]
    clients += [client(server.url, key) for server in servers.values()]
    lines: list[str] = []

    def whole(client: httpx.Client) -> Callable[[], float]:
        def call() -> float:
            start = time.perf_counter()
            r = client.post(
                "/audio/transcriptions",
                files={"file": ("a.wav", audio, "audio/wav")},
                data={"model": "whisper-1"},
            )
            r.raise_for_status()
            return time.perf_counter() - start

        return call

    runs = timed_rounds(n, [whole(c) for c in clients])
    lines += report("json transcription (whole reply)", names, runs)

    def first(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Callable[[], float]:
        def call() -> float:
            start = time.perf_counter()
            with client.stream(method, path, **kwargs) as r:
                r.raise_for_status()
                chunks = r.iter_raw()
                for chunk in chunks:
                    if chunk:
                        elapsed = time.perf_counter() - start
                        break
                for _ in chunks:
                    pass
            return elapsed

        return call

    stream_cases: list[tuple[str, str, dict[str, Any]]] = [
        (
            "first SSE event, streamed transcription",
            "/audio/transcriptions",
            {
                "files": {"file": ("a.wav", audio, "audio/wav")},
                "data": {"model": "gpt-4o-transcribe", "stream": "true"},
            },
        ),
        (
            "first audio byte, speech (mp3)",
            "/audio/speech",
            {"json": {"model": "tts-1", "input": "Hello there, how are you?", "voice": "alloy"}},
        ),
        (
            "first SSE event, speech (sse)",
            "/audio/speech",
            {
                "json": {
                    "model": "gpt-4o-mini-tts",
                    "input": "Hello there, how are you?",
                    "voice": "alloy",
                    "stream_format": "sse",
                }
            },
        ),
        (
            "first SSE chunk, chat with audio",
            "/chat/completions",
            {
                "json": {
                    "model": "gpt-4o-audio-preview",
                    "modalities": ["text", "audio"],
                    "audio": {"voice": "alloy", "format": "pcm16"},
                    "messages": [{"role": "user", "content": "Hi"}],
                    "stream": True,
                }
            },
        ),
    ]
    for label, path, kwargs in stream_cases:
        runs = timed_rounds(max(50, n // 3), [first(c, "POST", path, **kwargs) for c in clients])
        lines += report(label, names, runs)

    # Django's own floor: the same servers answering an unknown URL (404). The lean server
    # sends it through the full chain too (only the /v1 views go the lean way).
    def floor(client: httpx.Client, path: str) -> Callable[[], float]:
        def call() -> float:
            start = time.perf_counter()
            client.get(path)
            return time.perf_counter() - start

        return call

    runs = timed_rounds(n, [floor(c, "/nowhere") for c in clients])
    lines += report("floor: unknown URL (404), no django-audio code", names, runs)
    for c in clients:
        c.close()
    return lines


# --------------------------------------------------------------------------- SQL queries


def count_queries(key: str) -> list[str]:
    """Queries per request, counted on every database connection (any thread)."""
    from django.db import connections
    from django.db.backends.signals import connection_created
    from django.test import AsyncClient

    count = [0]

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    def hook(sender: Any, connection: Any, **kwargs: Any) -> None:
        connection.execute_wrappers.append(wrapper)

    connections.close_all()
    connection_created.connect(hook)
    audio = wav_bytes(1.0)
    auth = {"Authorization": f"Bearer {key}"}

    def upload(**fields: Any) -> dict[str, Any]:
        return {"file": io.BytesIO(audio), **fields}

    cases: list[tuple[str, str, Callable[[], Any], str | None]] = [
        ("json transcription", "/v1/audio/transcriptions",
         lambda: upload(model="whisper-1"), None),
        ("streamed transcription", "/v1/audio/transcriptions",
         lambda: upload(model="gpt-4o-transcribe", stream="true"), None),
        ("translation", "/v1/audio/translations", lambda: upload(model="whisper-1"), None),
        ("speech (raw audio)", "/v1/audio/speech",
         lambda: {"model": "tts-1", "input": "Hello.", "voice": "alloy"}, "json"),
        ("speech (sse)", "/v1/audio/speech",
         lambda: {"model": "tts-1", "input": "Hello.", "voice": "alloy",
                  "stream_format": "sse"}, "json"),
        ("chat with audio", "/v1/chat/completions",
         lambda: {"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"],
                  "audio": {"voice": "alloy", "format": "wav"},
                  "messages": [{"role": "user", "content": "Hi"}]}, "json"),
        ("chat with audio, streamed", "/v1/chat/completions",
         lambda: {"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"],
                  "audio": {"voice": "alloy", "format": "wav"}, "stream": True,
                  "messages": [{"role": "user", "content": "Hi"}]}, "json"),
        ("list voice consents", "/v1/audio/voice_consents", lambda: None, "get"),
    ]  # fmt: skip

    async def run() -> list[str]:
        client = AsyncClient()
        out = []
        for label, path, body, kind in cases:
            for _attempt in range(2):  # the first may also record the key's last use
                count[0] = 0
                if kind == "get":
                    response = await client.get(path, headers=auth)
                elif kind == "json":
                    response = await client.post(
                        path, json.dumps(body()), content_type="application/json", headers=auth
                    )
                else:
                    response = await client.post(path, body(), headers=auth)
                if getattr(response, "streaming", False):
                    async for _ in response.streaming_content:
                        pass
                assert response.status_code == 200, (label, response.content)
            out.append(f"{label:<28} {count[0]:3d} queries")
        return out

    try:
        return asyncio.run(run())
    finally:
        connection_created.disconnect(hook)


# --------------------------------------------------------------------------- memory


class Sink:
    """An upstream that reads and discards uploads, answering a small transcription."""

    def __init__(self) -> None:
        self.received = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while True:
            message = await receive()
            self.received += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = json.dumps({"text": "silence"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def start_sink(sink: Sink) -> str:
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        sink, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}/v1"


def measure_upload_memory(tmp: Path, db: str, media: str, key: str, size: int) -> list[str]:
    import httpx

    sink = Sink()
    sink_url = start_sink(sink)
    server = ServerProcess(db, media, sink_url, size + 64 * MiB)
    try:
        path = tmp / "big.wav"
        write_big_wav(path, size)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
            small = client.post(
                "/audio/transcriptions",
                files={"file": ("a.wav", wav_bytes(1.0), "audio/wav")},
                data={"model": "whisper-1"},
            )
            small.raise_for_status()
            baseline = server.status("VmRSS")
            exact = server.reset_peak()
            start = time.perf_counter()
            with path.open("rb") as fh:
                r = client.post(
                    "/audio/transcriptions",
                    files={"file": ("big.wav", fh, "audio/wav")},
                    data={"model": "whisper-1"},
                )
            elapsed = time.perf_counter() - start
            r.raise_for_status()
            peak = server.status("VmHWM")
        growth = max(0, peak - baseline)
        how = "peak RSS reset before the upload" if exact else "VmHWM vs RSS before the upload"
        return [
            f"uploaded {size / MiB:.0f} MiB in {elapsed:.1f} s; the upstream received "
            f"{sink.received / MiB:.0f} MiB (file + form)",
            f"server RSS before {baseline / MiB:.1f} MiB, peak during {peak / MiB:.1f} MiB "
            f"-> growth {growth / MiB:.1f} MiB ({how})",
        ]
    finally:
        server.stop()


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="json transcriptions timed")
    parser.add_argument("--upload-mib", type=int, default=1024, help="size of the big upload")
    parser.add_argument(
        "--workdir",
        default=str(ROOT / ".bench"),
        help="where the database, media and upload spool live (default: ./.bench)",
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="the servers' database (postgres: 127.0.0.1:5432, trust auth, a fresh database)",
    )
    parser.add_argument("--serve", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        port, db, media, upstream, max_upload, mode, conn_max_age = args.serve
        serve(int(port), db, media, upstream, int(max_upload), mode == "lean", int(conn_max_age))
        return

    from django_audio.testing.fake_upstream import FakeUpstream

    os.makedirs(args.workdir, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="django-audio-bench-", dir=args.workdir))
    try:
        with FakeUpstream(api_key=API_KEY_UPSTREAM) as fake:
            db, media = str(tmp / "db.sqlite3"), str(tmp / "media")
            if args.database == "postgres":
                recreate_postgres_database()
                db = PG_SCHEME + PG_BENCH_DB
            os.makedirs(media)
            configure(db, media, fake.url, 25 * MiB)
            from django.contrib.auth import get_user_model
            from django.core.management import call_command

            from django_audio.models import ApiKey

            call_command("migrate", verbosity=0)
            user = get_user_model().objects.create_user("bench", "b@example.com", "pw")
            _, key = ApiKey.objects.create_key(user, "bench")

            print(f"django-audio /v1 benchmark (python {sys.version.split()[0]}, "
                  f"{os.cpu_count()} CPUs, {args.database}, files in {tmp})\n")  # fmt: skip
            servers = {
                "django (full)": ServerProcess(db, media, fake.url, 25 * MiB),
                "django (lean)": ServerProcess(db, media, fake.url, 25 * MiB, lean=True),
                "django (lean, CMA=60)": ServerProcess(
                    db, media, fake.url, 25 * MiB, lean=True, conn_max_age=60
                ),
            }
            try:
                print("Latency: Django path (uvicorn -> django-audio -> OpenAI provider -> fake)"
                      " vs the fake directly, in turn; full = project MIDDLEWARE,"
                      " lean = OpenAIFastPath, CMA = CONN_MAX_AGE (default 0)")  # fmt: skip
                for line in measure_latency(fake.url, servers, key, args.requests):
                    print("  " + line)
            finally:
                for server in servers.values():
                    server.stop()

            print(f"\nSQL queries per request (after the first; {args.database})")
            for line in count_queries(key):
                print("  " + line)

        print(f"\nMemory: upload of a {args.upload_mib} MiB WAV through /v1/audio/transcriptions")
        for line in measure_upload_memory(tmp, db, media, key, args.upload_mib * MiB):
            print("  " + line)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
