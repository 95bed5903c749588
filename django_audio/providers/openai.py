"""The OpenAI-compatible provider: OpenAI itself, Azure OpenAI, or any compatible server.

Every operation is described once — an :class:`~.http.HttpCall` plus a parser or a stream
decoder — and sent either by the pooled sync client or by the running loop's async client,
so the sync and async hooks are one line each. Raw audio and SSE are told apart by the
response's Content-Type, since some compatible servers ignore ``stream_format``.

Azure: setting ``api_version`` switches to Azure's authentication (an ``api-key`` header
and an ``api-version`` query parameter). Requests go to ``{base_url}/deployments/{name}/…``
where the name is ``azure_deployment`` or, when that is unset, the request's ``model``
(as in the official SDK); a ``base_url`` that already contains ``/deployments/`` is used
as given.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from django.core import checks

from ..contract import (
    TEXT_FORMATS,
    AsyncStream,
    AudioFile,
    Capability,
    ChatCompletion,
    ChatCompletionChunk,
    PlainText,
    SpeechAudioDelta,
    SpeechAudioDone,
    SpeechEvent,
    SpeechRequest,
    Stream,
    Transcription,
    TranscriptionEvent,
    TranscriptionRequest,
    TranscriptionResult,
    TranscriptTextDone,
    TranslationRequest,
    TranslationResult,
    VoiceConsentDeleted,
    VoiceConsentObject,
    VoiceConsentPage,
    VoiceDeleted,
    VoiceObject,
    parse_transcription,
    parse_translation,
    speech_event_from_dict,
    transcription_event_from_dict,
)
from ..streaming.sse import EVENT_STREAM, ServerSentEvent
from .base import BaseProvider
from .http import (
    ApiKeyAuth,
    HttpCall,
    HttpConfig,
    HttpTransport,
    PayloadError,
    StreamDecoder,
    StreamTruncated,
    parse_json_event,
    request_id_of,
)

__all__ = ["DEFAULT_BASE_URL", "OpenAIProvider"]

logger = logging.getLogger("django_audio.providers.openai")

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: A streamed transcription answered as one plain body is buffered up to this size.
MAX_BUFFERED_BODY = 16 * 1024 * 1024

_TRANSCRIPTION_EVENTS = frozenset(
    {"transcript.text.delta", "transcript.text.segment", "transcript.text.done"}
)
_SPEECH_EVENTS = frozenset({"speech.audio.delta", "speech.audio.done"})


def _segment(value: str) -> str:
    """An id as one URL path segment."""
    return quote(value, safe="")


def _is_json(content_type: str) -> bool:
    mime = content_type.partition(";")[0].strip().lower()
    return mime == "application/json" or mime.endswith("+json")


def _form_value(value: Any) -> Any:
    """A form field value: JSON for objects, ``true``/``false`` for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, list | tuple):
        return [_form_value(v) for v in value]
    return value


# --------------------------------------------------------------------------- stream decoders


class _TranscriptionDecoder(StreamDecoder[TranscriptionEvent]):
    """``transcript.text.*`` events; a plain (non-streamed) answer becomes one done event."""

    content_type = EVENT_STREAM

    def __init__(self) -> None:
        self.done = False
        self._body = bytearray()

    def feed_event(self, event: ServerSentEvent) -> Iterable[TranscriptionEvent]:
        if event.data.strip() == "[DONE]":
            return ()
        data = parse_json_event(event)
        kind = data.get("type")
        if not isinstance(kind, str):
            raise PayloadError("event without a 'type'", event.data[:200])
        if kind not in _TRANSCRIPTION_EVENTS:
            # Newer upstreams add event types; skipping them keeps old clients working.
            logger.debug("Skipping unknown transcription event type %r.", kind)
            return ()
        try:
            item = transcription_event_from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"malformed {kind} event ({exc!r})", event.data[:200]) from None
        if isinstance(item, TranscriptTextDone):
            self.done = True
        return (item,)

    def feed_bytes(self, chunk: bytes) -> Iterable[TranscriptionEvent]:
        self._body += chunk
        if len(self._body) > MAX_BUFFERED_BODY:
            raise PayloadError("a non-streamed transcription body is too large")
        return ()

    def finish(self, sse: bool) -> Iterable[TranscriptionEvent]:
        if sse:
            if not self.done:
                raise StreamTruncated
            return ()
        # The server ignored stream=true and answered with the whole transcription.
        text = self._body.decode("utf-8", "replace")
        if not _is_json(self.response_content_type):
            return (TranscriptTextDone(text=text),)
        try:
            data = json.loads(text)
            result = Transcription.from_dict(data)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise PayloadError("malformed JSON", text[:200]) from None
        return (
            TranscriptTextDone(
                text=result.text,
                logprobs=result.logprobs,
                usage=result.usage,
                languages=result.languages,
            ),
        )


