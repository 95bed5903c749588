"""Transcriptions, translations, streamed transcriptions, background runs and live captions.

Each call: check the upload (content, size) and parameters → store the audio and a
``pending`` row → ``pre_transcribe`` → provider → row ``completed`` (or ``failed`` with the
error, audio kept) → usage record → ``post_transcribe``.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from ..conf import audio_settings
from ..contract import (
    AsyncStream,
    AudioFile,
    Capability,
    PlainText,
    Transcription,
    TranscriptionEvent,
    TranscriptionRequest,
    TranscriptTextDelta,
    TranscriptTextDone,
    TranscriptTextSegment,
    TranslationRequest,
)
from ..exceptions import AudioError, InvalidRequest, RequestCancelled, StreamInterrupted
from ..models import JobStatus, Transcript, UsageRecord
from ..providers import BaseProvider
from ..signals import post_transcribe, pre_transcribe, send_post, transcript_event
from .common import (
    PersistingStream,
    atomic_with_files,
    error_code,
    error_text,
    get_provider,
    owner_or_none,
    record_usage,
    shielded,
)
from .early import EarlyCall
from .results import apply_result, audio_seconds, usage_dict
from .uploads import AudioSource, check_audio

__all__ = [
    "TranscriptionOutcome",
    "TranscriptionStream",
    "astream_transcription",
    "atranscribe",
    "atranslate",
    "run_transcription",
    "save_live_caption",
    "transcribe",
    "translate",
]

Kind = Transcript.Kind
AnyRequest = TranscriptionRequest | TranslationRequest


@dataclass
class TranscriptionOutcome:
    """The stored row and the provider's result (``None`` when queued in the background)."""

    transcript: Transcript
    result: Any


# --------------------------------------------------------------------------- building


def _build_request(
    kind: str, audio: AudioFile, model: str, params: Mapping[str, Any]
) -> AnyRequest:
    cls: type[AnyRequest] = TranslationRequest if kind == Kind.TRANSLATION else TranscriptionRequest
    allowed = {f.name for f in fields(cls)} - {"file", "model", "stream"}
    for name in params:
        if name not in allowed:
            raise InvalidRequest(f"Unknown parameter: '{name}'.", param=name)
    return cls(file=audio, model=model, **params)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _params_json(request: AnyRequest) -> dict[str, Any]:
    """Every request parameter except the audio, as JSON (to re-run it in the background)."""
    return {
        f.name: _jsonable(getattr(request, f.name))
        for f in fields(request)
        if f.name not in ("file", "stream")
    }


def _check(provider: BaseProvider, request: AnyRequest, stream: bool) -> None:
    """The provider's own capability and parameter checks, before anything is stored."""
    if isinstance(request, TranslationRequest):
        provider._check_translation(request)
    else:
        request.stream = stream
        provider._check_transcription(request)


def _prepare(
    kind: str,
    owner: Any,
    file: AudioSource,
    model: str,
    alias: str,
    provider: BaseProvider,
    params: Mapping[str, Any],
    stream: bool = False,
    early: EarlyCall[Any] | None = None,
) -> tuple[Transcript, AnyRequest]:
    """Validate, then store the audio with a ``pending`` row and send ``pre_transcribe``.

    With ``early``, the provider call is started once the request is valid (when allowed,
    see :mod:`.early`) and the row is stored ``running`` instead.
    """
    upload = check_audio(file, param="file", max_size=audio_settings.MAX_UPLOAD_SIZE)
    request = _build_request(kind, upload.audio, model, params)
    _check(provider, request, stream)
    row = Transcript(
        owner=owner_or_none(owner),
        kind=kind,
        provider=alias,
        model=request.model[:200],
        language=(getattr(request, "language", None) or "")[:35],
        prompt=request.prompt or "",
        response_format=request.response_format,
        params=_params_json(request),
        **upload.metadata(),
    )
    # The provider must read its own handle of the audio: a path or bytes, not a shared file.
    if (
        early is not None
        and isinstance(upload.audio.content, bytes | str | os.PathLike)
        and early.start(request, unless=pre_transcribe, sender=Transcript)
    ):
        row.status, row.started_at = JobStatus.RUNNING, timezone.now()
    names: list[str] = []
    try:
        with atomic_with_files(names):
            names.append(upload.save_to(row.audio))
            row.save()
            pre_transcribe.send(Transcript, instance=row, request=request)
    except RequestCancelled as exc:
        row.pk = None  # rolled back: nothing was stored
        send_post(
            post_transcribe, Transcript, instance=row, outcome="cancelled", error=exc, result=None
        )
        raise
    return row, request


