"""``speech/``: synthesize and store, list, retrieve, delete, play with Range requests."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from .... import services
from ....contract import SPEECH_FORMATS
from ....models import SpeechAsset
from ..filters import query_value
from ..serializers import JOB_STATUSES, SpeechAssetSerializer, SpeechCreateSerializer
from .base import (
    AUDIO_RESPONSES,
    DOWNLOAD_PARAMETER,
    AnyAcceptNegotiation,
    OwnedViewSet,
    list_parameters,
    search_parameter,
    serve_audio,
)


@extend_schema(tags=["speech"])
@extend_schema_view(
    retrieve=extend_schema(description="One speech clip."),
    destroy=extend_schema(description="Delete the clip and its stored audio."),
)
class SpeechAssetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OwnedViewSet,
):
    """Stored speech clips and chat audio replies of the caller (staff: everyone's)."""

    queryset = SpeechAsset.objects.select_related("owner")
    exact_filters = ("status", "model", "kind", "response_format")
    search_fields = ("input", "transcript")

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        """The input form for ``create``, the clip otherwise."""
        return SpeechCreateSerializer if self.action == "create" else SpeechAssetSerializer

    def filter_queryset(self, queryset: Any) -> Any:
        """Also ``voice``: a built-in voice name or a custom voice id."""
        queryset = super().filter_queryset(queryset)
        voice = query_value(self.request.query_params, "voice")
        if self.action == "list" and voice:
            queryset = queryset.filter(voice_name=voice)
        return queryset

    @extend_schema(
        parameters=list_parameters(
            OpenApiParameter("status", str, enum=JOB_STATUSES),
            OpenApiParameter("model", str),
            OpenApiParameter("kind", str, enum=[k for k, _ in SpeechAsset.Kind.choices]),
            OpenApiParameter("response_format", str, enum=[*SPEECH_FORMATS]),
            OpenApiParameter("voice", str),
            search_parameter("the input text and the transcript of chat replies"),
        )
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """List speech clips, newest first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=SpeechCreateSerializer,
        responses={
            201: SpeechAssetSerializer,
            200: OpenApiResponse(
                SpeechAssetSerializer,
                description="An identical clip was already stored and is reused.",
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Synthesize speech and store the clip (an identical stored clip is reused)."""
        data = dict(self.validated(SpeechCreateSerializer).validated_data)
        if not data.get("instructions"):
            data.pop("instructions", None)
        outcome = services.synthesize(request.user, **data)
        code = status.HTTP_200_OK if outcome.cached else status.HTTP_201_CREATED
        return self.stored(outcome.asset, SpeechAssetSerializer, "speech", code)

    @extend_schema(parameters=[DOWNLOAD_PARAMETER], responses=AUDIO_RESPONSES)
    @action(
        detail=True,
        methods=["get"],
        url_path="audio",
        url_name="audio",
        content_negotiation_class=AnyAcceptNegotiation,
    )
    def audio(self, request: Request, id: str) -> HttpResponse | StreamingHttpResponse:
        """Play or download the clip; supports Range requests so players can seek."""
        asset = self.get_object()
        return serve_audio(
            request, asset, "audio", content_type=asset.content_type, sha256=asset.sha256
        )
