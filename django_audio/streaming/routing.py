"""Websocket URL patterns, and the ASGI stack that serves them.

In a project's ``asgi.py``::

    from django.core.asgi import get_asgi_application
    django_asgi_app = get_asgi_application()

    from channels.routing import ProtocolTypeRouter
    from django_audio.streaming.routing import websocket_application

    application = ProtocolTypeRouter(
        {"http": django_asgi_app, "websocket": websocket_application()}
    )

or include :data:`websocket_urlpatterns` in your own ``URLRouter`` wrapped in
``AllowedHostsOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(...)))``.
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path, re_path

from .consumers import (
    CaptionViewerConsumer,
    LiveCaptionConsumer,
    SpeechConsumer,
    TranscriptProgressConsumer,
)
from .tokens import TokenAuthMiddleware

__all__ = ["websocket_application", "websocket_urlpatterns"]

#: The websocket endpoints, under ``ws/audio/``.
websocket_urlpatterns = [
    path("ws/audio/captions/", LiveCaptionConsumer.as_asgi(), name="audio-captions"),
    re_path(
        r"^ws/audio/captions/(?P<session_id>[A-Za-z0-9_:\-]{1,200})/$",
        CaptionViewerConsumer.as_asgi(),
        name="audio-captions-view",
    ),
    re_path(
        r"^ws/audio/transcripts/(?P<transcript_id>[A-Za-z0-9_]{1,40})/$",
        TranscriptProgressConsumer.as_asgi(),
        name="audio-transcript-progress",
    ),
    path("ws/audio/speech/", SpeechConsumer.as_asgi(), name="audio-speech"),
]


def websocket_application(extra_patterns: list[Any] | None = None) -> Any:
    """The websocket ASGI app: origin check, session auth, token auth, then the router."""
    return AllowedHostsOriginValidator(
        AuthMiddlewareStack(
            TokenAuthMiddleware(URLRouter([*websocket_urlpatterns, *(extra_patterns or [])]))
        )
    )
