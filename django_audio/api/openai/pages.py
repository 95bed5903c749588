"""OpenAI's cursor pages (``after`` + ``limit``, oldest first) over an owner's rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from ...exceptions import InvalidRequest

__all__ = ["cursor_page"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _limit(request: HttpRequest) -> int:
    raw = request.GET.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise InvalidRequest(
            f"'limit' must be an integer from 1 to {MAX_LIMIT}; got {raw!r}.",
            param="limit",
            code="invalid_value",
        )
    return value


def _page(
    queryset: QuerySet[Any], after: str | None, limit: int, render: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    qs = queryset.order_by("created_at", "id")
    if after:
        anchor = queryset.filter(public_id=after).values("created_at", "id").first()
        if anchor is None:  # unknown, or another user's: the same answer either way
            raise InvalidRequest(f"Invalid 'after': no object with id '{after}'.", param="after")
        qs = qs.filter(
            Q(created_at__gt=anchor["created_at"])
            | Q(created_at=anchor["created_at"], id__gt=anchor["id"])
        )
    rows = list(qs[: limit + 1])
    data = [render(row) for row in rows[:limit]]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(rows) > limit,
    }


async def cursor_page(
    request: HttpRequest, queryset: QuerySet[Model], render: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """The list envelope for the page after ``?after=`` (``?limit=`` 1-100, default 20)."""
    limit = _limit(request)
    after = request.GET.get("after") or None
    return await sync_to_async(_page)(queryset, after, limit, render)
