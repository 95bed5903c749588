"""``audio/voices``: create and delete custom voices; ``GET`` lists them (an extension)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from ... import services
from ...conf import audio_settings
from ...exceptions import InvalidRequest, UnsupportedFeature
from ...models import Voice
from ...services.common import get_owned, owner_filter
from .base import endpoint, json_response, read_form, reject_unknown
from .pages import cursor_page

__all__ = ["render_voice", "voice_detail", "voice_list"]

_FIELDS = {"name", "audio_sample", "consent", "type", "prompt", "model", "script_hint"}


def render_voice(voice: Voice) -> dict[str, Any]:
    """``audio.voice`` (always an audio-sample voice here)."""
    return {
        "object": "audio.voice",
        "id": voice.public_id,
        "name": voice.name,
        "created_at": int(voice.created_at.timestamp()),
        "type": "audio_sample",
    }


async def create_voice(request: HttpRequest, user: Any) -> HttpResponseBase:
    """Make a custom voice from ``audio_sample`` under one of the caller's approved consents."""
    form = await read_form(request, {"audio_sample": audio_settings.MAX_VOICE_SAMPLE_SIZE})
    reject_unknown(form.names(), _FIELDS)
    kind = form.text("type") or "audio_sample"
    if kind == "prompt":
        raise UnsupportedFeature(
            "Voices made from a text prompt are not supported here; send an 'audio_sample' "
            "recorded under an approved 'consent'.",
            param="type",
        )
    if kind != "audio_sample":
        raise InvalidRequest(
            f"Invalid value for 'type': {kind!r}. Supported values are: 'audio_sample', 'prompt'.",
            param="type",
            code="invalid_value",
        )
    name = form.text("name", required=True)
    sample = form.upload("audio_sample")
    consent = form.text("consent", required=True)
    voice = await sync_to_async(services.create_voice)(
        user, name=str(name), sample=sample, consent=str(consent)
    )
    return json_response(render_voice(voice))


async def list_voices(request: HttpRequest, user: Any) -> HttpResponseBase:
    """The caller's custom voices, oldest first (``after`` + ``limit``; not in OpenAI's API)."""
    qs = Voice.objects.filter(**owner_filter(user))
    return json_response(await cursor_page(request, qs, render_voice))


async def delete_voice(request: HttpRequest, user: Any, voice_id: str) -> HttpResponseBase:
    """Delete one of the caller's voices; its consent stays."""

    def delete() -> str:
        voice = get_owned(Voice, user, voice_id, staff_sees_all=False)
        public_id = str(voice.public_id)
        services.delete_voice(voice, actor=user)
        return public_id

    public_id = await sync_to_async(delete)()
    return json_response({"id": public_id, "object": "audio.voice.deleted", "deleted": True})


voice_list = endpoint(GET=list_voices, POST=create_voice)
voice_detail = endpoint(DELETE=delete_voice)
