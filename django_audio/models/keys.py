"""Per-user API keys for the OpenAI-compatible surface, stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_PREFIX = "sk-audio-"
#: ``last_used_at`` is written at most this often per key, to keep requests read-only.
LAST_USED_GRANULARITY = timedelta(minutes=1)

M = TypeVar("M", bound=models.Model)


def hash_key(raw_key: str) -> str:
    """SHA-256 of a raw key (keys are long random secrets, so no salt is needed)."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def split_key(raw_key: str) -> str | None:
    """The prefix of a well-formed raw key ``sk-audio-<prefix>-<secret>``, else ``None``."""
    if not isinstance(raw_key, str) or not raw_key.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = raw_key[len(KEY_PREFIX) :].partition("-")
    if not sep or not secret or not prefix.isalnum() or len(prefix) > 16:
        return None
    return prefix


def _column(manager: models.Manager[Any], field: str) -> str:
    """The quoted column of ``manager``'s model field ``field`` (or ``"pk"``)."""
    meta = manager.model._meta
    target = meta.pk if field == "pk" else meta.get_field(field)
    column = getattr(target, "column", None)
    if not isinstance(column, str):
        raise TypeError(f"{meta.label}.{field} is not a column")
    return str(connections[manager.db].ops.quote_name(column))


def _first_raw(manager: models.Manager[M], where: str, value: Any) -> M | None:
    """The first row of ``manager``'s table matching ``where`` (one ``%s`` placeholder)."""
    table = connections[manager.db].ops.quote_name(manager.model._meta.db_table)
    rows = manager.raw(f"SELECT * FROM {table} WHERE {where} LIMIT 1", [value])  # noqa: S608
    return next(iter(rows), None)


class ApiKeyManager(models.Manager["ApiKey"]):
    """Creates keys (returning the raw key once) and authenticates raw keys."""

    def create_key(self, user: Any, name: str) -> tuple[ApiKey, str]:
        """Create a key for ``user``; returns the row and the raw key, shown only now."""
        prefix = secrets.token_hex(4)
        while self.filter(prefix=prefix).exists():  # 2**32 prefixes: collisions are rare
            prefix = secrets.token_hex(4)
        raw = f"{KEY_PREFIX}{prefix}-{secrets.token_urlsafe(32)}"
        key = self.create(user=user, name=name, prefix=prefix, key_hash=hash_key(raw))
        return key, raw

    def authenticate(self, raw_key: str) -> ApiKey | None:
        """The active key matching ``raw_key`` (constant-time compare), with its user, or ``None``.

        This runs on every API request, so it reads with two plain ``SELECT`` statements
        (the key, then its user) instead of a compiled ORM join: the same rows and model
        instances, for about a tenth of the CPU.
        """
        prefix = split_key(raw_key)
        if prefix is None:
            return None
        active = f"{_column(self, 'prefix')} = %s AND {_column(self, 'revoked_at')} IS NULL"
        key = _first_raw(self, active, prefix)
        if key is None or not hmac.compare_digest(key.key_hash, hash_key(raw_key)):
            return None
        users = get_user_model()._default_manager
        user = _first_raw(users, f"{_column(users, 'pk')} = %s", key.user_id)
        if user is None:
            return None
        key.user = user
        return key

    async def aauthenticate(self, raw_key: str) -> ApiKey | None:
        """Async :meth:`authenticate`."""
        return await sync_to_async(self.authenticate)(raw_key)


class ApiKey(models.Model):
    """A user's API key: only its prefix and hash are stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="audio_api_keys",
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects: ClassVar[ApiKeyManager] = ApiKeyManager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="da_apikey_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({KEY_PREFIX}{self.prefix}-…)"

    @property
    def is_active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    def revoke(self) -> None:
        """Revoke the key at once."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def touch(self) -> bool:
        """Record a use (at most once per minute); returns whether a write happened."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < LAST_USED_GRANULARITY:
            return False
        self.last_used_at = now
        type(self).objects.filter(pk=self.pk).update(last_used_at=now)
        return True

    async def atouch(self) -> bool:
        """Async :meth:`touch`."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < LAST_USED_GRANULARITY:
            return False
        self.last_used_at = now
        await type(self).objects.filter(pk=self.pk).aupdate(last_used_at=now)
        return True
