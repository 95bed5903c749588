"""API keys (command, bearer auth, last use), session auth with CSRF, and the error mapping."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from typing import Any

import httpx
import openai
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from django_audio.models import ApiKey

from .conftest import Account, LiveServer


def test_command_prints_only_the_key_on_its_last_line(
    live_server_v1: LiveServer, live_db: Any
) -> None:
    get_user_model().objects.create_user("carol", "c@example.com", "pw")
    out, err = io.StringIO(), io.StringIO()
    call_command("create_audio_api_key", "carol", "--name", "laptop", stdout=out, stderr=err)
    key = out.getvalue().strip().splitlines()[-1]
    assert out.getvalue().strip() == key
    assert key.startswith("sk-audio-")
    row = ApiKey.objects.get(user__username="carol")
    assert row.name == "laptop"
    assert key not in (row.key_hash, row.prefix)
    assert row.prefix in key
    assert key not in err.getvalue()
    assert row.last_used_at is None

    client = openai.OpenAI(base_url=live_server_v1.v1, api_key=key, max_retries=0)
    assert list(client.audio.voice_consents.list()) == []
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_command_refuses_unknown_and_inactive_users(db: Any) -> None:
    with pytest.raises(CommandError, match="No user"):
        call_command("create_audio_api_key", "nobody", stdout=io.StringIO())
    get_user_model().objects.create_user("gone", "g@example.com", "pw", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        call_command("create_audio_api_key", "gone", stdout=io.StringIO())


def test_last_used_is_written_at_most_once_a_minute(alice: Account) -> None:
    alice.client.audio.voice_consents.list()
    first = ApiKey.objects.get(user=alice.user).last_used_at
    alice.client.audio.voice_consents.list()
    assert ApiKey.objects.get(user=alice.user).last_used_at == first
    ApiKey.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    alice.client.audio.voice_consents.list()
    assert ApiKey.objects.get(user=alice.user).last_used_at > first


def test_keys_never_reach_the_logs(alice: Account, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad = alice.key[:-4] + "zzzz"
    client = openai.OpenAI(base_url=alice.client.base_url, api_key=bad, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.audio.voice_consents.list()
    alice.client.audio.voice_consents.list()
    assert alice.key not in caplog.text
    assert bad not in caplog.text


def _session(live: LiveServer, user: Any) -> httpx.Client:
    django_client = Client()
    django_client.force_login(user)
    django_client.get("/admin/login/")  # sets the CSRF cookie
    cookies = {k: v.value for k, v in django_client.cookies.items()}
    return httpx.Client(base_url=live.v1, cookies=cookies, timeout=30)


def test_session_auth_for_browsers_with_csrf(live_server_v1: LiveServer, alice: Account) -> None:
    with _session(live_server_v1, alice.user) as browser:
        listed = browser.get("audio/voice_consents")
        assert listed.status_code == 200
        assert listed.json()["object"] == "list"
        refused = browser.post(
            "audio/speech", json={"model": "tts-1", "input": "x", "voice": "alloy"}
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        token = browser.cookies.get("csrftoken")
        assert token
        allowed = browser.post(
            "audio/speech",
            json={"model": "tts-1", "input": "x", "voice": "alloy"},
            headers={"X-CSRFToken": token, "Referer": live_server_v1.url + "/"},
        )
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["content-type"] == "audio/mpeg"
