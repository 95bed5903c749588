"""Start real ASGI servers (daphne or uvicorn) on a shared SQLite file, for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for the servers and management commands of one test."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.serve.settings",
        DJANGO_AUDIO_SERVE_DB=str(tmp / "db.sqlite3"),
        DJANGO_AUDIO_SERVE_MEDIA=str(tmp / "media"),
        DJANGO_AUDIO_SERVE_PREFIX=f"django_audio_serve_{os.getpid()}_{time.monotonic_ns()}",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``python -m django …`` with the servers' settings; returns its output."""
    result = subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"django {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def prepare(env: dict[str, str], username: str = "speaker", password: str = "pw") -> str:
    """Migrate the shared database, create a staff user; returns an API key of that user.

    One process does it all: starting Python and Django is the slow part.
    """
    out = manage(
        env, "shell", "-c",
        "from django.core.management import call_command; "
        "call_command('migrate', interactive=False, verbosity=0); "
        "from django.contrib.auth import get_user_model; "
        "from django_audio.models import ApiKey; "
        f"u = get_user_model().objects.create_user({username!r}, password={password!r}, "
        "is_staff=True); "
        "print('KEY=' + ApiKey.objects.create_key(u, 'tests')[1])",
    )  # fmt: skip
    return next(line[4:] for line in out.splitlines() if line.startswith("KEY="))


class Server:
    """One server process on a free port; ``with Server(env) as s: s.url``."""

    def __init__(
        self, env: dict[str, str], log: Path, kind: str = "daphne", args: tuple[str, ...] = ()
    ) -> None:
        self.env, self.log_path, self.kind, self.args = env, log, kind, args
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        app = "tests.serve.asgi:application"
        if self.kind == "uvicorn":
            return [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1",
                    "--port", str(self.port), "--ws", "websockets-sansio",
                    "--log-level", "warning", *self.args, app]  # fmt: skip
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                *self.args, app]  # fmt: skip

    def start(self) -> Server:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command(), env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.kind} did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
