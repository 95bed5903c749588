"""The websocket protocol's fixed parts: close codes, error events, group names.

Errors become websocket close codes here and nowhere else (HTTP statuses are mapped once,
in the API). Application close codes mirror the HTTP status they correspond to
(``4000 + status``), so ``4401`` reads as "401 Unauthorized". See ``docs/websockets.md``.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

from ..exceptions import AudioError, ProviderError

__all__ = [
    "CloseCode",
    "ProtocolError",
    "caption_control_group",
    "caption_group",
    "close_code_for",
    "dumps",
    "error_event",
    "event_for_exception",
    "progress_group",
]


class CloseCode(IntEnum):
    """Close codes sent by the server (documented in ``docs/websockets.md``)."""

    #: The session ended as asked (``stop``, or the last event of a finished job).
    NORMAL = 1000
    #: A text frame that is not JSON, not a known message, or has invalid fields.
    BAD_MESSAGE = 4400
    #: No logged-in session and no valid token.
    UNAUTHENTICATED = 4401
    #: The session or voice is not yours, or a custom voice lacks an approved consent.
    FORBIDDEN = 4403
    #: No such transcript / caption session (or it belongs to someone else).
    NOT_FOUND = 4404
    #: The session reached ``LIVE_CAPTION_MAX_SECONDS`` (it was saved first).
    SESSION_TOO_LONG = 4408
    #: A frame larger than ``WEBSOCKET_MAX_FRAME_SIZE``.
    FRAME_TOO_LARGE = 4413
    #: A binary frame that is not 16-bit PCM at the declared rate (or arrives before ``start``).
    UNSUPPORTED_AUDIO = 4415
    #: More than ``LIVE_CAPTION_MAX_SESSIONS`` live sessions for this user.
    TOO_MANY_SESSIONS = 4429
    #: An unexpected server error (logged).
    SERVER_ERROR = 4500
    #: The provider failed in a way that ends the exchange.
    UPSTREAM_ERROR = 4502
    #: A viewer read so slowly that its bounded queue overflowed with final events.
    TOO_SLOW = 4503


class ProtocolError(Exception):
    """Bad client input on a websocket: becomes an ``error`` event and a close code."""

    def __init__(
        self,
        message: str,
        close_code: CloseCode,
        *,
        code: str = "invalid_message",
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.close_code = close_code
        self.code = code
        self.param = param
        self.error_type = error_type

    def to_event(self) -> dict[str, Any]:
        """The ``error`` event for this error."""
        return error_event(self.message, code=self.code, param=self.param, type=self.error_type)


_BY_STATUS: dict[int, CloseCode] = {
    400: CloseCode.BAD_MESSAGE,
    401: CloseCode.UNAUTHENTICATED,
    403: CloseCode.FORBIDDEN,
    404: CloseCode.NOT_FOUND,
    413: CloseCode.FRAME_TOO_LARGE,
    415: CloseCode.UNSUPPORTED_AUDIO,
    429: CloseCode.TOO_MANY_SESSIONS,
}


def close_code_for(exc: BaseException) -> CloseCode:
    """The close code an exception ends a websocket with (the one mapping place)."""
    if isinstance(exc, ProtocolError):
        return exc.close_code
    if isinstance(exc, ProviderError) and exc.status >= 500:
        return CloseCode.UPSTREAM_ERROR
    if isinstance(exc, AudioError):
        if exc.code == "file_too_large":
            return CloseCode.FRAME_TOO_LARGE
        return _BY_STATUS.get(exc.status, CloseCode.SERVER_ERROR)
    return CloseCode.SERVER_ERROR


def error_event(
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    type: str = "invalid_request_error",  # OpenAI's field name
    **extra: Any,
) -> dict[str, Any]:
    """An ``error`` event in OpenAI's shape: ``{"type": "error", "error": {...}}``."""
    return {
        "type": "error",
        "error": {"message": message, "type": type, "param": param, "code": code},
        **extra,
    }


def event_for_exception(exc: BaseException, **extra: Any) -> dict[str, Any]:
    """The ``error`` event describing ``exc`` (never a traceback or a credential)."""
    if isinstance(exc, ProtocolError):
        return {**exc.to_event(), **extra}
    if isinstance(exc, AudioError):
        body = exc.to_dict()["error"]
        return {"type": "error", "error": body, **extra}
    return (
        error_event(
            "The server failed to handle this message.", code="server_error", type="server_error"
        )
        | extra
    )


def dumps(event: dict[str, Any]) -> str:
    """Compact JSON for one event."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


# Group names: ASCII letters, digits, ``-``, ``_`` and ``.`` only, under 100 characters.


def caption_group(session_key: str) -> str:
    """The group viewers of a caption session join (events flow speaker → viewers)."""
    return f"django_audio.captions.{session_key}"


def caption_control_group(session_key: str) -> str:
    """The group only the speaker joins (viewers ask it for the text so far)."""
    return f"django_audio.captions.{session_key}.ctl"


def progress_group(public_id: str) -> str:
    """The group followers of a stored transcript join."""
    return f"django_audio.transcript.{public_id}"
