"""The services: the one place that writes django-audio's models.

Every edge (API views, websocket consumers, admin actions, management commands, tasks)
calls these functions; each one validates, stores a ``pending`` row, sends its ``pre_*``
signal, calls the provider, stores the result and sends its ``post_*`` signal. See
``docs/services.md``.
"""

from __future__ import annotations

from .chat import (
    ChatOutcome,
    ChatStream,
    achat_with_audio,
    astream_chat_with_audio,
    bridge_expired_audio,
    chat_with_audio,
)
from .common import record_usage
from .consents import (
    ResolvedVoice,
    approve_consent,
    create_voice,
    delete_consent,
    delete_voice,
    disable_voice,
    reject_consent,
    rename_consent,
    resolve_voice,
    revoke_consent,
    submit_consent,
)
from .lookups import get_consent, get_speech_asset, get_transcript, get_voice, usage_totals
from .retention import PurgeReport, purge_audio
from .speech import (
    SpeechOutcome,
    SpeechStream,
    astream_speech,
    asynthesize,
    iter_stored,
    synthesize,
)
from .transcripts import (
    TranscriptionOutcome,
    TranscriptionStream,
    asave_live_caption,
    astream_transcription,
    atranscribe,
    atranslate,
    run_transcription,
    save_live_caption,
    transcribe,
    translate,
)
from .uploads import AudioSource, Upload, as_audio_file, check_audio

__all__ = [
    "AudioSource",
    "ChatOutcome",
    "ChatStream",
    "PurgeReport",
    "ResolvedVoice",
    "SpeechOutcome",
    "SpeechStream",
    "TranscriptionOutcome",
    "TranscriptionStream",
    "Upload",
    "achat_with_audio",
    "approve_consent",
    "as_audio_file",
    "asave_live_caption",
    "astream_chat_with_audio",
    "astream_speech",
    "astream_transcription",
    "asynthesize",
    "atranscribe",
    "atranslate",
    "bridge_expired_audio",
    "chat_with_audio",
    "check_audio",
    "create_voice",
    "delete_consent",
    "delete_voice",
    "disable_voice",
    "get_consent",
    "get_speech_asset",
    "get_transcript",
    "get_voice",
    "iter_stored",
    "purge_audio",
    "record_usage",
    "reject_consent",
    "rename_consent",
    "resolve_voice",
    "revoke_consent",
    "run_transcription",
    "save_live_caption",
    "submit_consent",
    "synthesize",
    "transcribe",
    "translate",
    "usage_totals",
]
