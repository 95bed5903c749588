"""The shared httpx plumbing, driven through ``httpx.MockTransport``.

Retry decisions, backoff bounds, ``Retry-After`` parsing, error mapping, secret redaction
and SSE framing, without a server.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from django_audio.contract import AudioFile, SpeechAudioDelta
from django_audio.exceptions import (
    StreamInterrupted,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamConnectionError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamServerError,
    UpstreamTimeout,
)
from django_audio.providers.http import (
    ApiKeyAuth,
    CoalescedStream,
    HttpCall,
    HttpConfig,
    HttpTransport,
    Redactor,
    RetryPolicy,
    StreamDecoder,
    build_request,
    retry_after,
)
from django_audio.providers.openai import _SpeechEventsDecoder
from django_audio.streaming import DONE, encode_comment, encode_event, iter_events
from django_audio.streaming.sse import is_event_stream

Handler = Callable[[httpx.Request], httpx.Response]


def transport(handler: Handler, **config: Any) -> HttpTransport:
    """An HttpTransport whose sync and async clients both answer through ``handler``."""
    opts: dict[str, Any] = {"base_url": "https://upstream.test/v1", "max_retry_wait": 0.0}
    opts.update(config)
    mock = httpx.MockTransport(handler)
    return HttpTransport(
        HttpConfig(**opts),
        provider="mock",
        auth=ApiKeyAuth("sk-mock-secret"),
        secrets=["sk-mock-secret"],
        transport=mock,
        async_transport=mock,
    )


def scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving ``answers`` in order (exceptions are raised), and the requests seen."""
    seen: list[httpx.Request] = []
    queue: Iterator[httpx.Response | Exception] = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = next(queue)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def error(status: int, message: str = "nope", **headers: str) -> httpx.Response:
    body = {"error": {"message": message, "type": "x", "param": "voice", "code": "bad_voice"}}
    return httpx.Response(status, json=body, headers={"x-request-id": "req_1", **headers})


CALL = HttpCall("POST", "audio/speech", json={"input": "hi"})


# --------------------------------------------------------------------------- Retry-After


def test_retry_after_prefers_milliseconds() -> None:
    headers = httpx.Headers({"retry-after-ms": "250", "retry-after": "9"})
    assert retry_after(headers) == 0.25


def test_retry_after_seconds_and_http_date() -> None:
    assert retry_after(httpx.Headers({"retry-after": "3"})) == 3.0
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (retry_after(httpx.Headers({"retry-after": when})) or 0) <= 30
    assert retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after(httpx.Headers()) is None


# --------------------------------------------------------------------------- policy


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    policy = RetryPolicy(max_retries=2, max_wait=1.0, base=0.5)
    assert policy.wait_after_response(httpx.Response(status), 0) is not None
    assert policy.wait_after_response(httpx.Response(status), 2) is None  # retries used up


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert RetryPolicy().wait_after_response(httpx.Response(status), 0) is None


def test_x_should_retry_overrides_the_status() -> None:
    policy = RetryPolicy(max_wait=0.5)
    no = httpx.Response(500, headers={"x-should-retry": "false"})
    yes = httpx.Response(400, headers={"x-should-retry": "true"})
    assert policy.wait_after_response(no, 0) is None
    assert policy.wait_after_response(yes, 0) is not None


def test_retry_after_is_honoured_and_bounded() -> None:
    policy = RetryPolicy(max_wait=2.0)
    assert policy.wait_after_response(httpx.Response(429, headers={"retry-after": "1.5"}), 0) == 1.5
    assert policy.wait_after_response(httpx.Response(429, headers={"retry-after": "60"}), 0) == 2.0


def test_backoff_is_full_jitter_within_the_exponential_cap() -> None:
    policy = RetryPolicy(max_retries=10, max_wait=3.0, base=0.5)
    for attempt, cap in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 3.0), (6, 3.0)]:
        waits = [policy.backoff(attempt) for _ in range(200)]
        assert all(0.0 <= w <= cap for w in waits)
        assert max(waits) > cap / 2  # jittered over the whole range, not a constant
        assert min(waits) < cap / 2


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ConnectTimeout("slow connect"), True),
        (httpx.RemoteProtocolError("server disconnected"), True),
        (httpx.ReadError("reset"), True),
        (httpx.ReadTimeout("slow answer"), False),
        (httpx.WriteTimeout("slow upload"), False),
        (httpx.PoolTimeout("pool full"), False),
    ],
)
def test_which_transport_errors_are_retried(exc: httpx.HTTPError, retried: bool) -> None:
    assert (RetryPolicy().wait_after_error(exc, 0) is not None) is retried


# --------------------------------------------------------------------------- sending


def test_send_retries_then_succeeds() -> None:
    handler, seen = scripted(
        httpx.ConnectError("refused"), error(503), httpx.Response(200, json={"ok": True})
    )
    response = transport(handler).send(CALL)
    assert response.json() == {"ok": True}
    assert len(seen) == 3
    assert all(r.headers["authorization"] == "Bearer sk-mock-secret" for r in seen)


