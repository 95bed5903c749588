"""HTTP URLs of the streaming part: the websocket token endpoint.

``path("audio/", include("django_audio.streaming.urls"))`` serves ``POST audio/ws-token/``.
"""

from __future__ import annotations

from django.urls import path

from .tokens import issue_token_view

app_name = "django_audio_streaming"

urlpatterns = [
    path("ws-token/", issue_token_view, name="ws-token"),
]