# --------------------------------------------------------------------------- row updates


def _mark_running(row: Transcript) -> None:
    now = timezone.now()
    row.status, row.started_at = JobStatus.RUNNING, now
    Transcript.objects.filter(pk=row.pk).update(
        status=JobStatus.RUNNING, started_at=now, updated_at=now
    )


def _prepare_and_start(
    kind: str,
    owner: Any,
    file: AudioSource,
    model: str,
    alias: str,
    provider: BaseProvider,
    params: Mapping[str, Any],
    stream: bool,
    early: EarlyCall[Any],
) -> tuple[Transcript, AnyRequest]:
    """:func:`_prepare` then, unless the call started early, :func:`_mark_running`."""
    row, request = _prepare(kind, owner, file, model, alias, provider, params, stream, early)
    if not early.started:
        _mark_running(row)
    return row, request


def _fail(row: Transcript, exc: BaseException, *also: str) -> None:
    """Mark the row failed (audio kept; fields ``also`` saved too); send ``post_transcribe``."""
    status = JobStatus.FAILED
    row.status = status
    row.error, row.error_code = error_text(exc), error_code(exc)
    row.completed_at = timezone.now()
    fields = ["status", "error", "error_code", "completed_at", "updated_at", *also]
    row.save(update_fields=fields)
    send_post(post_transcribe, Transcript, instance=row, outcome=status, error=exc, result=None)


def _operation(row: Transcript) -> str:
    return {
        Kind.TRANSLATION: UsageRecord.Operation.TRANSLATION,
        Kind.LIVE_CAPTION: UsageRecord.Operation.LIVE_CAPTION,
    }.get(Kind(row.kind), UsageRecord.Operation.TRANSCRIPTION)


def _store_completed(row: Transcript, status: str = JobStatus.COMPLETED) -> None:
    row.status = status
    row.completed_at = timezone.now()
    with transaction.atomic():
        row.save()
        record_usage(
            row.owner_id,
            _operation(row),
            provider=row.provider,
            model=row.model,
            seconds=audio_seconds(row),
            usage=row.usage or None,
            transcript=row,
        )


def _complete(row: Transcript, result: Any) -> TranscriptionOutcome:
    apply_result(row, result)
    _store_completed(row)
    send_post(
        post_transcribe, Transcript, instance=row, outcome="completed", error=None, result=result
    )
    return TranscriptionOutcome(row, result)


def _execute(
    row: Transcript, request: AnyRequest, call: Callable[[Any], Any]
) -> TranscriptionOutcome:
    _mark_running(row)
    try:
        result = call(request)
    except Exception as exc:
        _fail(row, exc)
        raise
    return _complete(row, result)


def _provider_call(provider: BaseProvider, request: AnyRequest) -> Callable[[Any], Any]:
    return provider.translate if isinstance(request, TranslationRequest) else provider.transcribe


# --------------------------------------------------------------------------- sync API


def transcribe(
    owner: Any,
    file: AudioSource,
    *,
    model: str,
    provider: str | None = None,
    background: bool | None = None,
    **params: Any,
) -> TranscriptionOutcome:
    """Transcribe ``file`` for ``owner`` and store it (params: ``TranscriptionRequest`` fields).

    With ``background`` (default: the ``BACKGROUND_TRANSCRIPTION`` setting) the row is
    returned ``pending`` and the provider runs in a task once the transaction commits.
    """
    return _run(Kind.TRANSCRIPTION, owner, file, model, provider, background, params)


