"""Each changelist makes the same number of SQL queries for 1 row as for 20 rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_audio.models import (
    ApiKey,
    ConsentEvent,
    SpeechAsset,
    Transcript,
    UsageRecord,
    Voice,
    VoiceConsent,
)

pytestmark = pytest.mark.django_db


def add_rows(model: str, start: int, count: int, django_user_model: Any) -> None:
    """``count`` rows of ``model``, each owned by a different user (to catch N+1 lookups)."""
    for i in range(start, start + count):
        owner = django_user_model.objects.create_user(f"owner{model}{i}")
        if model == "transcript":
            Transcript.objects.create(
                owner=owner, status="completed", text=f"text {i}", audio=f"x/{i}.wav", duration=1.5
            )
        elif model == "speechasset":
            SpeechAsset.objects.create(
                owner=owner,
                status="completed",
                input=f"hi {i}",
                voice_name="alloy",
                audio=f"x/{i}.mp3",
            )
        elif model in ("voiceconsent", "voice", "consentevent"):
            consent = VoiceConsent.objects.create(
                owner=owner, name=f"c{i}", language="en", recording=f"x/{i}.wav", decided_by=owner
            )
            if model == "voice":
                Voice.objects.create(
                    owner=owner, name=f"v{i}", consent=consent, sample=f"x/{i}.wav"
                )
            if model == "consentevent":
                ConsentEvent.objects.create(
                    consent=consent,
                    consent_public_id=consent.public_id,
                    action="submitted",
                    actor=owner,
                    actor_name=owner.username,
                )
        elif model == "usagerecord":
            UsageRecord.objects.create(owner=owner, operation="speech", characters=i)
        elif model == "apikey":
            ApiKey.objects.create_key(owner, f"k{i}")


@pytest.mark.parametrize(
    "model",
    ["transcript", "speechasset", "voiceconsent", "voice", "consentevent", "usagerecord", "apikey"],
)
def test_changelist_queries_do_not_grow_with_rows(
    admin_client: Any, django_user_model: Any, model: str
) -> None:
    page = reverse(f"admin:django_audio_{model}_changelist")
    add_rows(model, 0, 1, django_user_model)
    admin_client.get(page)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(page).status_code == 200
    add_rows(model, 1, 19, django_user_model)
    with CaptureQueriesContext(connection) as twenty:
        response = admin_client.get(page)
    assert len(response.context["cl"].result_list) == 20
    print(f"\n{model} changelist: {len(one)} queries at 1 row, {len(twenty)} at 20 rows")
    assert len(twenty) == len(one), [q["sql"] for q in twenty.captured_queries]


def test_usage_totals_is_one_aggregate_query(admin_client: Any, django_user_model: Any) -> None:
    page = reverse("admin:django_audio_usagerecord_totals")
    add_rows("usagerecord", 0, 1, django_user_model)
    admin_client.get(page)
    with CaptureQueriesContext(connection) as one:
        admin_client.get(page)
    add_rows("usagerecord", 1, 19, django_user_model)
    with CaptureQueriesContext(connection) as twenty:
        response = admin_client.get(page)
    assert len(response.context["rows"]) == 20
    print(f"\nusage totals: {len(one)} queries at 1 user, {len(twenty)} at 20 users")
    assert len(twenty) == len(one)
