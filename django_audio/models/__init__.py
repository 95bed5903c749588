"""The models of django-audio (app label ``django_audio``)."""

from __future__ import annotations

from . import cleanup
from .base import JobStatus
from .keys import ApiKey
from .speech import SpeechAsset
from .transcripts import Transcript
from .usage import UsageRecord
from .voices import AppendOnlyError, ConsentEvent, Voice, VoiceConsent

__all__ = [
    "ApiKey",
    "AppendOnlyError",
    "ConsentEvent",
    "JobStatus",
    "SpeechAsset",
    "Transcript",
    "UsageRecord",
    "Voice",
    "VoiceConsent",
]

cleanup.connect()
