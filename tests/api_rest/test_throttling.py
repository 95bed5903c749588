"""Per-user throttling: on by default, configured through DRF's throttle rates."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from django_audio.api.rest.throttling import (
    DEFAULT_RATES,
    AudioCreateRateThrottle,
    AudioUserRateThrottle,
)

from .conftest import API, error_of, session_client, wav_upload


def _rates(**rates: str | None) -> Any:
    return override_settings(
        REST_FRAMEWORK={
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
            "DEFAULT_THROTTLE_RATES": rates,
        }
    )


def test_defaults_apply_without_settings() -> None:
    assert AudioUserRateThrottle().get_rate() == DEFAULT_RATES["django_audio"] is not None
    assert AudioCreateRateThrottle().get_rate() == DEFAULT_RATES["django_audio_create"]
    with _rates(django_audio="5/min", django_audio_create=None):
        assert AudioUserRateThrottle().get_rate() == "5/min"
        assert AudioCreateRateThrottle().get_rate() is None  # None turns it off


def test_too_many_requests_is_429_with_retry_after(auth: Any, alice: Any, bob: Any) -> None:
    with _rates(django_audio="3/min"):
        client = auth(alice)
        for _ in range(3):
            assert client.get(f"{API}/transcripts/").status_code == 200
        response = client.get(f"{API}/transcripts/")
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
        error = error_of(response)
        assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
        # Per user: bob has his own allowance.
        assert auth(bob).get(f"{API}/transcripts/").status_code == 200


def test_creating_has_its_own_lower_rate(alice: Any) -> None:
    with _rates(django_audio="100/min", django_audio_create="1/min"):
        client = session_client(alice)
        first = client.post(
            f"{API}/transcripts/", {"file": wav_upload(), "model": "whisper-1"}, format="multipart"
        )
        assert first.status_code == 201
        second = client.post(
            f"{API}/transcripts/", {"file": wav_upload(), "model": "whisper-1"}, format="multipart"
        )
        assert second.status_code == 429
        assert int(second["Retry-After"]) >= 1
        # Reading is not creating.
        assert client.get(f"{API}/transcripts/").status_code == 200
