"""What every REST resource shares: authentication, throttles, errors, owner scoping."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import generics, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer, Serializer
from rest_framework.views import APIView

from ...auth import ApiKeyAuthentication
from ...errors import exception_handler
from ..filters import filter_created, filter_exact, query_value, search_text
from ..pagination import CreatedCursorPagination
from ..permissions import is_staff, owned_by
from ..ranges import serve_file
from ..schema import AudioAutoSchema
from ..serializers import NAMESPACE
from ..throttling import AudioCreateRateThrottle, AudioUserRateThrottle

#: Characters a public id may contain (ids look like ``tr_3f9c…``).
PUBLIC_ID_REGEX = r"[A-Za-z0-9_]+"


class AnyAcceptNegotiation(BaseContentNegotiation):
    """For file downloads: whatever the client accepts, errors are still JSON.

    Audio players send ``Accept: audio/*``; DRF's default negotiation would answer 406.
    """

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        """The first parser (downloads take no body)."""
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """The first renderer (JSON), used only for error bodies."""
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


class AudioAPIView(APIView):
    """Authentication (API key, then session), permissions, throttles and the error shape.

    Set on the views rather than left to the project's ``REST_FRAMEWORK`` so the resources
    behave the same in every project.
    """

    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [AudioUserRateThrottle, AudioCreateRateThrottle]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    # drf-spectacular's inspector even when the project's DEFAULT_SCHEMA_CLASS is DRF's own.
    schema = AudioAutoSchema()

    def get_exception_handler(self) -> Callable[..., Any]:
        """Errors in OpenAI's shape, whatever the project's DRF settings say."""
        return exception_handler


class OwnedViewSet(viewsets.ViewSetMixin, generics.GenericAPIView[Any], AudioAPIView):
    """A resource whose rows belong to users: scoped to the caller (staff see all).

    Rows are addressed by their public id; another user's id is simply not found (404).
    Subclasses name ``exact_filters`` and ``search_fields`` for the list endpoint.
    """

    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = PUBLIC_ID_REGEX
    pagination_class = CreatedCursorPagination
    exact_filters: Sequence[str] = ()
    search_fields: Sequence[str] = ()

    def get_queryset(self) -> QuerySet[Any]:
        """The caller's rows (every row for staff)."""
        queryset = super().get_queryset()
        return owned_by(queryset, self.request.user)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """List filters from the query string (``owner`` is for staff only)."""
        if self.action != "list":
            return queryset
        params = self.request.query_params
        queryset = filter_exact(queryset, params, self.exact_filters)
        queryset = filter_created(queryset, params)
        owner = query_value(params, "owner")
        if owner and is_staff(self.request.user):
            username_field = get_user_model().USERNAME_FIELD
            queryset = queryset.filter(**{f"owner__{username_field}": owner})
        return search_text(queryset, query_value(params, "search"), self.search_fields)

    def validated(self, form_class: type[Serializer[Any]]) -> Any:
        """The request's data checked by ``form_class`` (400 naming the field otherwise)."""
        form = form_class(data=self.request.data)
        form.is_valid(raise_exception=True)
        return form

    def stored(
        self,
        row: Any,
        serializer_class: type[BaseSerializer[Any]],
        route: str,
        code: int = status.HTTP_201_CREATED,
    ) -> Response:
        """Answer a create: the stored row, its ``Location``, and ``code``."""
        body = serializer_class(row, context=self.get_serializer_context()).data
        location = reverse(f"{NAMESPACE}:{route}-detail", kwargs={"id": row.public_id})
        return Response(body, status=code, headers={"Location": location})


def serve_audio(
    request: Request, row: Model, field_name: str, *, content_type: str, sha256: str
) -> HttpResponse | StreamingHttpResponse:
    """Stream the stored audio of ``row`` (Range requests honoured)."""
    field = getattr(row, field_name)
    public_id = str(getattr(row, "public_id", "audio"))
    extension = os.path.splitext(str(field.name or ""))[1]
    return serve_file(
        request._request,
        field.storage,
        str(field.name or ""),
        content_type=content_type or "application/octet-stream",
        filename=f"{public_id}{extension}",
        etag_source=sha256,
        as_attachment=request.query_params.get("download") in ("1", "true"),
    )


# --------------------------------------------------------------------------- schema pieces


def list_parameters(*extra: OpenApiParameter) -> list[OpenApiParameter]:
    """Query parameters every list endpoint accepts, plus ``extra``."""
    return [
        *extra,
        OpenApiParameter(
            "created_after", OpenApiTypes.DATETIME, description="ISO 8601 date or date-time."
        ),
        OpenApiParameter(
            "created_before",
            OpenApiTypes.DATETIME,
            description="ISO 8601 date (the whole day is included) or date-time.",
        ),
        OpenApiParameter("owner", str, description="Staff only: a username."),
    ]


def search_parameter(what: str) -> OpenApiParameter:
    """The ``search`` query parameter over ``what``."""
    return OpenApiParameter(
        "search",
        str,
        description=f"Words to find in {what} (full-text search on PostgreSQL).",
    )


#: Responses of a download action.
AUDIO_RESPONSES = {
    (200, "audio/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The whole file."),
    (206, "audio/*"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The byte range asked for with a Range header."
    ),
    416: OpenApiResponse(description="The Range cannot be satisfied."),
}

#: Query parameter of a download action.
DOWNLOAD_PARAMETER = OpenApiParameter(
    "download", bool, description="Send as an attachment (Content-Disposition) to save it."
)
