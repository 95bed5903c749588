"""Speech synthesis: whole clips, streamed clips, and the fingerprint cache.

An identical request (same provider, model, text, voice, instructions, speed and format) by
the same owner reuses the stored clip when ``SPEECH_CACHE`` is on (the default): no
upstream call, a usage record marked ``cached``, ``post_synthesize`` with outcome
``"cached"``. Custom voices are checked against their consent on every call, cached or not.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, replace
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from ..conf import audio_settings
from ..contract import (
    SPEECH_CONTENT_TYPES,
    AsyncStream,
    SpeechAudioDelta,
    SpeechAudioDone,
    SpeechEvent,
    SpeechRequest,
    TokenUsage,
)
from ..exceptions import RequestCancelled
from ..models import JobStatus, SpeechAsset, UsageRecord
from ..providers import BaseProvider
from ..signals import post_synthesize, pre_synthesize, send_post
from ..sniff import HEAD_SIZE, sniff
from ..sniff import duration as measure_duration
from .common import (
    PersistingStream,
    atomic_with_files,
    error_code,
    error_text,
    get_provider,
    owner_filter,
    owner_or_none,
    record_usage,
    shielded,
)
from .consents import ResolvedVoice, resolve_voice
from .early import EarlyCall

__all__ = ["SpeechOutcome", "SpeechStream", "astream_speech", "asynthesize", "synthesize"]

#: Bytes per chunk when a cached clip is streamed from storage.
CACHE_CHUNK = 64 * 1024
#: Spooled in memory up to this size, then on disk.
_SPOOL = 1024 * 1024
_EXTENSIONS = {
    "mp3": ".mp3",
    "opus": ".opus",
    "aac": ".aac",
    "flac": ".flac",
    "wav": ".wav",
    "pcm": ".pcm",
}


@dataclass
class SpeechOutcome:
    """The stored clip and whether it came from the cache."""

    asset: SpeechAsset
    cached: bool = False


def fingerprint(alias: str, request: SpeechRequest, voice: ResolvedVoice) -> str:
    """SHA-256 over everything that shapes the audio."""
    key = {
        "provider": alias,
        "model": request.model,
        "input": request.input,
        "voice": voice.name,
        "instructions": request.instructions or "",
        "speed": float(request.speed),
        "format": request.response_format,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


@dataclass
class _Job:
    """A validated speech request with its ``pending`` row (or the cached clip)."""

    asset: SpeechAsset
    request: SpeechRequest
    provider: BaseProvider
    cached: bool


def _prepare(
    owner: Any,
    request: SpeechRequest,
    alias: str,
    provider: BaseProvider,
    use_cache: bool | None,
    sse: bool,
    early: EarlyCall[Any] | None = None,
) -> _Job:
    """Validate, resolve the voice, try the cache, else create the row and send ``pre_``.

    With ``early``, a cache miss starts the provider call before the row is stored (when
    allowed, see :mod:`.early`), and the row is stored ``running``.
    """
    provider._check_speech(request, sse=sse)
    voice = resolve_voice(owner, request.voice)
    fp = fingerprint(alias, request, voice)
    if audio_settings.SPEECH_CACHE if use_cache is None else use_cache:
        hit = (
            SpeechAsset.objects.filter(
                **owner_filter(owner),
                kind=SpeechAsset.Kind.SPEECH,
                fingerprint=fp,
                status=JobStatus.COMPLETED,
                audio_purged_at__isnull=True,
            )
            .exclude(audio="")
            .first()
        )
        if hit is not None:
            record_usage(
                owner,
                UsageRecord.Operation.SPEECH,
                provider=alias,
                model=request.model,
                characters=len(request.input),
                cached=True,
                speech_asset=hit,
            )
            send_post(post_synthesize, SpeechAsset, instance=hit, outcome="cached", error=None)
            return _Job(hit, request, provider, cached=True)
    asset = SpeechAsset(
        owner=owner_or_none(owner),
        kind=SpeechAsset.Kind.SPEECH,
        input=request.input,
        voice_name=voice.name[:100],
        voice=voice.voice,
        provider=alias,
        model=request.model[:200],
        instructions=request.instructions or "",
        speed=float(request.speed),
        response_format=request.response_format,
        content_type=SPEECH_CONTENT_TYPES[request.response_format],
        audio_format=request.response_format,
        params={"stream_format": request.stream_format},
        fingerprint=fp,
    )
    upstream_request = replace(request, voice=voice.provider_param)
    if early is not None and early.start(
        upstream_request, unless=pre_synthesize, sender=SpeechAsset
    ):
        asset.status = JobStatus.RUNNING
    try:
        with transaction.atomic():
            asset.save()
            pre_synthesize.send(SpeechAsset, instance=asset, request=request)
    except RequestCancelled as exc:
        asset.pk = None
        send_post(post_synthesize, SpeechAsset, instance=asset, outcome="cancelled", error=exc)
        raise
    # The provider gets the upstream id of a custom voice, never our public id.
    return _Job(asset, upstream_request, provider, cached=False)


def _mark_running(asset: SpeechAsset) -> None:
    now = timezone.now()
    asset.status = JobStatus.RUNNING
    SpeechAsset.objects.filter(pk=asset.pk).update(status=JobStatus.RUNNING, updated_at=now)


def _prepare_and_start(
    owner: Any,
    request: SpeechRequest,
    alias: str,
    provider: BaseProvider,
    use_cache: bool | None,
    sse: bool,
    early: EarlyCall[Any],
) -> _Job:
    """:func:`_prepare`, then :func:`_mark_running` unless cached or started early."""
    job = _prepare(owner, request, alias, provider, use_cache, sse, early)
    if not job.cached and not early.started:
        _mark_running(job.asset)
    return job


def _finish(
    asset: SpeechAsset,
    audio: IO[bytes] | None,
    usage: TokenUsage | None,
    error: BaseException | None,
    status: str,
    request_id: str | None,
) -> None:
    """Store the clip and complete the row, or record why it did not complete."""
    asset.upstream_request_id = (request_id or "")[:200]
    asset.completed_at = timezone.now()
    if status != JobStatus.COMPLETED:
        asset.status = status
        if error is not None:
            asset.error, asset.error_code = error_text(error), error_code(error)
        else:
            asset.error = "The client disconnected before the audio was complete."
            asset.error_code = "client_disconnected"
        asset.save()
        send_post(post_synthesize, SpeechAsset, instance=asset, outcome=status, error=error)
        return
    assert audio is not None
    size = audio.seek(0, 2)
    audio.seek(0)
    asset.size = size
    asset.sha256 = _sha256(audio)
    asset.duration = _duration(audio, asset.response_format)
    asset.usage = usage.to_dict() if usage is not None else {}
    asset.status = JobStatus.COMPLETED
    names: list[str] = []
    with atomic_with_files(names):
        audio.seek(0)
        asset.audio.save(f"speech{_EXTENSIONS[asset.response_format]}", File(audio), save=False)
        names.append(str(asset.audio.name))
        asset.save()
        record_usage(
            asset.owner,
            UsageRecord.Operation.SPEECH,
            provider=asset.provider,
            model=asset.model,
            characters=len(asset.input),
            usage=usage,
            seconds=asset.duration,
            speech_asset=asset,
        )
    send_post(post_synthesize, SpeechAsset, instance=asset, outcome="completed", error=None)


def _sha256(fh: IO[bytes]) -> str:
    digest = hashlib.sha256()
    fh.seek(0)
    while chunk := fh.read(_SPOOL):
        digest.update(chunk)
    fh.seek(0)
    return digest.hexdigest()


def _duration(fh: IO[bytes], response_format: str) -> float | None:
    declared = "audio/pcm" if response_format == "pcm" else None
    fmt = sniff(fh.read(HEAD_SIZE), declared)
    fh.seek(0)
    return measure_duration(fh, fmt, pcm_rate=24000) if fmt is not None else None


def _request(
    input: str,
    voice: Any,
    model: str,
    instructions: str | None,
    response_format: str,
    speed: float,
) -> SpeechRequest:
    return SpeechRequest(
        model=model,
        input=input,
        voice=voice,
        instructions=instructions,
        response_format=response_format,
        speed=speed,
    )


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=_SPOOL)


# --------------------------------------------------------------------------- sync


def synthesize(
    owner: Any,
    *,
    input: str,
    voice: Any,
    model: str,
    instructions: str | None = None,
    response_format: str = "mp3",
    speed: float = 1.0,
    provider: str | None = None,
    use_cache: bool | None = None,
) -> SpeechOutcome:
    """Synthesize ``input`` and store the whole clip (or reuse an identical stored one)."""
    alias, prov = get_provider(provider)
    request = _request(input, voice, model, instructions, response_format, speed)
    job = _prepare(owner, request, alias, prov, use_cache, sse=False)
    if job.cached:
        return SpeechOutcome(job.asset, cached=True)
    _mark_running(job.asset)
    with _spool() as buf:
        try:
            with prov.speech(job.request) as stream:
                for chunk in stream:
                    buf.write(chunk)
                request_id = stream.request_id
        except Exception as exc:
            _finish(job.asset, None, None, exc, JobStatus.FAILED, None)
            raise
        _finish(job.asset, buf, None, None, JobStatus.COMPLETED, request_id)
    return SpeechOutcome(job.asset)


# --------------------------------------------------------------------------- async


async def asynthesize(owner: Any, **kwargs: Any) -> SpeechOutcome:
    """Async :func:`synthesize` (the whole clip is stored before returning)."""
    stream = await astream_speech(owner, **kwargs)
    async with contextlib.aclosing(stream):
        async for _ in stream:
            pass
    return SpeechOutcome(stream.asset, cached=stream.cached)


class SpeechStream(PersistingStream[bytes | SpeechEvent]):
    """Audio of one speech request as it is produced, saved to storage as it streams.

    Items are ``bytes`` (``sse=False``) or ``SpeechAudioDelta``/``SpeechAudioDone`` events.
    Ending normally stores the clip ``completed``; ``aclose()`` (client gone) closes the
    upstream request and marks the row ``incomplete``; an upstream error marks it ``failed``.
    A cached clip streams from storage.
    """

    def __init__(
        self,
        asset: SpeechAsset,
        *,
        sse: bool,
        cached: bool,
        upstream: AsyncStream[Any] | None,
    ) -> None:
        self.asset = asset
        self.sse = sse
        self.cached = cached
        self.content_type = (
            "text/event-stream" if sse else SPEECH_CONTENT_TYPES[asset.response_format]
        )
        self.request_id = upstream.request_id if upstream is not None else None
        self._upstream = upstream
        self._gen: AsyncGenerator[bytes | SpeechEvent, None] = (
            self._from_cache() if cached else self._relay()
        )

    async def _abandon(self) -> None:
        if self._upstream is not None:
            await shielded(self._upstream.aclose())
            await shielded(
                sync_to_async(_finish_and_close)(
                    self.asset, _spool(), None, None, JobStatus.INCOMPLETE, self.request_id
                )
            )

    async def _relay(self) -> AsyncGenerator[bytes | SpeechEvent, None]:
        assert self._upstream is not None
        buf = _spool()
        usage: TokenUsage | None = None
        status, error = JobStatus.INCOMPLETE, None
        try:
            async for item in self._upstream:
                if isinstance(item, bytes):
                    buf.write(item)
                elif isinstance(item, SpeechAudioDelta):
                    buf.write(item.audio)
                elif isinstance(item, SpeechAudioDone):
                    usage = item.usage
                yield item
            status = JobStatus.COMPLETED
        except Exception as exc:
            status, error = JobStatus.FAILED, exc
            raise
        finally:
            await shielded(self._upstream.aclose())
            await shielded(
                sync_to_async(_finish_and_close)(
                    self.asset, buf, usage, error, status, self.request_id
                )
            )

    async def _from_cache(self) -> AsyncGenerator[bytes | SpeechEvent, None]:
        fh = await sync_to_async(self.asset.audio.open)("rb")
        try:
            while chunk := await sync_to_async(fh.read)(CACHE_CHUNK):
                yield SpeechAudioDelta(chunk) if self.sse else chunk
            if self.sse:
                yield SpeechAudioDone(TokenUsage.from_dict(self.asset.usage or {}))
        finally:
            await sync_to_async(fh.close)()


def _finish_and_close(
    asset: SpeechAsset,
    buf: IO[bytes],
    usage: TokenUsage | None,
    error: BaseException | None,
    status: str,
    request_id: str | None,
) -> None:
    with buf:
        _finish(asset, buf, usage, error, status, request_id)


async def astream_speech(
    owner: Any,
    *,
    input: str,
    voice: Any,
    model: str,
    instructions: str | None = None,
    response_format: str = "mp3",
    speed: float = 1.0,
    sse: bool = False,
    provider: str | None = None,
    use_cache: bool | None = None,
) -> SpeechStream:
    """Open a speech stream; validation, consent and upstream errors are raised here."""
    alias, prov = get_provider(provider)
    request = _request(input, voice, model, instructions, response_format, speed)
    request.stream_format = "sse" if sse else "audio"
    early: EarlyCall[AsyncStream[Any]] = EarlyCall(prov.aspeech_events if sse else prov.aspeech)
    job = await early.prepare(_prepare_and_start, owner, request, alias, prov, use_cache, sse)
    if job.cached:
        return SpeechStream(job.asset, sse=sse, cached=True, upstream=None)
    try:
        upstream = await early.result(job.request)
    except Exception as exc:
        await sync_to_async(_finish)(job.asset, None, None, exc, JobStatus.FAILED, None)
        raise
    return SpeechStream(job.asset, sse=sse, cached=False, upstream=upstream)


def iter_stored(asset: SpeechAsset, chunk_size: int = CACHE_CHUNK) -> Iterator[bytes]:
    """The stored clip in chunks (for sync callers such as management commands)."""
    with asset.audio.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            yield chunk
