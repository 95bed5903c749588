"""``voices/``: custom voices made under approved consents; disable and delete them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from .... import services
from ....models import Voice
from ..filters import query_value
from ..serializers import VoiceCreateSerializer, VoiceDisableSerializer, VoiceSerializer
from .base import OwnedViewSet, list_parameters, search_parameter


@extend_schema(tags=["voices"])
@extend_schema_view(
    retrieve=extend_schema(description="One custom voice."),
    destroy=extend_schema(description="Delete the voice upstream and here."),
)
class VoiceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OwnedViewSet,
):
    """Custom voices of the caller (staff: everyone's)."""

    queryset = Voice.objects.select_related("owner", "consent")
    exact_filters = ("status",)
    search_fields = ("name",)

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        """The upload form, the disable form, or the voice."""
        if self.action == "create":
            return VoiceCreateSerializer
        if self.action == "disable":
            return VoiceDisableSerializer
        return VoiceSerializer

    def filter_queryset(self, queryset: Any) -> Any:
        """Also ``consent``: the id of the consent the voices were made under."""
        queryset = super().filter_queryset(queryset)
        consent = query_value(self.request.query_params, "consent")
        if self.action == "list" and consent:
            queryset = queryset.filter(consent__public_id=consent)
        return queryset

    @extend_schema(
        parameters=list_parameters(
            OpenApiParameter("status", str, enum=[s for s, _ in Voice.Status.choices]),
            OpenApiParameter("consent", str, description="A consent id."),
            search_parameter("the name"),
        )
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """List custom voices, newest first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": VoiceCreateSerializer},
        responses={201: VoiceSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Make a voice from a sample, under one of your approved consents."""
        data = self.validated(VoiceCreateSerializer).validated_data
        voice = services.create_voice(
            request.user, name=data["name"], sample=data["audio_sample"], consent=data["consent"]
        )
        return self.stored(voice, VoiceSerializer, "voice")

    def perform_destroy(self, instance: Voice) -> None:
        """Delete upstream and here; the sample file goes once the deletion commits."""
        services.delete_voice(instance, actor=self.request.user)

    @extend_schema(request=VoiceDisableSerializer, responses={200: VoiceSerializer})
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, id: str) -> Response:
        """Stop the voice from speaking; it stays stored."""
        voice = self.get_object()
        form = VoiceDisableSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        voice = services.disable_voice(
            voice, actor=request.user, reason=form.validated_data["reason"]
        )
        return Response(VoiceSerializer(voice, context=self.get_serializer_context()).data)
