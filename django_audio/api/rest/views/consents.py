"""``consents/``: submit consent recordings, list and retrieve them; staff review them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from .... import services
from ....models import VoiceConsent
from ..permissions import IsStaff
from ..serializers import (
    ConsentDecisionSerializer,
    VoiceConsentCreateSerializer,
    VoiceConsentSerializer,
)
from .base import OwnedViewSet, list_parameters, search_parameter


@extend_schema(tags=["consents"])
@extend_schema_view(
    retrieve=extend_schema(description="One voice consent."),
    destroy=extend_schema(description="Revoke (if needed) and delete the consent and its voices."),
)
class VoiceConsentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OwnedViewSet,
):
    """Voice consents of the caller (staff: everyone's); review actions are staff-only."""

    queryset = VoiceConsent.objects.select_related("owner", "decided_by")
    exact_filters = ("status", "language")
    search_fields = ("name",)

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        """The upload form, the decision form, or the consent."""
        if self.action == "create":
            return VoiceConsentCreateSerializer
        if self.action in ("approve", "reject", "revoke"):
            return ConsentDecisionSerializer
        return VoiceConsentSerializer

    @extend_schema(
        parameters=list_parameters(
            OpenApiParameter("status", str, enum=[s for s, _ in VoiceConsent.Status.choices]),
            OpenApiParameter("language", str),
            search_parameter("the name"),
        )
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """List consents, newest first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": VoiceConsentCreateSerializer},
        responses={201: VoiceConsentSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Submit a consent recording; it waits for staff review (unless approval is off)."""
        data = self.validated(VoiceConsentCreateSerializer).validated_data
        consent = services.submit_consent(
            request.user, name=data["name"], recording=data["recording"], language=data["language"]
        )
        return self.stored(consent, VoiceConsentSerializer, "consent")

    def perform_destroy(self, instance: VoiceConsent) -> None:
        """Revoke (if needed) and delete, with its voices; the audit trail stays."""
        services.delete_consent(instance, actor=self.request.user)

    def _decide(
        self, request: Request, decide: Callable[..., VoiceConsent], keyword: str
    ) -> Response:
        """Run one review service, passing the reason as its ``keyword`` argument."""
        consent = self.get_object()
        form = ConsentDecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        consent = decide(consent, actor=request.user, **{keyword: form.validated_data["reason"]})
        return Response(VoiceConsentSerializer(consent, context=self.get_serializer_context()).data)

    @extend_schema(request=ConsentDecisionSerializer, responses={200: VoiceConsentSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def approve(self, request: Request, id: str) -> Response:
        """Approve a pending (or rejected) consent: voices may then be made from it."""
        return self._decide(request, services.approve_consent, "note")

    @extend_schema(request=ConsentDecisionSerializer, responses={200: VoiceConsentSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def reject(self, request: Request, id: str) -> Response:
        """Reject a pending consent."""
        return self._decide(request, services.reject_consent, "reason")

    @extend_schema(request=ConsentDecisionSerializer, responses={200: VoiceConsentSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def revoke(self, request: Request, id: str) -> Response:
        """Revoke a consent: its voices stop at once and are deleted upstream."""
        return self._decide(request, services.revoke_consent, "reason")
