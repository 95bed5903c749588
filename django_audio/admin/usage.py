"""Usage records in the admin, and the per-user totals page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import UsageRecord
from .base import ServiceAdmin, owner_search_field

#: Periods offered on the totals page, in days (``None``: all time).
PERIODS: tuple[int | None, ...] = (1, 7, 30, 365, None)


def usage_per_user(since: timedelta | None = None) -> QuerySet[UsageRecord, dict[str, Any]]:
    """One row per owner with request count and sums of seconds, characters, tokens."""
    qs = UsageRecord.objects.all()
    if since is not None:
        qs = qs.filter(created_at__gte=timezone.now() - since)
    username = owner_search_field()
    rows: QuerySet[UsageRecord, dict[str, Any]] = (
        qs.values("owner", username)
        .annotate(
            requests=Count("id"),
            cached=Count("id", filter=Q(cached=True)),
            seconds=Sum("seconds"),
            characters=Sum("characters"),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            total_tokens=Sum("total_tokens"),
        )
        .order_by("-requests", "owner")
    )
    return rows


@admin.register(UsageRecord)
class UsageRecordAdmin(ServiceAdmin):
    """What each request consumed; a totals page sums it per user."""

    change_list_template = "admin/django_audio/usagerecord/change_list.html"
    list_display = (
        "created_at",
        "owner",
        "operation",
        "provider",
        "model",
        "seconds",
        "characters",
        "total_tokens",
        "cached",
    )
    list_filter = ("operation", "cached", "provider", "model", "created_at")
    search_fields = ("model", "provider", owner_search_field())
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    fieldsets = (
        (None, {"fields": ("created_at", "owner", "operation", "provider", "model", "cached")}),
        (
            _("Consumed"),
            {
                "fields": (
                    "seconds",
                    "characters",
                    ("input_tokens", "output_tokens", "total_tokens"),
                )
            },
        ),
        (_("For"), {"fields": ("transcript", "speech_asset")}),
    )

    def get_urls(self) -> list[URLPattern]:
        """Adds ``totals/``."""
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("totals/", self.wrap(self.totals_view), name=f"{info}_totals"),
            *super().get_urls(),
        ]

    def totals_view(self, request: HttpRequest) -> HttpResponse:
        """Per-user totals over a period (``?days=N``; all time by default)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            days: int | None = int(request.GET["days"])
        except (KeyError, ValueError):
            days = None
        if days is not None and days not in PERIODS:
            days = None
        rows = list(usage_per_user(timedelta(days=days) if days else None))
        username = owner_search_field()
        for row in rows:
            row["username"] = row.pop(username) or _("(no user)")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Usage per user"),
            "rows": rows,
            "days": days,
            "periods": PERIODS,
        }
        return TemplateResponse(request, "admin/django_audio/usagerecord/totals.html", context)
