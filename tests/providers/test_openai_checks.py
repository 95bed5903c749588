"""System checks on the OpenAI provider's OPTIONS (E005, E007, E008)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.test import override_settings

from django_audio.checks import check_settings
from django_audio.providers.openai import OpenAIProvider

BACKEND = "django_audio.providers.openai.OpenAIProvider"


def ids(options: dict[str, Any]) -> list[str | None]:
    return [m.id for m in OpenAIProvider.check_options("default", options)]


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.openai.com/v1",
        "https://example.openai.azure.com/openai",
        "http://localhost:8000/v1",
        "http://127.0.0.1:8000/v1",
        "http://127.3.4.5/v1",
        "http://[::1]:8000/v1",
        "http://speaches.localhost/v1",
    ],
)
def test_api_key_over_https_or_to_a_local_host_is_fine(base_url: str) -> None:
    assert ids({"api_key": "sk-x", "base_url": base_url}) == []


@pytest.mark.parametrize(
    "base_url", ["http://api.example.com/v1", "http://10.0.0.5:8000/v1", "http://[2001:db8::1]/v1"]
)
def test_api_key_over_plain_http_to_a_remote_host_is_e007(base_url: str) -> None:
    [error] = OpenAIProvider.check_options(
        "stt", {"api_key": "sk-secret-value", "base_url": base_url}
    )
    assert error.id == "django_audio.E007"
    assert error.level == checks.ERROR
    assert "https://" in (error.hint or "")
    assert "sk-secret-value" not in error.msg + (error.hint or "")


def test_plain_http_without_a_key_is_fine() -> None:
    assert ids({"base_url": "http://gpu-box.lan:8000/v1"}) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("timeout", 0),
        ("timeout", -1.5),
        ("timeout", "30"),
        ("connect_timeout", 0.0),
        ("max_retries", -1),
        ("max_retries", 1.5),
        ("max_retries", True),
        ("max_retry_wait", -0.1),
        ("max_connections", 0),
        ("max_keepalive_connections", -1),
        ("max_keepalive_connections", "all"),
    ],
)
def test_bad_numbers_are_e008(key: str, value: object) -> None:
    [error] = OpenAIProvider.check_options("default", {key: value})
    assert error.id == "django_audio.E008"
    assert repr(key) in error.msg
    assert error.hint


def test_zero_retries_and_zero_wait_are_allowed() -> None:
    assert ids({"max_retries": 0, "max_retry_wait": 0, "timeout": 0.5}) == []


@pytest.mark.parametrize("keepalive", [None, 0, 10])
def test_keepalive_may_be_none_or_any_count(keepalive: int | None) -> None:
    assert ids({"max_keepalive_connections": keepalive}) == []


@pytest.mark.parametrize("base_url", ["api.openai.com/v1", "ftp://x/v1", 42])
def test_base_url_must_be_http_or_https(base_url: object) -> None:
    assert ids({"base_url": base_url}) == ["django_audio.E008"]


def test_checks_run_through_manage_py_check() -> None:
    setting = {
        "PROVIDERS": {
            "default": {
                "BACKEND": BACKEND,
                "OPTIONS": {"api_key": "sk-1", "base_url": "http://api.example.com/v1"},
            },
            "local": {"BACKEND": BACKEND, "OPTIONS": {"timeout": 0, "api_base": "x"}},
        }
    }
    with override_settings(DJANGO_AUDIO=setting):
        found = sorted(m.id or "" for m in check_settings())
    assert found == ["django_audio.E005", "django_audio.E007", "django_audio.E008"]


def test_every_documented_option_is_accepted() -> None:
    assert OpenAIProvider.option_names() == {
        "api_key",
        "base_url",
        "organization",
        "project",
        "timeout",
        "connect_timeout",
        "max_retries",
        "max_retry_wait",
        "default_headers",
        "max_connections",
        "max_keepalive_connections",
        "api_version",
        "azure_deployment",
    }