def translate(
    owner: Any,
    file: AudioSource,
    *,
    model: str,
    provider: str | None = None,
    background: bool | None = None,
    **params: Any,
) -> TranscriptionOutcome:
    """Translate ``file`` into English text and store it (params: ``TranslationRequest``)."""
    return _run(Kind.TRANSLATION, owner, file, model, provider, background, params)


def _run(
    kind: str,
    owner: Any,
    file: AudioSource,
    model: str,
    provider: str | None,
    background: bool | None,
    params: Mapping[str, Any],
) -> TranscriptionOutcome:
    alias, prov = get_provider(provider)
    row, request = _prepare(kind, owner, file, model, alias, prov, params)
    if audio_settings.BACKGROUND_TRANSCRIPTION if background is None else background:
        pk = row.pk
        transaction.on_commit(lambda: _enqueue(pk))
        return TranscriptionOutcome(row, None)
    return _execute(row, request, _provider_call(prov, request))


def _enqueue(pk: int) -> None:
    from ..tasks import transcribe_task

    result = transcribe_task.enqueue(pk)
    Transcript.objects.filter(pk=pk, task_id="").update(task_id=str(result.id)[:200])


def run_transcription(pk: int) -> Transcript:
    """Run a ``pending`` transcript's request from its stored audio (the background task)."""
    row = Transcript.objects.get(pk=pk)
    if row.status != JobStatus.PENDING:
        return row  # already run (a retried or duplicated task)
    _, prov = get_provider(row.provider)
    params = {k: v for k, v in row.params.items() if k != "model"}
    with row.audio.open("rb") as fh:
        audio = AudioFile(fh, filename=row.original_name or "audio", content_type=row.content_type)
        request = _build_request(row.kind, audio, row.model, params)
        call = _provider_call(prov, request)
        if _streams(prov, request):
            call = _streamed_call(prov, row)
        with contextlib.suppress(AudioError):  # stored as the row's error
            _execute(row, request, call)
    return row


def _streams(provider: BaseProvider, request: AnyRequest) -> bool:
    """Whether a background run can stream its events to followers as they arrive."""
    return (
        isinstance(request, TranscriptionRequest)
        and provider.supports(Capability.TRANSCRIBE_STREAM)
        and request.response_format in ("json", "text")
        and not request.known_speaker_names
    )


def _streamed_call(provider: BaseProvider, row: Transcript) -> Callable[[Any], Any]:
    """Transcribe by streaming, announcing each event (``transcript_event``) on the way."""

    def call(request: TranscriptionRequest) -> Transcription | PlainText:
        done: TranscriptTextDone | None = None
        with provider.stream_transcription(request) as stream:
            for event in stream:
                transcript_event.send_robust(Transcript, instance=row, event=event.to_dict())
                if isinstance(event, TranscriptTextDone):
                    done = event
        if done is None:
            raise StreamInterrupted("The transcription stream ended before its final event.")
        if request.response_format == "text":
            return PlainText(done.text, "text", stream.request_id)
        return Transcription(
            text=done.text, logprobs=done.logprobs, usage=done.usage, request_id=stream.request_id
        )

    return call


# --------------------------------------------------------------------------- async API


async def atranscribe(
    owner: Any, file: AudioSource, *, model: str, provider: str | None = None, **params: Any
) -> TranscriptionOutcome:
    """Async :func:`transcribe` (the provider's native async client is used)."""
    return await _arun(Kind.TRANSCRIPTION, owner, file, model, provider, params)


async def atranslate(
    owner: Any, file: AudioSource, *, model: str, provider: str | None = None, **params: Any
) -> TranscriptionOutcome:
    """Async :func:`translate`."""
    return await _arun(Kind.TRANSLATION, owner, file, model, provider, params)


