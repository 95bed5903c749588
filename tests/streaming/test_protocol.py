"""Errors map to websocket close codes in one place."""

from __future__ import annotations

import pytest

from django_audio.exceptions import (
    ConsentError,
    InvalidRequest,
    NotFound,
    UnsupportedFeature,
    UpstreamBadRequest,
    UpstreamRateLimited,
    UpstreamServerError,
)
from django_audio.streaming.protocol import (
    CloseCode,
    ProtocolError,
    close_code_for,
    event_for_exception,
)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (InvalidRequest("bad", param="x"), CloseCode.BAD_MESSAGE),
        (InvalidRequest("big", code="file_too_large"), CloseCode.FRAME_TOO_LARGE),
        (UnsupportedFeature("no"), CloseCode.BAD_MESSAGE),
        (NotFound("gone"), CloseCode.NOT_FOUND),
        (ConsentError("consent"), CloseCode.FORBIDDEN),
        (UpstreamBadRequest("bad upstream", upstream_status=400), CloseCode.BAD_MESSAGE),
        (UpstreamRateLimited("slow down", upstream_status=429), CloseCode.TOO_MANY_SESSIONS),
        (UpstreamServerError("boom", upstream_status=503), CloseCode.UPSTREAM_ERROR),
        (ProtocolError("x", CloseCode.UNSUPPORTED_AUDIO), CloseCode.UNSUPPORTED_AUDIO),
        (RuntimeError("secret internals"), CloseCode.SERVER_ERROR),
    ],
)
def test_close_codes(exc, code):
    assert close_code_for(exc) == code


def test_unexpected_errors_do_not_leak_details():
    event = event_for_exception(RuntimeError("password=hunter2"))
    assert event["type"] == "error"
    assert "hunter2" not in str(event)
    assert event["error"]["code"] == "server_error"


def test_audio_errors_keep_openai_shape():
    event = event_for_exception(InvalidRequest("Bad speed.", param="speed"), item_id="item_0001")
    assert event == {
        "type": "error",
        "error": {"message": "Bad speed.", "type": "invalid_request_error", "param": "speed",
                  "code": None},
        "item_id": "item_0001",
    }  # fmt: skip
