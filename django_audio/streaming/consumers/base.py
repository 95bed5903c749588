"""What every django-audio consumer shares: authentication, events, ending with a code."""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from ...conf import audio_settings
from ..protocol import CloseCode, ProtocolError, close_code_for, dumps, event_for_exception

__all__ = ["AudioConsumer"]

logger = logging.getLogger("django_audio.streaming")

_AUTH_MESSAGES = {
    "token_expired": "The websocket token has expired; ask for a new one.",
    "invalid_token": "The websocket token is invalid.",
}


class AudioConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    """Base consumer: JSON events out, errors as ``error`` events plus a close code."""

    closed = False

    #: Channel-layer message types whose handlers never use the database (see
    #: :meth:`dispatch`).
    no_database_messages: frozenset[str] = frozenset()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its database clean-up where no handler needs it.

        Before every handler, Channels closes stale database connections — a trip to the
        single thread that runs all synchronous database code, where the message waits
        behind every other consumer's queries. A speaker sends ten audio frames a second and
        a viewer receives every caption event, and neither touches the database, so those
        messages (binary frames, and :attr:`no_database_messages`) go straight to their
        handler. Everything else (text messages such as ``start`` and ``stop``, connects,
        disconnects) keeps the clean-up, and the code that does query the database runs it
        in that thread as before.
        """
        kind = message.get("type")
        if kind in self.no_database_messages or (
            kind == "websocket.receive" and message.get("bytes") is not None
        ):
            handler = getattr(self, get_handler_name(message), None)
            if handler is not None:
                await handler(message)
                return
        await super().dispatch(message)

    @property
    def user(self) -> Any:
        """The authenticated user, or ``None``."""
        user = self.scope.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return user

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send one JSON event (silently skipped once the socket is closed)."""
        await self.send_frame(text=dumps(event))

    async def send_frame(self, text: str | None = None, data: bytes | None = None) -> bool:
        """Send a text or binary frame; ``False`` (and no exception) if the client is gone.

        A client can vanish between two sends, before its disconnect is dispatched; the
        server then raises (uvicorn: ``ClientDisconnected``). That must not abort the work
        that saves the session, so it only marks the socket closed.
        """
        if self.closed:
            return False
        try:
            if text is not None:
                await self.send(text_data=text)
            else:
                await self.send(bytes_data=data)
        except (OSError, RuntimeError):
            self.closed = True
            return False
        return True

    async def close_with(self, code: int) -> None:
        """Close the socket once."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError, RuntimeError):  # already gone
                await self.close(code=int(code))  # daphne/autobahn want a plain int

    async def fail(self, exc: BaseException, **extra: Any) -> None:
        """Report ``exc`` as an ``error`` event, then close with its code."""
        if not isinstance(exc, ProtocolError) and close_code_for(exc) == CloseCode.SERVER_ERROR:
            logger.exception("Unhandled error in %s", type(self).__name__, exc_info=exc)
        await self.send_event(event_for_exception(exc, **extra))
        await self.close_with(close_code_for(exc))

    async def require_user(self) -> Any:
        """Accept, and return the user; without one, send an error and close with 4401."""
        await self.accept()
        user = self.user
        if user is None:
            reason = self.scope.get("django_audio_auth_error")
            message = _AUTH_MESSAGES.get(
                str(reason), "Authentication required: log in, or connect with ?token=."
            )
            await self.fail(
                ProtocolError(
                    message,
                    CloseCode.UNAUTHENTICATED,
                    code=str(reason or "unauthenticated"),
                    error_type="authentication_error",
                )
            )
        return user

    def check_text_frame(self, text: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        """Parse a JSON control message; oversize, non-JSON or typeless ones raise."""
        if text is None:
            raise ProtocolError(
                "This endpoint accepts JSON text messages only.",
                CloseCode.BAD_MESSAGE,
                code="unexpected_binary",
            )
        if len(text) > audio_settings.WEBSOCKET_MAX_FRAME_SIZE:
            raise ProtocolError(
                f"Message of {len(text)} characters; the limit is "
                f"{audio_settings.WEBSOCKET_MAX_FRAME_SIZE}.",
                CloseCode.FRAME_TOO_LARGE,
                code="frame_too_large",
            )
        try:
            message = json.loads(text)
        except ValueError:
            raise ProtocolError(
                "Text messages must be JSON objects.", CloseCode.BAD_MESSAGE, code="invalid_json"
            ) from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolError(
                'Messages must be JSON objects with a "type".',
                CloseCode.BAD_MESSAGE,
                code="invalid_message",
                param="type",
            )
        return message


def relay_unavailable() -> ProtocolError:
    """The error for a channel layer that failed (e.g. Redis unreachable)."""
    return ProtocolError(
        "The live relay is unavailable; try again shortly.",
        CloseCode.SERVER_ERROR,
        code="relay_unavailable",
        error_type="server_error",
    )


def unknown_type(kind: str, known: tuple[str, ...]) -> ProtocolError:
    """The error for a message ``type`` this endpoint does not know."""
    return ProtocolError(
        f"Unknown message type {kind!r}; expected one of: {', '.join(known)}.",
        CloseCode.BAD_MESSAGE,
        code="unknown_message_type",
        param="type",
    )


def check_fields(message: dict[str, Any], allowed: set[str]) -> None:
    """Refuse fields a message does not define, naming the first."""
    for name in message:
        if name not in allowed:
            raise ProtocolError(
                f"Unknown field {name!r} in a {message['type']!r} message.",
                CloseCode.BAD_MESSAGE,
                code="unknown_parameter",
                param=name,
            )


class ReadOnlyConsumer(AudioConsumer):
    """A consumer that only listens (viewers, followers): any message it gets is an error."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Answer any message with an ``error`` event and the matching close code."""
        if self.closed:
            return
        try:
            message = self.check_text_frame(text_data, bytes_data)
            raise unknown_type(message["type"], ())
        except ProtocolError as exc:
            await self.fail(exc)
