"""``POST audio/speech``: audio streamed chunk by chunk (or as SSE) while it is stored."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from ... import services
from ...contract import SpeechAudioDelta, SpeechAudioDone
from ...exceptions import InvalidRequest
from ...streaming.sse import encode_event
from .base import endpoint, json_body, reject_unknown, relay, sse_response, streaming_response

__all__ = ["speech"]

#: Header naming the stored clip (``sp_…``).
SPEECH_HEADER = "X-Audio-Speech-Id"

_FIELDS = {"model", "input", "voice", "instructions", "response_format", "speed", "stream_format"}
_STRINGS = ("model", "input", "instructions", "response_format", "stream_format")


def _check_types(body: dict[str, Any]) -> None:
    for name in _STRINGS:
        if name in body and body[name] is not None and not isinstance(body[name], str):
            raise InvalidRequest(
                f"Invalid type for '{name}': expected a string, got {type(body[name]).__name__}.",
                param=name,
                code="invalid_type",
            )
    speed = body.get("speed")
    if speed is not None and (isinstance(speed, bool) or not isinstance(speed, int | float)):
        raise InvalidRequest(
            f"Invalid type for 'speed': expected a number, got {type(speed).__name__}.",
            param="speed",
            code="invalid_type",
        )


def _event_frame(item: Any) -> bytes:
    if isinstance(item, SpeechAudioDelta | SpeechAudioDone):
        return encode_event(item.to_dict())
    raise TypeError(f"unexpected speech event {type(item).__name__}")  # pragma: no cover


def _audio_chunk(item: Any) -> bytes:
    return bytes(item)


async def create_speech(request: HttpRequest, user: Any) -> HttpResponseBase:
    """Synthesize ``input``; raw audio (``stream_format=audio``) or speech.audio.* events."""
    body = await json_body(request)
    reject_unknown(set(body), _FIELDS)
    _check_types(body)
    for name in ("model", "input", "voice"):
        if body.get(name) in (None, ""):
            raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name)
    stream_format = body.get("stream_format") or "audio"
    if stream_format not in ("audio", "sse"):
        raise InvalidRequest(
            f"Invalid value for 'stream_format': {stream_format!r}. "
            "Supported values are: 'audio', 'sse'.",
            param="stream_format",
            code="invalid_value",
        )
    stream = await services.astream_speech(
        user,
        input=body["input"],
        voice=body["voice"],
        model=body["model"],
        instructions=body.get("instructions"),
        response_format=body.get("response_format") or "mp3",
        speed=body["speed"] if body.get("speed") is not None else 1.0,
        sse=stream_format == "sse",
    )
    headers = {SPEECH_HEADER: stream.asset.public_id}
    if stream.sse:
        return sse_response(relay(stream, _event_frame, sse_errors=True), headers)
    return streaming_response(
        relay(stream, _audio_chunk, sse_errors=False), stream.content_type, headers
    )


speech = endpoint(POST=create_speech)
