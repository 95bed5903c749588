"""Retention: old audio removed, text kept when asked; consent evidence never purged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from django_audio import services
from django_audio.models import SpeechAsset, Transcript, VoiceConsent
from django_audio.providers.test import TestProvider
from django_audio.testing.audio import make_wav

from .conftest import stored_files

pytestmark = pytest.mark.django_db(transaction=True)


def _age(model: Any, days: int) -> None:
    model.objects.update(created_at=timezone.now() - timedelta(days=days))


def test_purge_keeps_text(provider: TestProvider, media: Path, user: Any, staff: Any) -> None:
    services.transcribe(user, make_wav(1.0), model="whisper-1")
    services.synthesize(user, input="Old clip.", voice="alloy", model="tts-1")
    consent = services.submit_consent(user, name="Ann", recording=make_wav(0.5), language="en")
    _age(Transcript, 40)
    _age(SpeechAsset, 40)
    _age(VoiceConsent, 40)
    services.synthesize(user, input="New clip.", voice="alloy", model="tts-1")
    assert len(stored_files(media)) == 4

    dry = services.purge_audio(30, dry_run=True)
    assert (dry.transcripts, dry.speech_assets, dry.files) == (1, 1, 2)
    assert len(stored_files(media)) == 4

    report = services.purge_audio(30, keep_text=True)
    assert (report.transcripts, report.speech_assets, report.files) == (1, 1, 2)
    t = Transcript.objects.get()
    assert t.text
    assert not t.audio
    assert t.audio_purged_at is not None
    old = SpeechAsset.objects.get(input="Old clip.")
    assert not old.audio
    # The recent clip and the consent recording are still there.
    names = {p.name for p in stored_files(media)}
    assert Path(SpeechAsset.objects.get(input="New clip.").audio.name).name in names
    assert Path(VoiceConsent.objects.get(pk=consent.pk).recording.name).name in names
    assert len(names) == 2
    # A purged clip is never served from the cache.
    again = services.synthesize(user, input="Old clip.", voice="alloy", model="tts-1")
    assert again.cached is False
    assert services.purge_audio(30).total == 0


def test_purge_without_text_deletes_rows(provider: TestProvider, media: Path, user: Any) -> None:
    services.transcribe(user, make_wav(1.0), model="whisper-1")
    services.transcribe(user, make_wav(1.0), model="whisper-1")
    _age(Transcript, 10)
    services.transcribe(user, make_wav(1.0), model="whisper-1")
    report = services.purge_audio(5, keep_text=False)
    assert report.transcripts == 2
    assert report.rows_deleted == 2
    assert Transcript.objects.count() == 1
    assert len(stored_files(media)) == 1


def test_purge_rejects_bad_days() -> None:
    with pytest.raises(ValueError):
        services.purge_audio(-1)