async def test_async_send_retries_then_succeeds() -> None:
    handler, seen = scripted(error(429), httpx.Response(200, json={"ok": 1}))
    http = transport(handler)
    response = await http.asend(CALL)
    assert response.json() == {"ok": 1}
    assert len(seen) == 2
    await http.aclose()


@pytest.mark.parametrize(
    ("config", "kept"),
    [({}, 20), ({"max_connections": 7}, 7), ({"max_keepalive_connections": 0}, 0),
     ({"max_keepalive_connections": None}, 100), ({"max_keepalive_connections": 500}, 100)],
)  # fmt: skip
def test_keepalive_limit_defaults_to_httpx_and_never_exceeds_the_pool(
    config: dict[str, Any], kept: int
) -> None:
    limits = HttpConfig("https://upstream.test/v1", **config).limits()
    assert limits.max_keepalive_connections == kept
    assert limits.max_connections == config.get("max_connections", 100)


def form_call(size: int) -> HttpCall:
    return HttpCall(
        "POST",
        "audio/transcriptions",
        data={"model": "whisper-1", "prompt": "hello", "stream": "true", "language": None},
        files={"file": AudioFile(bytes(range(256)) * (size // 256), filename="a.wav")},
    )


def unbounded(body: bytes) -> bytes:
    """``body`` with its random multipart boundary replaced by a fixed one."""
    return body.replace(body[2 : body.index(b"\r\n")], b"BOUNDARY")


def plain_body(call: HttpCall) -> tuple[bytes, int]:
    """The multipart body as httpx encodes it, and the number of pieces it comes in."""
    with httpx.Client(base_url="https://upstream.test/v1") as client, call.opened() as kwargs:
        request = client.build_request(call.method, call.path, **kwargs)
        pieces = list(request.stream)
    return unbounded(b"".join(pieces)), len(pieces)


def test_a_small_multipart_body_is_sent_in_one_write() -> None:
    call = form_call(50_000)
    body, pieces = plain_body(call)
    assert pieces > 10  # what httpx alone would write
    with httpx.Client(base_url="https://upstream.test/v1") as client, call.opened() as kwargs:
        request = build_request(client, call, kwargs)
        assert isinstance(request.stream, CoalescedStream)
        for _attempt in range(2):  # a retry sends it again, whole
            sent = list(request.stream)
            assert len(sent) == 1
            assert unbounded(sent[0]) == body
        assert int(request.headers["content-length"]) == len(sent[0])


async def test_a_large_multipart_body_still_streams_in_bounded_chunks() -> None:
    call = form_call(300_000)
    body, _ = plain_body(call)
    async with httpx.AsyncClient(base_url="https://upstream.test/v1") as client:
        with call.opened() as kwargs:
            request = build_request(client, call, kwargs)
            chunks = [chunk async for chunk in request.stream]  # type: ignore[union-attr]
    assert unbounded(b"".join(chunks)) == body
    assert len(chunks) > 1
    assert all(65536 <= len(c) < 2 * 65536 for c in chunks[:-1])


def test_coalescing_joins_pieces_up_to_the_size() -> None:
    stream = CoalescedStream([b"ab", b"c", b"defg", b"h"], size=3)
    assert list(stream) == [b"abc", b"defg", b"h"]
    assert list(CoalescedStream([], size=3)) == []


def test_a_json_call_is_left_as_httpx_builds_it() -> None:
    with httpx.Client(base_url="https://upstream.test/v1") as client, CALL.opened() as kwargs:
        request = build_request(client, CALL, kwargs)
    assert not isinstance(request.stream, CoalescedStream)


async def test_the_upstream_receives_the_coalesced_form_intact() -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.read())
        return httpx.Response(200, json={"text": "ok"})

    call = form_call(50_000)
    http = transport(handler)
    assert (await http.asend(call)).json() == {"text": "ok"}
    assert http.send(call).json() == {"text": "ok"}
    await http.aclose()
    body, _ = plain_body(call)
    assert [unbounded(b) for b in seen] == [body, body]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, UpstreamBadRequest),
        (401, UpstreamAuthError),
        (403, UpstreamPermissionDenied),
        (404, UpstreamNotFound),
        (413, UpstreamBadRequest),
        (422, UpstreamBadRequest),
        (429, UpstreamRateLimited),
        (500, UpstreamServerError),
        (409, UpstreamServerError),
        (302, UpstreamResponseError),
    ],
)
def test_error_mapping(status: int, cls: type[Exception]) -> None:
    answers = [error(status, "Bad voice.")] * 3
    handler, seen = scripted(*answers)

    with pytest.raises(cls) as info:
        transport(handler, max_retries=2).send(CALL)

    exc: Any = info.value
    assert exc.upstream_status == status
    assert exc.request_id == "req_1"
    assert exc.param == "voice"
    assert exc.code == "bad_voice"
    assert exc.body["error"]["message"] == "Bad voice."
    assert exc.provider == "mock"
    assert "Bad voice." in str(exc)
    assert len(seen) == (3 if status in (409, 429, 500) else 1)


