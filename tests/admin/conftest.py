"""Fixtures for the admin tests: a test provider, a media root, and one row of every model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from django_audio import services
from django_audio.models import ApiKey, SpeechAsset, Transcript, Voice, VoiceConsent
from django_audio.providers.test import TestProvider
from django_audio.testing.audio import make_wav
from tests.helpers import stored_files, wav_upload  # noqa: F401 - used by the tests here


@pytest.fixture
def user(django_user_model: Any) -> Any:
    """An ordinary, non-staff user."""
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.fixture
def superuser(django_user_model: Any) -> Any:
    """A staff superuser."""
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def staff_client(client: Any, superuser: Any) -> Any:
    """A test client logged in as the superuser."""
    client.force_login(superuser)
    return client


@dataclass
class Rows:
    """One stored row of every model, made through the services."""

    transcript: Transcript
    speech: SpeechAsset
    consent: VoiceConsent
    voice: Voice
    key: ApiKey
    raw_key: str


@pytest.fixture
def rows(provider: TestProvider, media: Path, user: Any, superuser: Any) -> Rows:
    """A transcript with words, a speech clip, an approved consent with a voice, an API key."""
    transcript = services.transcribe(
        user,
        make_wav(2.0),
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["segment", "word"],
    ).transcript
    speech = services.synthesize(
        user, input="Hello there", voice="alloy", model="tts-1", response_format="wav"
    ).asset
    consent = services.submit_consent(user, name="Alice", recording=make_wav(), language="en")
    services.approve_consent(consent, actor=superuser, note="heard it")
    voice = services.create_voice(user, name="Alice voice", sample=make_wav(), consent=consent)
    key, raw = ApiKey.objects.create_key(user, "laptop")
    return Rows(transcript, speech, consent, voice, key, raw)
