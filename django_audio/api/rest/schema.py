"""The OpenAPI schema of the REST resources and its browsable docs (drf-spectacular).

The schema covers exactly these resources, at the prefix they are mounted under, whatever
else the project's URLconf holds (the ``/v1`` surface is described by OpenAI's own spec).
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_script_prefix, include, path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from .serializers import NAMESPACE, ErrorSerializer

#: Title, version and description of the schema.
SCHEMA_SETTINGS: dict[str, Any] = {
    "TITLE": "django-audio REST API",
    "DESCRIPTION": (
        "Stored transcripts, speech clips, voice consents, custom voices and usage, "
        "owner-scoped. Authenticate with 'Authorization: Bearer <API key>' or a session."
    ),
    "VERSION": "1",
    "COMPONENT_SPLIT_REQUEST": True,
}


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes :class:`~django_audio.api.auth.ApiKeyAuthentication` as HTTP bearer auth."""

    target_class = "django_audio.api.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        """``Authorization: Bearer sk-audio-…``."""
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A django-audio API key (manage.py create_audio_api_key USERNAME).",
        }


#: What each documented error status means here.
ERROR_STATUSES: dict[int, str] = {
    400: "Invalid parameters; 'param' names the first one at fault.",
    401: "No API key or session, or a revoked key.",
    403: "Not allowed (staff only, a failed CSRF check, or a consent that is not approved).",
    404: "No such object, or it is not yours.",
    429: "Too many requests; see the Retry-After header.",
    502: "The upstream provider failed.",
}


class AudioAutoSchema(AutoSchema):
    """drf-spectacular's inspector, adding the OpenAI-shaped error responses each view gives."""

    def _error_statuses(self) -> list[int]:
        statuses = [401, 429]
        if "{" in self.path:
            statuses.append(404)
        if self.method == "POST" or self._is_list_view() or self.path.endswith("usage/"):
            statuses.append(400)
        staff_only = any(
            getattr(p, "__name__", "") == "IsStaff" for p in self.view.permission_classes
        )
        if self.method == "POST" or staff_only:
            statuses.append(403)
        if self.method == "POST" and getattr(self.view, "action", None) == "create":
            statuses.append(502)
        return sorted(statuses)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        component = self.resolve_serializer(ErrorSerializer, direction)
        for status in self._error_statuses():
            responses.setdefault(
                str(status),
                {
                    "content": {"application/json": {"schema": component.ref}},
                    "description": ERROR_STATUSES[status],
                },
            )
        return responses


def mounted_patterns(request: Request, resources: list[URLPattern | URLResolver]) -> list[Any]:
    """``resources`` under the prefix this URLconf was mounted at (found by reversing)."""
    namespace = getattr(request.resolver_match, "namespace", "") or NAMESPACE
    usage = reverse(f"{namespace}:usage")
    prefix = usage[len(get_script_prefix()) :].removesuffix("usage/")
    return [path(prefix, include((resources, NAMESPACE), namespace=namespace))]


@extend_schema(exclude=True)
class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema (YAML; JSON with ``?format=json``)."""

    custom_settings = SCHEMA_SETTINGS
    permission_classes = [AllowAny]
    resources: list[URLPattern | URLResolver] = []

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Generate the schema of :attr:`resources` at their mount point."""
        self.patterns = mounted_patterns(request, self.resources)
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        return response


@extend_schema(exclude=True)
class SwaggerView(SpectacularSwaggerView):
    """Swagger UI over the schema."""

    permission_classes = [AllowAny]
    url_name = f"{NAMESPACE}:schema"


@extend_schema(exclude=True)
class RedocView(SpectacularRedocView):
    """Redoc over the schema."""

    permission_classes = [AllowAny]
    url_name = f"{NAMESPACE}:schema"
