"""Streamed speech: text in, binary audio frames out as the provider produces them.

Each ``speech.create`` goes through :func:`~django_audio.services.astream_speech`, which
checks the voice's consent, stores the clip as a ``SpeechAsset`` as it streams, and reuses an
identical stored clip. One request runs at a time per socket; ``speech.cancel`` (or leaving)
cancels the upstream within a second and leaves the asset ``incomplete``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ...contract import SPEECH_CONTENT_TYPES
from ...exceptions import AudioError, ProviderError
from ...services import astream_speech
from ..protocol import CloseCode, ProtocolError, event_for_exception
from .base import AudioConsumer, check_fields, unknown_type

__all__ = ["SpeechConsumer"]

logger = logging.getLogger("django_audio.streaming")

#: Sample rate of ``pcm`` speech (OpenAI's raw format: 24 kHz 16-bit LE mono).
PCM_RATE = 24000
DEFAULT_MODEL = "gpt-4o-mini-tts"
CANCEL_TIMEOUT = 1.0
_FIELDS = {"type", "input", "voice", "model", "response_format", "speed", "instructions"}


class SpeechConsumer(AudioConsumer):
    """``speech.create`` → ``speech.started``, binary chunks, ``speech.audio.done``."""

    task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """Accept (authenticated users only)."""
        await self.require_user()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """``speech.create`` starts a request in a task; ``speech.cancel`` stops it."""
        if self.closed:
            return
        try:
            message = self.check_text_frame(text_data, bytes_data)
            kind = message["type"]
            if kind == "speech.create":
                check_fields(message, _FIELDS)
                if self.task is not None and not self.task.done():
                    await self.send_event(
                        ProtocolError(
                            "A speech request is already running; wait for "
                            "'speech.audio.done' or send 'speech.cancel'.",
                            CloseCode.BAD_MESSAGE,
                            code="speech_in_progress",
                        ).to_event()
                    )
                    return
                self.task = asyncio.create_task(self._speak(message))
            elif kind == "speech.cancel":
                check_fields(message, {"type"})
                await self._cancel()
                await self.send_event({"type": "speech.cancelled"})
            else:
                raise unknown_type(kind, ("speech.create", "speech.cancel"))
        except ProtocolError as exc:
            await self.fail(exc)

    async def _speak(self, message: dict[str, Any]) -> None:
        response_format = message.get("response_format") or "pcm"
        try:
            stream = await astream_speech(
                self.user,
                input=message.get("input"),  # type: ignore[arg-type]  # validated there
                voice=message.get("voice") or "alloy",
                model=message.get("model") or DEFAULT_MODEL,
                instructions=message.get("instructions"),
                response_format=response_format,
                speed=message.get("speed", 1.0),
            )
        except ProviderError as exc:
            await self.send_event(event_for_exception(exc))
            return
        except AudioError as exc:  # bad input, unknown voice, consent missing
            await self.fail(exc)
            return
        except Exception as exc:
            await self.fail(exc)
            return
        asset = stream.asset
        started: dict[str, Any] = {
            "type": "speech.started",
            "speech_id": asset.public_id,
            "response_format": response_format,
            "content_type": SPEECH_CONTENT_TYPES.get(response_format, "application/octet-stream"),
            "cached": stream.cached,
        }
        if response_format == "pcm":
            started["sample_rate"] = PCM_RATE
        await self.send_event(started)
        size = 0
        try:
            async for chunk in stream:
                if isinstance(chunk, bytes) and chunk:
                    size += len(chunk)
                    if not await self.send_frame(data=chunk):
                        return  # the client left; disconnect() cancels the stream
        except ProviderError as exc:
            await self.send_event(event_for_exception(exc, speech_id=asset.public_id))
            return
        except Exception as exc:
            await self.fail(exc)
            return
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(stream.aclose()), CANCEL_TIMEOUT)
        await self.send_event(
            {
                "type": "speech.audio.done",
                "speech_id": asset.public_id,
                "bytes": size,
                "usage": asset.usage or None,
            }
        )

    async def _cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.wait({self.task}, timeout=CANCEL_TIMEOUT)

    async def disconnect(self, code: int) -> None:
        """Leaving cancels the running request (its clip is kept as ``incomplete``)."""
        self.closed = True
        await self._cancel()
