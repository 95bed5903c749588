"""Usage totals: the caller's own per operation; per user for staff."""

from __future__ import annotations

from typing import Any

import pytest

from django_audio.models import UsageRecord

from .conftest import API, error_of, make_user, session_client, synthesize, transcribe


def _ops(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["operation"]: row for row in body["operations"]}


def test_own_totals(auth: Any, alice: Any, bob: Any) -> None:
    transcribe(alice)
    transcribe(alice, model="gpt-4o-transcribe")  # reports tokens
    synthesize(alice, "Twelve chars")
    transcribe(bob)
    body = auth(alice).get(f"{API}/usage/").json()
    assert body["user"] == "alice"
    ops = _ops(body)
    assert set(ops) == {"transcription", "speech"}
    assert ops["transcription"]["requests"] == 2
    expected = UsageRecord.objects.filter(owner=alice, operation="transcription")
    assert ops["transcription"]["seconds"] == pytest.approx(sum(r.seconds for r in expected))
    assert ops["transcription"]["seconds"] >= 1.0
    assert ops["transcription"]["total_tokens"] == sum(r.total_tokens for r in expected) > 0
    assert ops["speech"]["characters"] == len("Twelve chars")
    assert ops["speech"]["requests"] == 1
    assert ops["speech"]["cached"] == 0


def test_date_range(alice: Any) -> None:
    transcribe(alice)
    UsageRecord.objects.update(created_at="2020-01-01T00:00:00Z")
    transcribe(alice)
    client = session_client(alice)
    assert _ops(client.get(f"{API}/usage/").json())["transcription"]["requests"] == 2
    recent = client.get(f"{API}/usage/", {"created_after": "2021-01-01"}).json()
    assert _ops(recent)["transcription"]["requests"] == 1
    old = client.get(f"{API}/usage/", {"created_before": "2020-01-01"}).json()
    assert _ops(old)["transcription"]["requests"] == 1


def test_user_and_all_are_ignored_for_non_staff(alice: Any, bob: Any) -> None:
    transcribe(bob)
    client = session_client(alice)
    assert client.get(f"{API}/usage/", {"user": "bob"}).json() == {
        "user": "alice",
        "operations": [],
    }
    assert client.get(f"{API}/usage/", {"all": "true"}).json()["operations"] == []


def test_staff_sees_one_user_all_users_and_per_user(
    auth: Any, alice: Any, bob: Any, staff: Any
) -> None:
    transcribe(alice)
    synthesize(bob)
    transcribe(bob)
    client = auth(staff)
    assert _ops(client.get(f"{API}/usage/", {"user": "bob"}).json())["speech"]["requests"] == 1
    everyone = client.get(f"{API}/usage/", {"all": "1"}).json()
    assert everyone["user"] is None
    assert _ops(everyone)["transcription"]["requests"] == 2
    missing = client.get(f"{API}/usage/", {"user": "nobody"})
    assert missing.status_code == 404
    assert error_of(missing)["param"] == "user"

    page = client.get(f"{API}/usage/users/").json()
    assert page["count"] == 2
    per_user = {row["user"]: _ops(row) for row in page["results"]}
    assert set(per_user) == {"alice", "bob"}
    assert set(per_user["alice"]) == {"transcription"}
    assert set(per_user["bob"]) == {"transcription", "speech"}


def test_per_user_is_paginated(staff: Any) -> None:
    for name in ("u1", "u2", "u3"):
        transcribe(make_user(name))
    client = session_client(staff)
    first = client.get(f"{API}/usage/users/", {"page_size": 2}).json()
    assert [r["user"] for r in first["results"]] == ["u1", "u2"]
    assert first["next"]
    second = client.get(first["next"]).json()
    assert [r["user"] for r in second["results"]] == ["u3"]


def test_per_user_is_staff_only(auth: Any, alice: Any) -> None:
    response = auth(alice).get(f"{API}/usage/users/")
    assert response.status_code == 403
    assert error_of(response)["type"] == "permission_error"
