"""Settings for the test suite.

Embedded defaults (SQLite, in-memory channel layer, file storage in a temp dir). ``.ci/run``
runs the suite again with ``DJANGO_AUDIO_TEST_DATABASE=postgres`` and
``DJANGO_AUDIO_TEST_REDIS=redis://…`` to use PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import tempfile

SECRET_KEY = "django-audio-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "django_audio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

if os.environ.get("DJANGO_AUDIO_TEST_DATABASE") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "django_audio",
            "USER": os.environ.get("PGUSER", "postgres"),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
        }
    }
else:
    # A file, not :memory:, so live-server threads (SDK and browser tests) share it without
    # "database table is locked"; IMMEDIATE transactions avoid lock-upgrade deadlocks.
    _sqlite_dir = tempfile.mkdtemp(prefix="django-audio-db-")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(_sqlite_dir, "db.sqlite3"),
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
            "TEST": {"NAME": os.path.join(_sqlite_dir, "test.sqlite3")},
        }
    }

_redis = os.environ.get("DJANGO_AUDIO_TEST_REDIS")
if _redis:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # As documented in docs/websockets.md: no 5 s read timeout racing the 5 s
                # BZPOPMIN, a pool larger than redis-py's default 100, and a per-process
                # capacity that a burst of events cannot overflow (group_send drops silently).
                "hosts": [{"address": _redis, "max_connections": 1000, "socket_timeout": None}],
                "prefix": f"django_audio_test_{os.getpid()}",
                "capacity": 10_000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

MEDIA_ROOT = tempfile.mkdtemp(prefix="django-audio-tests-")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_URL = "/static/"

ASGI_APPLICATION = "tests.asgi.application"

DJANGO_AUDIO = {
    "PROVIDERS": {
        "default": {"BACKEND": "django_audio.providers.test.TestProvider"},
    },
}

REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
