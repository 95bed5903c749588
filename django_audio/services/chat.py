"""Chat completions with audio: replies stored as speech assets, expired audio bridged.

Beyond OpenAI: when a request refers to an earlier reply by ``audio.id`` after its
``expires_at``, the upstream has forgotten that audio, so the reference is replaced by the
stored transcript as the assistant message's text and the conversation carries on.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import tempfile
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from ..contract import AsyncStream, ChatCompletion, ChatCompletionChunk
from ..exceptions import RequestCancelled
from ..models import JobStatus, SpeechAsset, UsageRecord
from ..providers import BaseProvider
from ..signals import post_chat, pre_chat, send_post
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
from .consents import resolve_voice
from .early import EarlyCall

__all__ = [
    "ChatOutcome",
    "ChatStream",
    "achat_with_audio",
    "astream_chat_with_audio",
    "chat_with_audio",
]

_EXTENSIONS = {
    "wav": ".wav",
    "aac": ".aac",
    "mp3": ".mp3",
    "flac": ".flac",
    "opus": ".opus",
    "pcm16": ".pcm",
}
_CONTENT_TYPES = {
    "wav": "audio/wav",
    "aac": "audio/aac",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "opus": "audio/ogg",
    "pcm16": "audio/pcm",
}


@dataclass
class ChatOutcome:
    """The upstream's completion and the stored audio reply (``None`` for text-only chats)."""

    completion: ChatCompletion
    asset: SpeechAsset | None


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, Mapping) and p.get("type") == "text"
        )
    return ""


def bridge_expired_audio(owner: Any, messages: list[Any]) -> list[Any]:
    """Replace references to expired stored replies by their transcripts (one query)."""
    refs = {
        str(m["audio"]["id"]): i
        for i, m in enumerate(messages)
        if isinstance(m, Mapping)
        and m.get("role") == "assistant"
        and isinstance(m.get("audio"), Mapping)
        and isinstance(m["audio"].get("id"), str)
    }
    if not refs:
        return messages
    expired = {
        a.upstream_audio_id: a
        for a in SpeechAsset.objects.filter(
            **owner_filter(owner),
            kind=SpeechAsset.Kind.CHAT_REPLY,
            upstream_audio_id__in=list(refs),
            expires_at__lte=timezone.now(),
        ).only("upstream_audio_id", "transcript")
    }
    out = list(messages)
    for audio_id, i in refs.items():
        asset = expired.get(audio_id)
        if asset is None:
            continue
        msg = {k: v for k, v in out[i].items() if k != "audio"}
        if not _text_of(msg.get("content")):
            msg["content"] = asset.transcript
        out[i] = msg
    return out


@dataclass
class _ChatJob:
    body: dict[str, Any]
    asset: SpeechAsset | None
    alias: str
    provider: BaseProvider


def _prepare(
    owner: Any,
    body: Mapping[str, Any],
    alias: str,
    provider: BaseProvider,
    early: EarlyCall[Any] | None = None,
) -> _ChatJob:
    """Validate, resolve the voice, bridge expired audio, create the row, send ``pre_chat``.

    With ``early``, the provider call starts before the row is stored (see :mod:`.early`).
    """
    provider._check_chat(body)
    out: dict[str, Any] = copy.deepcopy(dict(body))
    audio = out.get("audio")
    voice_name = ""
    voice = None
    if isinstance(audio, Mapping) and "voice" in audio:
        resolved = resolve_voice(owner, audio["voice"], param="audio.voice")
        voice_name, voice = resolved.name, resolved.voice
        out["audio"] = {**audio, "voice": resolved.provider_param}
    out["messages"] = bridge_expired_audio(owner, out["messages"])
    asset: SpeechAsset | None = None
    if "audio" in (out.get("modalities") or []):
        user_msgs = [
            m for m in out["messages"] if isinstance(m, Mapping) and m.get("role") == "user"
        ]
        fmt = str(out["audio"].get("format", ""))
        asset = SpeechAsset(
            owner=owner_or_none(owner),
            kind=SpeechAsset.Kind.CHAT_REPLY,
            input=_text_of(user_msgs[-1].get("content")) if user_msgs else "",
            voice_name=voice_name[:100],
            voice=voice,
            provider=alias,
            model=str(out.get("model", ""))[:200],
            response_format=fmt,
            content_type=_CONTENT_TYPES.get(fmt, ""),
            audio_format=fmt,
            params={k: v for k, v in out.items() if k not in ("messages",)},
        )
    started = early is not None and early.start(out, unless=pre_chat, sender=SpeechAsset)
    if started and asset is not None:
        asset.status = JobStatus.RUNNING
    try:
        with transaction.atomic():
            if asset is not None:
                asset.save()
            pre_chat.send(SpeechAsset, instance=asset, body=out)
    except RequestCancelled as exc:
        if asset is not None:
            asset.pk = None
        send_post(
            post_chat, SpeechAsset, instance=asset, outcome="cancelled", error=exc, result=None
        )
        raise
    return _ChatJob(out, asset, alias, provider)


