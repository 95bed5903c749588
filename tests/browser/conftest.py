"""Real-browser fixtures: Debian's headless Chromium (driven by Playwright) and a live server.

Chromium gets a fake microphone fed from a WAV file the test makes. The server is a daphne
process on the serve settings (SQLite file, in-memory channel layer) using the local engine
when its extra is installed (real speech recognition), else the test provider.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sqlite3
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve.harness import Server, prepare, server_env

CHROMIUM = "/usr/bin/chromium"
#: The sentence the fake microphone says, and words the recogniser gets right whatever
#: Chromium's audio processing (echo cancellation, noise suppression, gain) does to it. Not
#: "quietly": on processed audio the local engine sometimes hears "slightly".
SENTENCE = "Seven purple elephants dance quietly in the garden."
WORDS = ("purple", "elephant", "garden")
USERNAME, PASSWORD = "speaker", "pw"

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver (done by .ci/run)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (test extra)")


def local_engine() -> bool:
    """Whether the local engine (faster-whisper + espeak-ng) is installed."""
    names = ("faster_whisper", "espeakng_loader", "av")
    return all(importlib.util.find_spec(n) is not None for n in names)


def _pcm_wav(pcm: bytes, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def spoken_wav() -> bytes:
    """:data:`SENTENCE` as 16-bit mono WAV with silence around it (espeak-ng if available)."""
    if local_engine():
        from django_audio.contract import SpeechRequest
        from django_audio.providers.local import LocalProvider

        request = SpeechRequest(model="tts-1", input=SENTENCE, voice="alloy",
                                response_format="pcm")  # fmt: skip
        with LocalProvider("browser-test").speech(request) as stream:
            pcm, rate = b"".join(stream), 24000
    else:  # tone bursts: the test provider "hears" SENTENCE in any audio
        from django_audio.testing.audio import tone_pcm

        rate = 16000
        pcm = (tone_pcm(0.8, rate) + tone_pcm(0.3, rate, amplitude=0.0)) * 3
    silence = b"\x00\x00" * rate
    return _pcm_wav(silence + pcm + silence * 3, rate)


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A daphne server with a staff user, the shared database path, and the mic WAV."""
    tmp = tmp_path_factory.mktemp("browser")
    extra = {"DJANGO_AUDIO_SERVE_TEXT": SENTENCE}
    if local_engine():
        extra["DJANGO_AUDIO_SERVE_PROVIDER"] = "local"
    env = server_env(tmp, **extra)
    env.pop("DJANGO_AUDIO_TEST_REDIS", None)  # one process: the in-memory layer will do
    prepare(env, USERNAME, PASSWORD)
    wav = tmp / "microphone.wav"
    wav.write_bytes(spoken_wav())
    with Server(env, tmp / "server.log") as server:
        yield {"server": server, "db": env["DJANGO_AUDIO_SERVE_DB"], "wav": wav,
               "media": Path(env["DJANGO_AUDIO_SERVE_MEDIA"])}  # fmt: skip


@pytest.fixture(scope="package")
def browser(live: dict[str, Any]) -> Iterator[Any]:
    """Headless Debian Chromium with a fake microphone playing ``microphone.wav`` once."""
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={live['wav']}%noloop",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live: dict[str, Any]) -> Iterator[Any]:
    """A logged-in page (fresh context per test)."""
    context = browser.new_context(base_url=live["server"].url)
    context.grant_permissions(["microphone"])
    page = context.new_page()
    page.goto("/admin/login/?next=/demo/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/demo/")
    yield page
    context.close()


def query(db: str, sql: str, *args: Any) -> Any:
    """One row from the server's database."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchone()
