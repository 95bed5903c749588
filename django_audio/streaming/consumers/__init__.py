"""Channels consumers: live captions (speaker and viewers), job progress, streamed speech."""

from __future__ import annotations

from .captions import CaptionViewerConsumer, LiveCaptionConsumer
from .progress import TranscriptProgressConsumer
from .speech import SpeechConsumer

__all__ = [
    "CaptionViewerConsumer",
    "LiveCaptionConsumer",
    "SpeechConsumer",
    "TranscriptProgressConsumer",
]
