"""Consents and custom voices over the REST API, with staff-only review."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_audio.models import ConsentEvent, Voice, VoiceConsent

from .conftest import API, consent, error_of, session_client, voice, wav_upload


def test_submit_list_retrieve_consent(auth: Any, alice: Any) -> None:
    client = auth(alice)
    response = client.post(
        f"{API}/consents/",
        {"name": "Ann Smith", "language": "en-GB", "recording": wav_upload("consent.wav")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    row = VoiceConsent.objects.get(public_id=body["id"])
    assert response["Location"] == f"{API}/consents/{row.public_id}/"
    assert body["id"].startswith("cons_")
    assert body["status"] == "pending"
    assert (row.owner, row.name, row.language) == (alice, "Ann Smith", "en-GB")
    assert row.recording
    assert row.recording.storage.exists(row.recording.name)
    assert [r["id"] for r in client.get(f"{API}/consents/").json()["results"]] == [row.public_id]
    assert client.get(f"{API}/consents/{row.public_id}/").json()["name"] == "Ann Smith"
    assert ConsentEvent.objects.filter(consent=row, action="submitted").count() == 1


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"language": "en", "recording": "wav"}, "name"),
        ({"name": "Ann", "language": "not a tag!", "recording": "wav"}, "language"),
        ({"name": "Ann", "language": "en"}, "recording"),
    ],
)
def test_bad_consents(alice: Any, data: dict[str, Any], param: str) -> None:
    payload = {k: wav_upload() if v == "wav" else v for k, v in data.items()}
    response = session_client(alice).post(f"{API}/consents/", payload, format="multipart")
    assert response.status_code == 400, response.content
    assert error_of(response)["param"] == param
    assert not VoiceConsent.objects.exists()


@override_settings(DJANGO_AUDIO={
    "PROVIDERS": {"default": {"BACKEND": "django_audio.providers.test.TestProvider"}},
    "REQUIRE_CONSENT_APPROVAL": False,
})  # fmt: skip
def test_consent_is_approved_at_once_when_approval_is_off(alice: Any) -> None:
    response = session_client(alice).post(
        f"{API}/consents/",
        {"name": "Ann", "language": "en", "recording": wav_upload()},
        format="multipart",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "approved"


@pytest.mark.parametrize("action", ["approve", "reject", "revoke"])
def test_review_actions_are_staff_only(auth: Any, alice: Any, action: str) -> None:
    row = consent(alice)
    response = auth(alice).post(f"{API}/consents/{row.public_id}/{action}/", {}, format="json")
    assert response.status_code == 403
    assert error_of(response)["type"] == "permission_error"
    row.refresh_from_db()
    assert row.status == "pending"


def test_staff_reviews(auth: Any, alice: Any, staff: Any) -> None:
    client = auth(staff)
    first, second = consent(alice, name="First"), consent(alice, name="Second")
    approved = client.post(
        f"{API}/consents/{first.public_id}/approve/", {"reason": "Checked ID."}, format="json"
    )
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["status"] == "approved"
    assert body["decided_by"] == "root"
    assert body["decision_note"] == "Checked ID."
    rejected = client.post(
        f"{API}/consents/{second.public_id}/reject/", {"reason": "Inaudible."}, format="json"
    )
    assert rejected.json()["status"] == "rejected"
    # A rejected consent cannot be rejected again: a precise 400.
    again = client.post(f"{API}/consents/{second.public_id}/reject/", {}, format="json")
    assert again.status_code == 400
    assert error_of(again)["code"] == "invalid_transition"
    # Revoking disables the consent's voices at once.
    v = voice(alice, staff)
    revoked = client.post(
        f"{API}/consents/{v.consent.public_id}/revoke/", {"reason": "Withdrawn."}, format="json"
    )
    assert revoked.json()["status"] == "revoked"
    v.refresh_from_db()
    assert v.status == "disabled"
    actions = set(ConsentEvent.objects.filter(consent=v.consent).values_list("action", flat=True))
    assert {"approved", "voice_created", "revoked", "voice_disabled"} <= actions


def test_delete_consent_deletes_its_voices(alice: Any, staff: Any) -> None:
    v = voice(alice, staff)
    response = session_client(alice).delete(f"{API}/consents/{v.consent.public_id}/")
    assert response.status_code == 204
    assert not VoiceConsent.objects.filter(pk=v.consent.pk).exists()
    assert not Voice.objects.filter(pk=v.pk).exists()
    assert ConsentEvent.objects.filter(consent_public_id=v.consent.public_id, action="deleted")


def test_create_list_disable_delete_voice(auth: Any, alice: Any, staff: Any) -> None:
    cons = consent(alice, approved_by=staff)
    client = auth(alice)
    response = client.post(
        f"{API}/voices/",
        {"name": "Ann's voice", "consent": cons.public_id, "audio_sample": wav_upload()},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("voice_")
    assert body["consent"] == cons.public_id
    assert body["status"] == "active"
    assert body["usable"] is True
    vid = body["id"]
    assert response["Location"] == f"{API}/voices/{vid}/"
    assert [r["id"] for r in client.get(f"{API}/voices/").json()["results"]] == [vid]
    assert [
        r["id"] for r in client.get(f"{API}/voices/", {"consent": cons.public_id}).json()["results"]
    ] == [vid]
    disabled = client.post(f"{API}/voices/{vid}/disable/", {"reason": "Done."}, format="json")
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"
    assert disabled.json()["usable"] is False
    assert client.get(f"{API}/voices/", {"status": "active"}).json()["results"] == []
    assert client.delete(f"{API}/voices/{vid}/").status_code == 204
    assert not Voice.objects.filter(public_id=vid).exists()


def test_voice_needs_an_approved_consent(alice: Any) -> None:
    pending = consent(alice)
    response = session_client(alice).post(
        f"{API}/voices/",
        {"name": "Too early", "consent": pending.public_id, "audio_sample": wav_upload()},
        format="multipart",
    )
    assert response.status_code == 403
    error = error_of(response)
    assert error["param"] == "consent"
    assert error["code"] == "consent_required"
    assert not Voice.objects.exists()


def test_voice_with_another_users_consent_is_404(alice: Any, bob: Any, staff: Any) -> None:
    bobs = consent(bob, approved_by=staff)
    response = session_client(alice).post(
        f"{API}/voices/",
        {"name": "Stolen", "consent": bobs.public_id, "audio_sample": wav_upload()},
        format="multipart",
    )
    assert response.status_code == 404
    assert error_of(response)["param"] == "consent"
    assert not Voice.objects.exists()
