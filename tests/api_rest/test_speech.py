"""Speech clips over the REST API: synthesize, list, filter, retrieve, delete, play."""

from __future__ import annotations

from typing import Any

import pytest

from django_audio.models import SpeechAsset

from .conftest import API, error_of, session_client, synthesize, voice


def test_create_stores_a_clip(auth: Any, alice: Any, test_provider: Any) -> None:
    client = auth(alice)
    payload = {"input": "Hello from the REST API.", "voice": "coral", "model": "tts-1",
               "response_format": "wav", "speed": 1.25}  # fmt: skip
    response = client.post(f"{API}/speech/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    asset = SpeechAsset.objects.get(public_id=body["id"])
    assert response["Location"] == f"{API}/speech/{asset.public_id}/"
    assert asset.owner == alice
    assert asset.status == "completed"
    assert body["voice"] == "coral"
    assert body["speed"] == 1.25
    assert body["content_type"] == "audio/wav"
    assert body["size"] == asset.audio.size > 44
    assert body["audio_url"].endswith(f"{API}/speech/{asset.public_id}/audio/")
    assert test_provider.calls_for("speech")[0]["request"].input == payload["input"]

    # The same request again reuses the stored clip: 200, the same id, no upstream call.
    again = client.post(f"{API}/speech/", payload, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == asset.public_id
    assert len(test_provider.calls_for("speech")) == 1


def test_create_with_a_custom_voice(alice: Any, staff: Any, test_provider: Any) -> None:
    v = voice(alice, staff)
    response = session_client(alice).post(
        f"{API}/speech/",
        {"input": "In my own voice.", "voice": v.public_id, "model": "tts-1"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["voice"] == v.public_id


@pytest.mark.parametrize(
    ("payload", "status", "param"),
    [
        ({"voice": "alloy", "model": "tts-1"}, 400, "input"),
        ({"input": "Hi", "model": "tts-1"}, 400, "voice"),
        ({"input": "Hi", "voice": "alloy", "model": "tts-1", "speed": 9}, 400, "speed"),
        ({"input": "Hi", "voice": "alloy", "model": "tts-1", "response_format": "ogg"}, 400,
         "response_format"),
        ({"input": "Hi", "voice": "voice_0123456789abcdef01234567", "model": "tts-1"}, 404,
         "voice"),
        ({"input": "x" * 5000, "voice": "alloy", "model": "tts-1"}, 400, "input"),
    ],
)  # fmt: skip
def test_bad_requests(alice: Any, payload: dict[str, Any], status: int, param: str) -> None:
    response = session_client(alice).post(f"{API}/speech/", payload, format="json")
    assert response.status_code == status, response.content
    assert error_of(response)["param"] == param
    assert not SpeechAsset.objects.exists()


def test_disabled_voice_is_403(alice: Any, staff: Any) -> None:
    v = voice(alice, staff)
    session_client(alice).post(f"{API}/voices/{v.public_id}/disable/", {}, format="json")
    response = session_client(alice).post(
        f"{API}/speech/", {"input": "Hi", "voice": v.public_id, "model": "tts-1"}, format="json"
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "voice_disabled"


def test_list_filter_search_retrieve_delete(
    auth: Any, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    hello = synthesize(alice, "Hello world.", voice="alloy")
    bye = synthesize(alice, "Goodbye moon.", voice="echo", response_format="mp3")
    client = auth(alice)
    url = f"{API}/speech/"
    listed = client.get(url).json()["results"]
    assert [r["id"] for r in listed] == [bye.public_id, hello.public_id]
    assert [r["id"] for r in client.get(url, {"voice": "alloy"}).json()["results"]] == [
        hello.public_id
    ]
    assert [r["id"] for r in client.get(url, {"response_format": "mp3"}).json()["results"]] == [
        bye.public_id
    ]
    assert [r["id"] for r in client.get(url, {"search": "goodbye"}).json()["results"]] == [
        bye.public_id
    ]
    assert client.get(f"{url}{hello.public_id}/").json()["input"] == "Hello world."
    name = hello.audio.name
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{url}{hello.public_id}/").status_code == 204
    assert not SpeechAsset.objects.filter(pk=hello.pk).exists()
    assert not hello.audio.storage.exists(name)
