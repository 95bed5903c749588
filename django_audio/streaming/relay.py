"""Fan-out of caption events to viewers, with a bounded queue per viewer.

The speaker's consumer publishes each event once (:class:`CaptionPublisher`). Delivery is
two-level, so the channel layer carries **one message per event per server process**, not
one per viewer:

- each process (each event loop) holds a :class:`LocalFanout`; the first viewer of a session
  on that process subscribes it to the session's channel-layer group with **one** layer
  channel and a reader task, later viewers only add their :class:`ViewerQueue`, and the last
  one to leave drops the subscription;
- the speaker's process delivers to its own viewers in-process (no layer round trip) and
  sends the event to the group, tagged with its fan-out's ``origin``, for the others (the
  speaker's own socket is written directly and never goes through the layer);
- a reader ignores messages from its own ``origin`` (already delivered locally) and puts the
  others into every local viewer's queue, in the order the layer delivered them.

The channel layer does the cross-process part (``channels_redis``), so viewers may sit on any
server.

**Direct sends.** A viewer whose queue is empty and whose writer is idle gets the event at
once: :meth:`ViewerQueue.put` runs the websocket send in the publisher's own step
(:func:`~django_audio.streaming.eager.run_eagerly`) instead of waking the writer task, which
would wait behind everything else the event loop has ready. The queue, and the policy below,
take over as soon as a send has to wait or events arrive faster than they are written.

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
import contextlib
import logging
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from channels.layers import BaseChannelLayer, InMemoryChannelLayer

from .eager import run_eagerly
from .protocol import caption_group, dumps

__all__ = [
    "DROPPABLE",
    "EVENT_MESSAGE",
    "CaptionPublisher",
    "LocalFanout",
    "ViewerQueue",
    "local_fanout",
    "relay_message",
]

logger = logging.getLogger("django_audio.streaming")

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
        """Send an already stamped event (and its JSON) to every viewer of the session.

        Viewers on this process get it at once; the layer carries it to the other processes.
        """
        if self.layer is None:
            return
        fanout = local_fanout()
        message = relay_message(event, text)
        fanout.deliver(self.layer, self.group, message)
        if isinstance(self.layer, InMemoryChannelLayer):
            # Its groups only ever hold this process's channels, all served above; and its
            # group_send scans every channel of the process, so skipping it saves real CPU.
            return
        await self.layer.group_send(self.group, {**message, "origin": fanout.origin})


class ViewerQueue:
    """A bounded FIFO of relay messages for one viewer: the drop-then-disconnect policy."""

    def __init__(
        self, maxsize: int, send: Callable[[str], Coroutine[Any, Any, Any]] | None = None
    ) -> None:
        self.maxsize = max(1, maxsize)
        #: Sends one event's JSON to the viewer. With it, an event that finds the queue empty
        #: and its reader waiting is sent at once by :meth:`put` (see :func:`run_eagerly`).
        self.send = send
        self._items: deque[dict[str, Any]] = deque()
        self._ready = asyncio.Event()
        self._reader_waiting = False
        self._in_flight: asyncio.Task[None] | None = None
        #: How many deltas were dropped so far.
        self.dropped = 0
        #: Set when an event that must not be lost found the queue full.
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, event: dict[str, Any]) -> bool:
        """Queue ``event``, or send it now; ``False`` means overflow (disconnect the viewer).

        It is sent at once when nothing is ahead of it: the queue is empty, its reader is
        waiting (so not sending) and no earlier direct send is still under way. That skips a
        trip through the event loop per event and viewer; order is kept, because anything
        queued while a direct send waits is read only after that send has finished.
        """
        if self._can_send_now():
            assert self.send is not None
            self._in_flight = run_eagerly(self.send(event["text"]))
            return True
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

    def _can_send_now(self) -> bool:
        in_flight = self._in_flight
        return (
            self.send is not None
            and self._reader_waiting
            and not self._items
            and (in_flight is None or in_flight.done())
        )

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
            self._reader_waiting = True
            try:
                await self._ready.wait()
            finally:
                self._reader_waiting = False
        if self._in_flight is not None:  # a direct send that had to wait: it goes first
            in_flight, self._in_flight = self._in_flight, None
            await asyncio.wait([in_flight])  # its failure is logged by run_eagerly
        if self.overflowed:
            return None
        return self._items.popleft()


class _Subscription:
    """One session's layer channel on this process, and the viewers it feeds."""

    def __init__(self, layer: BaseChannelLayer, group: str) -> None:
        self.layer = layer
        self.group = group
        self.queues: set[ViewerQueue] = set()
        self.channel: str | None = None
        self.reader: asyncio.Task[None] | None = None
        # Serialises subscribing and unsubscribing, which both await the layer.
        self.lock = asyncio.Lock()


