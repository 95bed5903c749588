"""``POST chat/completions`` for audio chats: forwarded, streamed when asked, replies stored.

The body goes to the provider as sent (``modalities``, ``audio``, ``input_audio`` parts and
everything else). Beyond OpenAI, an assistant message referring to an earlier reply by
``audio.id`` after its ``expires_at`` is given the stored transcript instead (see
:func:`django_audio.services.bridge_expired_audio`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from ... import services
from ...contract import ChatCompletionChunk
from ...exceptions import InvalidRequest
from ...streaming.sse import DONE, encode_event
from .base import endpoint, json_body, json_response, relay, sse_response

__all__ = ["chat_completions"]

#: Header naming the stored audio reply (``sp_…``) when the reply has audio.
REPLY_HEADER = "X-Audio-Speech-Id"


def _chunk_frame(chunk: ChatCompletionChunk) -> bytes:
    return encode_event(chunk.to_dict())


async def create_chat_completion(request: HttpRequest, user: Any) -> HttpResponseBase:
    """A chat completion; ``stream: true`` relays ``chat.completion.chunk`` events."""
    body = await json_body(request)
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be a boolean.", param="stream", code="invalid_type")
    if not isinstance(body.get("model"), str | type(None)):
        raise InvalidRequest("'model' must be a string.", param="model", code="invalid_type")
    if stream:
        chunks = await services.astream_chat_with_audio(user, body)
        headers = {REPLY_HEADER: chunks.asset.public_id} if chunks.asset is not None else {}
        return sse_response(relay(chunks, _chunk_frame, sse_errors=True, tail=DONE), headers)
    outcome = await services.achat_with_audio(user, body)
    headers = {REPLY_HEADER: outcome.asset.public_id} if outcome.asset is not None else {}
    return json_response(outcome.completion.to_dict(), headers=headers)


chat_completions = endpoint(POST=create_chat_completion)
