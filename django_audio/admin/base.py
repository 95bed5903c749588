"""What every django-audio admin shares: read-only pages, service-backed forms, audio views.

Services own every write to these models, so change pages are view-only here: the
``change`` permission of a model is what unlocks its *actions* (approve a consent, disable
a voice …), each of which calls a service with ``actor=request.user``. Adding a row goes
through a small form of our own whose ``save`` calls the matching service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _lazy

from ..exceptions import AudioError
from .widgets import audio_player, stream_field_file

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:  # django-stubs makes these generic for type checkers only
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline

__all__ = [
    "AudioAdmin",
    "ServiceAddForm",
    "ServiceAdmin",
    "error_message",
    "owner_search_field",
    "user_field",
]


def owner_search_field(relation: str = "owner") -> str:
    """``<relation>__<USERNAME_FIELD>`` for ``search_fields`` (custom user models too)."""
    return f"{relation}__{get_user_model().USERNAME_FIELD}"


def user_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.Field:
    """A user typed by username (a select of every user would not scale)."""
    model = get_user_model()
    return forms.ModelChoiceField(
        label=label,
        queryset=model._default_manager.all(),
        to_field_name=model.USERNAME_FIELD,
        widget=forms.TextInput,
        required=required,
        help_text=help_text,
        error_messages={"invalid_choice": _lazy("No user with that username.")},
    )


def error_message(exc: AudioError) -> str:
    """What the admin shows for a refused service call (never a credential)."""
    return str(exc) or type(exc).__name__


class ServiceAddForm(forms.Form):
    """An add form whose :meth:`save` calls a service and returns the stored row."""

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        self.request = request
        super().__init__(*args, **kwargs)

    def save(self) -> models.Model:
        """Call the service with the cleaned data; raise ``AudioError`` if it refuses."""
        raise NotImplementedError


class ServiceAdmin(ModelAdmin):
    """A model admin whose rows are written only by services (view-only change pages)."""

    #: The form of the add page (``None``: rows cannot be added in the admin).
    add_form_class: type[ServiceAddForm] | None = None
    add_form_template = "admin/django_audio/service_add_form.html"
    #: Help shown above the add form.
    add_help: str | Promise = ""
    show_full_result_count = False  # one COUNT(*) fewer per changelist page

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Only when an add form exists, and the user has the model's add permission."""
        return self.add_form_class is not None and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never: services own writes (see :meth:`has_model_change_permission`)."""
        return False

    def has_model_change_permission(self, request: HttpRequest) -> bool:
        """The model's real ``change`` permission, which allows its service actions."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """Every field of the (required) ``fieldsets`` is read-only."""
        return list(flatten_fieldsets(self.fieldsets or ()))

    def admin_url(self, name: str, *args: Any) -> str:
        """URL of one of this admin's named views (``changelist``, ``change``, custom …)."""
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}",
            args=args,
        )

    def wrap(self, view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        """Staff-only (``admin_view``) wrapper for a custom view."""
        return self.admin_site.admin_view(view)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The service-backed add page: validate, call the service, go to the new row."""
        if self.add_form_class is None or not self.has_add_permission(request):
            raise PermissionDenied
        form = self.add_form_class(
            request.POST or None, request.FILES or None, request=request, initial=request.GET
        )
        if request.method == "POST" and form.is_valid():
            try:
                obj = form.save()
            except AudioError as exc:
                field = exc.param if exc.param in form.fields else None
                form.add_error(field, error_message(exc))
            else:
                self.log_addition(request, obj, [{"added": {}}])
                messages.success(request, _("“%(obj)s” was created.") % {"obj": obj})
                return HttpResponseRedirect(self.admin_url("change", obj.pk))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Add %(name)s") % {"name": self.opts.verbose_name},
            "form": form,
            "add_help": self.add_help,
            "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.add_form_template, context)


class AudioAdmin(ServiceAdmin):
    """A :class:`ServiceAdmin` for a model holding audio: a player and a streaming view."""

    #: Name of the model's audio file field.
    audio_field = "audio"

    def get_urls(self) -> list[URLPattern]:
        """Adds ``<pk>/audio/`` (the stream behind the player) before the default URLs."""
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<path:object_id>/audio/", self.wrap(self.audio_view), name=f"{info}_audio"),
            *super().get_urls(),
        ]

    def audio_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponse | StreamingHttpResponse:
        """Stream the row's audio to a staff user allowed to view the row."""
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        field: FieldFile = getattr(obj, self.audio_field)
        fmt = getattr(obj, "audio_format", "") or "audio"
        name = f"{getattr(obj, 'public_id', obj.pk)}.{fmt}"
        return stream_field_file(request, field, getattr(obj, "content_type", ""), name)

    @admin.display(description=gettext_lazy("listen"))
    def player(self, obj: Any) -> SafeString:
        """The ``<audio>`` player for the row's stored file."""
        field: FieldFile = getattr(obj, self.audio_field)
        url = self.admin_url("audio", obj.pk) if field else None
        return audio_player(url, content_type=getattr(obj, "content_type", ""))
