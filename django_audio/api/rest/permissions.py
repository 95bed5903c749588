"""Who may do what: any signed-in user on their own rows, staff on everyone's.

Owner scoping itself is done by the querysets (see ``views.base``), so another user's id is
indistinguishable from an id that does not exist: both answer 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def is_staff(user: Any) -> bool:
    """Whether ``user`` is an active, signed-in staff member."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def owned_by(queryset: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """``queryset`` restricted to ``user``'s rows; staff see every row."""
    if is_staff(user):
        return queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    return queryset.filter(owner=user)


class IsStaff(BasePermission):
    """Staff only (consent review, per-user usage)."""

    message = "Only staff members may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        """Signed-in staff."""
        return is_staff(request.user)

    def has_object_permission(self, request: Request, view: Any, obj: Model) -> bool:
        """Signed-in staff."""
        return is_staff(request.user)
