"""The websocket token endpoint and signed session ids."""

from __future__ import annotations

import pytest
from django.core import signing

from django_audio.models import ApiKey
from django_audio.streaming import tokens

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.streaming.urls")]

URL = "/audio/ws-token/"


def test_logged_in_user_gets_a_token(client, django_user_model):
    user = django_user_model.objects.create_user("ann", password="pw")
    client.force_login(user)
    response = client.post(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 60
    assert body["param"] == "token"
    assert tokens.read_token(body["token"]) == str(user.pk)
    assert response["Cache-Control"].startswith("max-age=0")


def test_api_key_client_gets_a_token(client, django_user_model):
    user = django_user_model.objects.create_user("ann")
    _, raw = ApiKey.objects.create_key(user, "ci")
    response = client.post(URL, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert tokens.read_token(response.json()["token"]) == str(user.pk)


def test_bad_key_and_anonymous_are_refused(client, django_user_model):
    response = client.post(URL, headers={"Authorization": "Bearer sk-audio-dead-beef"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert "sk-audio-dead" not in response.content.decode()
    response = client.post(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_revoked_key_is_refused(client, django_user_model):
    user = django_user_model.objects.create_user("ann")
    key, raw = ApiKey.objects.create_key(user, "ci")
    key.revoke()
    assert client.post(URL, headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


def test_tokens_expire_and_resist_forgery(django_user_model):
    user = django_user_model.objects.create_user("ann")
    token = tokens.issue_token(user)
    with pytest.raises(signing.SignatureExpired):
        tokens.read_token(token, max_age=-1)
    with pytest.raises(signing.BadSignature):
        tokens.read_token(token[:-2] + "xx")
    other_salt = signing.dumps({"u": str(user.pk)}, salt="something else")
    with pytest.raises(signing.BadSignature):
        tokens.read_token(other_salt)


def test_session_ids_carry_their_owner(django_user_model):
    user = django_user_model.objects.create_user("ann")
    session_id, key = tokens.new_session_id(user)
    assert tokens.parse_session_id(session_id) == (key, str(user.pk))
    value, sig = session_id.rsplit(":", 1)
    forged = value.rsplit("-", 1)[0] + "-999:" + sig
    with pytest.raises(signing.BadSignature):
        tokens.parse_session_id(forged)
