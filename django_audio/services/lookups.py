"""Owner-scoped lookups by public id and per-user usage totals, for the edges."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum

from ..models import SpeechAsset, Transcript, UsageRecord, Voice, VoiceConsent
from .common import get_owned, owner_filter


def get_transcript(owner: Any, public_id: str) -> Transcript:
    """``owner``'s transcript (staff: anyone's), else :class:`NotFound`."""
    return get_owned(Transcript, owner, public_id)  # type: ignore[no-any-return]


def get_speech_asset(owner: Any, public_id: str) -> SpeechAsset:
    """``owner``'s speech asset (staff: anyone's), else :class:`NotFound`."""
    return get_owned(SpeechAsset, owner, public_id)  # type: ignore[no-any-return]


def get_consent(owner: Any, public_id: str) -> VoiceConsent:
    """``owner``'s voice consent (staff: anyone's), else :class:`NotFound`."""
    return get_owned(VoiceConsent, owner, public_id)  # type: ignore[no-any-return]


def get_voice(owner: Any, public_id: str) -> Voice:
    """``owner``'s custom voice (staff: anyone's), else :class:`NotFound`."""
    return get_owned(Voice, owner, public_id)  # type: ignore[no-any-return]


def usage_totals(owner: Any = None, *, all_users: bool = False) -> dict[str, dict[str, Any]]:
    """Totals per operation: requests, seconds, characters, tokens (one query)."""
    qs = (
        UsageRecord.objects.all()
        if all_users
        else UsageRecord.objects.filter(**owner_filter(owner))
    )
    rows = (
        qs.values("operation")
        .annotate(
            requests=Count("id"),
            seconds=Sum("seconds"),
            characters=Sum("characters"),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            total_tokens=Sum("total_tokens"),
        )
        .order_by("operation")
    )
    return {r["operation"]: {k: (v or 0) for k, v in r.items() if k != "operation"} for r in rows}
