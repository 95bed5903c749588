"""Server-sent events: read an upstream's with httpx-sse, write our own frames.

Reading goes through httpx-sse's decoder (a well-kept implementation of the WHATWG event
stream rules) rather than a hand-written parser. Writing produces the frames OpenAI sends:
``data: {json}`` followed by a blank line, and ``data: [DONE]`` to end a chat stream.
No Django and no Channels here: this module is shared by providers, views and consumers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent

__all__ = [
    "DONE",
    "EVENT_STREAM",
    "ServerSentEvent",
    "aiter_events",
    "encode_comment",
    "encode_event",
    "is_event_stream",
    "iter_events",
]

#: Content type of an event stream.
EVENT_STREAM = "text/event-stream"
#: The frame that ends an OpenAI chat completion stream.
DONE = b"data: [DONE]\n\n"


def is_event_stream(response: httpx.Response) -> bool:
    """Whether ``response`` is an event stream, judged by its Content-Type."""
    content_type = str(response.headers.get("content-type", ""))
    return content_type.partition(";")[0].strip().lower() == EVENT_STREAM


def iter_events(response: httpx.Response) -> Iterator[ServerSentEvent]:
    """Yield the events of a streamed sync response as they arrive."""
    yield from EventSource(response).iter_sse()


async def aiter_events(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    """Yield the events of a streamed async response as they arrive."""
    events = EventSource(response).aiter_sse()
    try:
        async for event in events:
            yield event
    finally:
        # Close the inner generator now, not at garbage collection, so the
        # response's byte stream is released on the right event loop.
        await events.aclose()


def encode_event(data: Mapping[str, Any], event: str | None = None) -> bytes:
    """One SSE frame carrying ``data`` as compact JSON (and an optional ``event:`` name)."""
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def encode_comment(text: str = "") -> bytes:
    """A comment frame (ignored by clients); used as a keep-alive."""
    lines = text.splitlines() or [""]
    return "".join(f": {line}\n" for line in lines).encode() + b"\n"
