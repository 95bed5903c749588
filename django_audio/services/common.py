"""Helpers shared by the services: owners, providers, errors, usage records."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Mapping
from typing import Any, Generic, TypeVar

from django.db import transaction
from django.db.models import Model

from ..contract import DurationUsage, TokenUsage, Usage
from ..exceptions import AudioError, NotFound
from ..models import SpeechAsset, Transcript, UsageRecord
from ..providers import BaseProvider, providers
from ..storage import delete_files

T = TypeVar("T")

#: Longest error text kept on a row.
MAX_ERROR = 4000


def owner_or_none(user: Any) -> Any:
    """The user to own rows, or ``None`` for anonymous/absent users."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def owner_filter(owner: Any) -> dict[str, Any]:
    """Query filter restricting rows to ``owner`` (``owner=None`` matches ownerless rows)."""
    owner = owner_or_none(owner)
    return {"owner": owner} if owner is not None else {"owner__isnull": True}


def get_provider(alias: str | None) -> tuple[str, BaseProvider]:
    """The provider alias used and the provider itself."""
    alias = alias or "default"
    return alias, providers[alias]


def error_text(exc: BaseException) -> str:
    """What is stored on a failed row: the message, never a credential."""
    text = str(exc) or type(exc).__name__
    return text[:MAX_ERROR]


def error_code(exc: BaseException) -> str:
    """The error's code (``AudioError.code``) or its class name."""
    code = exc.code if isinstance(exc, AudioError) else None
    return (code or type(exc).__name__)[:64]


def atomic_with_files(names: list[str]) -> Any:
    """``transaction.atomic()`` whose files (appended to ``names``) vanish on rollback."""
    return _AtomicWithFiles(names)


class _AtomicWithFiles:
    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.atomic = transaction.atomic()

    def __enter__(self) -> None:
        self.atomic.__enter__()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.atomic.__exit__(exc_type, exc, tb)
        except BaseException:
            delete_files(self.names)
            raise
        if exc_type is not None:
            delete_files(self.names)


def usage_fields(usage: Usage | Mapping[str, Any] | None) -> dict[str, Any]:
    """Usage in the wire shape, and the columns of :class:`UsageRecord` it fills."""
    if usage is None:
        return {}
    if isinstance(usage, TokenUsage):
        return {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
        }
    if isinstance(usage, DurationUsage):
        return {"seconds": usage.seconds}
    out: dict[str, Any] = {}
    for key, alias in (
        ("input_tokens", "prompt_tokens"),
        ("output_tokens", "completion_tokens"),
        ("total_tokens", "total_tokens"),
    ):
        value = usage.get(key, usage.get(alias))
        if isinstance(value, int):
            out[key] = value
    if isinstance(usage.get("seconds"), int | float):
        out["seconds"] = float(usage["seconds"])
    return out


def record_usage(
    owner: Any,
    operation: str,
    *,
    provider: str = "",
    model: str = "",
    seconds: float | None = None,
    characters: int = 0,
    usage: Usage | Mapping[str, Any] | None = None,
    cached: bool = False,
    transcript: Transcript | None = None,
    speech_asset: SpeechAsset | None = None,
) -> UsageRecord:
    """Store what one request consumed (``usage`` fills tokens/seconds it reports).

    ``owner`` is a user, ``None``, or a user's primary key (saves loading the user).
    """
    fields = usage_fields(usage)
    if seconds is not None and "seconds" not in fields:
        fields["seconds"] = seconds
    who = {"owner_id": owner} if isinstance(owner, int) else {"owner": owner_or_none(owner)}
    return UsageRecord.objects.create(
        **who,
        operation=operation,
        provider=provider,
        model=model[:200],
        characters=characters,
        cached=cached,
        transcript=transcript,
        speech_asset=speech_asset,
        **fields,
    )


def get_owned(
    model: type[Model], owner: Any, public_id: str, *, staff_sees_all: bool = True
) -> Any:
    """The row of ``model`` with ``public_id`` belonging to ``owner``, else :class:`NotFound`.

    Staff users see every row when ``staff_sees_all``.
    """
    qs = model._default_manager.filter(public_id=public_id)
    user = owner_or_none(owner)
    if not (staff_sees_all and user is not None and user.is_staff):
        qs = qs.filter(**owner_filter(owner))
    obj = qs.first()
    if obj is None:
        label = model._meta.verbose_name
        raise NotFound(f"No {label} with id '{public_id}'.", param="id")
    return obj


async def shielded(awaitable: Awaitable[Any]) -> None:
    """Finish ``awaitable`` even if the calling task is being cancelled (client gone).

    Errors are swallowed: this runs in ``finally`` blocks where the original outcome wins.
    """
    with contextlib.suppress(Exception):
        await asyncio.shield(asyncio.ensure_future(awaitable))


class PersistingStream(Generic[T]):
    """Relays a stream whose result is stored when it ends; see the subclasses.

    ``aclose()`` — also via ``async with`` — before the first item still closes the
    upstream request and records the row as cut short (``_abandon``).
    """

    _gen: AsyncGenerator[T, None]
    _started = False

    def __aiter__(self) -> PersistingStream[T]:
        return self

    async def __anext__(self) -> T:
        self._started = True
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop early: close the upstream request and store what arrived."""
        started, self._started = self._started, True
        await self._gen.aclose()
        if not started:
            await self._abandon()

    async def __aenter__(self) -> PersistingStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _abandon(self) -> None:
        """Closed before the first item: the generator never ran its own clean-up."""
