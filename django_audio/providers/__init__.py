"""Providers, configured like ``STORAGES``: ``DJANGO_AUDIO["PROVIDERS"][alias]``.

``providers["default"]`` builds the provider for an alias on first use from its
``BACKEND`` and ``OPTIONS``, caches it, and forgets it when the settings change.
Tests swap one in with ``providers.override("default", TestProvider())``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from django.utils.module_loading import import_string

from ..conf import audio_settings
from ..exceptions import ConfigurationError
from .base import BaseProvider

__all__ = ["BaseProvider", "ProviderHandler", "load_backend", "providers"]


def load_backend(path: str) -> type[BaseProvider]:
    """Import a provider class from its dotted path, with a clear error."""
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ConfigurationError(f"Cannot import provider backend {path!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, BaseProvider)):
        raise ConfigurationError(f"Provider backend {path!r} is not a BaseProvider subclass.")
    return cls


class ProviderHandler:
    """Builds providers lazily per alias, caches them, and resets on settings change."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._built: dict[str, BaseProvider] = {}
        self._overrides: dict[str, list[BaseProvider]] = {}
        audio_settings.on_reload(self.reset)  # type: ignore[attr-defined]

    def __getitem__(self, alias: str) -> BaseProvider:
        with self._lock:
            stack = self._overrides.get(alias)
            if stack:
                return stack[-1]
            provider = self._built.get(alias)
            if provider is None:
                provider = self._built[alias] = self.create(alias)
            return provider

    def get(self, alias: str | None = None) -> BaseProvider:
        """The provider for ``alias`` (``"default"`` when omitted)."""
        return self[alias or "default"]

    def aliases(self) -> list[str]:
        """Configured aliases."""
        return list(audio_settings.PROVIDERS)

    def create(self, alias: str) -> BaseProvider:
        """Build a fresh provider for ``alias`` from settings (not cached)."""
        config = audio_settings.PROVIDERS.get(alias)
        if config is None:
            raise ConfigurationError(
                f"No provider alias {alias!r} in DJANGO_AUDIO['PROVIDERS'] "
                f"(configured: {', '.join(audio_settings.PROVIDERS) or 'none'})."
            )
        backend = config.get("BACKEND")
        if not backend:
            raise ConfigurationError(f"DJANGO_AUDIO['PROVIDERS'][{alias!r}] has no 'BACKEND'.")
        cls = load_backend(backend)
        options: dict[str, Any] = dict(config.get("OPTIONS") or {})
        try:
            return cls(alias, **options)
        except TypeError as exc:
            raise ConfigurationError(
                f"Invalid OPTIONS for provider {alias!r} ({backend}): {exc}"
            ) from exc

    def set(self, alias: str, provider: BaseProvider) -> None:
        """Replace the cached provider for ``alias`` until the next reset."""
        with self._lock:
            self._built[alias] = provider

    @contextlib.contextmanager
    def override(self, alias: str, provider: BaseProvider) -> Iterator[BaseProvider]:
        """Use ``provider`` for ``alias`` inside a ``with`` block (tests)."""
        with self._lock:
            self._overrides.setdefault(alias, []).append(provider)
        try:
            yield provider
        finally:
            with self._lock:
                self._overrides[alias].remove(provider)

    def reset(self) -> None:
        """Drop every cached provider, closing their sync connection pools."""
        with self._lock:
            built, self._built = self._built, {}
        for provider in built.values():
            with contextlib.suppress(Exception):
                provider.close()


providers = ProviderHandler()
