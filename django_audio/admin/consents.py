"""Voice consents in the admin: listen, approve / reject / revoke with a reason, audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .. import services
from ..exceptions import AudioError
from ..models import ConsentEvent, VoiceConsent
from .base import (
    ModelAdmin,
    ServiceAddForm,
    TabularInline,
    error_message,
    owner_search_field,
    user_field,
)
from .decisions import DecidingAdmin, Decision, decision_action
from .transcripts import provider_choices

Status = VoiceConsent.Status

APPROVE = Decision(
    "approve",
    verb=_("Approved"),
    title=_("Approve consent"),
    apply=lambda consent, actor, reason: services.approve_consent(
        consent, actor=actor, note=reason
    ),
    reason_required=False,
)
REJECT = Decision(
    "reject",
    verb=_("Rejected"),
    title=_("Reject consent"),
    apply=lambda consent, actor, reason: services.reject_consent(
        consent, actor=actor, reason=reason
    ),
)
REVOKE = Decision(
    "revoke",
    verb=_("Revoked"),
    title=_("Revoke consent"),
    apply=lambda consent, actor, reason: services.revoke_consent(
        consent, actor=actor, reason=reason
    ),
)

#: Which decisions the change page offers in each status (the services enforce the rules).
OFFERED = {
    Status.PENDING: {"approve", "reject", "revoke"},
    Status.APPROVED: {"revoke"},
    Status.REJECTED: {"approve", "revoke"},
    Status.REVOKED: set(),
}


class ConsentSubmitForm(ServiceAddForm):
    """Upload a consent recording for review (``services.submit_consent``)."""

    name = forms.CharField(label=_("name"), max_length=200, help_text=_("Whose voice it is."))
    language = forms.CharField(
        label=_("language (BCP 47)"), max_length=35, initial="en", help_text=_("e.g. en, en-US.")
    )
    recording = forms.FileField(label=_("consent recording"))
    owner = user_field(
        _("owner"), required=False, help_text=_("Username of who may make voices under it.")
    )
    provider = forms.ChoiceField(label=_("provider"), choices=provider_choices)

    def save(self) -> VoiceConsent:
        """Submit the consent as the logged-in user (pending review)."""
        data = self.cleaned_data
        return services.submit_consent(
            data["owner"] or self.request.user,
            name=data["name"],
            recording=data["recording"],
            language=data["language"],
            actor=self.request.user,
            provider=data["provider"],
        )


class ConsentEventInline(TabularInline):
    """The consent's audit trail: read-only, never added to, changed or deleted here."""

    model = ConsentEvent
    fk_name = "consent"
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")
    fields = readonly_fields = (
        "created_at",
        "action",
        "from_status",
        "to_status",
        "actor_name",
        "voice_public_id",
        "note",
    )
    verbose_name_plural = _("audit trail")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Entries are written by the services only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The trail is append-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The trail is append-only."""
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Whoever may view the consent sees its trail."""
        return True


@admin.register(VoiceConsent)
class VoiceConsentAdmin(DecidingAdmin):
    """Consents: review queue with player, decisions with a reason, the audit trail."""

    audio_field = "recording"
    add_form_class = ConsentSubmitForm
    add_help = _("The recording is stored as a pending consent until staff review it.")
    change_form_template = "admin/django_audio/decision_change_form.html"
    decisions = (APPROVE, REJECT, REVOKE)
    actions = [decision_action(d) for d in decisions]
    inlines = (ConsentEventInline,)
    list_display = (
        "public_id",
        "name",
        "language",
        "status",
        "owner",
        "player",
        "decided_by",
        "decided_at",
        "created_at",
    )
    list_display_links = ("public_id", "name")
    list_filter = ("status", "language", "provider", "decided_at", "created_at")
    search_fields = ("public_id", "name", "upstream_id", "decision_note", owner_search_field())
    date_hierarchy = "created_at"
    list_select_related = ("owner", "decided_by")
    fieldsets = (
        (None, {"fields": ("public_id", "name", "language", "status", "owner", "submitted_by")}),
        (
            _("Recording"),
            {
                "fields": (
                    "player",
                    "original_name",
                    ("content_type", "audio_format", "size", "duration"),
                    "sha256",
                )
            },
        ),
        (_("Decision"), {"fields": ("decided_by", "decided_at", "decision_note")}),
        (_("Upstream"), {"fields": ("provider", "upstream_id", ("created_at", "updated_at"))}),
    )

    def decision_allowed(self, obj: VoiceConsent, decision: Decision) -> bool:
        """Only the transitions the consent's status allows."""
        return decision.name in OFFERED.get(Status(obj.status), set())

    def decision_rows(self, objects: Sequence[VoiceConsent]) -> list[dict[str, Any]]:
        """Each consent with its player and audit trail (one query for all trails)."""
        trails: dict[int, list[ConsentEvent]] = {obj.pk: [] for obj in objects}
        for event in ConsentEvent.objects.filter(consent_id__in=list(trails)):
            trails[event.consent_id].append(event)  # type: ignore[index]
        return [
            {"obj": obj, "player": self.player(obj), "events": trails[obj.pk]} for obj in objects
        ]

    def delete_model(self, request: HttpRequest, obj: VoiceConsent) -> None:
        """Through ``services.delete_consent``: revoked first, audited, voices deleted."""
        try:
            services.delete_consent(obj, actor=request.user)
        except AudioError as exc:
            messages.error(request, f"{obj}: {error_message(exc)}")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[VoiceConsent]) -> None:
        """Each selected consent through ``services.delete_consent``."""
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(ConsentEvent)
class ConsentEventAdmin(ModelAdmin):
    """The whole consent audit trail: searchable, never editable or deletable."""

    list_display = (
        "created_at",
        "consent_public_id",
        "voice_public_id",
        "action",
        "from_status",
        "to_status",
        "actor_name",
        "note",
    )
    list_filter = ("action", "created_at")
    search_fields = ("consent_public_id", "voice_public_id", "actor_name", "note")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    readonly_fields = (
        "created_at",
        "consent",
        "consent_public_id",
        "voice_public_id",
        "action",
        "from_status",
        "to_status",
        "actor",
        "actor_name",
        "note",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Entries are written by the services only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The trail is append-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The trail is append-only."""
        return False