class _SpeechAudioDecoder(StreamDecoder[bytes]):
    """Raw audio chunks as they arrive; an SSE answer has its deltas decoded to bytes."""

    def __init__(self, content_type: str) -> None:
        self.content_type = content_type
        self.done = False

    def feed_event(self, event: ServerSentEvent) -> Iterable[bytes]:
        item = _speech_event(event)
        if isinstance(item, SpeechAudioDone):
            self.done = True
            return ()
        return (item.audio,) if item is not None and item.audio else ()

    def feed_bytes(self, chunk: bytes) -> Iterable[bytes]:
        return (chunk,)

    def finish(self, sse: bool) -> Iterable[bytes]:
        if sse and not self.done:
            raise StreamTruncated
        return ()


class _SpeechEventsDecoder(StreamDecoder[SpeechEvent]):
    """``speech.audio.*`` events; a raw audio answer is wrapped into delta events + done."""

    content_type = EVENT_STREAM

    def __init__(self) -> None:
        self.done = False

    def feed_event(self, event: ServerSentEvent) -> Iterable[SpeechEvent]:
        item = _speech_event(event)
        if item is None:
            return ()
        if isinstance(item, SpeechAudioDone):
            self.done = True
        return (item,)

    def feed_bytes(self, chunk: bytes) -> Iterable[SpeechEvent]:
        return (SpeechAudioDelta(audio=chunk),)

    def finish(self, sse: bool) -> Iterable[SpeechEvent]:
        if not sse:
            # A raw-audio server reports no token usage; the done event carries zeros.
            return (SpeechAudioDone(),)
        if not self.done:
            raise StreamTruncated
        return ()


def _speech_event(event: ServerSentEvent) -> SpeechEvent | None:
    data = parse_json_event(event)
    kind = data.get("type")
    if not isinstance(kind, str):
        raise PayloadError("event without a 'type'", event.data[:200])
    if kind not in _SPEECH_EVENTS:
        logger.debug("Skipping unknown speech event type %r.", kind)
        return None
    try:
        return speech_event_from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:  # binascii.Error is a ValueError
        raise PayloadError(f"malformed {kind} event ({exc!r})", event.data[:200]) from None


class _ChatDecoder(StreamDecoder[ChatCompletionChunk]):
    """``chat.completion.chunk`` events up to ``[DONE]``; a whole completion becomes a chunk."""

    content_type = EVENT_STREAM

    def __init__(self) -> None:
        self.done = False
        self._body = bytearray()

    def feed_event(self, event: ServerSentEvent) -> Iterable[ChatCompletionChunk]:
        if event.data.strip() == "[DONE]":
            self.done = True
            return ()
        return (ChatCompletionChunk(parse_json_event(event)),)

    def feed_bytes(self, chunk: bytes) -> Iterable[ChatCompletionChunk]:
        self._body += chunk
        if len(self._body) > MAX_BUFFERED_BODY:
            raise PayloadError("a non-streamed chat completion body is too large")
        return ()

    def finish(self, sse: bool) -> Iterable[ChatCompletionChunk]:
        if sse:
            if not self.done:
                raise StreamTruncated
            return ()
        # The server ignored stream=true: present its completion as a single chunk.
        text = self._body.decode("utf-8", "replace")
        try:
            data = json.loads(text)
            choices = [
                {
                    "index": c.get("index", i),
                    "delta": c.get("message") or {},
                    "finish_reason": c.get("finish_reason"),
                }
                for i, c in enumerate(data["choices"])
            ]
        except (AttributeError, KeyError, TypeError, ValueError):
            raise PayloadError("malformed JSON", text[:200]) from None
        chunk = {**data, "object": "chat.completion.chunk", "choices": choices}
        return (ChatCompletionChunk(chunk),)