async def _arun(
    kind: str,
    owner: Any,
    file: AudioSource,
    model: str,
    provider: str | None,
    params: Mapping[str, Any],
) -> TranscriptionOutcome:
    alias, prov = get_provider(provider)
    call: Callable[[Any], Awaitable[Any]] = (
        prov.atranslate if kind == Kind.TRANSLATION else prov.atranscribe
    )
    early = EarlyCall(call)
    row, request = await early.prepare(
        _prepare_and_start, kind, owner, file, model, alias, prov, params, False
    )
    try:
        result = await early.result(request)
    except Exception as exc:
        await sync_to_async(_fail)(row, exc)
        raise
    return await sync_to_async(_complete)(row, result)


class TranscriptionStream(PersistingStream[TranscriptionEvent]):
    """Events of a streamed transcription; the row is saved when the stream ends or is cut.

    Iterate it for ``transcript.text.*`` events. Ending normally stores the transcript
    ``completed``; ``aclose()`` (client gone) stores the text so far as ``incomplete``; an
    upstream error stores it ``failed``. The upstream request is closed in every case.
    """

    def __init__(self, transcript: Transcript, upstream: AsyncStream[TranscriptionEvent]) -> None:
        self.transcript = transcript
        self.request_id = upstream.request_id
        self._upstream = upstream
        self._gen = self._run()

    async def _abandon(self) -> None:
        await shielded(self._upstream.aclose())
        await shielded(sync_to_async(_finish_stream)(self.transcript, [], [], None, None))

    async def _run(self) -> AsyncGenerator[TranscriptionEvent, None]:
        parts: list[str] = []
        segments: list[dict[str, Any]] = []
        done: TranscriptTextDone | None = None
        error: BaseException | None = None
        try:
            async for event in self._upstream:
                if isinstance(event, TranscriptTextDelta):
                    parts.append(event.delta)
                elif isinstance(event, TranscriptTextSegment):
                    segments.append(event.to_dict())
                elif isinstance(event, TranscriptTextDone):
                    done = event
                yield event
        except Exception as exc:
            error = exc
            raise
        finally:
            await shielded(self._upstream.aclose())
            await shielded(
                sync_to_async(_finish_stream)(self.transcript, parts, segments, done, error)
            )


def _finish_stream(
    row: Transcript,
    parts: Sequence[str],
    segments: list[dict[str, Any]],
    done: TranscriptTextDone | None,
    error: BaseException | None,
) -> None:
    row.diarized_segments = segments
    if done is not None:
        row.text = done.text
        row.logprobs = [lp.to_dict() for lp in done.logprobs or []]
        row.usage = usage_dict(done.usage)
        if done.languages and not row.language:
            row.language = str(done.languages[0].get("code", ""))[:35]
    else:
        row.text = "".join(parts)
    if error is not None:
        _fail(row, error, "text", "diarized_segments", "logprobs", "usage", "language")
        return
    status = JobStatus.COMPLETED if done is not None else JobStatus.INCOMPLETE
    if status == JobStatus.INCOMPLETE:
        row.error = "The stream ended before the transcript was complete."
    _store_completed(row, status)
    send_post(post_transcribe, Transcript, instance=row, outcome=status, error=None, result=done)


async def astream_transcription(
    owner: Any, file: AudioSource, *, model: str, provider: str | None = None, **params: Any
) -> TranscriptionStream:
    """Open a streamed transcription; errors before the first event are raised here."""
    alias, prov = get_provider(provider)
    early: EarlyCall[AsyncStream[TranscriptionEvent]] = EarlyCall(prov.astream_transcription)
    row, request = await early.prepare(
        _prepare_and_start, Kind.TRANSCRIPTION, owner, file, model, alias, prov, params, True
    )
    try:
        upstream = await early.result(request)
    except Exception as exc:
        await sync_to_async(_fail)(row, exc)
        raise
    if upstream.request_id:
        row.upstream_request_id = upstream.request_id
    return TranscriptionStream(row, upstream)


