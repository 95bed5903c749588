"""``POST audio/transcriptions`` and ``POST audio/translations``."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from ... import services
from ...conf import audio_settings
from ...contract import PlainText, TranscriptionEvent
from ...exceptions import InvalidRequest
from ...streaming.sse import encode_event
from .base import (
    Form,
    endpoint,
    form_bool,
    form_float,
    json_response,
    read_form,
    reject_unknown,
    relay,
    sse_response,
)

__all__ = ["transcriptions", "translations"]

#: Header naming the stored transcript (``tr_…``) in every reply.
TRANSCRIPT_HEADER = "X-Audio-Transcript-Id"

_TRANSCRIPTION_FIELDS = {
    "file", "model", "language", "prompt", "response_format", "temperature", "stream",
    "chunking_strategy", "include[]", "include", "timestamp_granularities[]",
    "timestamp_granularities", "known_speaker_names[]", "known_speaker_names",
    "known_speaker_references[]", "known_speaker_references", "languages[]", "keywords[]",
}  # fmt: skip
_TRANSLATION_FIELDS = {"file", "model", "prompt", "response_format", "temperature"}


def _chunking(form: Form) -> str | dict[str, Any] | None:
    """``auto``, a JSON object, or ``chunking_strategy[key]`` fields (how the SDK sends it)."""
    nested = form.nested("chunking_strategy")
    if nested:
        out: dict[str, Any] = {}
        for key, value in nested.items():
            out[key] = value if key == "type" else form_float(value, f"chunking_strategy.{key}")
        return out
    raw = form.text("chunking_strategy")
    if raw is None or not raw.lstrip().startswith("{"):
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidRequest(
            "'chunking_strategy' must be 'auto' or a JSON object.", param="chunking_strategy"
        ) from None
    return value if isinstance(value, dict) else raw


def _common(form: Form) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if (prompt := form.text("prompt")) is not None:
        params["prompt"] = prompt
    if (fmt := form.text("response_format")) is not None:
        params["response_format"] = fmt
    if (temperature := form_float(form.text("temperature"), "temperature")) is not None:
        params["temperature"] = temperature
    return params


def _reply(outcome: services.TranscriptionOutcome) -> HttpResponseBase:
    headers = {TRANSCRIPT_HEADER: outcome.transcript.public_id}
    result = outcome.result
    if isinstance(result, PlainText):
        response = HttpResponse(str(result), content_type=result.content_type)
        response[TRANSCRIPT_HEADER] = outcome.transcript.public_id
        return response
    return json_response(result.to_dict(), headers=headers)


def _limits() -> dict[str, int]:
    return {"file": audio_settings.MAX_UPLOAD_SIZE}


def _event_frame(event: TranscriptionEvent) -> bytes:
    return encode_event(event.to_dict())


async def create_transcription(request: HttpRequest, user: Any) -> HttpResponseBase:
    """Transcribe the uploaded audio; ``stream=true`` relays ``transcript.text.*`` events."""
    form = await read_form(request, _limits())
    names = {n for n in form.names() if not n.startswith("chunking_strategy[")}
    reject_unknown(names, _TRANSCRIPTION_FIELDS)
    model = form.text("model", required=True)
    upload = form.upload("file")
    params = _common(form)
    if (language := form.text("language")) is not None:
        params["language"] = language
    for name in (
        "include",
        "timestamp_granularities",
        "known_speaker_names",
        "known_speaker_references",
    ):
        if values := form.many(name):
            params[name] = values
    if (chunking := _chunking(form)) is not None:
        params["chunking_strategy"] = chunking
    extra = {f"{n}[]": form.many(n) for n in ("languages", "keywords") if form.many(n)}
    if extra:
        params["extra"] = extra
    if form_bool(form.text("stream"), "stream"):
        stream = await services.astream_transcription(user, upload, model=str(model), **params)
        return sse_response(
            relay(stream, _event_frame, sse_errors=True),
            {TRANSCRIPT_HEADER: stream.transcript.public_id},
        )
    outcome = await services.atranscribe(user, upload, model=str(model), **params)
    return _reply(outcome)


async def create_translation(request: HttpRequest, user: Any) -> HttpResponseBase:
    """Translate the uploaded audio into English text."""
    form = await read_form(request, _limits())
    reject_unknown(form.names(), _TRANSLATION_FIELDS)
    model = form.text("model", required=True)
    upload = form.upload("file")
    outcome = await services.atranslate(user, upload, model=str(model), **_common(form))
    return _reply(outcome)


transcriptions = endpoint(POST=create_transcription, form=_limits)
translations = endpoint(POST=create_translation, form=_limits)
