"""Admin writes go through the services: add forms, consent review, voices, keys, exports."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from django_audio import services
from django_audio.models import (
    ApiKey,
    ConsentEvent,
    SpeechAsset,
    Transcript,
    Voice,
    VoiceConsent,
)
from django_audio.models.keys import hash_key
from django_audio.providers.test import TestProvider
from django_audio.testing.audio import make_wav

from .conftest import Rows, stored_files, wav_upload

pytestmark = pytest.mark.django_db


def url(model: str, view: str, *args: Any) -> str:
    return reverse(f"admin:django_audio_{model}_{view}", args=args)


def changelist_action(client: Any, model: str, action: str, pks: list[int], **data: Any) -> Any:
    return client.post(
        url(model, "changelist"), {"action": action, "_selected_action": pks, **data}
    )


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --------------------------------------------------------------------------- transcripts


def test_uploading_a_recording_transcribes_it(
    staff_client: Any, provider: TestProvider, media: Path, superuser: Any
) -> None:
    response = staff_client.post(
        url("transcript", "add"),
        {
            "file": wav_upload(seconds=2.0),
            "kind": "transcription",
            "model": "whisper-1",
            "language": "en",
            "response_format": "verbose_json",
            "word_timestamps": "on",
            "provider": "default",
        },
    )
    transcript = Transcript.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("transcript", "change", transcript.pk)
    assert transcript.owner == superuser
    assert transcript.status == "completed"
    assert transcript.original_name == "talk.wav"
    assert transcript.words
    assert transcript.segments
    assert provider.calls[0].operation == "transcribe"
    assert len(stored_files(media)) == 1
    page = staff_client.get(response["Location"]).content.decode()
    assert transcript.words[-1]["word"] in page


def test_uploading_a_recording_to_translate(
    staff_client: Any, provider: TestProvider, media: Path
) -> None:
    response = staff_client.post(
        url("transcript", "add"),
        {
            "file": wav_upload(),
            "kind": "translation",
            "model": "whisper-1",
            "response_format": "json",
            "provider": "default",
        },
    )
    assert response.status_code == 302
    assert Transcript.objects.get().kind == "translation"
    assert provider.calls[0].operation == "translate"


def test_background_transcription_is_queued_from_the_admin(
    staff_client: Any, provider: TestProvider, media: Path, settings: Any
) -> None:
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "BACKGROUND_TRANSCRIPTION": True}
    response = staff_client.post(
        url("transcript", "add"),
        {
            "file": wav_upload(),
            "kind": "transcription",
            "model": "whisper-1",
            "response_format": "json",
            "provider": "default",
        },
    )
    assert response.status_code == 302
    assert Transcript.objects.get().status == "pending"  # runs once the request commits
    assert any("Queued" in m for m in texts(response))


def test_a_non_audio_upload_is_refused_and_nothing_stored(
    staff_client: Any, provider: TestProvider, media: Path
) -> None:
    fake = SimpleUploadedFile("talk.wav", b"this is not audio at all", content_type="audio/wav")
    response = staff_client.post(
        url("transcript", "add"),
        {
            "file": fake,
            "kind": "transcription",
            "model": "whisper-1",
            "response_format": "json",
            "provider": "default",
        },
    )
    assert response.status_code == 200
    assert "not a supported audio file" in response.content.decode()
    assert Transcript.objects.count() == 0
    assert stored_files(media) == []
    assert provider.calls == []


def test_a_provider_failure_is_shown_and_the_upload_kept(
    staff_client: Any, provider: TestProvider, media: Path
) -> None:
    provider.fail_next(500, operation="transcribe")
    response = staff_client.post(
        url("transcript", "add"),
        {
            "file": wav_upload(),
            "kind": "transcription",
            "model": "whisper-1",
            "response_format": "json",
            "provider": "default",
        },
    )
    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()
    failed = Transcript.objects.get()
    assert failed.status == "failed"
    assert len(stored_files(media)) == 1


def test_download_links_and_actions_export_every_format(staff_client: Any, rows: Rows) -> None:
    t = rows.transcript
    srt_resp = staff_client.get(url("transcript", "download", t.pk, "srt"))
    assert srt_resp["Content-Disposition"] == f'attachment; filename="{t.public_id}.srt"'
    subs = list(srt.parse(srt_resp.content.decode()))
    assert len(subs) == len(t.segments)
    assert subs[0].content == t.segments[0]["text"].strip()
    vtt = webvtt.from_string(
        staff_client.get(url("transcript", "download", t.pk, "vtt")).content.decode()
    )
    assert [c.text for c in vtt] == [s["text"].strip() for s in t.segments]
    doc = json.loads(staff_client.get(url("transcript", "download", t.pk, "json")).content)
    assert doc["words"] == t.words
    assert staff_client.get(url("transcript", "download", t.pk, "docx")).status_code == 404
    # The changelist action: one row → the file, two rows → a zip of both.
    one = changelist_action(staff_client, "transcript", "export_txt", [t.pk])
    assert one.content.decode() == t.text + "\n"
    second = services.transcribe(None, make_wav(1.0), model="whisper-1").transcript
    both = changelist_action(staff_client, "transcript", "export_vtt", [t.pk, second.pk])
    assert both["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(both.content)).namelist()
    assert sorted(names) == sorted([f"{t.public_id}.vtt", f"{second.public_id}.vtt"])


# --------------------------------------------------------------------------- consents


def test_consent_review_flow_approve_then_revoke_with_audit_trail(
    staff_client: Any, provider: TestProvider, media: Path, superuser: Any, user: Any
) -> None:
    consent = services.submit_consent(user, name="Alice", recording=make_wav(), language="en")
    change = staff_client.get(url("voiceconsent", "change", consent.pk)).content.decode()
    approve_url = url("voiceconsent", "decide", consent.pk, "approve")
    assert approve_url in change
    assert url("voiceconsent", "decide", consent.pk, "reject") in change
    # The reason page: listen, read the trail, give a reason.
    page = staff_client.get(approve_url).content.decode()
    assert f'src="{url("voiceconsent", "audio", consent.pk)}"' in page
    assert 'name="reason"' in page
    assert "submitted" in page
    response = staff_client.post(approve_url, {"reason": "Heard the recording; matches ID."})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == "approved"
    assert consent.decided_by == superuser
    voice = services.create_voice(user, name="Alice", sample=make_wav(), consent=consent)
    # Revoke from the changelist: the action asks for a reason first.
    ask = changelist_action(staff_client, "voiceconsent", "revoke", [consent.pk])
    assert ask.status_code == 200
    assert 'name="reason"' in ask.content.decode()
    consent.refresh_from_db()
    assert consent.status == "approved"  # nothing happens without the reason
    missing = changelist_action(staff_client, "voiceconsent", "revoke", [consent.pk], apply="yes")
    assert missing.status_code == 200
    assert "This field is required" in missing.content.decode()
    done = changelist_action(
        staff_client, "voiceconsent", "revoke", [consent.pk], apply="yes", reason="Asked to stop."
    )
    assert done.status_code == 302
    consent.refresh_from_db()
    voice.refresh_from_db()
    assert consent.status == "revoked"
    assert voice.status == "disabled"
    trail = list(ConsentEvent.objects.filter(consent=consent).order_by("created_at", "id"))
    actions = [e.action for e in trail]
    assert actions[0] == "submitted"
    approved = next(e for e in trail if e.action == "approved")
    revoked = next(e for e in trail if e.action == "revoked")
    assert (approved.from_status, approved.to_status) == ("pending", "approved")
    assert approved.actor_name == superuser.username
    assert approved.note == "Heard the recording; matches ID."
    assert (revoked.from_status, revoked.to_status) == ("approved", "revoked")
    assert revoked.actor == superuser
    assert revoked.note == "Asked to stop."
    assert actions.index("approved") < actions.index("voice_created") < actions.index("revoked")
    assert "voice_disabled" in actions
    # The trail is on the consent page, read-only; a revoked consent offers no decisions.
    page = staff_client.get(url("voiceconsent", "change", consent.pk)).content.decode()
    assert "Asked to stop." in page
    assert url("voiceconsent", "decide", consent.pk, "approve") not in page
    event = url("consentevent", "change", revoked.pk)
    assert b'name="_save"' not in staff_client.get(event).content
    assert staff_client.post(url("consentevent", "delete", revoked.pk)).status_code == 403
    assert ConsentEvent.objects.filter(pk=revoked.pk).exists()


def test_an_invalid_transition_is_reported_not_applied(
    staff_client: Any, rows: Rows, superuser: Any
) -> None:
    services.revoke_consent(rows.consent, actor=superuser, reason="done")
    response = staff_client.post(
        url("voiceconsent", "decide", rows.consent.pk, "reject"), {"reason": "late"}
    )
    assert response.status_code == 302
    assert any("cannot be rejected" in m for m in texts(response))
    rows.consent.refresh_from_db()
    assert rows.consent.status == "revoked"


def test_submitting_a_consent_in_the_admin(
    staff_client: Any, provider: TestProvider, media: Path, superuser: Any, user: Any
) -> None:
    response = staff_client.post(
        url("voiceconsent", "add"),
        {
            "name": "Bob",
            "language": "en-GB",
            "recording": wav_upload(),
            "owner": user.username,
            "provider": "default",
        },
    )
    consent = VoiceConsent.objects.get()
    assert response["Location"] == url("voiceconsent", "change", consent.pk)
    assert (consent.owner, consent.submitted_by, consent.status) == (user, superuser, "pending")
    bad = staff_client.post(
        url("voiceconsent", "add"),
        {"name": "Bob", "language": "not a tag!", "recording": wav_upload(), "provider": "default"},
    )
    assert bad.status_code == 200
    assert VoiceConsent.objects.count() == 1


def test_staff_without_change_permission_cannot_decide(
    client: Any, rows: Rows, django_user_model: Any
) -> None:
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_voiceconsent"))
    client.force_login(viewer)
    change = client.get(url("voiceconsent", "change", rows.consent.pk))
    assert change.status_code == 200
    assert url("voiceconsent", "decide", rows.consent.pk, "revoke") not in change.content.decode()
    decide = url("voiceconsent", "decide", rows.consent.pk, "revoke")
    assert client.get(decide).status_code == 403
    assert client.post(decide, {"reason": "x"}).status_code == 403
    # The changelist does not offer the action, and posting it anyway does nothing.
    listing = client.get(url("voiceconsent", "changelist"))
    action_form = listing.context["action_form"]  # None: no action is allowed at all
    assert action_form is None or "revoke" not in dict(action_form.fields["action"].choices)
    changelist_action(client, "voiceconsent", "revoke", [rows.consent.pk], apply="yes", reason="x")
    rows.consent.refresh_from_db()
    assert rows.consent.status == "approved"


# --------------------------------------------------------------------------- speech, voices


def test_generating_speech_in_the_admin_and_playing_it(
    staff_client: Any, provider: TestProvider, media: Path
) -> None:
    form = {
        "input": "Good morning",
        "voice": "alloy",
        "model": "tts-1",
        "response_format": "wav",
        "speed": "1.0",
        "provider": "default",
    }
    response = staff_client.post(url("speechasset", "add"), form)
    asset = SpeechAsset.objects.get()
    assert response["Location"] == url("speechasset", "change", asset.pk)
    audio = staff_client.get(url("speechasset", "audio", asset.pk))
    assert b"".join(audio.streaming_content)[:4] == b"RIFF"
    again = staff_client.post(url("speechasset", "add"), form)
    assert again["Location"] == response["Location"]  # the identical clip was reused
    assert any("reused" in m for m in texts(again))
    unknown = staff_client.post(url("speechasset", "add"), {**form, "voice": "voice_nope"})
    assert unknown.status_code == 200
    assert "voice_nope" in unknown.content.decode()


def test_creating_and_disabling_a_voice(
    staff_client: Any, rows: Rows, superuser: Any, user: Any
) -> None:
    response = staff_client.post(
        url("voice", "add"),
        {"consent": rows.consent.pk, "name": "Second", "sample": wav_upload()},
    )
    voice = Voice.objects.get(name="Second")
    assert response["Location"] == url("voice", "change", voice.pk)
    assert voice.owner == user
    decide = url("voice", "decide", voice.pk, "disable_voice")
    assert decide in staff_client.get(response["Location"]).content.decode()
    staff_client.post(decide, {"reason": "Sounds wrong."})
    voice.refresh_from_db()
    assert (voice.status, voice.disabled_reason) == ("disabled", "Sounds wrong.")
    event = ConsentEvent.objects.get(voice_public_id=voice.public_id, action="voice_disabled")
    assert event.actor == superuser


def test_deleting_a_consent_in_the_admin_goes_through_the_service(
    staff_client: Any, rows: Rows, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    before = len(stored_files(media))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url("voiceconsent", "delete", rows.consent.pk), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not VoiceConsent.objects.filter(pk=rows.consent.pk).exists()
    assert not Voice.objects.filter(pk=rows.voice.pk).exists()
    actions = list(
        ConsentEvent.objects.filter(consent_public_id=rows.consent.public_id).values_list(
            "action", flat=True
        )
    )
    assert actions[-1] == "deleted"
    assert "revoked" in actions
    # The trail outlives the consent and still renders.
    last = ConsentEvent.objects.filter(consent_public_id=rows.consent.public_id).last()
    page = staff_client.get(url("consentevent", "change", last.pk))
    assert page.status_code == 200
    assert rows.consent.public_id in page.content.decode()
    assert len(stored_files(media)) == before - 2  # recording and sample, after commit


def test_deleting_a_transcript_removes_its_file(
    staff_client: Any, rows: Rows, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    name = rows.transcript.audio.name
    assert (media / name).exists()
    with django_capture_on_commit_callbacks(execute=True):
        changelist_action(
            staff_client, "transcript", "delete_selected", [rows.transcript.pk], post="yes"
        )
    assert not Transcript.objects.filter(pk=rows.transcript.pk).exists()
    assert not (media / name).exists()


# --------------------------------------------------------------------------- API keys


def test_creating_a_key_shows_the_raw_key_once(staff_client: Any, rows: Rows, user: Any) -> None:
    response = staff_client.post(
        url("apikey", "add"), {"user": user.username, "name": "ci"}, follow=True
    )
    key = ApiKey.objects.get(name="ci")
    unknown = staff_client.post(url("apikey", "add"), {"user": "nobody", "name": "x"})
    assert "No user with that username." in unknown.content.decode()
    assert not ApiKey.objects.filter(name="x").exists()
    (shown,) = [m for m in texts(response) if "<code>" in m]
    raw = shown.split("<code>")[1].split("</code>")[0]
    assert ApiKey.objects.authenticate(raw) == key
    page = response.content.decode()
    assert raw in page  # the one-time message
    again = staff_client.get(url("apikey", "change", key.pk)).content.decode()
    assert raw not in again
    assert key.key_hash not in again
    assert hash_key(raw) not in staff_client.get(url("apikey", "changelist")).content.decode()


def test_revoking_keys(staff_client: Any, rows: Rows) -> None:
    assert ApiKey.objects.authenticate(rows.raw_key) == rows.key
    changelist_action(staff_client, "apikey", "revoke_keys", [rows.key.pk])
    rows.key.refresh_from_db()
    assert rows.key.revoked_at is not None
    assert ApiKey.objects.authenticate(rows.raw_key) is None
    found = staff_client.get(url("apikey", "changelist"), {"q": rows.raw_key})
    assert list(found.context["cl"].result_list) == [rows.key]
