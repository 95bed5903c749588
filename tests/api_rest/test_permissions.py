"""Owner scoping: a user can never see, fetch, download, stream or delete another's rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_audio.models import ApiKey, SpeechAsset, Transcript, Voice, VoiceConsent

from .conftest import (
    API,
    consent,
    content_of,
    error_of,
    session_client,
    synthesize,
    transcribe,
    voice,
)

#: One stored row per resource, made for ``owner`` (``staff`` approves consents).
MAKERS = {
    "transcripts": lambda owner, staff: transcribe(owner),
    "speech": lambda owner, staff: synthesize(owner),
    "consents": lambda owner, staff: consent(owner),
    "voices": lambda owner, staff: voice(owner, staff),
}
MODELS = {
    "transcripts": Transcript,
    "speech": SpeechAsset,
    "consents": VoiceConsent,
    "voices": Voice,
}
#: Read-only sub-resources per resource.
READS = {
    "transcripts": ["", "audio/", "export/txt/", "export/srt/", "export/vtt/", "export/json/"],
    "speech": ["", "audio/"],
    "consents": [""],
    "voices": [""],
}
#: Unsafe actions per resource (besides DELETE).
WRITES = {"voices": ["disable/"], "transcripts": [], "speech": [], "consents": []}
#: A well-formed id that belongs to nobody.
GUESSES = {
    "transcripts": "tr_000000000000000000000000",
    "speech": "sp_000000000000000000000000",
    "consents": "cons_000000000000000000000000",
    "voices": "voice_000000000000000000000000",
}


@pytest.fixture(params=list(MAKERS))
def resource(request: pytest.FixtureRequest) -> str:
    """Each resource in turn."""
    return str(request.param)


def test_other_users_rows_are_not_found(
    auth: Any, alice: Any, bob: Any, staff: Any, resource: str
) -> None:
    bobs = MAKERS[resource](bob, staff)
    alices = MAKERS[resource](alice, staff)
    client = auth(alice)
    base = f"{API}/{resource}"

    listed = client.get(f"{base}/").json()["results"]
    assert [r["id"] for r in listed] == [alices.public_id]
    # Asking for bob's rows by owner is a staff-only filter: alice still sees only hers.
    assert [r["id"] for r in client.get(f"{base}/", {"owner": "bob"}).json()["results"]] == [
        alices.public_id
    ]
    assert client.get(f"{base}/", {"search": bobs.public_id}).json()["results"] == []

    for sub in READS[resource]:
        for headers in ({}, {"HTTP_RANGE": "bytes=0-9"}):
            theirs = client.get(f"{base}/{bobs.public_id}/{sub}", **headers)
            guessed = client.get(f"{base}/{GUESSES[resource]}/{sub}", **headers)
            assert theirs.status_code == guessed.status_code == 404, (sub, theirs.content)
            # Indistinguishable from an id that does not exist.
            assert error_of(theirs) == error_of(guessed)
            assert bobs.public_id not in theirs.content.decode()
        mine = client.get(f"{base}/{alices.public_id}/{sub}")
        assert mine.status_code == 200, (sub, mine.content)
        assert content_of(mine)

    for sub in WRITES[resource]:
        assert client.post(f"{base}/{bobs.public_id}/{sub}", {}, format="json").status_code == 404
    assert client.delete(f"{base}/{bobs.public_id}/").status_code == 404
    bobs.refresh_from_db()  # still there, unchanged
    if resource == "voices":
        assert bobs.status == "active"


def test_staff_sees_and_manages_everyones_rows(
    auth: Any, alice: Any, bob: Any, staff: Any, resource: str
) -> None:
    rows = [MAKERS[resource](user, staff) for user in (alice, bob)]
    client = auth(staff)
    base = f"{API}/{resource}"
    listed = {r["id"] for r in client.get(f"{base}/").json()["results"]}
    assert listed == {row.public_id for row in rows}
    only_bob = client.get(f"{base}/", {"owner": "bob"}).json()["results"]
    assert [r["id"] for r in only_bob] == [rows[1].public_id]
    for sub in READS[resource]:
        response = client.get(f"{base}/{rows[1].public_id}/{sub}")
        assert response.status_code == 200, (sub, response.content)
        assert content_of(response)
    assert client.delete(f"{base}/{rows[1].public_id}/").status_code == 204
    assert not MODELS[resource].objects.filter(pk=rows[1].pk).exists()


def test_anonymous_and_bad_keys_are_401(alice: Any, staff: Any, resource: str) -> None:
    row = MAKERS[resource](alice, staff)
    anonymous = session_client(alice)
    anonymous.logout()
    for path in (f"{API}/{resource}/", f"{API}/{resource}/{row.public_id}/", f"{API}/usage/"):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert error_of(response)["type"] == "invalid_request_error"
    key, raw = ApiKey.objects.create_key(alice, name="soon revoked")
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert anonymous.get(f"{API}/{resource}/").status_code == 200
    key.revoke()
    revoked = anonymous.get(f"{API}/{resource}/")
    assert revoked.status_code == 401
    assert error_of(revoked)["code"] == "invalid_api_key"
    assert raw not in revoked.content.decode()
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer sk-audio-nope-guess")
    assert anonymous.get(f"{API}/{resource}/").status_code == 401


def test_lists_make_a_constant_number_of_queries(alice: Any, staff: Any, resource: str) -> None:
    client = session_client(staff)  # staff: rows of several owners, reviewers and consents
    counts = []
    for _ in range(2):
        MAKERS[resource](alice, staff)
        MAKERS[resource](staff, staff)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}/{resource}/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts  # no query per row
