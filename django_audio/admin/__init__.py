"""The django-audio admin: every model registered on ``admin.site`` (staff only).

Importing this package registers the admins; Django's admin autodiscovery does it for you.
Rows are written by :mod:`django_audio.services` only, so change pages are read-only and
each write (upload to transcribe, generate speech, submit / approve / reject / revoke a
consent, create / disable a voice, create / revoke an API key) is an add form or an action.
"""

from __future__ import annotations

from .consents import ConsentEventAdmin, VoiceConsentAdmin
from .keys import ApiKeyAdmin
from .speech import SpeechAssetAdmin, VoiceAdmin
from .transcripts import TranscriptAdmin
from .usage import UsageRecordAdmin

__all__ = [
    "ApiKeyAdmin",
    "ConsentEventAdmin",
    "SpeechAssetAdmin",
    "TranscriptAdmin",
    "UsageRecordAdmin",
    "VoiceAdmin",
    "VoiceConsentAdmin",
]
