"""The provider contract.

A provider declares a ``name`` and its ``capabilities`` and implements a few hooks
(``_transcribe``, ``_speech`` …). The public methods here run the fixed sequence once for
every provider — capability check, then request validation against the site's limits, then
the hook — so a concrete provider only talks to its engine.

Every operation has a sync and an ``a``-prefixed async form. A provider may implement only
the sync hooks: the async forms then run them in a worker thread so the event loop never
blocks. Providers with a native async client (``openai``) implement both.

Options come from ``DJANGO_AUDIO["PROVIDERS"][alias]["OPTIONS"]`` and are passed to
``__init__`` as keyword arguments; the keyword-only parameters of ``__init__`` are the
options a provider accepts, which is what the system checks compare against.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, TypeVar

from django.core.checks import CheckMessage

from ..conf import audio_settings
from ..contract import (
    AsyncStream,
    AudioFile,
    Capability,
    ChatCompletion,
    ChatCompletionChunk,
    SpeechEvent,
    SpeechRequest,
    Stream,
    TranscriptionEvent,
    TranscriptionRequest,
    TranscriptionResult,
    TranslationRequest,
    TranslationResult,
    VoiceConsentDeleted,
    VoiceConsentObject,
    VoiceConsentPage,
    VoiceDeleted,
    VoiceObject,
    validate_chat_audio,
    validate_language_tag,
)
from ..exceptions import InvalidRequest, UnsupportedFeature

T = TypeVar("T")

__all__ = ["BaseProvider", "Capability"]

_END = object()


class BaseProvider:
    """Base class of every provider: a name, declared capabilities, and hooks."""

    #: Short name used in messages and docs (``openai``, ``local``, ``test``).
    name: ClassVar[str] = "base"
    #: The :class:`~django_audio.contract.Capability` values this provider implements.
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias

    def __repr__(self) -> str:
        return f"<{type(self).__name__} alias={self.alias!r}>"

    # ----------------------------------------------------------------- configuration

    @classmethod
    def option_names(cls) -> frozenset[str] | None:
        """Options ``__init__`` accepts (``None`` when it takes ``**kwargs``)."""
        params = inspect.signature(cls.__init__).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return None
        return frozenset(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)

    @classmethod
    def check_options(cls, alias: str, options: Mapping[str, Any]) -> list[CheckMessage]:
        """Provider-specific system checks on ``OPTIONS`` (none by default)."""
        return []

    def supports(self, capability: str) -> bool:
        """Whether this provider declared ``capability``."""
        return capability in self.capabilities

    def require(self, capability: str, what: str | None = None) -> None:
        """Raise :class:`UnsupportedFeature` unless ``capability`` is declared."""
        if capability not in self.capabilities:
            raise UnsupportedFeature(
                f"Provider '{self.alias}' ({self.name}) does not support {what or capability}.",
                provider=self.alias,
            )

    def close(self) -> None:
        """Release pooled connections (sync side)."""

    async def aclose(self) -> None:
        """Release pooled connections (async side)."""

    # ----------------------------------------------------------------- validation

    def _check_transcription(self, request: TranscriptionRequest) -> None:
        self.require(Capability.TRANSCRIBE, "transcriptions")
        if request.stream:
            self.require(Capability.TRANSCRIBE_STREAM, "streaming transcription")
        if request.response_format == "diarized_json" or request.known_speaker_names:
            self.require(Capability.DIARIZE, "speaker diarization")
        request.validate(audio_settings.MAX_UPLOAD_SIZE)

    def _check_translation(self, request: TranslationRequest) -> None:
        self.require(Capability.TRANSLATE, "translations")
        request.validate(audio_settings.MAX_UPLOAD_SIZE)

    def _check_speech(self, request: SpeechRequest, sse: bool) -> None:
        self.require(Capability.SPEECH, "speech")
        if sse:
            self.require(Capability.SPEECH_SSE, "speech streamed as SSE")
        request.validate(audio_settings.MAX_SPEECH_INPUT)

    def _check_voice(self, name: str, audio_sample: AudioFile, consent: str) -> None:
        self.require(Capability.VOICES, "custom voices")
        _require_text(name, "name")
        _require_text(consent, "consent")
        audio_sample.validate("audio_sample", audio_settings.MAX_VOICE_SAMPLE_SIZE)

    def _check_consent(self, name: str, recording: AudioFile, language: str) -> None:
        self.require(Capability.VOICE_CONSENTS, "voice consents")
        _require_text(name, "name")
        validate_language_tag(language)
        recording.validate("recording", audio_settings.MAX_VOICE_SAMPLE_SIZE)

    def _check_chat(self, body: Mapping[str, Any]) -> None:
        self.require(Capability.CHAT_AUDIO, "chat completions with audio")
        validate_chat_audio(body)

    # ----------------------------------------------------------------- sync API

    def transcribe(self, request: TranscriptionRequest) -> TranscriptionResult:
        """Transcribe audio; plain-text formats come back as :class:`PlainText`."""
        request.stream = False
        self._check_transcription(request)
        return self._transcribe(request)

    def stream_transcription(self, request: TranscriptionRequest) -> Stream[TranscriptionEvent]:
        """Transcribe, yielding ``transcript.text.*`` events as they arrive."""
        request.stream = True
        self._check_transcription(request)
        return self._stream_transcription(request)

    def translate(self, request: TranslationRequest) -> TranslationResult:
        """Translate audio into English text."""
        self._check_translation(request)
        return self._translate(request)

    def speech(self, request: SpeechRequest) -> Stream[bytes]:
        """Synthesize speech, yielding raw audio chunks as they are produced."""
        request.stream_format = "audio"
        self._check_speech(request, sse=False)
        return self._speech(request)

    def speech_events(self, request: SpeechRequest) -> Stream[SpeechEvent]:
        """Synthesize speech as ``speech.audio.delta`` / ``.done`` events."""
        request.stream_format = "sse"
        self._check_speech(request, sse=True)
        return self._speech_events(request)

    def create_voice(self, name: str, audio_sample: AudioFile, consent: str) -> VoiceObject:
        """Create a custom voice from a sample, under an upstream consent id."""
        self._check_voice(name, audio_sample, consent)
        return self._create_voice(name, audio_sample, consent)

    def delete_voice(self, voice_id: str) -> VoiceDeleted:
        """Delete a custom voice."""
        self.require(Capability.VOICES, "custom voices")
        _require_text(voice_id, "voice_id")
        return self._delete_voice(voice_id)

    def create_voice_consent(
        self, name: str, recording: AudioFile, language: str
    ) -> VoiceConsentObject:
        """Register a consent recording."""
        self._check_consent(name, recording, language)
        return self._create_voice_consent(name, recording, language)

    def list_voice_consents(self, after: str | None = None, limit: int = 20) -> VoiceConsentPage:
        """One page of consents, oldest first; pass ``last_id`` as ``after`` for the next."""
        self.require(Capability.VOICE_CONSENTS, "voice consents")
        _check_limit(limit)
        return self._list_voice_consents(after, limit)

    def retrieve_voice_consent(self, consent_id: str) -> VoiceConsentObject:
        """One consent by id."""
        self.require(Capability.VOICE_CONSENTS, "voice consents")
        _require_text(consent_id, "consent_id")
        return self._retrieve_voice_consent(consent_id)

    def update_voice_consent(self, consent_id: str, name: str) -> VoiceConsentObject:
        """Rename a consent (only the metadata changes)."""
        self.require(Capability.VOICE_CONSENTS, "voice consents")
        _require_text(consent_id, "consent_id")
        _require_text(name, "name")
        return self._update_voice_consent(consent_id, name)

    def delete_voice_consent(self, consent_id: str) -> VoiceConsentDeleted:
        """Delete a consent."""
        self.require(Capability.VOICE_CONSENTS, "voice consents")
        _require_text(consent_id, "consent_id")
        return self._delete_voice_consent(consent_id)

    def chat_completion(self, body: Mapping[str, Any]) -> ChatCompletion:
        """A chat completion with audio in and/or out."""
        self._check_chat(body)
        return self._chat_completion({**body, "stream": False})

    def stream_chat_completion(self, body: Mapping[str, Any]) -> Stream[ChatCompletionChunk]:
        """A streamed chat completion; audio arrives as ``delta.audio`` pieces."""
        self._check_chat(body)
        return self._stream_chat_completion({**body, "stream": True})

    # ----------------------------------------------------------------- async API

    async def atranscribe(self, request: TranscriptionRequest) -> TranscriptionResult:
        """Async :meth:`transcribe`."""
        request.stream = False
        self._check_transcription(request)
        return await self._atranscribe(request)

    async def astream_transcription(
        self, request: TranscriptionRequest
    ) -> AsyncStream[TranscriptionEvent]:
        """Async :meth:`stream_transcription`."""
        request.stream = True
        self._check_transcription(request)
        return await self._astream_transcription(request)

    async def atranslate(self, request: TranslationRequest) -> TranslationResult:
        """Async :meth:`translate`."""
        self._check_translation(request)
        return await self._atranslate(request)

    async def aspeech(self, request: SpeechRequest) -> AsyncStream[bytes]:
        """Async :meth:`speech`."""
        request.stream_format = "audio"
        self._check_speech(request, sse=False)
        return await self._aspeech(request)

    async def aspeech_events(self, request: SpeechRequest) -> AsyncStream[SpeechEvent]:
        """Async :meth:`speech_events`."""
        request.stream_format = "sse"
        self._check_speech(request, sse=True)
        return await self._aspeech_events(request)

    async def acreate_voice(self, name: str, audio_sample: AudioFile, consent: str) -> VoiceObject:
        """Async :meth:`create_voice`."""
        self._check_voice(name, audio_sample, consent)
        return await self._acreate_voice(name, audio_sample, consent)

    async def adelete_voice(self, voice_id: str) -> VoiceDeleted:
        """Async :meth:`delete_voice`."""
        self.require(Capability.VOICES, "custom voices")
        _require_text(voice_id, "voice_id")
        return await self._adelete_voice(voice_id)

    async def acreate_voice_consent(
        self, name: str, recording: AudioFile, language: str
    ) -> VoiceConsentObject:
        """Async :meth:`create_voice_consent`."""
        self._check_consent(name, recording, language)
        return await self._acreate_voice_consent(name, recording, language)

    async def alist_voice_consents(
        self, after: str | None = None, limit: int = 20
    ) -> VoiceConsentPage:
        """Async :meth:`list_voice_consents`."""
        self.require(Capability.VOICE_CONSENTS, "voice consents")
        _check_limit(limit)
        return await self._alist_voice_consents(after, limit)

    async def aretrieve_voice_consent(self, consent_id: str) -> VoiceConsentObject:
        """Async :meth:`retrieve_voice_consent`."""
        self.require(Capability.VOICE_CONSENTS, "voice consents")
        _require_text(consent_id, "consent_id")
        return await self._aretrieve_voice_consent(consent_id)

    async def aupdate_voice_consent(self, consent_id: str, name: str) -> VoiceConsentObject:
        """Async :meth:`update_voice_consent`."""
        self.require(Capability.VOICE_CONSENTS, "voice consents")
        _require_text(consent_id, "consent_id")
        _require_text(name, "name")
        return await self._aupdate_voice_consent(consent_id, name)

    async def adelete_voice_consent(self, consent_id: str) -> VoiceConsentDeleted:
        """Async :meth:`delete_voice_consent`."""
        self.require(Capability.VOICE_CONSENTS, "voice consents")
        _require_text(consent_id, "consent_id")
        return await self._adelete_voice_consent(consent_id)

    async def achat_completion(self, body: Mapping[str, Any]) -> ChatCompletion:
        """Async :meth:`chat_completion`."""
        self._check_chat(body)
        return await self._achat_completion({**body, "stream": False})

    async def astream_chat_completion(
        self, body: Mapping[str, Any]
    ) -> AsyncStream[ChatCompletionChunk]:
        """Async :meth:`stream_chat_completion`."""
        self._check_chat(body)
        return await self._astream_chat_completion({**body, "stream": True})

    # ----------------------------------------------------------------- sync hooks
    # Only called for declared capabilities, after validation.

    def _unsupported(self, what: str) -> UnsupportedFeature:
        return UnsupportedFeature(
            f"Provider '{self.alias}' ({self.name}) does not implement {what}.",
            provider=self.alias,
        )

    def _transcribe(self, request: TranscriptionRequest) -> TranscriptionResult:
        raise self._unsupported("transcriptions")

    def _stream_transcription(self, request: TranscriptionRequest) -> Stream[TranscriptionEvent]:
        raise self._unsupported("streaming transcription")

    def _translate(self, request: TranslationRequest) -> TranslationResult:
        raise self._unsupported("translations")

    def _speech(self, request: SpeechRequest) -> Stream[bytes]:
        raise self._unsupported("speech")

    def _speech_events(self, request: SpeechRequest) -> Stream[SpeechEvent]:
        raise self._unsupported("speech events")

    def _create_voice(self, name: str, audio_sample: AudioFile, consent: str) -> VoiceObject:
        raise self._unsupported("custom voices")

    def _delete_voice(self, voice_id: str) -> VoiceDeleted:
        raise self._unsupported("custom voices")

    def _create_voice_consent(
        self, name: str, recording: AudioFile, language: str
    ) -> VoiceConsentObject:
        raise self._unsupported("voice consents")

    def _list_voice_consents(self, after: str | None, limit: int) -> VoiceConsentPage:
        raise self._unsupported("voice consents")

    def _retrieve_voice_consent(self, consent_id: str) -> VoiceConsentObject:
        raise self._unsupported("voice consents")

    def _update_voice_consent(self, consent_id: str, name: str) -> VoiceConsentObject:
        raise self._unsupported("voice consents")

    def _delete_voice_consent(self, consent_id: str) -> VoiceConsentDeleted:
        raise self._unsupported("voice consents")

    def _chat_completion(self, body: Mapping[str, Any]) -> ChatCompletion:
        raise self._unsupported("chat completions")

    def _stream_chat_completion(self, body: Mapping[str, Any]) -> Stream[ChatCompletionChunk]:
        raise self._unsupported("chat completions")

    # ----------------------------------------------------------------- async hooks
    # Default: run the sync hook in a worker thread.

    async def _atranscribe(self, request: TranscriptionRequest) -> TranscriptionResult:
        return await asyncio.to_thread(self._transcribe, request)

    async def _astream_transcription(
        self, request: TranscriptionRequest
    ) -> AsyncStream[TranscriptionEvent]:
        return await in_thread(self._stream_transcription, request)

    async def _atranslate(self, request: TranslationRequest) -> TranslationResult:
        return await asyncio.to_thread(self._translate, request)

    async def _aspeech(self, request: SpeechRequest) -> AsyncStream[bytes]:
        return await in_thread(self._speech, request)

    async def _aspeech_events(self, request: SpeechRequest) -> AsyncStream[SpeechEvent]:
        return await in_thread(self._speech_events, request)

    async def _acreate_voice(self, name: str, audio_sample: AudioFile, consent: str) -> VoiceObject:
        return await asyncio.to_thread(self._create_voice, name, audio_sample, consent)

    async def _adelete_voice(self, voice_id: str) -> VoiceDeleted:
        return await asyncio.to_thread(self._delete_voice, voice_id)

    async def _acreate_voice_consent(
        self, name: str, recording: AudioFile, language: str
    ) -> VoiceConsentObject:
        return await asyncio.to_thread(self._create_voice_consent, name, recording, language)

    async def _alist_voice_consents(self, after: str | None, limit: int) -> VoiceConsentPage:
        return await asyncio.to_thread(self._list_voice_consents, after, limit)

    async def _aretrieve_voice_consent(self, consent_id: str) -> VoiceConsentObject:
        return await asyncio.to_thread(self._retrieve_voice_consent, consent_id)

    async def _aupdate_voice_consent(self, consent_id: str, name: str) -> VoiceConsentObject:
        return await asyncio.to_thread(self._update_voice_consent, consent_id, name)

    async def _adelete_voice_consent(self, consent_id: str) -> VoiceConsentDeleted:
        return await asyncio.to_thread(self._delete_voice_consent, consent_id)

    async def _achat_completion(self, body: Mapping[str, Any]) -> ChatCompletion:
        return await asyncio.to_thread(self._chat_completion, body)

    async def _astream_chat_completion(
        self, body: Mapping[str, Any]
    ) -> AsyncStream[ChatCompletionChunk]:
        return await in_thread(self._stream_chat_completion, body)


async def in_thread(open_stream: Any, *args: Any) -> AsyncStream[Any]:
    """Open a sync :class:`Stream` in a worker thread and read it there item by item.

    Each item is fetched with one thread hop, so the event loop never blocks on a
    CPU-bound engine; ``aclose()`` closes the sync stream (cancelling the work).
    """
    stream: Stream[Any] = await asyncio.to_thread(open_stream, *args)

    async def items() -> Any:
        it: Iterator[Any] = iter(stream)
        while True:
            item = await asyncio.to_thread(next, it, _END)
            if item is _END:
                return
            yield item

    return AsyncStream(
        items(),
        aclose=lambda: asyncio.to_thread(stream.close),
        content_type=stream.content_type,
        request_id=stream.request_id,
    )


def _require_text(value: object, param: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"Missing required parameter: '{param}'.", param=param)


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise InvalidRequest("'limit' must be an integer from 1 to 100.", param="limit")
