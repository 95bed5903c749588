"""Fan-out of caption events to viewers, with a bounded queue per viewer.

The speaker's consumer publishes each event once to the session's channel-layer group
(:class:`CaptionPublisher`); every viewer's consumer receives it on its own channel and puts
it in its :class:`ViewerQueue`, which a writer task drains to the socket. The channel layer
does the cross-process part (``channels_redis``), so viewers may sit on any server.

**Slow viewers** — the policy is *drop, then disconnect*:

1. The queue holds at most ``WEBSOCKET_QUEUE_SIZE`` events.
2. When it is full, ``transcript.text.delta`` events are dropped first (oldest first): they
   are partial text that the utterance's ``transcript.text.done`` repeats in full, so a
   slow viewer's captions skip ahead but stay correct.
3. If the queue is full of events that must not be lost (``done``, ``segment``,
   ``session.*``), the viewer is disconnected with close code ``4503``; the JS client
   reconnects and receives the text so far (``session.state``).

Each event is serialised to JSON once, by the speaker's consumer, and travels as text: a
viewer sends it on unchanged. Every event carries ``seq``, a per-session counter, so a
client can see a gap (dropped deltas) and never applies an event twice. Memory per viewer
is bounded by the queue size times the largest event, however slow its network.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from channels.layers import BaseChannelLayer

from .protocol import caption_group, dumps

__all__ = ["DROPPABLE", "EVENT_MESSAGE", "CaptionPublisher", "ViewerQueue", "relay_message"]

#: Event types a full queue may drop (superseded by a later final event).
DROPPABLE = frozenset({"transcript.text.delta"})
#: Channel-layer message type carrying one event to a viewer (handler ``caption_event``).
EVENT_MESSAGE = "caption.event"


def relay_message(event: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    """The channel-layer message carrying ``event`` (``text``: its JSON, if already made)."""
    return {"type": EVENT_MESSAGE, "event_type": event["type"], "text": text or dumps(event)}


class CaptionPublisher:
    """Numbers a session's events and sends each to the session's group."""

    def __init__(self, layer: BaseChannelLayer | None, session_key: str) -> None:
        self.layer = layer
        self.group = caption_group(session_key)
        self.seq = 0

    def stamp(self, event: dict[str, Any]) -> dict[str, Any]:
        """Give ``event`` the next ``seq``."""
        self.seq += 1
        event["seq"] = self.seq
        return event

    async def publish(self, event: dict[str, Any], text: str | None = None) -> None:
        """Send an already stamped event (and its JSON) to every viewer of the session."""
        if self.layer is not None:
            await self.layer.group_send(self.group, relay_message(event, text))


class ViewerQueue:
    """A bounded FIFO of relay messages for one viewer: the drop-then-disconnect policy."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = max(1, maxsize)
        self._items: deque[dict[str, Any]] = deque()
        self._ready = asyncio.Event()
        #: How many deltas were dropped so far.
        self.dropped = 0
        #: Set when an event that must not be lost found the queue full.
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, event: dict[str, Any]) -> bool:
        """Queue ``event``; ``False`` means overflow (the viewer must be disconnected)."""
        if len(self._items) >= self.maxsize:
            if event.get("event_type") in DROPPABLE:
                self.dropped += 1
                return True
            if not self._drop_oldest_delta():
                self.overflowed = True
                self._ready.set()
                return False
        self._items.append(event)
        self._ready.set()
        return True

    def _drop_oldest_delta(self) -> bool:
        for i, item in enumerate(self._items):
            if item.get("event_type") in DROPPABLE:
                del self._items[i]
                self.dropped += 1
                return True
        return False

    async def get(self) -> dict[str, Any] | None:
        """The next event, waiting for one; ``None`` once the queue has overflowed."""
        while not self._items:
            if self.overflowed:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        return self._items.popleft()
