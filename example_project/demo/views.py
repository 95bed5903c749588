"""Demo pages: live captions (speaker and viewer) and a speech playground."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from django_audio.contract import BUILTIN_VOICES, SPEECH_FORMATS


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Links to the demo pages."""
    return render(request, "demo/index.html")


@login_required
def captions_speaker(request: HttpRequest) -> HttpResponse:
    """Speak into the microphone; captions appear here and in every viewer tab."""
    return render(request, "demo/captions_speaker.html")


@login_required
def captions_viewer(request: HttpRequest, session_id: str) -> HttpResponse:
    """Read-only captions of one of your sessions."""
    return render(request, "demo/captions_viewer.html", {"session_id": session_id})


@login_required
def speech_playground(request: HttpRequest) -> HttpResponse:
    """Type text, hear it as it is synthesized."""
    return render(
        request,
        "demo/speech_playground.html",
        {"voices": BUILTIN_VOICES, "formats": SPEECH_FORMATS},
    )
