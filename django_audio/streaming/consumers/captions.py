"""Live captions: a speaker streams PCM, everyone in the session sees the words.

The speaker's consumer owns the session: it writes every received byte to a temporary
file, cuts utterances with :class:`~django_audio.streaming.vad.UtteranceCutter`, sends each
utterance to the provider's streaming transcription one after another, and relays the
events to its own socket and to the session's group (viewers). When the session ends it
saves the audio and the stitched text through
:func:`~django_audio.services.asave_live_caption`: ``completed`` after ``stop``, the
length limit or a protocol error (all received audio is transcribed first), ``incomplete``
when the speaker disconnects (the upstream is cancelled at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
import tempfile
import time
from typing import IO, Any

from django.core import signing
from django.core.cache import caches

from ...conf import audio_settings
from ...contract import (
    AudioFile,
    Capability,
    TranscriptionRequest,
    TranscriptTextDelta,
    TranscriptTextDone,
    TranscriptTextSegment,
    validate_language_tag,
)
from ...exceptions import AudioError, InvalidRequest
from ...models import JobStatus
from ...providers import providers
from ...services import asave_live_caption
from ..protocol import (
    CloseCode,
    ProtocolError,
    caption_control_group,
    caption_group,
    close_code_for,
    dumps,
    event_for_exception,
)
from ..relay import CaptionPublisher, ViewerQueue, local_fanout, relay_message
from ..tokens import new_session_id, parse_session_id
from ..vad import Utterance, UtteranceCutter, VadConfig
from .base import AudioConsumer, ReadOnlyConsumer, check_fields, relay_unavailable, unknown_type

__all__ = ["CaptionViewerConsumer", "LiveCaptionConsumer", "SessionSlots"]

logger = logging.getLogger("django_audio.streaming")

#: Sample rates a speaker may declare.
MIN_RATE, MAX_RATE = 8000, 48000
#: Seconds the upstream gets to stop after the speaker has gone.
CANCEL_TIMEOUT = 1.0
#: Leading bytes of containers that are not raw PCM (a common client mistake).
_CONTAINER_MAGIC = (b"RIFF", b"fLaC", b"OggS", b"\x1a\x45\xdf\xa3", b"ID3", b"FORM")
_START_FIELDS = {"type", "model", "language", "prompt", "sample_rate"}


def pcm_to_wav(pcm: bytes, rate: int) -> bytes:
    """A 16-bit mono WAV file around raw PCM."""
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(pcm))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", len(pcm))
        + pcm
    )


def check_pcm_frame(data: bytes) -> None:
    """Refuse a binary frame that cannot be 16-bit PCM (odd size, a container, JSON)."""
    if len(data) > audio_settings.WEBSOCKET_MAX_FRAME_SIZE:
        raise ProtocolError(
            f"Audio frame of {len(data)} bytes; the limit is "
            f"{audio_settings.WEBSOCKET_MAX_FRAME_SIZE}.",
            CloseCode.FRAME_TOO_LARGE,
            code="frame_too_large",
        )
    if data.startswith(_CONTAINER_MAGIC) or data[4:8] == b"ftyp":
        raise ProtocolError(
            "Audio frames must be raw 16-bit little-endian mono PCM, not an audio file.",
            CloseCode.UNSUPPORTED_AUDIO,
            code="unsupported_audio_format",
        )
    if data[:1] in (b"{", b"[") and data.rstrip()[-1:] in (b"}", b"]"):
        with contextlib.suppress(ValueError):
            json.loads(data)
            raise ProtocolError(
                "Control messages must be sent as text frames, audio as binary PCM.",
                CloseCode.UNSUPPORTED_AUDIO,
                code="unsupported_audio_format",
            )
    if len(data) % 2:
        raise ProtocolError(
            f"Audio frame of {len(data)} bytes: 16-bit PCM frames have an even size.",
            CloseCode.UNSUPPORTED_AUDIO,
            code="unsupported_audio_format",
        )


class SessionSlots:
    """Counts a user's live sessions in the cache ``WEBSOCKET_CACHE`` (shared by processes).

    The counter expires ``LIVE_CAPTION_MAX_SECONDS`` (plus a margin) after its last change,
    so a crashed process cannot block a user for longer than one maximal session.
    """

    def __init__(self, user_pk: Any) -> None:
        self.key = f"django_audio:captions:active:{user_pk}"
        self.cache = caches[audio_settings.WEBSOCKET_CACHE]
        self.ttl = int(audio_settings.LIVE_CAPTION_MAX_SECONDS) + 300

    async def acquire(self) -> bool:
        """Take a slot; ``False`` when the user already runs the maximum."""
        await self.cache.aadd(self.key, 0, self.ttl)
        try:
            count = await self.cache.aincr(self.key)
        except ValueError:  # expired between add and incr
            await self.cache.aset(self.key, 1, self.ttl)
            count = 1
        await self.cache.atouch(self.key, self.ttl)
        if count > audio_settings.LIVE_CAPTION_MAX_SESSIONS:
            await self.release()
            return False
        return True

    async def release(self) -> None:
        """Give the slot back."""
        with contextlib.suppress(ValueError):
            if await self.cache.adecr(self.key) < 0:
                await self.cache.aset(self.key, 0, self.ttl)


class CaptionSession:
    """State of one live session, owned by the speaker's consumer."""

    def __init__(self, owner: Any, params: dict[str, Any], vad: VadConfig) -> None:
        self.owner = owner
        self.id, self.key = new_session_id(owner)
        self.model: str = params["model"]
        self.language: str | None = params["language"]
        self.prompt: str | None = params["prompt"]
        self.sample_rate: int = params["sample_rate"]
        self.provider = "default"
        self.cutter = UtteranceCutter(self.sample_rate, vad)
        self.audio: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finish
        self.bytes_received = 0
        self.queue: asyncio.Queue[Utterance | None] = asyncio.Queue()
        self.emit_lock = asyncio.Lock()
        self.segments: list[dict[str, Any]] = []
        self.words: list[dict[str, Any]] = []
        self.worker: asyncio.Task[None] | None = None
        self.ending = False
        self.saved = False
        self.started_at = time.time()

    @property
    def seconds(self) -> float:
        """Seconds of audio received."""
        return self.bytes_received / 2 / self.sample_rate

    @property
    def text(self) -> str:
        """The stitched text of the finished utterances."""
        return " ".join(s["text"].strip() for s in self.segments if s["text"].strip())

    def describe(self) -> dict[str, Any]:
        """The ``session`` object of ``session.created``."""
        return {
            "id": self.id,
            "model": self.model,
            "language": self.language,
            "sample_rate": self.sample_rate,
            "max_seconds": audio_settings.LIVE_CAPTION_MAX_SECONDS,
            "max_frame_size": audio_settings.WEBSOCKET_MAX_FRAME_SIZE,
        }


