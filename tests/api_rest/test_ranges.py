"""HTTP Range requests on stored audio: players can seek; bad ranges answer 416."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from django_audio.api.rest.ranges import ByteRange, RangeNotSatisfiable, parse_range

from .conftest import API, session_client, synthesize


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-199", (100, 199)),
        ("bytes=900-", (900, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),  # a suffix longer than the file is the whole file
        ("bytes=990-5000", (990, 999)),  # clipped to the end
        ("Bytes = 5-6", (5, 6)),
        ("items=0-5", None),  # another unit: ignored
        ("bytes=0-1,5-6", None),  # several ranges: the whole file is sent instead
    ],
)
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    result = parse_range(header, 1000)
    assert (None if result is None else (result.first, result.last)) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=1000-1001", "bytes=5-4", "bytes=-0", "bytes=abc", "bytes=-"]
)
def test_parse_range_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_empty_file_has_no_satisfiable_range() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=-10", 0)
    assert ByteRange(0, 9, 10).content_range == "bytes 0-9/10"


@pytest.fixture
def clip(alice: Any) -> tuple[Any, bytes]:
    """A stored speech clip of alice and its bytes."""
    asset = synthesize(alice, "A sentence long enough to seek around in. " * 3)
    with asset.audio.open("rb") as fh:
        data = fh.read()
    assert len(data) > 2000
    return asset, data


def _get(client: Any, asset: Any, **headers: str) -> Any:
    return client.get(f"{API}/speech/{asset.public_id}/audio/", **headers)


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_whole_file(auth: Any, alice: Any, clip: tuple[Any, bytes]) -> None:
    asset, data = clip
    response = _get(auth(alice), asset, HTTP_ACCEPT="audio/*")
    assert response.status_code == 200
    assert _body(response) == data
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(data))
    assert "Content-Range" not in response


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),  # the first bytes (a player probing the header)
        ("bytes=1000-1499", 1000, 1499),  # the middle (seeking)
        ("bytes=-300", None, None),  # a suffix (the last 300 bytes)
        ("bytes=1500-", 1500, None),  # from an offset to the end
    ],
)
def test_partial_content(
    auth: Any, alice: Any, clip: tuple[Any, bytes], header: str, first: Any, last: Any
) -> None:
    asset, data = clip
    size = len(data)
    first = size - 300 if first is None else first
    last = size - 1 if last is None else last
    response = _get(auth(alice), asset, HTTP_RANGE=header)
    assert response.status_code == 206
    assert _body(response) == data[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Content-Type"] == "audio/wav"


@pytest.mark.parametrize("header", ["bytes=999999-", "bytes=50-10", "bytes=x-y"])
def test_unsatisfiable_range_is_416(alice: Any, clip: tuple[Any, bytes], header: str) -> None:
    asset, data = clip
    response = _get(session_client(alice), asset, HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(data)}"


def test_if_range(alice: Any, clip: tuple[Any, bytes]) -> None:
    asset, data = clip
    client = session_client(alice)
    fresh = _get(client, asset, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f'"{asset.sha256}"')
    assert fresh.status_code == 206
    assert _body(fresh) == data[:10]
    stale = _get(client, asset, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"something-else"')
    assert stale.status_code == 200
    assert _body(stale) == data


def test_head_sends_headers_only(alice: Any, clip: tuple[Any, bytes]) -> None:
    asset, data = clip
    response = session_client(alice).head(
        f"{API}/speech/{asset.public_id}/audio/", HTTP_RANGE="bytes=10-19"
    )
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert response.content == b""


@pytest.mark.django_db(transaction=True)
async def test_asgi_streams_with_an_async_iterator(alice: Any, clip: tuple[Any, bytes]) -> None:
    """Under ASGI the body is an async iterator, so Django does not buffer it whole."""
    asset, data = clip
    client = AsyncClient()
    await client.aforce_login(alice)
    try:
        response = await client.get(
            f"{API}/speech/{asset.public_id}/audio/", headers={"Range": "bytes=100-"}
        )
        assert response.status_code == 206
        assert response.is_async
        chunks = [chunk async for chunk in response.streaming_content]
        assert b"".join(chunks) == data[100:]
    finally:
        # The view ran in asgiref's sync thread: close the connection it opened there.
        await sync_to_async(connections.close_all)()
