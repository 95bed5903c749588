"""Query-parameter filtering and full-text search for the list endpoints.

Plain query parameters (no extra dependency): exact matches on ``status``, ``model``,
``language``, ``kind``; ``created_after`` / ``created_before`` (ISO 8601 date or date-time);
``search`` over the text. Search is ``icontains`` on every database except PostgreSQL, where
it is a full-text match (``SearchVector`` / ``websearch`` ``SearchQuery``) so stemming and
phrases work.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ...exceptions import InvalidRequest

__all__ = ["filter_created", "filter_exact", "parse_when", "query_value", "search_text"]

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_when(value: str, param: str, *, end_of_day: bool = False) -> datetime.datetime:
    """An aware date-time from an ISO 8601 date or date-time, else :class:`InvalidRequest`.

    A bare date means the start of that day (UTC), or its end with ``end_of_day``, so
    ``created_before=2026-01-31`` includes the whole 31st.
    """
    text = value.strip()
    when: datetime.datetime | None = None
    day: datetime.date | None = None
    # An unescaped '+' of a UTC offset arrives as ' ' in a query string.
    for candidate in dict.fromkeys((text, text.replace(" ", "+"))):
        try:
            # A bare date first: parse_datetime would read it as midnight.
            day = parse_date(candidate) if _DATE_ONLY.match(candidate) else None
            when = None if day is not None else parse_datetime(candidate)
        except ValueError:
            continue
        if when is not None or day is not None:
            break
    try:
        if when is None and day is not None:
            when = datetime.datetime.combine(day, datetime.time.min)
            if end_of_day:
                when += datetime.timedelta(days=1) - datetime.timedelta(microseconds=1)
        if when is not None:
            if timezone.is_naive(when):
                when = timezone.make_aware(when, datetime.UTC)
            # Databases store UTC: a date-time that has none (year 1 at +01:00) is invalid.
            return when.astimezone(datetime.UTC)
    except OverflowError:
        pass
    raise InvalidRequest(
        f"Invalid value for '{param}': {value!r}. Use an ISO 8601 date or date-time "
        "(2026-01-31 or 2026-01-31T12:00:00Z).",
        param=param,
        code="invalid_value",
    )


def query_value(params: Mapping[str, str], name: str) -> str:
    """The stripped value of query parameter ``name`` (``""`` when absent).

    NUL characters are refused here: PostgreSQL cannot compare text holding them.
    """
    value = (params.get(name) or "").strip()
    if "\x00" in value:
        raise InvalidRequest(
            f"Invalid value for '{name}': it contains a NUL character.",
            param=name,
            code="invalid_value",
        )
    return value


def filter_exact(
    queryset: QuerySet[Any], params: Mapping[str, str], fields: Iterable[str]
) -> QuerySet[Any]:
    """Exact filters for each of ``fields`` present (non-empty) in ``params``."""
    for name in fields:
        value = query_value(params, name)
        if value:
            queryset = queryset.filter(**{name: value})
    return queryset


def filter_created(queryset: QuerySet[Any], params: Mapping[str, str]) -> QuerySet[Any]:
    """``created_after`` (inclusive) and ``created_before`` (inclusive) on ``created_at``."""
    after, before = query_value(params, "created_after"), query_value(params, "created_before")
    if after:
        queryset = queryset.filter(created_at__gte=parse_when(after, "created_after"))
    if before:
        queryset = queryset.filter(
            created_at__lte=parse_when(before, "created_before", end_of_day=True)
        )
    return queryset


def search_text(queryset: QuerySet[Any], query: str, fields: Iterable[str]) -> QuerySet[Any]:
    """Rows whose ``fields`` match ``query``: full-text on PostgreSQL, ``icontains`` elsewhere."""
    query = query.strip()
    names = list(fields)
    if not query or not names:
        return queryset
    if connections[queryset.db].vendor == "postgresql":
        # Imported here: django.contrib.postgres needs psycopg, which other databases lack.
        from django.contrib.postgres.search import SearchQuery, SearchVector

        matches: QuerySet[Any] = queryset.annotate(_search=SearchVector(*names)).filter(
            _search=SearchQuery(query, search_type="websearch")
        )
        return matches
    condition = Q()
    for name in names:
        condition |= Q(**{f"{name}__icontains": query})
    return queryset.filter(condition)
