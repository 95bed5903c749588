"""The test provider: deterministic answers for every operation, in-process.

Use it in your own tests (it is the default provider of django-audio's own suite)::

    DJANGO_AUDIO = {
        "PROVIDERS": {"default": {"BACKEND": "django_audio.providers.test.TestProvider"}},
    }

or swap one in for a block::

    from django_audio.providers import providers
    from django_audio.testing import TestProvider

    with providers.override("default", TestProvider(transcript_text="hello")) as provider:
        ...  # code under test
        assert provider.calls[0].operation == "transcribe"

It declares every capability, records each call in :attr:`TestProvider.calls`, can be told to
fail (:meth:`TestProvider.fail_next`) and to be slow (``latency``, ``stream_delay``). Results
follow OpenAI's wire shapes exactly (they are built by :mod:`django_audio.testing.payloads`,
the same code the fake upstream uses). Speech is real audio: a tone whose length grows with
the input text — WAV/PCM always, mp3/opus/aac/flac through PyAV when installed (else the
format's magic bytes followed by PCM; see :mod:`django_audio.testing.audio`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from ..contract import (
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
    TokenUsage,
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
    parse_transcription,
    parse_translation,
    transcription_event_from_dict,
)
from ..exceptions import (
    ProviderError,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamServerError,
)
from ..testing import payloads
from ..testing.audio import audio_duration, encode_speech, speech_seconds
from .base import BaseProvider

__all__ = ["OPERATIONS", "Call", "TestProvider"]

T = TypeVar("T")

#: Operation names used in :attr:`TestProvider.calls` and :meth:`TestProvider.fail_next`
#: (async methods record the same names as their sync twins).
OPERATIONS = (
    "transcribe",
    "stream_transcription",
    "translate",
    "speech",
    "speech_events",
    "create_voice",
    "delete_voice",
    "create_voice_consent",
    "list_voice_consents",
    "retrieve_voice_consent",
    "update_voice_consent",
    "delete_voice_consent",
    "chat_completion",
    "stream_chat_completion",
)

_STATUS_ERRORS: dict[int, type[ProviderError]] = {
    400: UpstreamBadRequest,
    401: UpstreamAuthError,
    403: UpstreamPermissionDenied,
    404: UpstreamNotFound,
    422: UpstreamBadRequest,
    429: UpstreamRateLimited,
}


class Call(NamedTuple):
    """One recorded call: the operation name and its arguments by name."""

    operation: str
    args: dict[str, Any]


@dataclass
class _Failure:
    error: BaseException | type[BaseException] | int
    times: int
    operation: str | None
    after_events: int | None
    message: str | None
    retry_after: float | None


class TestProvider(BaseProvider):
    """Deterministic in-memory provider for tests: records calls, fails and slows on request.

    Options (keyword-only, also accepted in ``OPTIONS``):

    - ``transcript_text`` / ``translation_text`` / ``chat_reply``: the text it "hears",
      "translates" to and replies with. Timestamps spread it evenly over the input audio's
      duration (exact for WAV input; ``bytes / 32000`` seconds otherwise).
    - ``latency``: seconds to sleep before answering each call.
    - ``stream_delay``: seconds to sleep between streamed items.
    - ``chunk_size``: bytes of audio per streamed chunk or ``speech.audio.delta``.
    """

    __test__ = False  # not a pytest test class, despite its name

    name = "test"
    capabilities = Capability.ALL

    def __init__(
        self,
        alias: str = "default",
        *,
        transcript_text: str = payloads.DEFAULT_TRANSCRIPT,
        translation_text: str = payloads.DEFAULT_TRANSLATION,
        chat_reply: str = payloads.DEFAULT_CHAT_REPLY,
        latency: float = 0.0,
        stream_delay: float = 0.0,
        chunk_size: int = 4096,
    ) -> None:
        super().__init__(alias)
        self.transcript_text = transcript_text
        self.translation_text = translation_text
        self.chat_reply = chat_reply
        self.latency = latency
        self.stream_delay = stream_delay
        self.chunk_size = max(1, int(chunk_size))
        self._lock = threading.RLock()
        #: Every call so far, oldest first.
        self.calls: list[Call] = []
        #: Custom voices created so far, by id.
        self.voices: dict[str, VoiceObject] = {}
        #: Voice consents created so far, by id (insertion order is the list order).
        self.consents: dict[str, VoiceConsentObject] = {}
        self._failures: list[_Failure] = []
        self._seq = 0

    # ----------------------------------------------------------------- test API

    def reset(self) -> None:
        """Forget calls, pending failures, voices and consents."""
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self.voices.clear()
            self.consents.clear()
            self._seq = 0

    def calls_for(self, operation: str) -> list[dict[str, Any]]:
        """The arguments of every recorded call of ``operation``, oldest first."""
        with self._lock:
            return [c.args for c in self.calls if c.operation == operation]

    @property
    def last_call(self) -> Call | None:
        """The most recent call, if any."""
        with self._lock:
            return self.calls[-1] if self.calls else None

    def fail_next(
        self,
        exc_or_status: BaseException | type[BaseException] | int,
        times: int = 1,
        operation: str | None = None,
        *,
        after_events: int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Make the next ``times`` calls (of ``operation``, or any) raise.

        An ``int`` raises the :class:`~django_audio.exceptions.ProviderError` subclass an
        upstream answering that status would give (401 → ``UpstreamAuthError``, 429 →
        ``UpstreamRateLimited`` …) with an OpenAI error body; an exception (class or
        instance) is raised as given. With ``after_events``, a streaming call first yields
        that many items and then raises — a stream broken mid-way.
        """
        if operation is not None and operation not in OPERATIONS:
            raise ValueError(f"Unknown operation {operation!r}; expected one of {OPERATIONS}.")
        with self._lock:
            self._failures.append(
                _Failure(exc_or_status, times, operation, after_events, message, retry_after)
            )

    # ----------------------------------------------------------------- plumbing

    def _next_id(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def _request_id(self) -> str:
        return f"req_test_{self._next_id():06d}"

    def _take_failure(self, operation: str, streaming: bool) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.times <= 0 or failure.operation not in (None, operation):
                    continue
                if failure.after_events is not None and not streaming:
                    continue
                failure.times -= 1
                return failure
        return None

    def _error(self, failure: _Failure, request_id: str) -> BaseException:
        error = failure.error
        if isinstance(error, BaseException):
            return error
        if isinstance(error, type):
            return error(failure.message or "Failure injected by TestProvider.fail_next().")
        status = int(error)
        body = payloads.error_body(status, failure.message)
        message = str(body["error"]["message"])
        common: dict[str, Any] = {
            "upstream_status": status,
            "body": body,
            "request_id": request_id,
            "code": body["error"]["code"],
            "provider": self.alias,
        }
        cls = _STATUS_ERRORS.get(status)
        if cls is UpstreamRateLimited:
            return UpstreamRateLimited(message, retry_after=failure.retry_after, **common)
        if cls is None:
            cls = UpstreamServerError if status >= 500 or status in (408, 409) else ProviderError
        return cls(message, **common)

    def _begin(self, operation: str, streaming: bool = False, **args: Any) -> _Failure | None:
        """Record the call, wait ``latency``, raise an injected failure.

        Returns a mid-stream failure for streaming calls to raise after some items.
        """
        with self._lock:
            self.calls.append(Call(operation, args))
        if self.latency > 0:
            time.sleep(self.latency)
        failure = self._take_failure(operation, streaming)
        if failure is None:
            return None
        if failure.after_events is None:
            raise self._error(failure, self._request_id())
        return failure

    def _stream(
        self,
        items: list[T],
        failure: _Failure | None,
        request_id: str,
        content_type: str,
    ) -> Stream[T]:
        def produce() -> Iterator[T]:
            for i, item in enumerate(items):
                if failure is not None and i == failure.after_events:
                    raise self._error(failure, request_id)
                if i and self.stream_delay > 0:
                    time.sleep(self.stream_delay)
                yield item
            if failure is not None:
                raise self._error(failure, request_id)

        return Stream(produce(), content_type=content_type, request_id=request_id)

    # ----------------------------------------------------------------- transcription

    def _transcribe(self, request: TranscriptionRequest) -> TranscriptionResult:
        self._begin("transcribe", request=request)
        request_id = self._request_id()
        body = payloads.transcription_body(
            self.transcript_text,
            audio_duration(request.file.read()),
            response_format=request.response_format,
            model=request.model,
            language=request.language,
            prompt=request.prompt,
            include=request.include,
            timestamp_granularities=request.timestamp_granularities,
            known_speaker_names=request.known_speaker_names,
        )
        if isinstance(body, str):
            return PlainText(body, request.response_format, request_id)
        return parse_transcription(request.response_format, body, request_id)

    def _stream_transcription(self, request: TranscriptionRequest) -> Stream[TranscriptionEvent]:
        failure = self._begin("stream_transcription", streaming=True, request=request)
        events = payloads.transcription_events(
            self.transcript_text,
            audio_duration(request.file.read()),
            include=request.include,
            diarize="diarize" in request.model or bool(request.known_speaker_names),
            known_speaker_names=request.known_speaker_names,
            prompt=request.prompt,
        )
        typed = [transcription_event_from_dict(e) for e in events]
        return self._stream(typed, failure, self._request_id(), "text/event-stream")

    def _translate(self, request: TranslationRequest) -> TranslationResult:
        self._begin("translate", request=request)
        request_id = self._request_id()
        body = payloads.translation_body(
            self.translation_text, audio_duration(request.file.read()), request.response_format
        )
        if isinstance(body, str):
            return PlainText(body, request.response_format, request_id)
        return parse_translation(request.response_format, body, request_id)

    # ----------------------------------------------------------------- speech

    def _audio_chunks(self, request: SpeechRequest) -> list[bytes]:
        audio = encode_speech(speech_seconds(request.input, request.speed), request.response_format)
        size = self.chunk_size
        return [audio[i : i + size] for i in range(0, len(audio), size)]

    def _speech(self, request: SpeechRequest) -> Stream[bytes]:
        failure = self._begin("speech", streaming=True, request=request)
        chunks = self._audio_chunks(request)
        return self._stream(chunks, failure, self._request_id(), request.content_type)

    def _speech_events(self, request: SpeechRequest) -> Stream[SpeechEvent]:
        failure = self._begin("speech_events", streaming=True, request=request)
        events: list[SpeechEvent] = [
            SpeechAudioDelta(chunk) for chunk in self._audio_chunks(request)
        ]
        events.append(SpeechAudioDone(TokenUsage.from_dict(payloads.speech_usage(request.input))))
        return self._stream(events, failure, self._request_id(), "text/event-stream")

    # ----------------------------------------------------------------- voices

    def _create_voice(self, name: str, audio_sample: AudioFile, consent: str) -> VoiceObject:
        self._begin("create_voice", name=name, audio_sample=audio_sample, consent=consent)
        voice = VoiceObject(
            id=payloads.make_id("voice", self._next_id(), name),
            name=name,
            created_at=int(time.time()),
        )
        with self._lock:
            self.voices[voice.id] = voice
        return voice

    def _delete_voice(self, voice_id: str) -> VoiceDeleted:
        self._begin("delete_voice", voice_id=voice_id)
        with self._lock:
            found = self.voices.pop(voice_id, None)
        if found is None:
            raise self._not_found("voice", voice_id)
        return VoiceDeleted(id=voice_id)

    def _not_found(self, what: str, oid: str) -> UpstreamNotFound:
        body = payloads.error_body(404, f"No such {what}: '{oid}'.")
        return UpstreamNotFound(
            str(body["error"]["message"]),
            upstream_status=404,
            body=body,
            request_id=self._request_id(),
            code="not_found",
            provider=self.alias,
        )

    def _create_voice_consent(
        self, name: str, recording: AudioFile, language: str
    ) -> VoiceConsentObject:
        self._begin("create_voice_consent", name=name, recording=recording, language=language)
        consent = VoiceConsentObject(
            id=payloads.make_id("cons", self._next_id(), name),
            name=name,
            language=language,
            created_at=int(time.time()),
        )
        with self._lock:
            self.consents[consent.id] = consent
        return consent

    def _list_voice_consents(self, after: str | None, limit: int) -> VoiceConsentPage:
        self._begin("list_voice_consents", after=after, limit=limit)
        with self._lock:
            items = list(self.consents.values())
        if after:
            ids = [c.id for c in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[:limit]
        return VoiceConsentPage(
            data=page,
            has_more=len(items) > limit,
            first_id=page[0].id if page else None,
            last_id=page[-1].id if page else None,
        )

    def _retrieve_voice_consent(self, consent_id: str) -> VoiceConsentObject:
        self._begin("retrieve_voice_consent", consent_id=consent_id)
        with self._lock:
            consent = self.consents.get(consent_id)
        if consent is None:
            raise self._not_found("consent", consent_id)
        return consent

    def _update_voice_consent(self, consent_id: str, name: str) -> VoiceConsentObject:
        self._begin("update_voice_consent", consent_id=consent_id, name=name)
        with self._lock:
            consent = self.consents.get(consent_id)
            if consent is not None:
                consent.name = name
        if consent is None:
            raise self._not_found("consent", consent_id)
        return consent

    def _delete_voice_consent(self, consent_id: str) -> VoiceConsentDeleted:
        self._begin("delete_voice_consent", consent_id=consent_id)
        with self._lock:
            found = self.consents.pop(consent_id, None)
        if found is None:
            raise self._not_found("consent", consent_id)
        return VoiceConsentDeleted(id=consent_id)

    # ----------------------------------------------------------------- chat

    def _chat_completion(self, body: Mapping[str, Any]) -> ChatCompletion:
        self._begin("chat_completion", body=dict(body))
        data = payloads.chat_completion(
            body, created=int(time.time()), seq=self._next_id(), reply=self.chat_reply
        )
        return ChatCompletion(data, request_id=self._request_id())

    def _stream_chat_completion(self, body: Mapping[str, Any]) -> Stream[ChatCompletionChunk]:
        failure = self._begin("stream_chat_completion", streaming=True, body=dict(body))
        chunks = payloads.chat_chunks(
            body,
            created=int(time.time()),
            seq=self._next_id(),
            reply=self.chat_reply,
            chunk_size=self.chunk_size,
        )
        typed = [ChatCompletionChunk(c) for c in chunks]
        return self._stream(typed, failure, self._request_id(), "text/event-stream")
