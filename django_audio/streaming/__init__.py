"""Streaming: reading upstream SSE and writing our own (see :mod:`.sse`).

This package root imports neither Django nor Channels, so providers can use it anywhere.
"""

from .sse import DONE, ServerSentEvent, aiter_events, encode_comment, encode_event, iter_events

__all__ = [
    "DONE",
    "ServerSentEvent",
    "aiter_events",
    "encode_comment",
    "encode_event",
    "iter_events",
]
