"""``usage/``: what the caller consumed per operation; ``usage/users/``: per user (staff)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from ....exceptions import NotFound
from ....models import UsageRecord
from ..filters import filter_created, query_value
from ..permissions import IsStaff, is_staff
from ..serializers import UsageByUserPageSerializer, UsageSerializer
from .base import AudioAPIView

_DATE_PARAMETERS = [
    OpenApiParameter("created_after", str, description="ISO 8601 date or date-time."),
    OpenApiParameter("created_before", str, description="ISO 8601 date or date-time."),
]


def _totals(records: QuerySet[UsageRecord], *group: str) -> list[dict[str, Any]]:
    """One row per (``group`` …, operation) with the summed usage (one query)."""
    rows = (
        records.values(*group, "operation")
        .annotate(
            requests=Count("id"),
            cached=Count("id", filter=Q(cached=True)),
            seconds=Sum("seconds"),
            characters=Sum("characters"),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            total_tokens=Sum("total_tokens"),
        )
        .order_by(*group, "operation")
    )
    return [{key: (0 if value is None else value) for key, value in row.items()} for row in rows]


def _operations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "owner"} for row in rows]


class UsageView(AudioAPIView):
    """Usage totals per operation: seconds of audio, characters, tokens."""

    @extend_schema(
        tags=["usage"],
        parameters=[
            *_DATE_PARAMETERS,
            OpenApiParameter("user", str, description="Staff only: another user's username."),
            OpenApiParameter("all", bool, description="Staff only: totals of every user."),
        ],
        responses={200: UsageSerializer},
    )
    def get(self, request: Request) -> Response:
        """The caller's totals (staff: another user's with ``user``, the site's with ``all``)."""
        records = filter_created(UsageRecord.objects.all(), request.query_params)
        user: Any = request.user
        username: str | None = user.get_username()
        params = request.query_params
        wanted = query_value(params, "user")
        if is_staff(user) and params.get("all") in ("1", "true"):
            username = None
        elif is_staff(user) and wanted:
            model = get_user_model()
            user = model._default_manager.filter(**{model.USERNAME_FIELD: wanted}).first()
            if user is None:
                raise NotFound(f"No user '{wanted}'.", param="user")
            username = user.get_username()
            records = records.filter(owner=user)
        else:
            records = records.filter(owner=user)
        return Response({"user": username, "operations": _totals(records)})


class UsageByUserPagination(PageNumberPagination):
    """Users by username, a page at a time."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class UsageByUserView(AudioAPIView):
    """Per-user usage totals for staff."""

    permission_classes = [IsStaff]
    pagination_class = UsageByUserPagination

    @extend_schema(
        tags=["usage"], parameters=_DATE_PARAMETERS, responses={200: UsageByUserPageSerializer}
    )
    def get(self, request: Request) -> Response:
        """Every user with recorded usage, with their totals per operation (by username)."""
        records = filter_created(UsageRecord.objects.all(), request.query_params)
        model = get_user_model()
        users = (
            model._default_manager.filter(audio_usage__in=records)
            .distinct()
            .order_by(model.USERNAME_FIELD)
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(users, request, view=self) or []
        by_owner: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for row in _totals(records.filter(owner__in=[u.pk for u in page]), "owner"):
            by_owner[row["owner"]].append(row)
        data = [{"user": u.get_username(), "operations": _operations(by_owner[u.pk])} for u in page]
        return paginator.get_paginated_response(data)
