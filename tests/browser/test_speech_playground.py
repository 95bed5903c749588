"""Synthesized speech streams into the page and is played through Web Audio."""

from __future__ import annotations

from tests.browser.conftest import query


def _speak(page, response_format: str) -> tuple[int, str]:
    before = int(page.inner_text("#samples") or 0)
    page.select_option("#format", response_format)
    page.click("#speak")
    page.wait_for_function(
        f"Number(document.getElementById('samples').value) > {before}"
        " && document.getElementById('status').textContent === 'done'",
        timeout=60_000,
    )
    page.wait_for_function(
        f"Number(document.getElementById('samples').value) > {before}", timeout=30_000
    )
    return int(page.inner_text("#samples")) - before, page.inner_text("#speech-id")


def test_speech_reaches_the_page_as_audio_samples(page, live):
    page.goto("/demo/speech/")
    page.fill("#input", "Streaming speech into the browser, chunk by chunk.")
    samples, speech_id = _speak(page, "pcm")
    status, size, fmt = query(
        live["db"],
        "SELECT status, size, response_format FROM django_audio_speechasset WHERE public_id = ?",
        speech_id,
    )
    assert (status, fmt) == ("completed", "pcm")
    # Every stored 16-bit sample was handed to Web Audio.
    assert samples == size // 2
    # A compressed format is decoded by the browser.
    page.fill("#input", "Now as an MP3 file.")
    mp3_samples, mp3_id = _speak(page, "mp3")
    assert mp3_samples > 1000
    assert mp3_id != speech_id
