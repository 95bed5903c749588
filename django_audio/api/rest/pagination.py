"""Cursor pagination: stable pages while rows are being added, no ``COUNT(*)`` per page."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Newest first, by ``created_at`` (ties broken by the offset DRF keeps in the cursor)."""

    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
