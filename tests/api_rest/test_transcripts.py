"""Transcripts over the REST API: upload, list, filter, search, retrieve, delete, export."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest
import srt
import webvtt
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from django_audio.models import Transcript, UsageRecord
from django_audio.testing.audio import make_wav
from django_audio.testing.payloads import DEFAULT_TRANSCRIPT

from .conftest import API, content_of, error_of, session_client, transcribe, wav_upload


def test_upload_creates_a_stored_transcript(auth: Any, alice: Any, test_provider: Any) -> None:
    client = auth(alice)
    response = client.post(
        f"{API}/transcripts/",
        {"file": wav_upload(), "model": "whisper-1", "language": "en", "prompt": "Foxes."},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    row = Transcript.objects.get(public_id=body["id"])
    assert re.fullmatch(r"tr_[0-9a-f]{24}", body["id"])  # random, never the primary key
    assert response["Location"] == f"{API}/transcripts/{row.public_id}/"
    assert row.owner == alice
    assert row.status == "completed"
    assert body["text"] == DEFAULT_TRANSCRIPT == row.text
    assert body["owner"] == "alice"
    assert body["model"] == "whisper-1"
    assert body["language"] == "en"
    assert body["audio_format"] == "wav"
    assert body["size"] == len(make_wav(1.0))
    assert body["audio_url"].endswith(f"{API}/transcripts/{row.public_id}/audio/")
    assert set(body["export_urls"]) == {"txt", "srt", "vtt", "json"}
    # The request reached the provider through the service, with every parameter.
    request = test_provider.calls_for("transcribe")[0]["request"]
    assert (request.model, request.language, request.prompt) == ("whisper-1", "en", "Foxes.")
    assert UsageRecord.objects.filter(owner=alice, transcript=row).count() == 1


def test_upload_verbose_json_stores_timings(alice: Any) -> None:
    response = session_client(alice).post(
        f"{API}/transcripts/",
        {
            "file": wav_upload(seconds=2.0),
            "model": "whisper-1",
            "response_format": "verbose_json",
            "timestamp_granularities": ["word", "segment"],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["segments"]
    assert body["words"]
    assert body["words"][0]["word"] == DEFAULT_TRANSCRIPT.split()[0]
    assert body["duration"] == pytest.approx(2.0, abs=0.01)


def test_upload_translate(alice: Any, test_provider: Any) -> None:
    response = session_client(alice).post(
        f"{API}/transcripts/",
        {"file": wav_upload(), "model": "whisper-1", "task": "translate", "language": "de"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "translation"
    assert len(test_provider.calls_for("translate")) == 1


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"model": "whisper-1"}, "file"),
        ({"file": "wav"}, "model"),
        ({"file": "text", "model": "whisper-1"}, "file"),
        ({"file": "wav", "model": "whisper-1", "response_format": "mp4"}, "response_format"),
        ({"file": "wav", "model": "whisper-1", "temperature": "7"}, "temperature"),
    ],
)
def test_bad_uploads_are_400_and_store_nothing(
    alice: Any, data: dict[str, Any], param: str
) -> None:
    files = {
        "wav": wav_upload(),
        "text": SimpleUploadedFile("notes.wav", b"just some text, not audio", "audio/wav"),
    }
    payload = {k: files.get(v, v) if k == "file" else v for k, v in data.items()}
    response = session_client(alice).post(f"{API}/transcripts/", payload, format="multipart")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert not Transcript.objects.exists()


def test_json_body_is_refused_with_a_param(alice: Any) -> None:
    response = session_client(alice).post(
        f"{API}/transcripts/", {"model": "whisper-1"}, format="json"
    )
    assert response.status_code == 400
    assert error_of(response)["param"] == "file"


def test_provider_failure_is_an_openai_error_and_a_failed_row(
    alice: Any, test_provider: Any
) -> None:
    test_provider.fail_next(503, operation="transcribe")
    response = session_client(alice).post(
        f"{API}/transcripts/", {"file": wav_upload(), "model": "whisper-1"}, format="multipart"
    )
    assert response.status_code == 502
    assert error_of(response)["type"] == "upstream_error"
    row = Transcript.objects.get()
    assert row.status == "failed"
    assert row.error


def test_list_is_paginated_newest_first(auth: Any, alice: Any) -> None:
    rows = [transcribe(alice) for _ in range(3)]
    client = auth(alice)
    page = client.get(f"{API}/transcripts/", {"page_size": 2}).json()
    assert [r["id"] for r in page["results"]] == [rows[2].public_id, rows[1].public_id]
    assert "segments" not in page["results"][0]  # lists leave the timings out
    assert page["previous"] is None
    assert page["next"]
    second = client.get(page["next"]).json()
    assert [r["id"] for r in second["results"]] == [rows[0].public_id]
    assert second["next"] is None


def test_retrieve_shows_everything(auth: Any, alice: Any) -> None:
    row = transcribe(alice, response_format="verbose_json")
    body = auth(alice).get(f"{API}/transcripts/{row.public_id}/").json()
    assert body["id"] == row.public_id
    assert body["segments"] == row.segments
    assert body["segments"]
    assert {"words", "diarized_segments", "speakers", "logprobs"} <= set(body)


def test_delete_removes_row_and_file(
    auth: Any, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    row = transcribe(alice)
    storage, name = row.audio.storage, row.audio.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = auth(alice).delete(f"{API}/transcripts/{row.public_id}/")
    assert response.status_code == 204
    assert not Transcript.objects.filter(pk=row.pk).exists()
    assert not storage.exists(name)
    again = auth(alice).delete(f"{API}/transcripts/{row.public_id}/")
    assert again.status_code == 404
    assert error_of(again)["code"] == "not_found"


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def test_filters(alice: Any) -> None:
    a = transcribe(alice, model="whisper-1", language="en")
    b = transcribe(alice, model="gpt-4o-transcribe", language="de")
    c = transcribe(alice, model="whisper-1", language="de")
    Transcript.objects.filter(pk=c.pk).update(status="failed")
    old = timezone.now() - datetime.timedelta(days=10)
    Transcript.objects.filter(pk=a.pk).update(created_at=old)
    client = session_client(alice)
    url = f"{API}/transcripts/"
    assert _ids(client.get(url, {"model": "whisper-1"})) == {a.public_id, c.public_id}
    assert _ids(client.get(url, {"language": "de"})) == {b.public_id, c.public_id}
    assert _ids(client.get(url, {"status": "completed"})) == {a.public_id, b.public_id}
    assert _ids(client.get(url, {"status": "completed", "language": "de"})) == {b.public_id}
    assert _ids(client.get(url, {"kind": "translation"})) == set()
    cut = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert _ids(client.get(url, {"created_after": cut})) == {b.public_id, c.public_id}
    assert _ids(client.get(url, {"created_before": cut})) == {a.public_id}
    day = old.date().isoformat()  # a bare date covers the whole day
    assert _ids(client.get(url, {"created_before": day, "created_after": day})) == {a.public_id}


def test_bad_date_filter_names_the_param(alice: Any) -> None:
    response = session_client(alice).get(f"{API}/transcripts/", {"created_after": "yesterday"})
    assert response.status_code == 400
    assert error_of(response)["param"] == "created_after"


def test_search(alice: Any, test_provider: Any) -> None:
    test_provider.transcript_text = "The quick brown fox jumps over the lazy dog."
    fox = transcribe(alice)
    test_provider.transcript_text = "Minutes of the budget meeting."
    meeting = transcribe(alice)
    client = session_client(alice)
    url = f"{API}/transcripts/"
    assert _ids(client.get(url, {"search": "brown fox"})) == {fox.public_id}
    assert _ids(client.get(url, {"search": "budget"})) == {meeting.public_id}
    assert _ids(client.get(url, {"search": "elephant"})) == set()
    assert _ids(client.get(url, {"search": ""})) == {fox.public_id, meeting.public_id}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL's")
def test_search_is_full_text_on_postgresql(alice: Any, test_provider: Any) -> None:
    test_provider.transcript_text = "The foxes were jumping over the dogs."
    fox = transcribe(alice)
    client = session_client(alice)
    url = f"{API}/transcripts/"
    # Stemmed, word order free and with a web-search negation: none of this is icontains.
    assert _ids(client.get(url, {"search": "dog jumps"})) == {fox.public_id}
    assert _ids(client.get(url, {"search": "fox -cat"})) == {fox.public_id}
    assert _ids(client.get(url, {"search": "fox -dogs"})) == set()


def test_exports_parse_back(auth: Any, alice: Any) -> None:
    row = transcribe(alice, response_format="verbose_json")
    client = auth(alice)
    base = f"{API}/transcripts/{row.public_id}/export"

    srt_response = client.get(f"{base}/srt/")
    assert srt_response.status_code == 200
    assert srt_response["Content-Type"].startswith("application/x-subrip")
    assert f'filename="{row.public_id}.srt"' in srt_response["Content-Disposition"]
    subs = list(srt.parse(srt_response.content.decode()))
    assert len(subs) == len(row.segments)
    assert " ".join(s.content for s in subs) == row.text
    assert subs[0].start.total_seconds() == pytest.approx(row.segments[0]["start"], abs=0.001)

    vtt_response = client.get(f"{base}/vtt/", HTTP_ACCEPT="text/vtt")
    assert vtt_response.status_code == 200
    assert vtt_response["Content-Type"].startswith("text/vtt")
    captions = webvtt.from_string(vtt_response.content.decode()).captions
    assert [c.text for c in captions] == [s.content for s in subs]
    assert captions[-1].end_in_seconds == pytest.approx(row.segments[-1]["end"], abs=0.001)

    txt = client.get(f"{base}/txt/")
    assert txt["Content-Type"].startswith("text/plain")
    assert txt.content.decode().strip() == row.text

    doc = json.loads(client.get(f"{base}/json/").content)
    assert doc["id"] == row.public_id
    assert doc["segments"] == row.segments


def test_unknown_export_format(alice: Any) -> None:
    row = transcribe(alice)
    response = session_client(alice).get(f"{API}/transcripts/{row.public_id}/export/docx/")
    assert response.status_code == 400
    assert error_of(response)["param"] == "format"


def test_source_audio_download(auth: Any, alice: Any) -> None:
    row = transcribe(alice)
    response = auth(alice).get(f"{API}/transcripts/{row.public_id}/audio/", HTTP_ACCEPT="audio/*")
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == make_wav(1.0)
    assert response["Content-Type"] == "audio/wav"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(make_wav(1.0)))
    assert response["ETag"] == f'"{row.sha256}"'
    assert response["Content-Disposition"].startswith("inline")
    download = auth(alice).get(f"{API}/transcripts/{row.public_id}/audio/", {"download": "1"})
    assert download["Content-Disposition"].startswith("attachment")
    assert f'filename="{row.public_id}.wav"' in download["Content-Disposition"]
    assert content_of(download) == make_wav(1.0)


def test_purged_audio_is_404(alice: Any) -> None:
    row = transcribe(alice)
    row.audio.storage.delete(row.audio.name)
    response = session_client(alice).get(f"{API}/transcripts/{row.public_id}/audio/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "audio_not_found"
    assert (
        session_client(alice).get(f"{API}/transcripts/{row.public_id}/").json()["audio_url"]
    )  # the row still points at a name; only the download finds the file gone


def test_oversized_upload_is_413(alice: Any, settings: Any) -> None:
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "MAX_UPLOAD_SIZE": 1000}
    response = session_client(alice).post(
        f"{API}/transcripts/", {"file": wav_upload(), "model": "whisper-1"}, format="multipart"
    )
    assert response.status_code == 413
    error = error_of(response)
    assert error["param"] == "file"
    assert error["code"] == "file_too_large"
    assert not Transcript.objects.exists()


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("created_after", "0001-01-01T00:00:00+01:00"),  # before year 1 in UTC
        ("created_before", "2026-02-30"),
        ("status", "completed\x00"),
        ("search", "fox\x00"),
    ],
)
def test_odd_query_values_are_400_not_500(alice: Any, param: str, value: str) -> None:
    response = session_client(alice).get(f"{API}/transcripts/", {param: value})
    assert response.status_code == 400, response.content
    assert error_of(response)["param"] == param