# --------------------------------------------------------------------------- operations


@dataclass
class _Op(Generic[T]):
    """A one-shot operation: what to send and how to read the answer."""

    call: HttpCall
    read: Callable[[httpx.Response], T]


@dataclass
class _StreamOp(Generic[T]):
    """A streamed operation: what to send and how to decode the stream."""

    call: HttpCall
    decoder: StreamDecoder[T]


class OpenAIProvider(BaseProvider):
    """Any OpenAI-compatible HTTP upstream (OpenAI, Azure OpenAI, Groq, speaches, vLLM …)."""

    name = "openai"
    capabilities = Capability.ALL

    def __init__(
        self,
        alias: str = "default",
        *,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        organization: str | None = None,
        project: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        max_retry_wait: float = 8.0,
        default_headers: Mapping[str, str] | None = None,
        max_connections: int = 100,
        max_keepalive_connections: int | None = 20,
        api_version: str | None = None,
        azure_deployment: str | None = None,
    ) -> None:
        super().__init__(alias)
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.azure_deployment = azure_deployment
        headers: dict[str, str] = {}
        if organization:
            headers["OpenAI-Organization"] = organization
        if project:
            headers["OpenAI-Project"] = project
        headers.update(default_headers or {})
        auth: httpx.Auth | None = None
        if api_key:
            auth = ApiKeyAuth(api_key, "api-key", None) if self.azure else ApiKeyAuth(api_key)
        config = HttpConfig(
            base_url=self.base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            headers=headers,
            params={"api-version": api_version} if api_version else {},
        )
        from .. import __version__

        self._http = HttpTransport(
            config,
            provider=alias,
            auth=auth,
            secrets=[api_key],
            user_agent=f"django-audio/{__version__}",
        )

    @property
    def azure(self) -> bool:
        """Whether this talks to Azure OpenAI (``api_version`` is set)."""
        return self.api_version is not None

    def close(self) -> None:
        """Release the sync connection pool."""
        self._http.close()

    async def aclose(self) -> None:
        """Release the running loop's async connection pool."""
        await self._http.aclose()

    # ----------------------------------------------------------------- configuration checks

    @classmethod
    def check_options(cls, alias: str, options: Mapping[str, Any]) -> list[checks.CheckMessage]:
        """E007 for an API key over plain HTTP to a non-local host; E008 for bad numbers."""
        where = f"DJANGO_AUDIO['PROVIDERS'][{alias!r}]['OPTIONS']"
        errors: list[checks.CheckMessage] = []

        def number(key: str, *, integer: bool, allow_zero: bool, nullable: bool = False) -> None:
            if key not in options or (nullable and options[key] is None):
                return
            value = options[key]
            kinds: tuple[type, ...] = (int,) if integer else (int, float)
            ok = isinstance(value, kinds) and not isinstance(value, bool)
            if ok and (value < 0 or (value == 0 and not allow_zero)):
                ok = False
            if not ok:
                what = "an integer" if integer else "a number"
                bound = "zero or more" if allow_zero else "greater than zero"
                errors.append(
                    checks.Error(
                        f"{where}[{key!r}] must be {what} {bound}; got {value!r}.",
                        hint=f"Remove {key!r} to use the default, or give {what} {bound}.",
                        id="django_audio.E008",
                    )
                )

        number("timeout", integer=False, allow_zero=False)
        number("connect_timeout", integer=False, allow_zero=False)
        number("max_retries", integer=True, allow_zero=True)
        number("max_retry_wait", integer=False, allow_zero=True)
        number("max_connections", integer=True, allow_zero=False)
        number("max_keepalive_connections", integer=True, allow_zero=True, nullable=True)

        base_url = options.get("base_url", DEFAULT_BASE_URL)
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            errors.append(
                checks.Error(
                    f"{where}['base_url'] must be an http:// or https:// URL; got {base_url!r}.",
                    hint=f"For OpenAI use {DEFAULT_BASE_URL!r}; for a local server e.g. "
                    "'http://127.0.0.1:8000/v1'.",
                    id="django_audio.E008",
                )
            )
        elif options.get("api_key") and parts.scheme == "http" and not _is_local(parts.hostname):
            errors.append(
                checks.Error(
                    f"{where} would send its api_key over plain HTTP to {parts.hostname!r}.",
                    hint="Use an https:// base_url, or drop api_key if that server needs none. "
                    "Plain HTTP is only accepted for localhost, 127.0.0.0/8 and ::1.",
                    id="django_audio.E007",
                )
            )
        return errors

    # ----------------------------------------------------------------- request building

    def _path(self, path: str, model: str | None = None) -> str:
        """The path below ``base_url``, with Azure's deployment segment when needed."""
        if not self.azure or "/deployments/" in self.base_url:
            return path
        deployment = self.azure_deployment or model
        if not deployment:
            return path
        return f"deployments/{_segment(deployment)}/{path}"

    def _json(self, build: Callable[[dict[str, Any]], T]) -> Callable[[httpx.Response], T]:
        return lambda response: self._http.parse(response, build)

    def _text(self, response: httpx.Response, response_format: str) -> PlainText:
        """A text/srt/vtt answer; tolerates servers that wrap it as ``{"text": …}``."""
        request_id = request_id_of(response)
        if _is_json(response.headers.get("content-type", "")):
            text = self._http.parse(response, lambda d: d["text"])
            if not isinstance(text, str):
                raise self._http.malformed(response, "'text' is not a string", response.text)
            return PlainText(text, response_format, request_id)
        return PlainText(response.text, response_format, request_id)

    def _transcription_call(self, request: TranscriptionRequest) -> HttpCall:
        chunking = request.chunking_strategy
        data: dict[str, Any] = {
            "model": request.model,
            "language": request.language,
            "prompt": request.prompt,
            "response_format": request.response_format,
            "temperature": request.temperature,
            "include[]": list(request.include),
            "timestamp_granularities[]": list(request.timestamp_granularities),
            "chunking_strategy": _form_value(chunking) if chunking is not None else None,
            "known_speaker_names[]": list(request.known_speaker_names),
            "known_speaker_references[]": list(request.known_speaker_references),
            "stream": "true" if request.stream else None,
        }
        data.update({k: _form_value(v) for k, v in request.extra.items()})
        return HttpCall(
            "POST",
            self._path("audio/transcriptions", request.model),
            data=data,
            files={"file": request.file},
            headers={"Accept": EVENT_STREAM} if request.stream else None,
        )

    def _transcription(self, request: TranscriptionRequest) -> _Op[TranscriptionResult]:
        def read(response: httpx.Response) -> TranscriptionResult:
            fmt = request.response_format
            if fmt in TEXT_FORMATS:
                return self._text(response, fmt)
            rid = request_id_of(response)
            return self._http.parse(response, lambda d: parse_transcription(fmt, d, rid))

        return _Op(self._transcription_call(request), read)

    def _transcription_stream(self, request: TranscriptionRequest) -> _StreamOp[TranscriptionEvent]:
        return _StreamOp(self._transcription_call(request), _TranscriptionDecoder())

    def _translation(self, request: TranslationRequest) -> _Op[TranslationResult]:
        data = {
            "model": request.model,
            "prompt": request.prompt,
            "response_format": request.response_format,
            "temperature": request.temperature,
        }
        call = HttpCall(
            "POST",
            self._path("audio/translations", request.model),
            data=data,
            files={"file": request.file},
        )

        def read(response: httpx.Response) -> TranslationResult:
            fmt = request.response_format
            if fmt in TEXT_FORMATS:
                return self._text(response, fmt)
            rid = request_id_of(response)
            return self._http.parse(response, lambda d: parse_translation(fmt, d, rid))

        return _Op(call, read)

    def _speech_call(self, request: SpeechRequest) -> HttpCall:
        voice = request.voice if isinstance(request.voice, str) else dict(request.voice)
        body: dict[str, Any] = {
            "model": request.model,
            "input": request.input,
            "voice": voice,
            "response_format": request.response_format,
            "speed": request.speed,
        }
        if request.instructions is not None:
            body["instructions"] = request.instructions
        sse = request.stream_format == "sse"
        if sse:
            # Only sent when asked: older compatible servers reject the unknown field.
            body["stream_format"] = "sse"
        accept = EVENT_STREAM if sse else f"{request.content_type}, */*"
        return HttpCall(
            "POST",
            self._path("audio/speech", request.model),
            json=body,
            headers={"Accept": accept},
        )

    def _speech_audio(self, request: SpeechRequest) -> _StreamOp[bytes]:
        return _StreamOp(self._speech_call(request), _SpeechAudioDecoder(request.content_type))

    def _speech_sse(self, request: SpeechRequest) -> _StreamOp[SpeechEvent]:
        return _StreamOp(self._speech_call(request), _SpeechEventsDecoder())

    def _voice_create(self, name: str, audio_sample: AudioFile, consent: str) -> _Op[VoiceObject]:
        call = HttpCall(
            "POST",
            "audio/voices",
            data={"name": name, "consent": consent},
            files={"audio_sample": audio_sample},
        )
        return _Op(call, self._json(VoiceObject.from_dict))

    def _voice_delete(self, voice_id: str) -> _Op[VoiceDeleted]:
        call = HttpCall("DELETE", f"audio/voices/{_segment(voice_id)}")
        return _Op(call, self._json(VoiceDeleted.from_dict))

    def _consent_create(
        self, name: str, recording: AudioFile, language: str
    ) -> _Op[VoiceConsentObject]:
        call = HttpCall(
            "POST",
            "audio/voice_consents",
            data={"name": name, "language": language},
            files={"recording": recording},
        )
        return _Op(call, self._json(VoiceConsentObject.from_dict))

    def _consent_list(self, after: str | None, limit: int) -> _Op[VoiceConsentPage]:
        call = HttpCall("GET", "audio/voice_consents", params={"after": after, "limit": limit})
        return _Op(call, self._json(VoiceConsentPage.from_dict))

    def _consent_retrieve(self, consent_id: str) -> _Op[VoiceConsentObject]:
        call = HttpCall("GET", f"audio/voice_consents/{_segment(consent_id)}")
        return _Op(call, self._json(VoiceConsentObject.from_dict))

    def _consent_update(self, consent_id: str, name: str) -> _Op[VoiceConsentObject]:
        call = HttpCall("POST", f"audio/voice_consents/{_segment(consent_id)}", json={"name": name})
        return _Op(call, self._json(VoiceConsentObject.from_dict))

    def _consent_delete(self, consent_id: str) -> _Op[VoiceConsentDeleted]:
        call = HttpCall("DELETE", f"audio/voice_consents/{_segment(consent_id)}")
        return _Op(call, self._json(VoiceConsentDeleted.from_dict))

    def _chat_call(self, body: Mapping[str, Any]) -> HttpCall:
        model = body.get("model")
        stream = bool(body.get("stream"))
        return HttpCall(
            "POST",
            self._path("chat/completions", model if isinstance(model, str) else None),
            json=dict(body),
            headers={"Accept": EVENT_STREAM} if stream else None,
        )

    def _chat(self, body: Mapping[str, Any]) -> _Op[ChatCompletion]:
        def read(response: httpx.Response) -> ChatCompletion:
            data = self._http.json(response)
            if not isinstance(data.get("choices"), list):
                raise self._http.malformed(response, "no 'choices' list", response.text)
            return ChatCompletion(data, request_id_of(response))

        return _Op(self._chat_call(body), read)

    def _chat_stream(self, body: Mapping[str, Any]) -> _StreamOp[ChatCompletionChunk]:
        return _StreamOp(self._chat_call(body), _ChatDecoder())

    # ----------------------------------------------------------------- running

    def _run(self, op: _Op[T]) -> T:
        return op.read(self._http.send(op.call))

    async def _arun(self, op: _Op[T]) -> T:
        return op.read(await self._http.asend(op.call))

    def _open(self, op: _StreamOp[T]) -> Stream[T]:
        return self._http.stream(self._http.send(op.call, stream=True), op.decoder)

    async def _aopen(self, op: _StreamOp[T]) -> AsyncStream[T]:
        return self._http.astream(await self._http.asend(op.call, stream=True), op.decoder)

    # ----------------------------------------------------------------- sync hooks

    def _transcribe(self, request: TranscriptionRequest) -> TranscriptionResult:
        return self._run(self._transcription(request))

    def _stream_transcription(self, request: TranscriptionRequest) -> Stream[TranscriptionEvent]:
        return self._open(self._transcription_stream(request))

    def _translate(self, request: TranslationRequest) -> TranslationResult:
        return self._run(self._translation(request))

    def _speech(self, request: SpeechRequest) -> Stream[bytes]:
        return self._open(self._speech_audio(request))

    def _speech_events(self, request: SpeechRequest) -> Stream[SpeechEvent]:
        return self._open(self._speech_sse(request))

    def _create_voice(self, name: str, audio_sample: AudioFile, consent: str) -> VoiceObject:
        return self._run(self._voice_create(name, audio_sample, consent))

    def _delete_voice(self, voice_id: str) -> VoiceDeleted:
        return self._run(self._voice_delete(voice_id))

    def _create_voice_consent(
        self, name: str, recording: AudioFile, language: str
    ) -> VoiceConsentObject:
        return self._run(self._consent_create(name, recording, language))

    def _list_voice_consents(self, after: str | None, limit: int) -> VoiceConsentPage:
        return self._run(self._consent_list(after, limit))

    def _retrieve_voice_consent(self, consent_id: str) -> VoiceConsentObject:
        return self._run(self._consent_retrieve(consent_id))

    def _update_voice_consent(self, consent_id: str, name: str) -> VoiceConsentObject:
        return self._run(self._consent_update(consent_id, name))

    def _delete_voice_consent(self, consent_id: str) -> VoiceConsentDeleted:
        return self._run(self._consent_delete(consent_id))

    def _chat_completion(self, body: Mapping[str, Any]) -> ChatCompletion:
        return self._run(self._chat(body))

    def _stream_chat_completion(self, body: Mapping[str, Any]) -> Stream[ChatCompletionChunk]:
        return self._open(self._chat_stream(body))

    # ----------------------------------------------------------------- async hooks (native)

    async def _atranscribe(self, request: TranscriptionRequest) -> TranscriptionResult:
        return await self._arun(self._transcription(request))

    async def _astream_transcription(
        self, request: TranscriptionRequest
    ) -> AsyncStream[TranscriptionEvent]:
        return await self._aopen(self._transcription_stream(request))

    async def _atranslate(self, request: TranslationRequest) -> TranslationResult:
        return await self._arun(self._translation(request))

    async def _aspeech(self, request: SpeechRequest) -> AsyncStream[bytes]:
        return await self._aopen(self._speech_audio(request))

    async def _aspeech_events(self, request: SpeechRequest) -> AsyncStream[SpeechEvent]:
        return await self._aopen(self._speech_sse(request))

    async def _acreate_voice(self, name: str, audio_sample: AudioFile, consent: str) -> VoiceObject:
        return await self._arun(self._voice_create(name, audio_sample, consent))

    async def _adelete_voice(self, voice_id: str) -> VoiceDeleted:
        return await self._arun(self._voice_delete(voice_id))

    async def _acreate_voice_consent(
        self, name: str, recording: AudioFile, language: str
    ) -> VoiceConsentObject:
        return await self._arun(self._consent_create(name, recording, language))

    async def _alist_voice_consents(self, after: str | None, limit: int) -> VoiceConsentPage:
        return await self._arun(self._consent_list(after, limit))

    async def _aretrieve_voice_consent(self, consent_id: str) -> VoiceConsentObject:
        return await self._arun(self._consent_retrieve(consent_id))

    async def _aupdate_voice_consent(self, consent_id: str, name: str) -> VoiceConsentObject:
        return await self._arun(self._consent_update(consent_id, name))

    async def _adelete_voice_consent(self, consent_id: str) -> VoiceConsentDeleted:
        return await self._arun(self._consent_delete(consent_id))

    async def _achat_completion(self, body: Mapping[str, Any]) -> ChatCompletion:
        return await self._arun(self._chat(body))

    async def _astream_chat_completion(
        self, body: Mapping[str, Any]
    ) -> AsyncStream[ChatCompletionChunk]:
        return await self._aopen(self._chat_stream(body))


def _is_local(host: str) -> bool:
    """``localhost`` (and ``*.localhost``), 127.0.0.0/8 or ``::1``."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