class LocalFanout:
    """Per event loop: one layer subscription per caption session, shared by its viewers."""

    def __init__(self) -> None:
        #: Tags this fan-out's own publications, so its reader skips them.
        self.origin = uuid.uuid4().hex
        self._subscriptions: dict[tuple[int, str], _Subscription] = {}

    def viewers(self, layer: BaseChannelLayer, group: str) -> int:
        """How many viewers of ``group`` are connected to this process."""
        sub = self._subscriptions.get((id(layer), group))
        return len(sub.queues) if sub is not None else 0

    async def join(self, layer: BaseChannelLayer, group: str, queue: ViewerQueue) -> None:
        """Feed ``group``'s events to ``queue``; subscribes this process on first use."""
        key = (id(layer), group)
        sub = self._subscriptions.get(key)
        if sub is None:
            sub = self._subscriptions[key] = _Subscription(layer, group)
        sub.queues.add(queue)
        async with sub.lock:
            if sub.reader is not None:
                return
            try:
                # The default prefix: channels_redis reads every process-specific channel
                # through one Redis key derived from it; another prefix would never be read.
                channel = await layer.new_channel()
                await layer.group_add(group, channel)
            except BaseException:
                sub.queues.discard(queue)
                if not sub.queues and self._subscriptions.get(key) is sub:
                    del self._subscriptions[key]
                raise
            sub.channel = channel
            sub.reader = asyncio.create_task(self._read(sub))

    async def leave(self, layer: BaseChannelLayer, group: str, queue: ViewerQueue) -> None:
        """Stop feeding ``queue``; the last viewer's leaving drops the subscription."""
        key = (id(layer), group)
        sub = self._subscriptions.get(key)
        if sub is None:
            return
        sub.queues.discard(queue)
        if sub.queues:
            return
        del self._subscriptions[key]
        async with sub.lock:  # wait for a join still subscribing
            if sub.reader is not None:
                sub.reader.cancel()
            if sub.channel is not None:
                with contextlib.suppress(Exception):  # the group entry expires anyway
                    await layer.group_discard(group, sub.channel)

    def deliver(self, layer: BaseChannelLayer, group: str, message: dict[str, Any]) -> None:
        """Put ``message`` into the queue of every viewer of ``group`` on this process."""
        sub = self._subscriptions.get((id(layer), group))
        if sub is not None:
            for queue in list(sub.queues):
                queue.put(message)

    async def _read(self, sub: _Subscription) -> None:
        assert sub.channel is not None
        while True:
            try:
                message = await sub.layer.receive(sub.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # e.g. Redis restarting: keep the viewers, retry
                logger.warning("Caption fan-out could not read the channel layer", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if message.get("origin") == self.origin:
                continue  # published on this process: already delivered by deliver()
            for queue in list(sub.queues):
                queue.put(message)


_fanouts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LocalFanout] = (
    weakref.WeakKeyDictionary()
)


def local_fanout() -> LocalFanout:
    """The running event loop's :class:`LocalFanout` (one per server process in practice)."""
    loop = asyncio.get_running_loop()
    fanout = _fanouts.get(loop)
    if fanout is None:
        fanout = _fanouts[loop] = LocalFanout()
    return fanout
