"""One user can never read, list, use, stream or delete another user's data on ``/v1``."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import openai
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from openai.pagination import SyncCursorPage
from openai.types.audio import Voice as SDKVoice

from django_audio.models import ApiKey, SpeechAsset, Voice, VoiceConsent
from django_audio.testing.audio import make_wav

from .conftest import Account, LiveServer, approved_consent


@pytest.fixture
def alices_things(alice: Account) -> dict[str, str]:
    """A consent and a voice of alice's, and one of her speech clips."""
    consent = approved_consent(alice)
    voice = alice.client.audio.voices.create(
        name="Alice", audio_sample=("s.wav", make_wav(1.0)), consent=consent.public_id
    )
    alice.client.audio.speech.create(model="tts-1", input="Private words.", voice="alloy")
    return {"consent": consent.public_id, "voice": voice.id}


def _same_404(call: Any, other: Any) -> None:
    """Another user's id and a made-up id get the same answer, but for the id itself."""
    with pytest.raises(openai.NotFoundError) as mine:
        call()
    with pytest.raises(openai.NotFoundError) as made_up:
        other()
    assert mine.value.status_code == made_up.value.status_code == 404
    assert mine.value.code == made_up.value.code
    assert mine.value.param == made_up.value.param


def test_consents_of_others_are_invisible(bob: Account, alices_things: dict[str, str]) -> None:
    cid = alices_things["consent"]
    fake = "cons_" + "0" * 24
    consents = bob.client.audio.voice_consents
    _same_404(lambda: consents.retrieve(cid), lambda: consents.retrieve(fake))
    _same_404(lambda: consents.update(cid, name="mine"), lambda: consents.update(fake, name="m"))
    _same_404(lambda: consents.delete(cid), lambda: consents.delete(fake))
    assert list(consents.list()) == []
    with pytest.raises(openai.BadRequestError) as info:
        consents.list(after=cid)  # a cursor cannot probe for ids either
    assert info.value.param == "after"
    consent = VoiceConsent.objects.get(public_id=cid)
    assert consent.name == "Ada"
    assert consent.status == VoiceConsent.Status.APPROVED


def test_voices_of_others_cannot_be_listed_used_or_deleted(
    bob: Account, alices_things: dict[str, str]
) -> None:
    vid = alices_things["voice"]
    listed = bob.client.get_api_list("/audio/voices", model=SDKVoice, page=SyncCursorPage[SDKVoice])
    assert list(listed) == []
    _same_404(
        lambda: bob.client.audio.voices.delete(vid),
        lambda: bob.client.audio.voices.delete("voice_" + "0" * 24),
    )
    with pytest.raises(openai.NotFoundError) as info:
        bob.client.audio.speech.create(model="tts-1", input="Hi", voice={"id": vid})
    assert info.value.param == "voice"
    with pytest.raises(openai.NotFoundError) as info:
        bob.client.chat.completions.create(
            model="gpt-4o-audio-preview",
            modalities=["text", "audio"],
            audio={"voice": {"id": vid}, "format": "wav"},  # type: ignore[typeddict-item]
            messages=[{"role": "user", "content": "Hi"}],
        )
    assert info.value.param == "audio.voice"
    with pytest.raises(openai.NotFoundError) as info:
        bob.client.audio.voices.create(
            name="Stolen", audio_sample=("s.wav", make_wav(1.0)), consent=alices_things["consent"]
        )
    assert info.value.param == "consent"
    assert Voice.objects.filter(public_id=vid).exists()
    assert Voice.objects.count() == 1


def test_stored_speech_is_never_served_to_another_user(
    bob: Account, alices_things: dict[str, str], test_provider: Any
) -> None:
    calls = len(test_provider.calls_for("speech"))
    with bob.client.audio.speech.with_streaming_response.create(
        model="tts-1", input="Private words.", voice="alloy"
    ) as response:
        theirs = response.headers["x-audio-speech-id"]
        response.read()
    assert len(test_provider.calls_for("speech")) == calls + 1, "no cache hit across users"
    assert SpeechAsset.objects.get(public_id=theirs).owner == bob.user


def test_expired_chat_audio_of_another_user_is_not_bridged(
    alice: Account, bob: Account, test_provider: Any
) -> None:
    audio = base64.b64encode(make_wav(0.3)).decode()
    reply = alice.client.chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "wav"},
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}}
                ],
            }
        ],
    )
    audio_id = reply.choices[0].message.audio.id
    SpeechAsset.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    bob.client.chat.completions.create(
        model="gpt-4o-audio-preview",
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "audio": {"id": audio_id}},
            {"role": "user", "content": "What did you say?"},
        ],
    )
    sent = test_provider.calls_for("chat_completion")[-1]["body"]["messages"][1]
    assert sent == {"role": "assistant", "audio": {"id": audio_id}}, "alice's transcript leaked"


def test_staff_keys_are_scoped_to_their_own_user_too(
    live_server_v1: LiveServer, alices_things: dict[str, str]
) -> None:
    staff = get_user_model().objects.create_user("boss", "b@example.com", "pw", is_staff=True)
    _, key = ApiKey.objects.create_key(staff, name="staff")
    client = openai.OpenAI(base_url=live_server_v1.v1, api_key=key, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.audio.voice_consents.retrieve(alices_things["consent"])
    assert list(client.audio.voice_consents.list()) == []
