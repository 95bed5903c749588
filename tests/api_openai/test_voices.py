"""Voice consents and custom voices through the official SDK (sync and async)."""

from __future__ import annotations

import openai
import pytest
from openai.pagination import AsyncCursorPage, SyncCursorPage
from openai.types.audio import Voice as SDKVoice
from openai.types.audio import VoiceConsent as SDKConsent
from openai.types.audio import VoiceConsentDeleted, VoiceDeleted

from django_audio.models import ConsentEvent, SpeechAsset, Voice, VoiceConsent
from django_audio.testing.audio import make_wav

from .conftest import Account, approved_consent


def test_consent_lifecycle(alice: Account) -> None:
    created = alice.client.audio.voice_consents.create(
        name="Ada", recording=("consent.wav", make_wav(2.0)), language="en-GB"
    )
    assert isinstance(created, SDKConsent)
    assert created.id.startswith("cons_")
    assert (created.name, created.language, created.object) == (
        "Ada",
        "en-GB",
        "audio.voice_consent",
    )
    row = VoiceConsent.objects.get(public_id=created.id)
    assert row.owner == alice.user
    assert row.status == VoiceConsent.Status.PENDING
    assert row.recording.size > 0

    fetched = alice.client.audio.voice_consents.retrieve(created.id)
    assert fetched == created
    renamed = alice.client.audio.voice_consents.update(created.id, name="Ada L.")
    assert renamed.name == "Ada L."
    assert VoiceConsent.objects.get(public_id=created.id).name == "Ada L."

    deleted = alice.client.audio.voice_consents.delete(created.id)
    assert isinstance(deleted, VoiceConsentDeleted)
    assert (deleted.id, deleted.deleted, deleted.object) == (
        created.id,
        True,
        "audio.voice_consent",
    )
    assert not VoiceConsent.objects.filter(public_id=created.id).exists()
    assert ConsentEvent.objects.filter(consent_public_id=created.id, action="deleted").exists()
    with pytest.raises(openai.NotFoundError):
        alice.client.audio.voice_consents.retrieve(created.id)


def test_consent_list_pages_with_after_and_limit(alice: Account, bob: Account) -> None:
    ids = [
        alice.client.audio.voice_consents.create(
            name=f"c{i}", recording=("r.wav", make_wav(0.5)), language="en"
        ).id
        for i in range(5)
    ]
    bob.client.audio.voice_consents.create(
        name="bob's", recording=("r.wav", make_wav(0.5)), language="en"
    )
    first = alice.client.audio.voice_consents.list(limit=2)
    assert isinstance(first, SyncCursorPage)
    assert [c.id for c in first.data] == ids[:2]
    assert first.has_more is True
    assert all(isinstance(c, SDKConsent) for c in first.data)
    second = alice.client.audio.voice_consents.list(limit=2, after=first.data[-1].id)
    assert [c.id for c in second.data] == ids[2:4]
    # The SDK's auto-pagination follows the cursor to the end.
    assert [c.id for c in alice.client.audio.voice_consents.list(limit=2)] == ids
    raw = alice.client.audio.voice_consents.with_raw_response.list(limit=3)
    body = raw.http_response.json()
    assert body["object"] == "list"
    assert (body["first_id"], body["last_id"], body["has_more"]) == (ids[0], ids[2], True)


def test_voice_create_list_use_delete(alice: Account) -> None:
    consent = approved_consent(alice)
    voice = alice.client.audio.voices.create(
        name="Narrator", audio_sample=("sample.wav", make_wav(3.0)), consent=consent.public_id
    )
    assert isinstance(voice, SDKVoice)
    assert voice.id.startswith("voice_")
    assert (voice.name, voice.type, voice.object) == ("Narrator", "audio_sample", "audio.voice")
    row = Voice.objects.get(public_id=voice.id)
    assert row.owner == alice.user
    assert row.consent == consent

    listed = alice.client.get_api_list(
        "/audio/voices", model=SDKVoice, page=SyncCursorPage[SDKVoice]
    )
    assert [v.id for v in listed] == [voice.id]

    audio = alice.client.audio.speech.create(
        model="gpt-4o-mini-tts", input="In my own voice.", voice={"id": voice.id}
    )
    assert audio.content
    assert SpeechAsset.objects.get().voice == row

    deleted = alice.client.audio.voices.delete(voice.id)
    assert isinstance(deleted, VoiceDeleted)
    assert (deleted.id, deleted.deleted, deleted.object) == (voice.id, True, "audio.voice.deleted")
    assert not Voice.objects.filter(public_id=voice.id).exists()
    assert VoiceConsent.objects.filter(pk=consent.pk).exists(), "the consent stays"
    with pytest.raises(openai.NotFoundError):
        alice.client.audio.voices.delete(voice.id)  # twice: 404


def test_voice_needs_an_approved_consent(alice: Account) -> None:
    pending = alice.client.audio.voice_consents.create(
        name="Ada", recording=("r.wav", make_wav(1.0)), language="en"
    )
    with pytest.raises(openai.PermissionDeniedError) as info:
        alice.client.audio.voices.create(
            name="V", audio_sample=("s.wav", make_wav(1.0)), consent=pending.id
        )
    assert info.value.status_code == 403
    assert info.value.code == "consent_required"
    assert info.value.param == "consent"
    assert Voice.objects.count() == 0


def test_prompt_voices_are_refused_with_param(alice: Account) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        alice.client.audio.voices.create(type="prompt", name="Calm", prompt="A calm voice.")
    assert info.value.param == "type"
    assert info.value.code == "unsupported_feature"


async def test_async_sdk_consents_and_voices(alice: Account) -> None:
    client = alice.aclient
    created = await client.audio.voice_consents.create(
        name="Async", recording=("r.wav", make_wav(1.0)), language="fr"
    )
    page = await client.audio.voice_consents.list()
    assert isinstance(page, AsyncCursorPage)
    assert [c.id for c in page.data] == [created.id]
    assert (await client.audio.voice_consents.retrieve(created.id)).language == "fr"
    assert (await client.audio.voice_consents.update(created.id, name="Renamed")).name == "Renamed"
    from asgiref.sync import sync_to_async

    consent = await sync_to_async(approved_consent)(alice)
    voice = await client.audio.voices.create(
        name="V", audio_sample=("s.wav", make_wav(1.0)), consent=consent.public_id
    )
    voices = client.get_api_list("/audio/voices", model=SDKVoice, page=AsyncCursorPage[SDKVoice])
    assert [v.id async for v in voices] == [voice.id]
    assert (await client.audio.voices.delete(voice.id)).deleted is True
    assert (await client.audio.voice_consents.delete(created.id)).deleted is True
    await client.close()
    assert await VoiceConsent.objects.filter(owner=alice.user).acount() == 1


def test_voice_list_is_an_extension_with_the_list_envelope(alice: Account) -> None:
    raw = alice.client.get("/audio/voices", cast_to=dict)
    assert raw == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }
