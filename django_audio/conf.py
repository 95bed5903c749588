"""The ``DJANGO_AUDIO`` setting: one dict, a defaults table, a lazy typed reader.

``audio_settings`` reads ``settings.DJANGO_AUDIO`` on first use, merges it over
:data:`DEFAULTS` and caches the result; it is rebuilt whenever a test changes the setting
(``setting_changed``). Unknown keys are reported by the system check ``django_audio.E001``
rather than raised here, so a typo never becomes a traceback at request time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

MiB = 1024 * 1024

#: Every key ``DJANGO_AUDIO`` accepts, with its default. Later features add keys here.
DEFAULTS: dict[str, Any] = {
    # alias -> {"BACKEND": dotted path, "OPTIONS": {...}}; alias "default" is required.
    "PROVIDERS": {},
    # An alias in Django's STORAGES; every audio file goes there.
    "STORAGE": "default",
    # Folder (inside that storage) under which server-generated file names are created.
    "UPLOAD_TO": "django_audio",
    # Largest accepted audio upload, in bytes (OpenAI's limit is 25 MiB).
    "MAX_UPLOAD_SIZE": 25 * MiB,
    # Largest voice sample / consent recording, in bytes (OpenAI's limit is 10 MiB).
    "MAX_VOICE_SAMPLE_SIZE": 10 * MiB,
    # Longest speech input, in characters (OpenAI's limit is 4096).
    "MAX_SPEECH_INPUT": 4096,
    # Reuse a stored clip for an identical speech request.
    "SPEECH_CACHE": True,
    # A consent must be approved by staff before a voice can be made from it.
    "REQUIRE_CONSENT_APPROVAL": True,
    # Delete stored audio older than this many days (None keeps it forever); see audio_purge.
    "RETENTION_DAYS": None,
    # Keep transcript text when audio_purge removes the audio.
    "RETENTION_KEEP_TEXT": True,
    # Run transcriptions through Django's Tasks API instead of inline.
    "BACKGROUND_TRANSCRIPTION": False,
    # Requests per user to the OpenAI-compatible API, "N/second|minute|hour|day" (None: off).
    "RATE_LIMIT": "120/minute",
    # --- websockets: live captions, job progress, streamed speech (docs/websockets.md)
    # Seconds a signed websocket token (issued to API-key clients) stays valid.
    "WEBSOCKET_TOKEN_MAX_AGE": 60,
    # Largest websocket frame accepted from a client, in bytes.
    "WEBSOCKET_MAX_FRAME_SIZE": 64 * 1024,
    # Events buffered per caption viewer before deltas are dropped / the viewer is cut off.
    "WEBSOCKET_QUEUE_SIZE": 256,
    # Cache alias counting concurrent caption sessions per user (shared across processes).
    "WEBSOCKET_CACHE": "default",
    # Model used when a live caption ``start`` message names none.
    "LIVE_CAPTION_MODEL": "gpt-4o-mini-transcribe",
    # Longest live caption session, in seconds of audio; the session is then saved and closed.
    "LIVE_CAPTION_MAX_SECONDS": 3600,
    # Live caption sessions one user may run at the same time.
    "LIVE_CAPTION_MAX_SESSIONS": 3,
    # Voice activity detection cutting live audio into utterances (keys: see streaming/vad.py).
    "VAD": {
        "FRAME_MS": 30,
        "THRESHOLD": 0.01,
        "NOISE_RATIO": 3.0,
        "SILENCE_MS": 500,
        "MIN_SPEECH_MS": 120,
        "PADDING_MS": 200,
        "MAX_UTTERANCE_SECONDS": 15.0,
    },
}


@dataclass(frozen=True)
class AudioSettings:
    """Typed view of ``settings.DJANGO_AUDIO`` merged over :data:`DEFAULTS`."""

    PROVIDERS: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    STORAGE: str = "default"
    UPLOAD_TO: str = "django_audio"
    MAX_UPLOAD_SIZE: int = 25 * MiB
    MAX_VOICE_SAMPLE_SIZE: int = 10 * MiB
    MAX_SPEECH_INPUT: int = 4096
    SPEECH_CACHE: bool = True
    REQUIRE_CONSENT_APPROVAL: bool = True
    RETENTION_DAYS: int | None = None
    RETENTION_KEEP_TEXT: bool = True
    BACKGROUND_TRANSCRIPTION: bool = False
    RATE_LIMIT: str | None = "120/minute"
    WEBSOCKET_TOKEN_MAX_AGE: int = 60
    WEBSOCKET_MAX_FRAME_SIZE: int = 64 * 1024
    WEBSOCKET_QUEUE_SIZE: int = 256
    WEBSOCKET_CACHE: str = "default"
    LIVE_CAPTION_MODEL: str = "gpt-4o-mini-transcribe"
    LIVE_CAPTION_MAX_SECONDS: int = 3600
    LIVE_CAPTION_MAX_SESSIONS: int = 3
    VAD: Mapping[str, Any] = field(default_factory=dict)
    #: Keys the user set that are not in :data:`DEFAULTS` (reported by checks).
    unknown_keys: tuple[str, ...] = ()


def user_settings() -> Mapping[str, Any]:
    """The raw ``DJANGO_AUDIO`` dict (empty when unset or not a mapping)."""
    value = getattr(settings, "DJANGO_AUDIO", None) or {}
    return value if isinstance(value, Mapping) else {}


def build_settings() -> AudioSettings:
    """Merge the user's dict over the defaults, keeping known keys only."""
    raw = user_settings()
    known = {f.name for f in fields(AudioSettings)} - {"unknown_keys"}
    values = {key: raw.get(key, default) for key, default in DEFAULTS.items() if key in known}
    unknown = tuple(sorted(str(k) for k in raw if k not in DEFAULTS))
    return AudioSettings(**values, unknown_keys=unknown)


class _LazySettings:
    """Builds :class:`AudioSettings` on first attribute access; ``reload()`` drops the cache."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: AudioSettings | None = None
        self._listeners: list[Callable[[], None]] = []

    def _get(self) -> AudioSettings:
        cached = self._cached
        if cached is None:
            with self._lock:
                if self._cached is None:
                    self._cached = build_settings()
                cached = self._cached
        return cached

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def reload(self) -> None:
        """Forget the cached settings and tell listeners (e.g. the provider handler)."""
        with self._lock:
            self._cached = None
        for listener in list(self._listeners):
            listener()

    def on_reload(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever the settings are reloaded."""
        self._listeners.append(listener)


audio_settings: AudioSettings = _LazySettings()  # type: ignore[assignment]


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in {"DJANGO_AUDIO", "STORAGES"}:
        audio_settings.reload()  # type: ignore[attr-defined]


def connect_signals() -> None:
    """Reload on ``setting_changed`` (``override_settings`` in tests)."""
    setting_changed.connect(_reload, dispatch_uid="django_audio.conf.reload")
