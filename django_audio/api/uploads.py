"""Receiving uploads: to temporary files on disk, refused as soon as a limit is passed.

:class:`LimitedUploadHandler` writes each file part to a temporary file and raises
:class:`~django_audio.api.errors.PayloadTooLarge` the moment a part (or the whole body, by its
``Content-Length``) is over its limit, so an oversized body is never read to the end under
WSGI. Under ASGI, Django reads the body before the view runs; there
:class:`~django_audio.api.asgi.BodyLimitMiddleware` refuses oversized bodies first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from ..conf import audio_settings
from .errors import PayloadTooLarge, UnsupportedMediaType

__all__ = [
    "FORM_OVERHEAD",
    "LimitedUploadHandler",
    "max_body_size",
    "parse_multipart",
    "parse_multipart_sync",
]

#: Room for the non-file form fields and the multipart framing, on top of the file limits.
FORM_OVERHEAD = 1024 * 1024


def max_body_size() -> int:
    """The largest request body the OpenAI-compatible API accepts."""
    return max(audio_settings.MAX_UPLOAD_SIZE, audio_settings.MAX_VOICE_SAMPLE_SIZE) + (
        FORM_OVERHEAD
    )


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Stream each file part to a temporary file; stop at once when a limit is passed."""

    def __init__(self, request: HttpRequest, limits: Mapping[str, int], default_limit: int) -> None:
        super().__init__(request)
        self.limits = dict(limits)
        self.default_limit = default_limit
        self.received = 0
        self.opened: list[UploadedFile[Any]] = []

    def _limit(self, field_name: str) -> int:
        return self.limits.get(field_name, self.default_limit)

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        """Refuse a body whose declared length is already over every limit combined."""
        total = sum(self.limits.values()) + FORM_OVERHEAD
        if content_length > total:
            raise PayloadTooLarge(
                f"The request body is {content_length} bytes; the limit is {total} bytes.",
                code="request_too_large",
            )

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        """Start a new temporary file for this part."""
        super().new_file(field_name, *args, **kwargs)
        self.received = 0
        self.opened.append(self.file)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        """Write a chunk; over the part's limit, discard every file and refuse the request."""
        self.received += len(raw_data)
        limit = self._limit(self.field_name)
        if self.received > limit:
            self.discard()
            raise PayloadTooLarge(
                f"The '{self.field_name}' is larger than the limit of {limit} bytes.",
                param=self.field_name,
            )
        self.file.write(raw_data)
        return None

    def discard(self) -> None:
        """Close (and so delete) every temporary file this handler opened."""
        for upload in self.opened:
            upload.close()
        self.opened.clear()


def parse_multipart_sync(
    request: HttpRequest, limits: Mapping[str, int]
) -> tuple[QueryDict, MultiValueDict[str, UploadedFile[Any]]]:
    """Parse a multipart body, files to disk, limits enforced (blocking: call off the loop)."""
    content_type = request.content_type or ""
    if content_type != "multipart/form-data":
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {content_type or '(none)'!r}: "
            "this endpoint takes multipart/form-data.",
        )
    handler = LimitedUploadHandler(request, limits, audio_settings.MAX_UPLOAD_SIZE)
    request.upload_handlers = [handler]
    try:
        return request.POST, request.FILES
    except BaseException:
        handler.discard()
        raise


async def parse_multipart(
    request: HttpRequest, limits: Mapping[str, int]
) -> tuple[QueryDict, MultiValueDict[str, UploadedFile[Any]]]:
    """:func:`parse_multipart_sync` in a worker thread, so the event loop keeps serving."""
    return await sync_to_async(parse_multipart_sync, thread_sensitive=False)(request, limits)