# --------------------------------------------------------------------------- live captions


def _wav_header(data_size: int, rate: int) -> bytes:
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_size)
    )


def _pcm_to_wav(source: str | os.PathLike[str] | IO[bytes] | bytes, rate: int) -> IO[bytes]:
    """A temporary WAV file (16-bit mono) wrapping raw PCM, copied in chunks."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - returned open, closed by the caller
    out.write(_wav_header(0, rate))
    size = 0
    src: IO[bytes]
    with contextlib.ExitStack() as stack:
        if isinstance(source, bytes):
            out.write(source)
            size = len(source)
        else:
            if isinstance(source, str | os.PathLike):
                src = stack.enter_context(open(source, "rb"))
            else:
                src = source
                with contextlib.suppress(OSError, AttributeError):
                    src.seek(0)
            while chunk := src.read(1024 * 1024):
                out.write(chunk)
                size += len(chunk)
    size -= size % 2
    out.seek(0)
    out.write(_wav_header(size, rate))
    out.seek(0)
    return out


def save_live_caption(
    owner: Any,
    pcm: str | os.PathLike[str] | IO[bytes] | bytes | None,
    *,
    segments: Sequence[Mapping[str, Any]],
    text: str,
    status: str = JobStatus.COMPLETED,
    sample_rate: int = 16000,
    model: str = "",
    language: str = "",
    provider: str = "default",
    words: Sequence[Mapping[str, Any]] = (),
    params: Mapping[str, Any] | None = None,
) -> Transcript:
    """Store a finished live-caption session: raw 16-bit mono PCM (saved as WAV) and text.

    ``status`` is ``completed``, ``incomplete`` (the speaker disconnected) or ``failed``.
    Sends ``post_transcribe`` (there is no ``pre_`` stage: the captions already happened).
    """
    if status not in (JobStatus.COMPLETED, JobStatus.INCOMPLETE, JobStatus.FAILED):
        raise InvalidRequest(f"Invalid live caption status {status!r}.", param="status")
    seg_list = [dict(s) for s in segments]
    speakers = any("speaker" in s for s in seg_list)
    row = Transcript(
        owner=owner_or_none(owner),
        kind=Kind.LIVE_CAPTION,
        status=status,
        provider=provider,
        model=model[:200],
        language=language[:35],
        params={**(params or {}), "sample_rate": sample_rate},
        text=text,
        segments=seg_list,
        diarized_segments=seg_list if speakers else [],
        words=[dict(w) for w in words],
        started_at=timezone.now(),
        completed_at=timezone.now(),
    )
    names: list[str] = []
    with contextlib.ExitStack() as stack:
        if pcm is not None:
            wav = stack.enter_context(_pcm_to_wav(pcm, sample_rate))
            size = wav.seek(0, 2)
            if size > 44:
                wav.seek(0)
                row.content_type, row.audio_format, row.size = "audio/wav", "wav", size
                row.duration = (size - 44) / (2 * sample_rate)
                row.original_name = "live-caption.wav"
        with atomic_with_files(names):
            if row.size:
                wav.seek(0)
                row.audio.save("live.wav", File(wav), save=False)
                names.append(str(row.audio.name))
            row.save()
            record_usage(
                row.owner,
                UsageRecord.Operation.LIVE_CAPTION,
                provider=provider,
                model=model,
                seconds=row.duration or 0.0,
                transcript=row,
            )
    send_post(post_transcribe, Transcript, instance=row, outcome=status, error=None, result=None)
    return row


async def asave_live_caption(owner: Any, pcm: Any, **kwargs: Any) -> Transcript:
    """Async :func:`save_live_caption`."""
    return await sync_to_async(save_live_caption)(owner, pcm, **kwargs)