def _start_params(message: dict[str, Any]) -> dict[str, Any]:
    check_fields(message, _START_FIELDS)
    model = message.get("model") or audio_settings.LIVE_CAPTION_MODEL
    if not isinstance(model, str) or len(model) > 200:
        raise InvalidRequest("'model' must be a model name.", param="model")
    language = message.get("language") or None
    if language is not None:
        validate_language_tag(language)
    prompt = message.get("prompt") or None
    if prompt is not None and (not isinstance(prompt, str) or len(prompt) > 4096):
        raise InvalidRequest("'prompt' must be text of at most 4096 characters.", param="prompt")
    rate = message.get("sample_rate", 16000)
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise InvalidRequest(
            f"'sample_rate' must be an integer from {MIN_RATE} to {MAX_RATE}; got {rate!r}.",
            param="sample_rate",
        )
    return {"model": model, "language": language, "prompt": prompt, "sample_rate": rate}


class LiveCaptionConsumer(AudioConsumer):
    """The speaker's socket: ``start``, binary PCM frames, ``stop``."""

    no_database_messages = frozenset({"caption.hello"})
    session: CaptionSession | None = None
    publisher: CaptionPublisher | None = None
    slots: SessionSlots | None = None
    ender: asyncio.Task[None] | None = None
    disconnected = False

    async def connect(self) -> None:
        """Accept (authenticated users only)."""
        await self.require_user()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Route a frame; bad input ends the session cleanly with an error and a code.

        Frames are handled even after a send failed (the client may be half-gone): every
        received byte still goes into the session.
        """
        try:
            if bytes_data is not None:
                await self._audio(bytes_data)
            else:
                await self._control(self.check_text_frame(text_data, None))
        except (ProtocolError, AudioError) as exc:
            await self._end(exc)
        except Exception as exc:
            await self._end(exc)

    # ------------------------------------------------------------------ messages

    async def _control(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "start":
            await self._start(message)
        elif kind == "stop":
            check_fields(message, {"type"})
            if self.session is None:
                raise ProtocolError(
                    "No session to stop; send 'start' first.",
                    CloseCode.BAD_MESSAGE,
                    code="session_not_started",
                )
            self._begin_end(JobStatus.COMPLETED, CloseCode.NORMAL, "stop")
        else:
            raise unknown_type(kind, ("start", "stop"))

    async def _start(self, message: dict[str, Any]) -> None:
        if self.session is not None:
            raise ProtocolError(
                "The session has already started.",
                CloseCode.BAD_MESSAGE,
                code="session_already_started",
            )
        params = _start_params(message)
        providers["default"].require(Capability.TRANSCRIBE, "transcriptions")
        vad = VadConfig.from_settings()
        slots = SessionSlots(self.user.pk)
        if not await slots.acquire():
            raise ProtocolError(
                f"You already have {audio_settings.LIVE_CAPTION_MAX_SESSIONS} live caption "
                "sessions open; stop one first.",
                CloseCode.TOO_MANY_SESSIONS,
                code="too_many_sessions",
                error_type="rate_limit_error",
            )
        self.slots = slots
        session = self.session = CaptionSession(self.user, params, vad)
        self.publisher = CaptionPublisher(self.channel_layer, session.key)
        if self.channel_layer is not None:
            await self.channel_layer.group_add(
                caption_control_group(session.key), self.channel_name
            )
        session.worker = asyncio.create_task(self._work(session))
        await self._emit({"type": "session.created", "session": session.describe()})

    async def _audio(self, data: bytes) -> None:
        session = self.session
        if session is None:
            raise ProtocolError(
                "Send a 'start' message before audio.",
                CloseCode.BAD_MESSAGE,
                code="session_not_started",
            )
        if session.ending:
            return  # after stop: the session is being saved
        check_pcm_frame(data)
        max_bytes = int(audio_settings.LIVE_CAPTION_MAX_SECONDS * session.sample_rate) * 2
        room = max_bytes - session.bytes_received
        data = data[: max(0, room)]
        session.audio.write(data)
        session.bytes_received += len(data)
        for utterance in session.cutter.feed(data):
            await self._commit(utterance)
        if session.bytes_received >= max_bytes:
            self._begin_end(JobStatus.COMPLETED, CloseCode.SESSION_TOO_LONG, "max_length")

    async def _commit(self, utterance: Utterance) -> None:
        await self._emit(
            {
                "type": "input_audio_buffer.committed",
                "item_id": _item_id(utterance),
                "audio_start_ms": int(utterance.start * 1000),
                "audio_end_ms": int(utterance.end * 1000),
            }
        )
        assert self.session is not None
        self.session.queue.put_nowait(utterance)

    # ------------------------------------------------------------------ events

    async def _emit(self, event: dict[str, Any]) -> None:
        """Send to the speaker and publish to the viewers, in ``seq`` order."""
        assert self.publisher is not None
        assert self.session is not None
        # The receive loop and the transcription worker both emit; the lock keeps the
        # numbering and the sending in one order, so no viewer sees events reordered.
        async with self.session.emit_lock:
            self.publisher.stamp(event)
            text = dumps(event)  # once, for the speaker and every viewer
            await self.send_frame(text=text)
            try:
                await self.publisher.publish(event, text)
            except Exception:  # a full or unreachable channel layer must not end the session
                logger.warning("Could not relay a caption event to viewers", exc_info=True)

    async def caption_hello(self, message: dict[str, Any]) -> None:
        """A viewer joined: send it the text so far (``session.state``) on its channel."""
        session, reply_to = self.session, message.get("reply_to")
        if session is None or self.publisher is None or not isinstance(reply_to, str):
            return
        state = {
            "type": "session.state",
            "session_id": session.id,
            "text": session.text,
            "segments": session.segments,
            "seq": self.publisher.seq,
            "ended": session.saved,
        }
        with contextlib.suppress(Exception):
            await self.channel_layer.send(reply_to, relay_message(state))

    # ------------------------------------------------------------------ transcription

    async def _work(self, session: CaptionSession) -> None:
        while (utterance := await session.queue.get()) is not None:
            try:
                await self._transcribe(session, utterance)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # One failed utterance does not end the session; its audio is kept.
                if not isinstance(exc, AudioError):
                    logger.exception("Live caption utterance failed")
                await self._emit(event_for_exception(exc, item_id=_item_id(utterance)))

    async def _transcribe(self, session: CaptionSession, utt: Utterance) -> None:
        provider = providers[session.provider]
        item_id = _item_id(utt)
        request = TranscriptionRequest(
            file=AudioFile(
                pcm_to_wav(utt.pcm, session.sample_rate),
                filename=f"{item_id}.wav",
                content_type="audio/wav",
            ),
            model=session.model,
            language=session.language,
            prompt=session.prompt,
        )
        parts: list[str] = []
        final: str | None = None
        usage: Any = None
        if provider.supports(Capability.TRANSCRIBE_STREAM):
            stream = await provider.astream_transcription(request)
            try:
                async for event in stream:
                    if isinstance(event, TranscriptTextDelta):
                        parts.append(event.delta)
                        await self._emit(
                            {
                                "type": "transcript.text.delta",
                                "item_id": item_id,
                                "delta": event.delta,
                                "start": utt.start,
                            }
                        )
                    elif isinstance(event, TranscriptTextSegment):
                        shifted = {
                            **event.to_dict(),
                            "start": round(utt.start + event.start, 3),
                            "end": round(utt.start + event.end, 3),
                            "item_id": item_id,
                        }
                        await self._emit(shifted)
                    elif isinstance(event, TranscriptTextDone):
                        final, usage = event.text, event.usage
            finally:
                await _close_quickly(stream)
        else:
            result = await provider.atranscribe(request)
            final = str(getattr(result, "text", "") or "")
            if final:
                await self._emit(
                    {"type": "transcript.text.delta", "item_id": item_id, "delta": final,
                     "start": utt.start}
                )  # fmt: skip
        text = (final if final is not None else "".join(parts)).strip()
        segment = {"id": item_id, "start": utt.start, "end": utt.end, "text": text}
        if text:
            session.segments.append(segment)
        done: dict[str, Any] = {"type": "transcript.text.done", "item_id": item_id, **segment}
        del done["id"]
        if usage is not None:
            done["usage"] = usage.to_dict()
        await self._emit(done)

    # ------------------------------------------------------------------ ending

    def _begin_end(self, status: str, code: int, reason: str) -> None:
        """End the session in a task, so a disconnect can still interrupt it."""
        session = self.session
        if session is None or session.ending:
            return
        session.ending = True
        self.ender = asyncio.create_task(self._finish(session, status, code, reason))

    async def _end(self, exc: BaseException) -> None:
        """Bad input or a failure: report it, then save what there is and close."""
        session = self.session
        if session is None or session.ending:
            await self.fail(exc)
            return
        if not isinstance(exc, ProtocolError | AudioError):
            logger.exception("Unexpected error in a live caption session", exc_info=exc)
        await self.send_event(event_for_exception(exc))
        self._begin_end(JobStatus.COMPLETED, close_code_for(exc), "error")

    async def _finish(self, session: CaptionSession, status: str, code: int, reason: str) -> None:
        for utterance in session.cutter.flush():
            await self._commit(utterance)
        session.queue.put_nowait(None)
        if session.worker is not None:
            await asyncio.wait({session.worker})
        if session.worker is not None and session.worker.cancelled():
            status = JobStatus.INCOMPLETE  # the speaker left: the upstream was cancelled
        transcript = await self._save(session, status)
        if transcript is not None:
            await self._emit(_ended(transcript, reason))
        await self.close_with(code)

    async def _save(self, session: CaptionSession, status: str) -> Any:
        if session.saved:
            return None
        session.saved = True
        try:
            session.audio.seek(0)
            return await asave_live_caption(
                session.owner,
                session.audio if session.bytes_received else None,
                segments=session.segments,
                text=session.text,
                status=status,
                sample_rate=session.sample_rate,
                model=session.model,
                language=session.language or "",
                provider=session.provider,
                params={"session_id": session.id, "prompt": session.prompt or ""},
            )
        except Exception as exc:
            logger.exception("Could not save live caption session %s", session.id)
            await self.send_event(event_for_exception(exc))
            return None
        finally:
            session.audio.close()
            await self._release(session)

    async def _release(self, session: CaptionSession) -> None:
        if self.slots is not None:
            slots, self.slots = self.slots, None
            await slots.release()
        if self.channel_layer is not None:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(
                    caption_control_group(session.key), self.channel_name
                )

    async def disconnect(self, code: int) -> None:
        """The speaker left: cancel the upstream at once and save what there is."""
        self.closed = self.disconnected = True
        session = self.session
        if session is None:
            return
        if session.worker is not None and not session.worker.done():
            session.worker.cancel()
            await asyncio.wait({session.worker}, timeout=CANCEL_TIMEOUT)
        if self.ender is not None:
            # _finish saves (as incomplete, unless it had already finished transcribing).
            await asyncio.wait({self.ender})
            return
        if session.saved:
            return
        transcript = await self._save(session, JobStatus.INCOMPLETE)
        if transcript is not None:  # tell the viewers (the speaker is gone)
            await self._emit(_ended(transcript, "disconnected"))


async def _close_quickly(stream: Any) -> None:
    """Close an upstream stream, giving up after :data:`CANCEL_TIMEOUT` seconds."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(stream.aclose()), CANCEL_TIMEOUT)


