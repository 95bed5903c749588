"""Enumerations and content types of OpenAI's audio contract."""

from __future__ import annotations

from typing import ClassVar

TRANSCRIPTION_FORMATS = ("json", "text", "srt", "verbose_json", "vtt", "diarized_json")
TRANSLATION_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
TEXT_FORMATS = ("text", "srt", "vtt")
SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
STREAM_FORMATS = ("audio", "sse")
TIMESTAMP_GRANULARITIES = ("word", "segment")
TRANSCRIPTION_INCLUDES = ("logprobs",)
BUILTIN_VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx",
    "sage", "shimmer", "verse", "marin", "cedar",
)  # fmt: skip
CHAT_AUDIO_FORMATS = ("wav", "aac", "mp3", "flac", "opus", "pcm16")
CHAT_INPUT_AUDIO_FORMATS = ("wav", "mp3")
MAX_KNOWN_SPEAKERS = 4
MAX_INSTRUCTIONS = 4096

#: Content type of each speech ``response_format`` (pcm is raw 24 kHz 16-bit LE mono).
SPEECH_CONTENT_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
#: Content type of each plain-text transcription format.
TEXT_CONTENT_TYPES: dict[str, str] = {
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


class Capability:
    """Names of the operations a provider can declare in ``capabilities``."""

    TRANSCRIBE = "transcribe"
    TRANSCRIBE_STREAM = "transcribe_stream"
    TRANSLATE = "translate"
    SPEECH = "speech"
    SPEECH_SSE = "speech_sse"
    VOICES = "voices"
    VOICE_CONSENTS = "voice_consents"
    CHAT_AUDIO = "chat_audio"
    DIARIZE = "diarize"

    ALL: ClassVar[frozenset[str]] = frozenset(
        {
            TRANSCRIBE, TRANSCRIBE_STREAM, TRANSLATE, SPEECH, SPEECH_SSE,
            VOICES, VOICE_CONSENTS, CHAT_AUDIO, DIARIZE,
        }
    )  # fmt: skip