def _fail(job: _ChatJob, exc: BaseException, status: str = JobStatus.FAILED) -> None:
    asset = job.asset
    if asset is not None:
        asset.status = status
        asset.error, asset.error_code = error_text(exc), error_code(exc)
        asset.completed_at = timezone.now()
        asset.save()
    send_post(post_chat, SpeechAsset, instance=asset, outcome=status, error=exc, result=None)


def _finish(
    job: _ChatJob,
    owner: Any,
    audio: IO[bytes] | None,
    audio_id: str,
    expires_at: int | None,
    transcript: str,
    usage: Mapping[str, Any] | None,
    request_id: str | None,
    result: Any,
    status: str = JobStatus.COMPLETED,
) -> None:
    """Store the reply's audio and transcript, and the usage; send ``post_chat``."""
    asset = job.asset
    names: list[str] = []
    with atomic_with_files(names):
        if asset is not None:
            asset.status = status
            asset.completed_at = timezone.now()
            asset.transcript = transcript
            asset.upstream_audio_id = audio_id[:200]
            asset.expires_at = datetime.fromtimestamp(expires_at, tz=UTC) if expires_at else None
            asset.upstream_request_id = (request_id or "")[:200]
            asset.usage = dict(usage or {})
            if status != JobStatus.COMPLETED:
                asset.error = "The client disconnected before the reply was complete."
                asset.error_code = "client_disconnected"
            if audio is not None:
                size = audio.seek(0, 2)
                if size:
                    audio.seek(0)
                    ext = _EXTENSIONS.get(asset.response_format, "")
                    asset.audio.save(f"reply{ext}", File(audio), save=False)
                    names.append(str(asset.audio.name))
                    asset.size = size
            asset.save()
        record_usage(
            owner,
            UsageRecord.Operation.CHAT,
            provider=job.alias,
            model=str(job.body.get("model", "")),
            usage=usage,
            speech_asset=asset,
        )
    send_post(post_chat, SpeechAsset, instance=asset, outcome=status, error=None, result=result)


def _mark_running(job: _ChatJob) -> None:
    if job.asset is not None:
        job.asset.status = JobStatus.RUNNING
        SpeechAsset.objects.filter(pk=job.asset.pk).update(
            status=JobStatus.RUNNING, updated_at=timezone.now()
        )


def _prepare_and_start(
    owner: Any,
    body: Mapping[str, Any],
    alias: str,
    provider: BaseProvider,
    early: EarlyCall[Any],
) -> _ChatJob:
    """:func:`_prepare` then, unless the call started early, :func:`_mark_running`."""
    job = _prepare(owner, body, alias, provider, early)
    if not early.started:
        _mark_running(job)
    return job


def _complete(job: _ChatJob, owner: Any, completion: ChatCompletion) -> ChatOutcome:
    reply = completion.audio
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as buf:
        transcript = ""
        if reply is not None:
            buf.write(reply.audio_bytes)
            transcript = reply.transcript
        elif job.asset is not None:
            transcript = _text_of(completion.message.get("content"))
        _finish(
            job,
            owner,
            buf,
            reply.id if reply else "",
            reply.expires_at if reply else None,
            transcript,
            completion.data.get("usage"),
            completion.request_id,
            completion,
        )
    return ChatOutcome(completion, job.asset)


