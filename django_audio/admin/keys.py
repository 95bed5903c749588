"""API keys in the admin: create (the raw key is shown once), list, revoke.

Only the prefix is ever displayed; the hash is not a field of any admin page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import ApiKey
from ..models.keys import KEY_PREFIX, split_key
from .base import ServiceAddForm, ServiceAdmin, owner_search_field, user_field


class ApiKeyCreateForm(ServiceAddForm):
    """A new key for a user; the raw key is shown in a message, once."""

    user = user_field(gettext_lazy("user"), help_text=gettext_lazy("Username of the owner."))
    name = forms.CharField(
        label=gettext_lazy("name"), max_length=100, help_text=gettext_lazy("What it is for.")
    )

    def save(self) -> ApiKey:
        """Create the key and put the raw key in a one-time message."""
        key, raw = ApiKey.objects.create_key(self.cleaned_data["user"], self.cleaned_data["name"])
        messages.warning(
            self.request,
            format_html(
                "{} <code>{}</code>",
                _("Copy the new key now; it will not be shown again:"),
                raw,
            ),
        )
        return key


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceAdmin):
    """Per-user API keys, stored hashed."""

    add_form_class = ApiKeyCreateForm
    add_help = gettext_lazy("The key is shown once, after saving; only its hash is stored.")
    list_display = ("name", "user", "masked", "active", "created_at", "last_used_at", "revoked_at")
    list_display_links = ("name",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at", "last_used_at")
    search_fields = ("name", "prefix", owner_search_field("user"))
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    actions = ["revoke_keys"]
    fieldsets = (
        (None, {"fields": ("name", "user", "masked", "created_at", "last_used_at", "revoked_at")}),
    )

    @admin.display(description=gettext_lazy("key"))
    def masked(self, obj: ApiKey) -> str:
        """The key's public prefix; the secret part is never stored."""
        return f"{KEY_PREFIX}{obj.prefix}-…"

    @admin.display(description=gettext_lazy("active"), boolean=True)
    def active(self, obj: ApiKey) -> bool:
        """Not revoked."""
        return obj.is_active

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revoking needs the ``change`` permission on API keys."""
        return self.has_model_change_permission(request)

    @admin.action(description=gettext_lazy("Revoke selected keys"), permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        """Revoke the selected keys at once (already revoked ones are left as they are)."""
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            key.revoke()
        count = len(keys)
        messages.success(request, _("Revoked %(count)d key(s).") % {"count": count})

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ApiKey], search_term: str
    ) -> tuple[QuerySet[ApiKey], bool]:
        """A pasted full key finds its row by prefix (the hash is never searched)."""
        prefix = split_key(search_term.strip())
        if prefix is not None:
            return queryset.filter(prefix=prefix), False
        return super().get_search_results(request, queryset, search_term)
