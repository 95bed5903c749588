"""Per-user throttles with defaults that apply until a project configures its own rates.

Rates come from DRF's own ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` under the scopes
below (read on every request, so ``override_settings`` works); a missing scope falls back to
:data:`DEFAULT_RATES` instead of raising, and ``None`` turns a throttle off. Anonymous clients
are throttled by IP address, like DRF's ``UserRateThrottle``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

#: Rate per scope when the project does not set one.
DEFAULT_RATES: dict[str, str | None] = {
    "django_audio": "1200/hour",
    "django_audio_create": "120/hour",
}


class AudioUserRateThrottle(UserRateThrottle):
    """Every request to the REST resources, per user (scope ``django_audio``)."""

    scope = "django_audio"

    def get_rate(self) -> str | None:
        """The project's rate for this scope, else the default (never raises)."""
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES or {}
        if self.scope in rates:
            rate: str | None = rates[self.scope]
            return rate
        return DEFAULT_RATES.get(self.scope)


class AudioCreateRateThrottle(AudioUserRateThrottle):
    """Requests that create something (and usually call a provider): ``django_audio_create``."""

    scope = "django_audio_create"

    def allow_request(self, request: Request, view: Any) -> bool:
        """Only ``POST`` counts; reads and deletes are left to the general throttle."""
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
