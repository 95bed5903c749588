"""Job progress: follow a stored transcript's status (and deltas while it streams).

On connect the follower gets ``transcript.status`` with the row as it is; then each change.
Changes arrive two ways, so no process has to know about another: ``post_transcribe``
publishes to the transcript's group at once (:func:`connect_signals`, from
``AppConfig.ready``), and the consumer also re-reads the row every :data:`POLL_SECONDS`
(which catches ``pending → running`` and rows changed by processes without a channel
layer). Code streaming a transcription can relay its events with :func:`apublish_event`.
Once the transcript is finished the final status is sent and the socket closes (1000).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from ...exceptions import NotFound
from ...models import Transcript
from ...services import get_transcript
from ...signals import post_transcribe, transcript_event
from ..protocol import CloseCode, progress_group
from .base import ReadOnlyConsumer

__all__ = ["TranscriptProgressConsumer", "apublish_event", "connect_signals", "status_event"]

logger = logging.getLogger("django_audio.streaming")

#: Seconds between re-reads of the followed row.
POLL_SECONDS = 2.0
PROGRESS_MESSAGE = "progress.event"


def status_event(row: Transcript) -> dict[str, Any]:
    """``transcript.status``: the row's id, status, and (when finished) text or error."""
    event: dict[str, Any] = {
        "type": "transcript.status",
        "id": row.public_id,
        "kind": row.kind,
        "status": row.status,
    }
    if row.is_finished:
        event["text"] = row.text
        if row.error:
            event["error"] = {"message": row.error, "code": row.error_code or None}
    return event


async def apublish_event(public_id: str, event: dict[str, Any]) -> None:
    """Send ``event`` to everyone following transcript ``public_id`` (no-op without a layer)."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(
            progress_group(public_id), {"type": PROGRESS_MESSAGE, "event": event}
        )


#: Publishes in flight on an event loop (held so they are not garbage-collected early).
_pending: set[asyncio.Task[None]] = set()


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this thread runs on, or the one waiting on it through sync_to_async."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
        return loop if isinstance(loop, asyncio.AbstractEventLoop) and loop.is_running() else None


def _spawn(public_id: str, event: dict[str, Any]) -> None:
    task = asyncio.get_running_loop().create_task(apublish_event(public_id, event))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def _on_post_transcribe(sender: Any, instance: Transcript, **kwargs: Any) -> None:
    """Publish the row's status without making the saving code wait for the channel layer.

    On an event loop, or in a thread serving one (a view's ``sync_to_async`` call), the
    publish is handed to that loop; elsewhere (a background worker) it is sent at once.
    """
    if not instance.pk or not instance.public_id:
        return
    try:
        event = status_event(instance)
        loop = _serving_loop()
        if loop is None:
            async_to_sync(apublish_event)(instance.public_id, event)
        else:
            loop.call_soon_threadsafe(_spawn, instance.public_id, event)
    except Exception:  # progress is best effort; the poll catches what is missed
        logger.warning("Could not publish transcript progress", exc_info=True)


def _on_transcript_event(
    sender: Any, instance: Transcript, event: dict[str, Any], **kwargs: Any
) -> None:
    try:
        async_to_sync(apublish_event)(instance.public_id, event)
    except Exception:  # best effort: the final status still arrives through post_transcribe
        logger.warning("Could not publish a transcript delta", exc_info=True)


def connect_signals() -> None:
    """Publish every finished transcript's status, and background deltas, to its followers."""
    post_transcribe.connect(_on_post_transcribe, dispatch_uid="django_audio.streaming.progress")
    transcript_event.connect(
        _on_transcript_event, dispatch_uid="django_audio.streaming.progress.events"
    )


class TranscriptProgressConsumer(ReadOnlyConsumer):
    """Follows ``/…/transcripts/<id>/`` for its owner (or staff)."""

    no_database_messages = frozenset({"progress.event"})
    public_id = ""
    group: str | None = None
    last_status: str | None = None
    poller: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """Owner check, then the current status; close at once if already finished."""
        user = await self.require_user()
        if user is None:
            return
        self.public_id = str(self.scope["url_route"]["kwargs"].get("transcript_id", ""))
        try:
            row = await sync_to_async(get_transcript)(user, self.public_id)
        except NotFound as exc:
            await self.fail(exc)
            return
        if self.channel_layer is not None:
            self.group = progress_group(self.public_id)
            try:
                await self.channel_layer.group_add(self.group, self.channel_name)
            except Exception:  # the poll still reports every change
                logger.warning("Channel layer failed; following by polling", exc_info=True)
                self.group = None
        if await self._status(row):
            return
        self.poller = asyncio.create_task(self._poll(user))

    async def _status(self, row: Transcript) -> bool:
        """Send the status if it changed; close when finished. Returns whether finished."""
        if row.status != self.last_status:
            self.last_status = row.status
            await self.send_event(status_event(row))
        if row.is_finished:
            await self.close_with(CloseCode.NORMAL)
            return True
        return False

    async def _poll(self, user: Any) -> None:
        while not self.closed:
            await asyncio.sleep(POLL_SECONDS)
            try:
                row = await sync_to_async(get_transcript)(user, self.public_id)
            except NotFound as exc:  # deleted meanwhile
                await self.fail(exc)
                return
            if await self._status(row):
                return

    async def progress_event(self, message: dict[str, Any]) -> None:
        """A published event: relay it; a finished status ends the follow."""
        event = message.get("event") or {}
        if event.get("type") == "transcript.status":
            if event.get("status") == self.last_status:
                return
            self.last_status = event.get("status")
            await self.send_event(event)
            if event.get("status") in ("completed", "failed", "incomplete"):
                await self.close_with(CloseCode.NORMAL)
        else:
            await self.send_event(event)

    async def disconnect(self, code: int) -> None:
        """Stop polling and leave the group."""
        self.closed = True
        if self.poller is not None:
            self.poller.cancel()
        if self.group is not None and self.channel_layer is not None:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.group, self.channel_name)
