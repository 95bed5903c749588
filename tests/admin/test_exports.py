"""Transcript exports (django_audio.exporting): SRT and WebVTT parse back to the stored cues."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import srt
import webvtt

from django_audio.exceptions import InvalidRequest
from django_audio.exporting import WORDS_PER_CUE, export_transcript, transcript_cues
from django_audio.models import Transcript

SEGMENTS = [
    {"id": 0, "start": 0.0, "end": 1.25, "text": " Hello there."},
    {"id": 1, "start": 1.25, "end": 3661.5, "text": " A very long pause."},
]


def make(**fields: object) -> Transcript:
    return Transcript(public_id="tr_test", text="Hello there. A very long pause.", **fields)


def test_srt_parses_back_to_the_segments() -> None:
    content, content_type, filename = export_transcript(make(segments=SEGMENTS), "srt")
    assert (content_type, filename) == ("application/x-subrip; charset=utf-8", "tr_test.srt")
    subs = list(srt.parse(content))
    assert [s.index for s in subs] == [1, 2]
    assert [s.content for s in subs] == ["Hello there.", "A very long pause."]
    assert subs[0].end == timedelta(seconds=1.25)
    assert subs[1].end == timedelta(hours=1, minutes=1, seconds=1.5)
    assert "01:01:01,500" in content


def test_vtt_parses_back_to_the_segments() -> None:
    content, content_type, _ = export_transcript(make(segments=SEGMENTS), "vtt")
    assert content_type == "text/vtt; charset=utf-8"
    assert content.startswith("WEBVTT")
    captions = list(webvtt.from_string(content))
    assert [(c.start, c.end, c.text) for c in captions] == [
        ("00:00:00.000", "00:00:01.250", "Hello there."),
        ("00:00:01.250", "01:01:01.500", "A very long pause."),
    ]


def test_speakers_become_voice_spans_and_prefixes() -> None:
    t = make(
        segments=SEGMENTS,
        diarized_segments=[
            {"id": "a", "start": 0.0, "end": 1.0, "text": "Hi", "speaker": "A"},
            {"id": "b", "start": 1.0, "end": 2.0, "text": "Hello", "speaker": "B"},
        ],
    )
    vtt, _, _ = export_transcript(t, "vtt")
    assert [(c.voice, c.text) for c in webvtt.from_string(vtt)] == [("A", "Hi"), ("B", "Hello")]
    assert [s.content for s in srt.parse(export_transcript(t, "srt")[0])] == ["A: Hi", "B: Hello"]
    assert export_transcript(t, "txt")[0] == "A: Hi\nB: Hello\n"


def test_words_only_are_grouped_into_cues() -> None:
    words = [{"word": f"w{i}", "start": i * 0.5, "end": i * 0.5 + 0.4} for i in range(30)]
    cues = transcript_cues(make(words=words))
    assert [len(c.text.split()) for c in cues] == [WORDS_PER_CUE, WORDS_PER_CUE, 6]
    assert cues[1].start == pytest.approx(WORDS_PER_CUE * 0.5)
    assert cues[-1].end == pytest.approx(29 * 0.5 + 0.4)


def test_untimed_text_is_one_cue_over_the_audio() -> None:
    subs = list(srt.parse(export_transcript(make(duration=4.0), "srt")[0]))
    assert len(subs) == 1
    assert subs[0].end == timedelta(seconds=4)
    assert subs[0].content == "Hello there. A very long pause."


def test_markup_and_blank_lines_cannot_break_cues() -> None:
    seg = [{"start": 0, "end": 1, "text": "a <b> & c\n\n--> d"}]
    vtt, _, _ = export_transcript(make(segments=seg), "vtt")
    assert "a &lt;b&gt; &amp; c\n-&gt; d" in vtt
    assert len(list(webvtt.from_string(vtt))) == 1
    assert [s.content for s in srt.parse(export_transcript(make(segments=seg), "srt")[0])] == [
        "a <b> & c\n-> d"
    ]


def test_json_and_txt() -> None:
    words = [{"word": "Hello", "start": 0.0, "end": 0.5}]
    content, content_type, filename = export_transcript(
        make(segments=SEGMENTS, words=words, language="en"), "JSON"
    )
    doc = json.loads(content)
    assert (content_type, filename) == ("application/json", "tr_test.json")
    assert doc["id"] == "tr_test"
    assert doc["segments"] == SEGMENTS
    assert doc["words"] == words
    assert doc["language"] == "en"
    assert export_transcript(make(), "txt")[0] == "Hello there. A very long pause.\n"


def test_an_unknown_format_names_the_parameter() -> None:
    with pytest.raises(InvalidRequest) as exc:
        export_transcript(make(), "docx")
    assert exc.value.param == "format"
