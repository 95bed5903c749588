"""A per-user rate limit for the OpenAI-compatible API, kept in Django's cache.

A fixed window per user (``DJANGO_AUDIO["RATE_LIMIT"]``, e.g. ``"120/minute"``). The counter
lives in the ``default`` cache so every worker shares it when that cache is shared (Redis,
Memcached, database); with the per-process local-memory cache each process counts alone.
"""

from __future__ import annotations

import time

from asgiref.sync import sync_to_async
from django.core.cache import cache

from ..conf import audio_settings
from .errors import RateLimited

__all__ = ["acheck_rate_limit", "check_rate_limit", "parse_rate"]

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: object) -> tuple[int, int]:
    """``"N/period"`` → ``(N, seconds)``; raises ``ValueError`` for anything else."""
    if not isinstance(rate, str) or "/" not in rate:
        raise ValueError(f"expected 'N/period', got {rate!r}")
    count, _, period = rate.partition("/")
    period = period.strip().lower()
    if not count.strip().isdigit() or int(count) <= 0:
        raise ValueError(f"the count must be a positive integer, got {count!r}")
    if period not in ("second", "minute", "hour", "day", "sec", "min", "s", "m", "h", "d"):
        raise ValueError(f"the period must be second, minute, hour or day, got {period!r}")
    return int(count), _PERIODS[period[0]]


def check_rate_limit(user: object, scope: str = "v1") -> None:
    """Count one request for ``user``; raise :class:`RateLimited` when over the limit."""
    rate = audio_settings.RATE_LIMIT
    pk = getattr(user, "pk", None)
    if rate is None or pk is None:
        return
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"django_audio:ratelimit:{scope}:{pk}:{window}"
    # add() is a no-op when the key exists, so concurrent first requests do not reset it.
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
        count = 1
    if count > limit:
        retry_after = (window + 1) * period - now
        raise RateLimited(
            f"Rate limit reached: {limit} requests per {period} seconds. "
            f"Retry after {max(1, int(retry_after + 0.999))} seconds.",
            retry_after=retry_after,
        )


async def acheck_rate_limit(user: object, scope: str = "v1") -> None:
    """Async :func:`check_rate_limit` (one thread hop, only when a limit is set)."""
    if audio_settings.RATE_LIMIT is None or getattr(user, "pk", None) is None:
        return
    await sync_to_async(check_rate_limit)(user, scope)
