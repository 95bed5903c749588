"""``audio/voice_consents``: create, list, retrieve, rename and delete the caller's consents."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from ... import services
from ...conf import audio_settings
from ...exceptions import InvalidRequest
from ...models import VoiceConsent
from ...services.common import get_owned, owner_filter
from .base import endpoint, json_body, json_response, read_form, reject_unknown
from .pages import cursor_page

__all__ = ["consent_detail", "consent_list", "render_consent"]

_CREATE_FIELDS = {"name", "recording", "language"}


def render_consent(consent: VoiceConsent) -> dict[str, Any]:
    """``audio.voice_consent``."""
    return {
        "object": "audio.voice_consent",
        "id": consent.public_id,
        "name": consent.name,
        "language": consent.language,
        "created_at": int(consent.created_at.timestamp()),
    }


def _owned(user: Any, consent_id: str) -> VoiceConsent:
    # Strictly the caller's own: on this API even staff keys act for their own user.
    return get_owned(VoiceConsent, user, consent_id, staff_sees_all=False)  # type: ignore[no-any-return]


async def create_consent(request: HttpRequest, user: Any) -> HttpResponseBase:
    """Store a consent recording (``pending`` review unless approval is switched off)."""
    form = await read_form(request, {"recording": audio_settings.MAX_VOICE_SAMPLE_SIZE})
    reject_unknown(form.names(), _CREATE_FIELDS)
    name = form.text("name", required=True)
    recording = form.upload("recording")
    language = form.text("language", required=True)
    consent = await sync_to_async(services.submit_consent)(
        user, name=str(name), recording=recording, language=str(language)
    )
    return json_response(render_consent(consent))


async def list_consents(request: HttpRequest, user: Any) -> HttpResponseBase:
    """The caller's consents, oldest first, one cursor page at a time."""
    qs = VoiceConsent.objects.filter(**owner_filter(user))
    return json_response(await cursor_page(request, qs, render_consent))


async def retrieve_consent(request: HttpRequest, user: Any, consent_id: str) -> HttpResponseBase:
    """One of the caller's consents."""
    consent = await sync_to_async(_owned)(user, consent_id)
    return json_response(render_consent(consent))


async def update_consent(request: HttpRequest, user: Any, consent_id: str) -> HttpResponseBase:
    """Rename a consent (only its metadata changes)."""
    body = await json_body(request)
    reject_unknown(set(body), {"name"})
    name = body.get("name")
    if name is None or name == "":
        raise InvalidRequest("Missing required parameter: 'name'.", param="name")
    if not isinstance(name, str):
        raise InvalidRequest("'name' must be a string.", param="name", code="invalid_type")

    def rename() -> VoiceConsent:
        consent = _owned(user, consent_id)
        return services.rename_consent(consent, name=name, actor=user)

    return json_response(render_consent(await sync_to_async(rename)()))


async def delete_consent(request: HttpRequest, user: Any, consent_id: str) -> HttpResponseBase:
    """Revoke and delete a consent and the voices made under it."""

    def delete() -> str:
        consent = _owned(user, consent_id)
        public_id = consent.public_id
        services.delete_consent(consent, actor=user)
        return public_id

    public_id = await sync_to_async(delete)()
    return json_response({"id": public_id, "object": "audio.voice_consent", "deleted": True})


consent_list = endpoint(GET=list_consents, POST=create_consent)
consent_detail = endpoint(GET=retrieve_consent, POST=update_consent, DELETE=delete_consent)
