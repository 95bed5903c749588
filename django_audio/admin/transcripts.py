"""Transcripts in the admin: upload-to-transcribe, a timeline of segments and words, exports."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from .. import services
from ..contract import TRANSCRIPTION_FORMATS
from ..exporting import EXPORT_FORMATS, export_transcript
from ..models import Transcript
from ..providers import providers
from .base import AudioAdmin, ServiceAddForm, owner_search_field

#: Rows shown in the words table of a change page (a long recording has tens of thousands).
MAX_WORDS_SHOWN = 2000


def clock(seconds: Any) -> str:
    """``h:mm:ss.mmm`` (hours only when needed) for a number of seconds."""
    try:
        ms = round(float(seconds) * 1000)
    except (TypeError, ValueError):
        return ""
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    head = f"{hours}:{minutes:02d}" if hours else f"{minutes:d}"
    return f"{head}:{secs:02d}.{ms:03d}"


def provider_choices() -> list[tuple[str, str]]:
    """The configured provider aliases, for a select box."""
    return [(alias, alias) for alias in providers.aliases()] or [("default", "default")]


class TranscribeForm(ServiceAddForm):
    """Upload a recording; ``services.transcribe`` (or ``translate``) stores the transcript."""

    file = forms.FileField(label=_("recording"), help_text=_("Checked by its content."))
    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[
            (Transcript.Kind.TRANSCRIPTION, _("transcription")),
            (Transcript.Kind.TRANSLATION, _("translation into English")),
        ],
        initial=Transcript.Kind.TRANSCRIPTION,
    )
    model = forms.CharField(label=_("model"), initial="whisper-1", max_length=200)
    language = forms.CharField(
        label=_("language"), required=False, max_length=35, help_text=_("ISO-639-1, optional.")
    )
    prompt = forms.CharField(
        label=_("prompt"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    response_format = forms.ChoiceField(
        label=_("response format"),
        choices=[(f, f) for f in TRANSCRIPTION_FORMATS],
        initial="verbose_json",
        help_text=_("verbose_json stores segments and word timings."),
    )
    word_timestamps = forms.BooleanField(
        label=_("word timestamps"),
        required=False,
        initial=True,
        help_text=_("With verbose_json: also store the timing of every word."),
    )
    provider = forms.ChoiceField(label=_("provider"), choices=provider_choices)

    def save(self) -> Transcript:
        """Call the transcription service as the logged-in user."""
        data = self.cleaned_data
        params: dict[str, Any] = {"response_format": data["response_format"]}
        if data["prompt"]:
            params["prompt"] = data["prompt"]
        if data["response_format"] == "verbose_json" and data["kind"] != "translation":
            granularities = ["segment", "word"] if data["word_timestamps"] else ["segment"]
            params["timestamp_granularities"] = granularities
        if data["kind"] == Transcript.Kind.TRANSLATION:
            params.pop("timestamp_granularities", None)
            outcome = services.translate(
                self.request.user,
                data["file"],
                model=data["model"],
                provider=data["provider"],
                **params,
            )
        else:
            if data["language"]:
                params["language"] = data["language"]
            outcome = services.transcribe(
                self.request.user,
                data["file"],
                model=data["model"],
                provider=data["provider"],
                **params,
            )
        if outcome.transcript.status == Transcript.Status.PENDING:
            messages.info(self.request, _("Queued: the transcript is made in the background."))
        return outcome.transcript


def _export_response(transcripts: list[Transcript], fmt: str) -> HttpResponse:
    """One file, or a zip of one file per transcript."""
    if len(transcripts) == 1:
        content, content_type, filename = export_transcript(transcripts[0], fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for transcript in transcripts:
            content, _type, filename = export_transcript(transcript, fmt)
            archive.writestr(filename, content)
    response = HttpResponse(buf.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="transcripts-{fmt}.zip"'
    return response


def _export_action(fmt: str) -> Any:
    def action(
        modeladmin: TranscriptAdmin, request: HttpRequest, queryset: QuerySet[Transcript]
    ) -> HttpResponse | None:
        rows = list(queryset)
        if not rows:
            messages.warning(request, _("No transcripts were selected."))
            return None
        return _export_response(rows, fmt)

    action.__name__ = f"export_{fmt}"
    return admin.action(description=_("Download selected as %(fmt)s") % {"fmt": fmt.upper()})(
        action
    )


@admin.register(Transcript)
class TranscriptAdmin(AudioAdmin):
    """Transcripts: read-only rows, upload to transcribe, timeline, downloads."""

    add_form_class = TranscribeForm
    add_help = _("The recording is stored and transcribed by the chosen provider.")
    list_display = (
        "public_id",
        "kind",
        "status",
        "owner",
        "model",
        "language",
        "duration_display",
        "text_head",
        "created_at",
    )
    list_display_links = ("public_id",)
    list_filter = ("status", "kind", "provider", "language", "created_at")
    search_fields = ("public_id", "text", "original_name", "model", owner_search_field())
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    list_per_page = 50
    actions = [_export_action(fmt) for fmt in EXPORT_FORMATS]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "public_id",
                    "kind",
                    "status",
                    "owner",
                    ("provider", "model", "language"),
                    ("created_at", "started_at", "completed_at"),
                )
            },
        ),
        (
            _("Audio"),
            {
                "fields": (
                    "player",
                    "original_name",
                    ("content_type", "audio_format", "size", "duration"),
                    "sha256",
                    "audio_purged_at",
                )
            },
        ),
        (_("Text"), {"fields": ("downloads", "text", "speaker_list", "timeline", "word_table")}),
        (
            _("Request"),
            {
                "classes": ("collapse",),
                "fields": (
                    "prompt",
                    "response_format",
                    "params_json",
                    "usage_json",
                    "upstream_request_id",
                    "task_id",
                ),
            },
        ),
        (_("Error"), {"classes": ("collapse",), "fields": ("error", "error_code")}),
    )

    def get_urls(self) -> list[URLPattern]:
        """Adds ``<pk>/download/<fmt>/``."""
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/download/<str:fmt>/",
                self.wrap(self.download_view),
                name=f"{info}_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: str, fmt: str) -> HttpResponse:
        """One transcript as txt / srt / vtt / json, to a user allowed to view it."""
        if fmt not in EXPORT_FORMATS:
            raise Http404("Unknown export format.")
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return _export_response([obj], fmt)

    @admin.display(description=_("duration"), ordering="duration")
    def duration_display(self, obj: Transcript) -> str:
        """Duration as a clock."""
        return clock(obj.duration) if obj.duration is not None else "—"

    @admin.display(description=_("text"))
    def text_head(self, obj: Transcript) -> str:
        """The first 80 characters of the text."""
        return obj.text[:80] + ("…" if len(obj.text) > 80 else "")

    @admin.display(description=_("download"))
    def downloads(self, obj: Transcript) -> SafeString:
        """Links to the exports."""
        return format_html_join(
            " · ",
            '<a href="{}" download>{}</a>',
            ((self.admin_url("download", obj.pk, fmt), fmt.upper()) for fmt in EXPORT_FORMATS),
        )

    @admin.display(description=_("speakers"))
    def speaker_list(self, obj: Transcript) -> str:
        """Distinct speaker labels."""
        return ", ".join(obj.speakers) or "—"

    @admin.display(description=_("segments"))
    def timeline(self, obj: Transcript) -> SafeString:
        """Segments (with speakers when diarized) as a read-only table."""
        source = obj.diarized_segments or obj.segments or []
        rows = [
            {
                "id": seg.get("id", i),
                "start": clock(seg.get("start")),
                "end": clock(seg.get("end")),
                "speaker": seg.get("speaker", ""),
                "text": seg.get("text", ""),
            }
            for i, seg in enumerate(source)
            if isinstance(seg, dict)
        ]
        return render_to_string(
            "admin/django_audio/transcript/segments.html",
            {"rows": rows, "speakers": any(r["speaker"] for r in rows)},
        )

    @admin.display(description=_("words"))
    def word_table(self, obj: Transcript) -> SafeString:
        """Word timings as a read-only table (the first ``MAX_WORDS_SHOWN``)."""
        words = [w for w in obj.words or [] if isinstance(w, dict)]
        rows = [
            {"word": w.get("word", ""), "start": clock(w.get("start")), "end": clock(w.get("end"))}
            for w in words[:MAX_WORDS_SHOWN]
        ]
        return render_to_string(
            "admin/django_audio/transcript/words.html",
            {"rows": rows, "hidden": max(0, len(words) - MAX_WORDS_SHOWN)},
        )

    @admin.display(description=_("request parameters"))
    def params_json(self, obj: Transcript) -> SafeString:
        """The request parameters, pretty-printed."""
        return pretty_json(obj.params)

    @admin.display(description=_("usage"))
    def usage_json(self, obj: Transcript) -> SafeString:
        """The usage reported, pretty-printed."""
        return pretty_json(obj.usage)


def pretty_json(value: Any) -> SafeString:
    """``value`` as indented JSON in a ``<pre>``."""
    if not value:
        return format_html("{}", "—")
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))
