"""Models: public ids, names, the append-only audit trail, API keys, file clean-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction

from django_audio.models import (
    ApiKey,
    AppendOnlyError,
    ConsentEvent,
    SpeechAsset,
    Transcript,
    UsageRecord,
    Voice,
    VoiceConsent,
)
from django_audio.storage import UploadPath, safe_extension

from .conftest import stored_files

pytestmark = pytest.mark.django_db


def test_migrations_are_complete() -> None:
    call_command("makemigrations", "django_audio", "--check", "--dry-run", verbosity=0)


def test_public_ids_are_prefixed_and_random(user: Any) -> None:
    a = Transcript.objects.create(owner=user)
    b = Transcript.objects.create(owner=user)
    assert re.fullmatch(r"tr_[0-9a-f]{24}", a.public_id)
    assert a.public_id != b.public_id
    assert SpeechAsset.objects.create(owner=user).public_id.startswith("sp_")
    consent = VoiceConsent.objects.create(owner=user, name="Ann", language="en")
    assert consent.public_id.startswith("cons_")
    assert Voice.objects.create(owner=user, name="v", consent=consent).public_id.startswith(
        "voice_"
    )


def test_str_and_ordering(user: Any) -> None:
    first = Transcript.objects.create(owner=user, text="hello world", status="completed")
    second = Transcript.objects.create(owner=user, text="x" * 100)
    assert list(Transcript.objects.all()) == [second, first]
    assert str(first).endswith("(completed) hello world")
    assert str(second).endswith("…")
    consent = VoiceConsent.objects.create(owner=user, name="Ann", language="en")
    assert str(consent) == f"Ann ({consent.public_id}, pending review)"
    assert "transcription" in str(UsageRecord(operation="transcription", model="m"))


def test_speakers_from_diarized_segments(user: Any) -> None:
    t = Transcript(
        diarized_segments=[
            {"speaker": "B", "text": "x"},
            {"speaker": "A", "text": "y"},
            {"speaker": "B", "text": "z"},
        ]
    )
    assert t.speakers == ["B", "A"]


def test_consent_events_are_append_only(user: Any) -> None:
    consent = VoiceConsent.objects.create(owner=user, name="Ann", language="en")
    event = ConsentEvent.objects.create(
        consent=consent, consent_public_id=consent.public_id, action="submitted"
    )
    event.note = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.filter(pk=event.pk).update(note="x")
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.all().delete()
    assert ConsentEvent.objects.get(pk=event.pk).note == ""


def test_audit_trail_outlives_the_consent_and_the_actor(user: Any, staff: Any) -> None:
    consent = VoiceConsent.objects.create(owner=user, name="Ann", language="en")
    ConsentEvent.objects.create(
        consent=consent,
        consent_public_id=consent.public_id,
        action="approved",
        actor=staff,
        actor_name=staff.username,
    )
    public_id = consent.public_id
    consent.delete()
    staff.delete()
    event = ConsentEvent.objects.get(consent_public_id=public_id)
    assert event.actor_name == "reviewer"
    assert event.action == "approved"


def test_api_key_create_authenticate_revoke(user: Any) -> None:
    key, raw = ApiKey.objects.create_key(user, "laptop")
    assert re.fullmatch(r"sk-audio-[0-9a-f]{8}-[A-Za-z0-9_\-]{40,}", raw)
    assert raw not in (key.key_hash, key.prefix)
    assert ApiKey.objects.authenticate(raw) == key
    assert ApiKey.objects.authenticate(raw + "x") is None
    assert ApiKey.objects.authenticate("sk-audio-nope") is None
    assert ApiKey.objects.authenticate("Bearer " + raw) is None
    assert key.touch() is True
    assert key.touch() is False  # at most once a minute
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    key.revoke()
    assert ApiKey.objects.authenticate(raw) is None
    assert raw[-6:] not in str(key)


@pytest.mark.django_db(transaction=True)
async def test_api_key_async_authenticate(user: Any) -> None:
    from asgiref.sync import sync_to_async

    key, raw = await sync_to_async(ApiKey.objects.create_key)(user, "async")
    found = await ApiKey.objects.aauthenticate(raw)
    assert found is not None
    assert found.pk == key.pk
    assert await found.atouch() is True


def test_upload_path_is_server_generated() -> None:
    path = UploadPath("transcripts")(None, "../../etc/passwd.wav")
    assert re.fullmatch(r"django_audio/transcripts/\d{4}/\d{2}/[0-9a-f]{32}\.wav", path)
    assert safe_extension("evil.php.wav") == ".wav"
    assert safe_extension("noext") == ""
    assert safe_extension("x.<script>") == ""


@pytest.mark.django_db(transaction=True)
def test_files_deleted_only_after_commit(media: Path, user: Any) -> None:
    row = Transcript.objects.create(owner=user)
    row.audio.save("a.wav", ContentFile(b"RIFF"), save=True)
    assert len(stored_files(media)) == 1
    with transaction.atomic():
        row.delete()
        assert len(stored_files(media)) == 1  # not yet: the delete could roll back
    assert stored_files(media) == []


@pytest.mark.django_db(transaction=True)
def test_rolled_back_delete_keeps_the_file(media: Path, user: Any) -> None:
    row = SpeechAsset.objects.create(owner=user)
    row.audio.save("a.mp3", ContentFile(b"ID3"), save=True)

    def delete_then_fail() -> None:
        with transaction.atomic():
            SpeechAsset.objects.filter(pk=row.pk).delete()
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        delete_then_fail()
    assert SpeechAsset.objects.filter(pk=row.pk).exists()
    assert len(stored_files(media)) == 1
