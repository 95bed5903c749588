"""The intermediate "give a reason" page shared by consent decisions and voice disabling.

Reached two ways: as a changelist action on the selected rows (the page posts back to the
changelist with the action name, like Django's own delete confirmation), or from the
buttons of a change page (the page posts to itself). Either way each row goes through a
service call with ``actor=request.user``; a refusal is shown as an error message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..exceptions import AudioError
from .base import AudioAdmin, error_message

__all__ = [
    "DecidingAdmin",
    "Decision",
    "ReasonForm",
    "apply_decision",
    "decision_action",
    "reason_page",
]


class ReasonForm(forms.Form):
    """The reason recorded in the audit trail."""

    reason = forms.CharField(
        label=gettext_lazy("reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


@dataclass(frozen=True)
class Decision:
    """One kind of decision: its action name, wording, and the service call it makes."""

    name: str
    verb: str | Promise
    title: str | Promise
    apply: Callable[[Any, Any, str], Any]
    reason_required: bool = True


def apply_decision(
    request: HttpRequest, decision: Decision, objects: Sequence[models.Model], reason: str
) -> int:
    """Run the decision on each row; returns how many succeeded (refusals become messages)."""
    done = 0
    for obj in objects:
        try:
            decision.apply(obj, request.user, reason)
        except AudioError as exc:
            messages.error(request, f"{obj}: {error_message(exc)}")
        else:
            done += 1
    if done:
        messages.success(
            request,
            _("%(verb)s: %(count)d of %(total)d.")
            % {"verb": decision.verb, "count": done, "total": len(objects)},
        )
    return done


def reason_page(
    request: HttpRequest,
    *,
    context: dict[str, Any],
    decision: Decision,
    rows: Sequence[dict[str, Any]],
    form: ReasonForm,
    from_changelist: bool,
) -> TemplateResponse:
    """The page asking for the reason; ``rows`` hold each ``obj`` with its player and trail."""
    return TemplateResponse(
        request,
        "admin/django_audio/reason_form.html",
        {
            **context,
            "title": decision.title,
            "decision": decision,
            "rows": rows,
            "form": form,
            "from_changelist": from_changelist,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


def decision_action(decision: Decision) -> Callable[..., TemplateResponse | None]:
    """A changelist action asking for the reason, then deciding every selected row."""

    def action(modeladmin: Any, request: HttpRequest, queryset: Any) -> TemplateResponse | None:
        objects = list(queryset)
        if "apply" in request.POST:
            form = ReasonForm(request.POST, required=decision.reason_required)
            if form.is_valid():
                apply_decision(request, decision, objects, form.cleaned_data["reason"])
                return None
        else:
            form = ReasonForm(required=decision.reason_required)
        return reason_page(
            request,
            context=modeladmin.decision_context(request),
            decision=decision,
            rows=modeladmin.decision_rows(objects),
            form=form,
            from_changelist=True,
        )

    action.__name__ = decision.name
    action.allowed_permissions = ("decide",)  # type: ignore[attr-defined]
    action.short_description = decision.title  # type: ignore[attr-defined]
    return action


class DecidingAdmin(AudioAdmin):
    """An :class:`AudioAdmin` whose rows take decisions (actions and change-page buttons)."""

    #: The decisions offered, in button order.
    decisions: tuple[Decision, ...] = ()

    def has_decide_permission(self, request: HttpRequest) -> bool:
        """Deciding needs the model's ``change`` permission."""
        return self.has_model_change_permission(request)

    def get_urls(self) -> list[URLPattern]:
        """Adds ``<pk>/decide/<name>/`` (the reason page of one row)."""
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/decide/<str:name>/",
                self.wrap(self.decision_view),
                name=f"{info}_decide",
            ),
            *super().get_urls(),
        ]

    def decision_context(self, request: HttpRequest) -> dict[str, Any]:
        """Admin context of the reason page."""
        return {**self.admin_site.each_context(request), "opts": self.opts}

    def decision_rows(self, objects: Sequence[Any]) -> list[dict[str, Any]]:
        """What the reason page shows of each row: the row, a player, its audit trail."""
        return [{"obj": obj, "player": self.player(obj), "events": []} for obj in objects]

    def decision_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        """Ask for the reason, then decide one row and go back to its change page."""
        decision = next((d for d in self.decisions if d.name == name), None)
        if decision is None:
            raise Http404("Unknown decision.")
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        form = ReasonForm(request.POST or None, required=decision.reason_required)
        if request.method == "POST" and form.is_valid():
            apply_decision(request, decision, [obj], form.cleaned_data["reason"])
            return HttpResponseRedirect(self.admin_url("change", obj.pk))
        return reason_page(
            request,
            context=self.decision_context(request),
            decision=decision,
            rows=self.decision_rows([obj]),
            form=form,
            from_changelist=False,
        )

    def decision_buttons(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        """Links to the reason pages, for the change page's object tools."""
        if not self.has_decide_permission(request):
            return []
        return [
            {"url": self.admin_url("decide", obj.pk, d.name), "title": d.title}
            for d in self.decisions
            if self.decision_allowed(obj, d)
        ]

    def decision_allowed(self, obj: Any, decision: Decision) -> bool:
        """Whether a button for ``decision`` makes sense for ``obj`` (the service decides)."""
        return True

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The read-only page, with a button per decision."""
        obj = self.get_object(request, object_id)
        buttons = self.decision_buttons(request, obj) if obj is not None else []
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "decision_buttons": buttons}
        )