def test_non_json_error_body_is_kept_as_text() -> None:
    handler, _ = scripted(httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(UpstreamServerError) as info:
        transport(handler, max_retries=0).send(CALL)
    assert info.value.body == "<html>Bad gateway</html>"
    assert "Bad gateway" in str(info.value)


def test_rate_limit_carries_retry_after() -> None:
    handler, _ = scripted(error(429, **{"retry-after-ms": "1500"}))
    with pytest.raises(UpstreamRateLimited) as info:
        transport(handler, max_retries=0).send(CALL)
    assert info.value.retry_after == 1.5


def test_exhausted_connection_errors_and_timeouts() -> None:
    handler, seen = scripted(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(UpstreamConnectionError):
        transport(handler, max_retries=2).send(CALL)
    assert len(seen) == 3

    handler, seen = scripted(httpx.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeout) as info:
        transport(handler, max_retries=2).send(CALL)
    assert len(seen) == 1
    assert "waiting for" in str(info.value)


def test_parse_reports_missing_fields_as_malformed() -> None:
    handler, _ = scripted(httpx.Response(200, json={"no_id": 1}, headers={"x-request-id": "r"}))
    http = transport(handler)
    response = http.send(CALL)
    with pytest.raises(UpstreamResponseError) as info:
        http.parse(response, lambda d: d["id"])
    assert info.value.request_id == "r"
    assert info.value.upstream_status == 200


# --------------------------------------------------------------------------- streams


def sse_response(*frames: bytes, **headers: str) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream", **headers},
        stream=httpx.ByteStream(b"".join(frames)),
    )


def test_error_event_inside_a_stream_becomes_a_typed_error() -> None:
    delta = encode_event({"type": "speech.audio.delta", "audio": "AAAA"})
    bad = encode_event({"error": {"message": "model overloaded", "type": "server_error"}})
    handler, _ = scripted(sse_response(delta, bad, **{"x-request-id": "req_s"}))
    http = transport(handler)
    stream = http.stream(http.send(CALL, stream=True), _SpeechEventsDecoder())

    first = next(stream)
    with pytest.raises(UpstreamServerError) as info:
        next(stream)

    assert isinstance(first, SpeechAudioDelta)
    assert first.audio == b"\x00\x00\x00"
    assert info.value.request_id == "req_s"
    assert "model overloaded" in str(info.value)


def test_sse_stream_ending_early_is_interrupted() -> None:
    delta = encode_event({"type": "speech.audio.delta", "audio": "AAAA"})
    handler, _ = scripted(sse_response(delta))
    http = transport(handler)
    stream = http.stream(http.send(CALL, stream=True), _SpeechEventsDecoder())
    assert isinstance(next(stream), SpeechAudioDelta)
    with pytest.raises(StreamInterrupted):
        next(stream)


def test_a_decoder_that_wants_events_refuses_a_plain_body() -> None:
    handler, _ = scripted(httpx.Response(200, json={"oops": True}))
    http = transport(handler)
    stream = http.stream(http.send(CALL, stream=True), StreamDecoder[Any]())
    with pytest.raises(UpstreamResponseError):
        list(stream)


# --------------------------------------------------------------------------- secrets, SSE frames


def test_redactor_masks_secrets_everywhere() -> None:
    r = Redactor(["sk-abcdef", None, "x"])
    assert r.text("key sk-abcdef!") == "key [redacted]!"
    assert r.data({"error": {"message": ["sk-abcdef"]}, "n": 1}) == {
        "error": {"message": ["[redacted]"]},
        "n": 1,
    }
    assert r.text("x marks") == "x marks"  # too short to be a real secret


def test_auth_repr_hides_the_key() -> None:
    auth = ApiKeyAuth("sk-very-secret", "api-key", None)
    assert "sk-very-secret" not in repr(auth)
    request = next(auth.auth_flow(httpx.Request("GET", "https://x.test")))
    assert request.headers["api-key"] == "sk-very-secret"


def test_encode_event_and_done() -> None:
    frame = encode_event({"type": "transcript.text.delta", "delta": "héllo\nworld"})
    assert frame == b'data: {"type":"transcript.text.delta","delta":"h\xc3\xa9llo\\nworld"}\n\n'
    assert encode_event({"a": 1}, event="speech.audio.done") == (
        b'event: speech.audio.done\ndata: {"a":1}\n\n'
    )
    assert DONE == b"data: [DONE]\n\n"
    assert encode_comment("ping") == b": ping\n\n"


def test_frames_round_trip_through_httpx_sse() -> None:
    frames = [encode_event({"n": i}) for i in range(3)] + [encode_comment("keep-alive"), DONE]
    response = sse_response(*frames)
    assert is_event_stream(response)
    events = list(iter_events(response))
    assert [e.data for e in events] == ['{"n":0}', '{"n":1}', '{"n":2}', "[DONE]"]
    assert json.loads(events[1].data) == {"n": 1}
    assert not is_event_stream(httpx.Response(200, headers={"content-type": "audio/mpeg"}))