def _ended(transcript: Any, reason: str) -> dict[str, Any]:
    """``session.ended``: why, and the stored transcript."""
    return {
        "type": "session.ended",
        "reason": reason,
        "transcript": {
            "id": transcript.public_id,
            "status": transcript.status,
            "text": transcript.text,
            "duration": transcript.duration,
        },
    }


def _item_id(utterance: Utterance) -> str:
    return f"item_{utterance.index:04d}"


class CaptionViewerConsumer(ReadOnlyConsumer):
    """A read-only viewer of a session: receives its events through a bounded queue."""

    no_database_messages = frozenset({"caption.event"})
    group: str | None = None
    queue: ViewerQueue | None = None
    writer: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """Owner check, join the session's fan-out, ask the speaker for the text so far."""
        user = await self.require_user()
        if user is None:
            return
        session_id = str(self.scope["url_route"]["kwargs"].get("session_id", ""))
        try:
            key, owner = parse_session_id(session_id)
        except signing.BadSignature:
            await self.fail(
                ProtocolError(
                    "No such caption session.", CloseCode.NOT_FOUND, code="session_not_found"
                )
            )
            return
        if owner != str(user.pk) and not user.is_staff:
            await self.fail(
                ProtocolError(
                    "This caption session belongs to another user.",
                    CloseCode.FORBIDDEN,
                    code="forbidden",
                    error_type="permission_error",
                )
            )
            return
        if self.channel_layer is None:
            await self.fail(
                ProtocolError("No channel layer is configured.", CloseCode.SERVER_ERROR)
            )
            return
        self.group = caption_group(key)
        self.queue = ViewerQueue(audio_settings.WEBSOCKET_QUEUE_SIZE, send=self._send_text)
        try:
            # One layer subscription per session per process, shared by its viewers here.
            await local_fanout().join(self.channel_layer, self.group, self.queue)
            self.writer = asyncio.create_task(self._write(self.queue))
            await self.send_event({"type": "session.joined", "session_id": session_id})
            await self.channel_layer.group_send(
                caption_control_group(key),
                {"type": "caption.hello", "reply_to": self.channel_name},
            )
        except Exception:
            logger.warning("Channel layer failed while a viewer joined", exc_info=True)
            await self.fail(relay_unavailable())

    async def caption_event(self, message: dict[str, Any]) -> None:
        """An event sent to this viewer alone (``session.state``): queue it."""
        if self.queue is not None and not self.closed:
            self.queue.put(message)

    async def _send_text(self, text: str) -> None:
        await self.send_frame(text=text)

    async def _write(self, queue: ViewerQueue) -> None:
        while (message := await queue.get()) is not None:
            if self.closed:
                return
            await self.send_frame(text=message["text"])
        if queue.overflowed:
            await self.fail(
                ProtocolError(
                    "You were disconnected because captions arrived faster than you read "
                    "them; reconnect to continue.",
                    CloseCode.TOO_SLOW,
                    code="slow_consumer",
                    error_type="server_error",
                )
            )

    async def disconnect(self, code: int) -> None:
        """Leave the session's fan-out and stop the writer."""
        self.closed = True
        if self.writer is not None:
            self.writer.cancel()
        if self.group is not None and self.queue is not None and self.channel_layer is not None:
            with contextlib.suppress(Exception):
                await local_fanout().leave(self.channel_layer, self.group, self.queue)
