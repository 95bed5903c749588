"""Over real HTTP (a live server): API-key auth, a seek into a clip, an export, an error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import srt

from django_audio.models import ApiKey

from .conftest import API, synthesize, transcribe

pytestmark = pytest.mark.django_db(transaction=True)


def test_player_seeks_over_http(live_server: Any, alice: Any) -> None:
    asset = synthesize(alice, "Something to listen to, long enough to seek in. " * 2)
    with asset.audio.open("rb") as fh:
        data = fh.read()
    _, raw = ApiKey.objects.create_key(alice, name="player")
    headers = {"Authorization": f"Bearer {raw}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=10) as http:
        listed = http.get(f"{API}/speech/").json()
        url = listed["results"][0]["audio_url"]
        assert url.startswith(live_server.url)
        part = http.get(url, headers={"Range": "bytes=44-1043", "Accept": "audio/*"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 44-1043/{len(data)}"
        assert part.content == data[44:1044]
        whole = http.get(url)
        assert whole.status_code == 200
        assert whole.content == data
        bad = http.get(url, headers={"Range": f"bytes={len(data)}-"})
        assert bad.status_code == 416
        assert bad.headers["content-range"] == f"bytes */{len(data)}"

        row = transcribe(alice, response_format="verbose_json")
        export = http.get(f"{API}/transcripts/{row.public_id}/export/srt/")
        assert [s.content for s in srt.parse(export.text)] == [
            s["text"].strip() for s in row.segments
        ]

        missing = http.get(f"{API}/transcripts/tr_000000000000000000000000/")
        assert missing.status_code == 404
        assert set(missing.json()["error"]) == {"message", "type", "param", "code"}
