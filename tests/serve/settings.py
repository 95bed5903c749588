"""Settings of the server processes the two-process and browser tests start.

The suite's settings plus the example project's demo pages, a SQLite *file* shared by the
test and its servers, and (with ``DJANGO_AUDIO_TEST_REDIS``) a Redis channel layer whose
prefix all the servers of one test share.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "example_project"))

DEBUG = True
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]
ROOT_URLCONF = "tests.serve.urls"
LOGIN_URL = "/admin/login/"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["DJANGO_AUDIO_SERVE_DB"],
        "OPTIONS": {"timeout": 30},
    }
}
MEDIA_ROOT = os.environ["DJANGO_AUDIO_SERVE_MEDIA"]

_redis = os.environ.get("DJANGO_AUDIO_TEST_REDIS")
if _redis:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's pool refuses (rather than waits) beyond 100 connections, and its
                # 5 s default read timeout equals channels_redis's 5 s BZPOPMIN: under load the
                # reply comes a little later and the consumer dies with TimeoutError.
                "hosts": [{"address": _redis, "max_connections": 5000, "socket_timeout": None}],
                "prefix": os.environ["DJANGO_AUDIO_SERVE_PREFIX"],
                # All consumers of a process share one Redis key, so the capacity (default 100
                # pending messages) is per *process*: group_send drops silently beyond it.
                "capacity": 100_000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

if os.environ.get("DJANGO_AUDIO_SERVE_PROVIDER") == "local":
    _provider: dict[str, object] = {"BACKEND": "django_audio.providers.local.LocalProvider"}
elif os.environ.get("DJANGO_AUDIO_SERVE_PROVIDER") == "openai":  # benchmarks/ws_relay.py
    _provider = {
        "BACKEND": "django_audio.providers.openai.OpenAIProvider",
        "OPTIONS": {
            "api_key": "sk-bench",
            "base_url": os.environ["DJANGO_AUDIO_SERVE_UPSTREAM"],
            "max_connections": 5000,
            "max_retries": 0,
        },
    }
else:
    _provider = {
        "BACKEND": "django_audio.providers.test.TestProvider",
        "OPTIONS": {"transcript_text": os.environ.get("DJANGO_AUDIO_SERVE_TEXT", "hello")},
    }
DJANGO_AUDIO = {
    "PROVIDERS": {"default": _provider},
    "LIVE_CAPTION_MAX_SESSIONS": int(os.environ.get("DJANGO_AUDIO_SERVE_MAX_SESSIONS", "3")),
    "WEBSOCKET_TOKEN_MAX_AGE": int(os.environ.get("DJANGO_AUDIO_SERVE_TOKEN_MAX_AGE", "60")),
}
