"""System checks for the ``DJANGO_AUDIO`` setting. Ids are stable; each message has a hint.

=====================  =====================================================================
``django_audio.E001``  ``DJANGO_AUDIO`` is not a dict, or has an unknown key
``django_audio.E002``  no ``default`` provider alias
``django_audio.E003``  a provider entry is not a dict or has no ``BACKEND``
``django_audio.E004``  a ``BACKEND`` cannot be imported or is not a provider
``django_audio.E005``  a provider has an unknown option (or an unknown key next to ``OPTIONS``)
``django_audio.E006``  ``STORAGE`` names no alias in ``STORAGES``
``django_audio.E007``  an API key would be sent over plain HTTP to a non-local host
``django_audio.E008``  a limit or flag has the wrong type or a non-positive value
``django_audio.E101``  a local-engine provider option is invalid
``django_audio.E102``  the local engine is not ready (missing extra, model failed its hash check)
=====================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import checks

from .conf import DEFAULTS, build_settings
from .exceptions import ConfigurationError

_POSITIVE_INTS = (
    "MAX_UPLOAD_SIZE",
    "MAX_VOICE_SAMPLE_SIZE",
    "MAX_SPEECH_INPUT",
    "WEBSOCKET_TOKEN_MAX_AGE",
    "WEBSOCKET_MAX_FRAME_SIZE",
    "WEBSOCKET_QUEUE_SIZE",
    "LIVE_CAPTION_MAX_SECONDS",
    "LIVE_CAPTION_MAX_SESSIONS",
)
_BOOLS = (
    "SPEECH_CACHE",
    "REQUIRE_CONSENT_APPROVAL",
    "RETENTION_KEEP_TEXT",
    "BACKGROUND_TRANSCRIPTION",
)


def register() -> None:
    """Register the checks (called from ``AppConfig.ready``)."""
    checks.register(check_settings, "django_audio")


def _error(msg: str, hint: str, n: int) -> checks.Error:
    return checks.Error(msg, hint=hint, id=f"django_audio.E{n:03d}")


def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """Validate ``DJANGO_AUDIO`` and every provider it configures."""
    raw = getattr(settings, "DJANGO_AUDIO", None)
    if raw is not None and not isinstance(raw, Mapping):
        return [
            _error(
                "DJANGO_AUDIO must be a dict.",
                "Set DJANGO_AUDIO = {'PROVIDERS': {'default': {'BACKEND': ...}}}.",
                1,
            )
        ]
    conf = build_settings()
    errors: list[checks.CheckMessage] = [
        _error(
            f"Unknown key {key!r} in DJANGO_AUDIO.",
            "Known keys: " + ", ".join(sorted(DEFAULTS)) + ".",
            1,
        )
        for key in conf.unknown_keys
    ]
    errors += _check_values(conf.__dict__)
    errors += _check_rate_limit(conf.RATE_LIMIT)
    errors += _check_storage(conf.STORAGE)
    errors += _check_providers(conf.PROVIDERS)
    return errors


def _check_values(values: Mapping[str, Any]) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for key in _POSITIVE_INTS:
        v = values[key]
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            errors.append(
                _error(f"DJANGO_AUDIO[{key!r}] must be a positive integer; got {v!r}.",
                       f"Remove it to use the default ({DEFAULTS[key]}).", 8)
            )  # fmt: skip
    for key in _BOOLS:
        if not isinstance(values[key], bool):
            errors.append(
                _error(f"DJANGO_AUDIO[{key!r}] must be True or False; got {values[key]!r}.",
                       f"Remove it to use the default ({DEFAULTS[key]}).", 8)
            )  # fmt: skip
    days = values["RETENTION_DAYS"]
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days <= 0):
        errors.append(
            _error(
                f"DJANGO_AUDIO['RETENTION_DAYS'] must be None or a positive integer; got {days!r}.",
                "Use None to keep audio forever.",
                8,
            )
        )
    return errors


def _check_rate_limit(rate: object) -> list[checks.CheckMessage]:
    from .api.ratelimit import parse_rate

    if rate is None:
        return []
    try:
        parse_rate(rate)
    except ValueError as exc:
        return [_error(f"DJANGO_AUDIO['RATE_LIMIT'] is invalid: {exc}",
                       "Use e.g. '120/minute' (second, minute, hour, day), or None for no limit.",
                       8)]  # fmt: skip
    return []


def _check_storage(alias: object) -> list[checks.CheckMessage]:
    storages = getattr(settings, "STORAGES", {}) or {}
    if alias not in storages:
        return [
            _error(
                f"DJANGO_AUDIO['STORAGE'] is {alias!r}, which is not an alias in STORAGES.",
                "Use one of: " + ", ".join(repr(a) for a in storages) + ", or add it to STORAGES.",
                6,
            )
        ]
    return []


def _check_providers(providers: object) -> list[checks.CheckMessage]:
    if not isinstance(providers, Mapping) or "default" not in providers:
        return [
            _error(
                "DJANGO_AUDIO['PROVIDERS'] has no 'default' alias.",
                "Add 'default': {'BACKEND': 'django_audio.providers.openai.OpenAIProvider', "
                "'OPTIONS': {...}} (or the local or test provider).",
                2,
            )
        ]
    errors: list[checks.CheckMessage] = []
    for alias, config in providers.items():
        errors += _check_provider(str(alias), config)
    return errors


def _check_provider(alias: str, config: object) -> list[checks.CheckMessage]:
    from .providers import load_backend

    where = f"DJANGO_AUDIO['PROVIDERS'][{alias!r}]"
    if not isinstance(config, Mapping) or not config.get("BACKEND"):
        return [
            _error(f"{where} has no 'BACKEND'.",
                   "Give the dotted path of a provider class, e.g. "
                   "'django_audio.providers.openai.OpenAIProvider'.", 3)
        ]  # fmt: skip
    errors: list[checks.CheckMessage] = []
    extra = set(config) - {"BACKEND", "OPTIONS"}
    if extra:
        errors.append(
            _error(f"{where} has unknown keys: {', '.join(sorted(map(str, extra)))}.",
                   "A provider entry holds only 'BACKEND' and 'OPTIONS'.", 5)
        )  # fmt: skip
    options = config.get("OPTIONS") or {}
    if not isinstance(options, Mapping):
        return [*errors, _error(f"{where}['OPTIONS'] must be a dict.", "Use {} for none.", 5)]
    try:
        cls = load_backend(str(config["BACKEND"]))
    except ConfigurationError as exc:
        hint = "Check the dotted path and that the provider's extra is installed."
        missing = exc.__cause__
        if isinstance(missing, ImportError) and "pip install" in str(missing):
            hint = str(missing)
        return [*errors, _error(f"{where}: {exc}", hint, 4)]
    accepted = cls.option_names()
    if accepted is not None:
        for key in sorted(set(options) - accepted):
            errors.append(
                _error(f"{where} has unknown option {key!r} for {cls.__name__}.",
                       "Accepted options: " + (", ".join(sorted(accepted)) or "none") + ".", 5)
            )  # fmt: skip
    errors += cls.check_options(alias, options)
    return errors