def chat_with_audio(
    owner: Any, body: Mapping[str, Any], *, provider: str | None = None
) -> ChatOutcome:
    """Run a chat completion with audio and store its audio reply."""
    alias, prov = get_provider(provider)
    job = _prepare(owner, body, alias, prov)
    _mark_running(job)
    try:
        completion = prov.chat_completion(job.body)
    except Exception as exc:
        _fail(job, exc)
        raise
    return _complete(job, owner, completion)


async def achat_with_audio(
    owner: Any, body: Mapping[str, Any], *, provider: str | None = None
) -> ChatOutcome:
    """Async :func:`chat_with_audio`."""
    alias, prov = get_provider(provider)
    early: EarlyCall[ChatCompletion] = EarlyCall(prov.achat_completion)
    job = await early.prepare(_prepare_and_start, owner, body, alias, prov)
    try:
        completion = await early.result(job.body)
    except Exception as exc:
        await sync_to_async(_fail)(job, exc)
        raise
    return await sync_to_async(_complete)(job, owner, completion)


class ChatStream(PersistingStream[ChatCompletionChunk]):
    """Chunks of a streamed chat completion; the audio reply is stored when it ends.

    ``aclose()`` before the end closes the upstream and stores what arrived as
    ``incomplete``; an upstream error marks the reply ``failed``.
    """

    def __init__(
        self, job: _ChatJob, owner: Any, upstream: AsyncStream[ChatCompletionChunk]
    ) -> None:
        self.asset = job.asset
        self.request_id = upstream.request_id
        self._job = job
        self._owner = owner
        self._upstream = upstream
        self._gen = self._run()

    async def _abandon(self) -> None:
        await shielded(self._upstream.aclose())
        buf = tempfile.SpooledTemporaryFile(max_size=1024)  # noqa: SIM115 - closed in _store
        await shielded(
            sync_to_async(self._store)(buf, "", None, "", None, JobStatus.INCOMPLETE, None)
        )

    async def _run(self) -> AsyncGenerator[ChatCompletionChunk, None]:
        buf = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - closed in _store
        audio_id, transcript, expires_at = "", [], None
        usage: Mapping[str, Any] | None = None
        status, error = JobStatus.INCOMPLETE, None
        try:
            async for chunk in self._upstream:
                piece = chunk.audio
                if piece is not None:
                    audio_id = piece.id or audio_id
                    expires_at = piece.expires_at or expires_at
                    if piece.transcript:
                        transcript.append(piece.transcript)
                    if piece.data:
                        # A malformed piece is relayed but not stored.
                        with contextlib.suppress(binascii.Error, ValueError):
                            buf.write(base64.b64decode(piece.data))
                if chunk.data.get("usage"):
                    usage = chunk.data["usage"]
                yield chunk
            status = JobStatus.COMPLETED
        except Exception as exc:
            status, error = JobStatus.FAILED, exc
            raise
        finally:
            await shielded(self._upstream.aclose())
            await shielded(
                sync_to_async(self._store)(
                    buf, audio_id, expires_at, "".join(transcript), usage, status, error
                )
            )

    def _store(
        self,
        buf: IO[bytes],
        audio_id: str,
        expires_at: int | None,
        transcript: str,
        usage: Mapping[str, Any] | None,
        status: str,
        error: BaseException | None,
    ) -> None:
        with buf:
            if error is not None:
                _fail(self._job, error)
                return
            _finish(
                self._job,
                self._owner,
                buf,
                audio_id,
                expires_at,
                transcript,
                usage,
                self.request_id,
                None,
                status,
            )


async def astream_chat_with_audio(
    owner: Any, body: Mapping[str, Any], *, provider: str | None = None
) -> ChatStream:
    """Open a streamed chat completion; errors before the first chunk are raised here."""
    alias, prov = get_provider(provider)
    early: EarlyCall[AsyncStream[ChatCompletionChunk]] = EarlyCall(prov.astream_chat_completion)
    job = await early.prepare(_prepare_and_start, owner, body, alias, prov)
    try:
        upstream = await early.result(job.body)
    except Exception as exc:
        await sync_to_async(_fail)(job, exc)
        raise
    return ChatStream(job, owner, upstream)
