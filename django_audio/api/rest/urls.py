"""URLs of the REST resources: ``path("api/audio/", include("django_audio.api.rest.urls"))``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from .schema import RedocView, SchemaView, SwaggerView
from .serializers import NAMESPACE
from .views import (
    SpeechAssetViewSet,
    TranscriptViewSet,
    UsageByUserView,
    UsageView,
    VoiceConsentViewSet,
    VoiceViewSet,
)

app_name = NAMESPACE

router = SimpleRouter()
router.register("transcripts", TranscriptViewSet, basename="transcript")
router.register("speech", SpeechAssetViewSet, basename="speech")
router.register("consents", VoiceConsentViewSet, basename="consent")
router.register("voices", VoiceViewSet, basename="voice")

#: The resources themselves (what the schema describes).
resource_patterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path("usage/", UsageView.as_view(), name="usage"),
    path("usage/users/", UsageByUserView.as_view(), name="usage-users"),
]

urlpatterns = [
    *resource_patterns,
    path("schema/", SchemaView.as_view(resources=resource_patterns), name="schema"),
    path("docs/", SwaggerView.as_view(), name="docs"),
    path("redoc/", RedocView.as_view(), name="redoc"),
]
