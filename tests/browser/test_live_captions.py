"""A fake microphone speaks a known sentence; its words appear as captions and are stored."""

from __future__ import annotations

from tests.browser.conftest import WORDS, query


def test_microphone_words_appear_in_captions_viewer_and_transcript(page, live):
    page.goto("/demo/captions/")
    page.click("#start")
    page.wait_for_selector("body[data-session-id]", timeout=60_000)
    # A second tab follows the same session as a read-only viewer.
    viewer = page.context.new_page()
    viewer.goto(page.get_attribute("#viewer-link", "href"))
    words = list(WORDS)
    page.wait_for_function(
        """words => {
            const text = document.getElementById("captions").innerText.toLowerCase();
            return words.every((w) => text.includes(w));
        }""",
        arg=words,
        timeout=120_000,
    )
    viewer.wait_for_function(
        """words => {
            const text = document.getElementById("captions").innerText.toLowerCase();
            return words.every((w) => text.includes(w));
        }""",
        arg=words,
        timeout=60_000,
    )
    finals = page.locator("#captions .final").all_inner_texts()
    assert finals
    assert all(f.strip() for f in finals)
    page.click("#stop")
    page.wait_for_selector("body[data-transcript-id]", timeout=60_000)
    transcript_id = page.get_attribute("body", "data-transcript-id")
    text, status, kind, audio, duration = query(
        live["db"],
        "SELECT text, status, kind, audio, duration FROM django_audio_transcript "
        "WHERE public_id = ?",
        transcript_id,
    )
    assert (status, kind) == ("completed", "live_caption")
    assert all(w in text.lower() for w in WORDS)
    # The stored audio is what the microphone sent (the WAV is about 5 s of audio).
    assert (live["media"] / audio).stat().st_size > 44
    assert duration > 2.0
    viewer.wait_for_function(
        "document.getElementById('status').textContent.includes('ended')", timeout=30_000
    )
