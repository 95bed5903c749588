"""The REST resources, one module per resource."""

from .consents import VoiceConsentViewSet
from .speech import SpeechAssetViewSet
from .transcripts import TranscriptViewSet
from .usage import UsageByUserView, UsageView
from .voices import VoiceViewSet

__all__ = [
    "SpeechAssetViewSet",
    "TranscriptViewSet",
    "UsageByUserView",
    "UsageView",
    "VoiceConsentViewSet",
    "VoiceViewSet",
]
