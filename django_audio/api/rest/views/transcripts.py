"""``transcripts/``: upload to transcribe, list, search, retrieve, delete, export, download."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
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
from ....exporting import EXPORT_FORMATS, export_transcript
from ....models import Transcript
from ..serializers import (
    JOB_STATUSES,
    TranscriptCreateSerializer,
    TranscriptDetailSerializer,
    TranscriptSerializer,
)
from .base import (
    AUDIO_RESPONSES,
    DOWNLOAD_PARAMETER,
    AnyAcceptNegotiation,
    OwnedViewSet,
    list_parameters,
    search_parameter,
    serve_audio,
)


@extend_schema(tags=["transcripts"])
@extend_schema_view(
    retrieve=extend_schema(description="One transcript with its segments, words and speakers."),
    destroy=extend_schema(description="Delete the transcript and its stored audio."),
)
class TranscriptViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OwnedViewSet,
):
    """Stored transcripts, translations and live captions of the caller (staff: everyone's)."""

    queryset = Transcript.objects.select_related("owner")
    exact_filters = ("status", "model", "language", "kind")
    search_fields = ("text",)

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        """Lists omit the timings; one transcript shows everything."""
        if self.action == "create":
            return TranscriptCreateSerializer
        if self.action == "retrieve":
            return TranscriptDetailSerializer
        return TranscriptSerializer

    @extend_schema(
        parameters=list_parameters(
            OpenApiParameter("status", str, enum=JOB_STATUSES),
            OpenApiParameter("model", str),
            OpenApiParameter("language", str),
            OpenApiParameter("kind", str, enum=[k for k, _ in Transcript.Kind.choices]),
            search_parameter("the text"),
        )
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """List transcripts, newest first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": TranscriptCreateSerializer},
        responses={
            201: TranscriptDetailSerializer,
            202: OpenApiResponse(
                TranscriptDetailSerializer, description="Queued: runs in the background."
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload audio; it is transcribed (or translated), stored and returned."""
        form = self.validated(TranscriptCreateSerializer)
        data = form.validated_data
        run = services.translate if data["task"] == "translate" else services.transcribe
        outcome = run(request.user, data["file"], model=data["model"], **form.service_params())
        row = outcome.transcript
        queued = row.status == Transcript.Status.PENDING
        code = status.HTTP_202_ACCEPTED if queued else status.HTTP_201_CREATED
        return self.stored(row, TranscriptDetailSerializer, "transcript", code)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "fmt", str, OpenApiParameter.PATH, enum=[*EXPORT_FORMATS], description="Format."
            )
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="txt"),
            (200, "application/x-subrip"): OpenApiResponse(OpenApiTypes.STR, description="srt"),
            (200, "text/vtt"): OpenApiResponse(OpenApiTypes.STR, description="vtt"),
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="json"),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"export/(?P<fmt>[A-Za-z0-9]+)",
        url_name="export",
        content_negotiation_class=AnyAcceptNegotiation,
    )
    def export(self, request: Request, id: str, fmt: str) -> HttpResponse:
        """Download the transcript as plain text, SubRip, WebVTT or JSON."""
        row = self.get_object()
        content, content_type, filename = export_transcript(row, fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, filename) or ""
        return response

    @extend_schema(parameters=[DOWNLOAD_PARAMETER], responses=AUDIO_RESPONSES)
    @action(
        detail=True,
        methods=["get"],
        url_path="audio",
        url_name="audio",
        content_negotiation_class=AnyAcceptNegotiation,
    )
    def audio(self, request: Request, id: str) -> HttpResponse | StreamingHttpResponse:
        """Download (or play and seek in) the source audio; supports Range requests."""
        row = self.get_object()
        return serve_audio(request, row, "audio", content_type=row.content_type, sha256=row.sha256)
