"""Every admin page of every model, rendered for a staff user and refused to others."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from django_audio.models import ConsentEvent, UsageRecord

from .conftest import Rows

pytestmark = pytest.mark.django_db

MODELS = [
    "transcript",
    "speechasset",
    "voiceconsent",
    "voice",
    "consentevent",
    "usagerecord",
    "apikey",
]
#: Models whose rows are added through a service-backed form.
ADDABLE = ["transcript", "speechasset", "voiceconsent", "voice", "apikey"]


def url(model: str, view: str, *args: Any) -> str:
    return reverse(f"admin:django_audio_{model}_{view}", args=args)


def row_pk(rows: Rows, model: str) -> int:
    if model == "consentevent":
        return ConsentEvent.objects.filter(consent=rows.consent).first().pk
    if model == "usagerecord":
        return UsageRecord.objects.first().pk
    obj = {
        "transcript": rows.transcript,
        "speechasset": rows.speech,
        "voiceconsent": rows.consent,
        "voice": rows.voice,
        "apikey": rows.key,
    }[model]
    return obj.pk


def every_page(rows: Rows) -> list[str]:
    """Every admin URL of django-audio (GET), custom views included."""
    urls = [reverse("admin:app_list", args=["django_audio"])]
    for model in MODELS:
        urls += [url(model, "changelist"), url(model, "change", row_pk(rows, model))]
    urls += [url(model, "add") for model in ADDABLE]
    urls += [
        url("transcript", "audio", rows.transcript.pk),
        url("speechasset", "audio", rows.speech.pk),
        url("voiceconsent", "audio", rows.consent.pk),
        url("voice", "audio", rows.voice.pk),
        url("usagerecord", "totals"),
        url("voiceconsent", "decide", rows.consent.pk, "revoke"),
        url("voice", "decide", rows.voice.pk, "disable_voice"),
    ]
    urls += [url("transcript", "download", rows.transcript.pk, fmt) for fmt in ("txt", "srt")]
    return urls


@pytest.mark.parametrize("model", ["consentevent", "usagerecord"])
def test_rows_written_only_by_services_cannot_be_added(
    staff_client: Any, rows: Rows, model: str
) -> None:
    assert staff_client.get(url(model, "add")).status_code == 403


def test_players_point_at_the_staff_only_audio_view(staff_client: Any, rows: Rows) -> None:
    for model, obj in [
        ("transcript", rows.transcript),
        ("speechasset", rows.speech),
        ("voiceconsent", rows.consent),
        ("voice", rows.voice),
    ]:
        page = staff_client.get(url(model, "change", obj.pk))
        assert f'<audio controls preload="none" src="{url(model, "audio", obj.pk)}"' in (
            page.content.decode()
        )


def test_audio_view_streams_the_stored_file_with_ranges(staff_client: Any, rows: Rows) -> None:
    stored = rows.speech.audio.open("rb").read()
    rows.speech.audio.close()
    full = staff_client.get(url("speechasset", "audio", rows.speech.pk))
    assert full.status_code == 200
    assert full["Content-Type"] == "audio/wav"
    assert b"".join(full.streaming_content) == stored
    part = staff_client.get(url("speechasset", "audio", rows.speech.pk), HTTP_RANGE="bytes=4-11")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 4-11/{len(stored)}"
    assert b"".join(part.streaming_content) == stored[4:12]
    tail = staff_client.get(url("speechasset", "audio", rows.speech.pk), HTTP_RANGE="bytes=-4")
    assert b"".join(tail.streaming_content) == stored[-4:]
    beyond = staff_client.get(
        url("speechasset", "audio", rows.speech.pk), HTTP_RANGE=f"bytes={len(stored)}-"
    )
    assert beyond.status_code == 416


def test_audio_view_404_when_the_audio_was_purged(staff_client: Any, rows: Rows) -> None:
    type(rows.transcript).objects.filter(pk=rows.transcript.pk).update(audio="")
    assert staff_client.get(url("transcript", "audio", rows.transcript.pk)).status_code == 404


def test_transcript_page_shows_segments_words_and_downloads(staff_client: Any, rows: Rows) -> None:
    page = staff_client.get(url("transcript", "change", rows.transcript.pk)).content.decode()
    assert 'class="django-audio-segments"' in page
    assert 'class="django-audio-words"' in page
    first = rows.transcript.words[0]
    assert f"<td>{first['word']}</td>" in page
    assert "0:00.000" in page  # the first segment starts at 0
    for fmt in ("txt", "srt", "vtt", "json"):
        assert url("transcript", "download", rows.transcript.pk, fmt) in page


def test_diarized_segments_show_speakers(staff_client: Any, rows: Rows) -> None:
    t = rows.transcript
    type(t).objects.filter(pk=t.pk).update(
        diarized_segments=[
            {"id": "s0", "start": 0.0, "end": 1.0, "text": "Hi", "speaker": "A"},
            {"id": "s1", "start": 1.0, "end": 2.5, "text": "Hello", "speaker": "B"},
        ]
    )
    page = staff_client.get(url("transcript", "change", t.pk)).content.decode()
    assert "<td>A</td>" in page
    assert "<td>B</td>" in page
    assert "0:02.500" in page


def test_usage_totals_sum_per_user(staff_client: Any, rows: Rows, user: Any) -> None:
    page = staff_client.get(url("usagerecord", "totals"))
    assert page.status_code == 200
    (row,) = [r for r in page.context["rows"] if r["owner"] == user.pk]
    records = UsageRecord.objects.filter(owner=user)
    assert row["requests"] == records.count() == 2  # one transcription, one speech
    assert row["characters"] == len("Hello there")
    assert row["seconds"] == pytest.approx(sum(r.seconds for r in records))
    assert staff_client.get(url("usagerecord", "totals") + "?days=7").status_code == 200
    # Each user links to their own records.
    link = f"{url('usagerecord', 'changelist')}?owner__id__exact={user.pk}"
    assert link in page.content.decode()
    listing = staff_client.get(link)
    assert listing.status_code == 200
    assert {r.owner_id for r in listing.context["cl"].result_list} == {user.pk}


def test_non_staff_are_sent_to_the_login_page(client: Any, rows: Rows, user: Any) -> None:
    client.force_login(user)
    for page in every_page(rows):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(reverse("admin:login")), page


def test_anonymous_users_are_sent_to_the_login_page(client: Any, rows: Rows) -> None:
    for page in every_page(rows):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(reverse("admin:login")), page


def test_every_page_renders_for_staff(staff_client: Any, rows: Rows) -> None:
    for page in every_page(rows):
        assert staff_client.get(page).status_code == 200, page
    for model in MODELS:
        changelist = staff_client.get(url(model, "changelist"))
        assert changelist.context["cl"].result_count >= 1
        change = staff_client.get(url(model, "change", row_pk(rows, model)))
        # Services own writes: no page offers a Save button on an existing row.
        assert b'name="_save"' not in change.content, model
    for model in ADDABLE:
        add = staff_client.get(url(model, "add"))
        assert b'enctype="multipart/form-data"' in add.content
        assert b'name="_save"' in add.content


def test_staff_without_model_permissions_get_403(
    client: Any, rows: Rows, django_user_model: Any
) -> None:
    bare = django_user_model.objects.create_user("intern", password="pw", is_staff=True)
    client.force_login(bare)
    for page in every_page(rows)[1:]:  # the app index is a 404 without any permission
        assert client.get(page).status_code == 403, page
