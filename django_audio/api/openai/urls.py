"""URLs of the OpenAI-compatible surface; include them at ``v1/``."""

from __future__ import annotations

from django.urls import path

from .chat import chat_completions
from .consents import consent_detail, consent_list
from .speech import speech
from .transcriptions import transcriptions, translations
from .voices import voice_detail, voice_list

app_name = "django_audio_openai"

urlpatterns = [
    path("audio/transcriptions", transcriptions, name="transcriptions"),
    path("audio/translations", translations, name="translations"),
    path("audio/speech", speech, name="speech"),
    path("audio/voices", voice_list, name="voices"),
    path("audio/voices/<str:voice_id>", voice_detail, name="voice"),
    path("audio/voice_consents", consent_list, name="voice-consents"),
    path("audio/voice_consents/<str:consent_id>", consent_detail, name="voice-consent"),
    path("chat/completions", chat_completions, name="chat-completions"),
]
