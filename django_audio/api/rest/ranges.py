"""Serving stored audio with HTTP Range support (RFC 9110 §14), streamed from storage.

Players seek by asking for byte ranges: ``Range: bytes=start-end``, ``bytes=start-`` and the
suffix form ``bytes=-N`` answer ``206 Partial Content`` with ``Content-Range``; a range that
cannot be satisfied (or a malformed ``bytes`` range) answers ``416`` with
``Content-Range: bytes */size``. Other units, several ranges at once and a stale
``If-Range`` are ignored and the whole file is sent (``200``), as the RFC allows.

The file is read in chunks and never held whole in memory. Under ASGI the chunks come from
an async iterator: Django buffers a sync iterator completely before sending it there.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import IO

from asgiref.sync import sync_to_async
from django.core.files.storage import Storage
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from ...exceptions import NotFound

__all__ = ["ByteRange", "RangeNotSatisfiable", "parse_range", "serve_file"]

#: Bytes read from storage per chunk.
CHUNK_SIZE = 64 * 1024

_BYTES_RANGE = re.compile(r"^\s*bytes\s*=\s*(.*)$", re.IGNORECASE)
_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range ``first`` to ``last`` of a file of ``size`` bytes."""

    first: int
    last: int
    size: int

    @property
    def length(self) -> int:
        """Number of bytes in the range."""
        return self.last - self.first + 1

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` header value."""
        return f"bytes {self.first}-{self.last}/{self.size}"


class RangeNotSatisfiable(ValueError):
    """The ``Range`` header asks for bytes the file does not have, or is malformed (416)."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range ``header`` asks for, ``None`` to send the whole file.

    Raises :class:`RangeNotSatisfiable` for a malformed or unsatisfiable ``bytes`` range.
    """
    if not header:
        return None
    match = _BYTES_RANGE.match(header)
    if match is None:
        return None  # another unit: ignore the header
    specs = match.group(1).split(",")
    if len(specs) > 1:
        return None  # multipart/byteranges is not offered; the whole file is a valid answer
    spec = _SPEC.match(specs[0])
    if spec is None or spec.group(1) == spec.group(2) == "":
        raise RangeNotSatisfiable(f"Malformed range {header!r}.")
    first_s, last_s = spec.group(1), spec.group(2)
    if first_s == "":  # suffix: the last N bytes
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable("Empty suffix range.")
        return ByteRange(max(0, size - suffix), size - 1, size)
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last < first:
        raise RangeNotSatisfiable("The range ends before it starts.")
    if first >= size:
        raise RangeNotSatisfiable("The range starts after the end of the file.")
    return ByteRange(first, min(last, size - 1), size)


def _chunks(fh: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    try:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            data = fh.read(min(CHUNK_SIZE, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        fh.close()


async def _achunks(fh: IO[bytes], start: int, length: int) -> AsyncIterator[bytes]:
    # File reads block, so each runs in a worker thread; the event loop stays free.
    read = sync_to_async(fh.read, thread_sensitive=False)
    try:
        await sync_to_async(fh.seek, thread_sensitive=False)(start)
        remaining = length
        while remaining > 0:
            data = await read(min(CHUNK_SIZE, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        await sync_to_async(fh.close, thread_sensitive=False)()


def _etag(etag_source: str) -> str:
    return f'"{etag_source}"'


def serve_file(
    request: HttpRequest,
    storage: Storage,
    name: str,
    *,
    content_type: str,
    filename: str,
    etag_source: str = "",
    as_attachment: bool = False,
) -> HttpResponse | StreamingHttpResponse:
    """Stream the stored file ``name``, honouring ``Range`` (206 / 416) and ``HEAD``.

    ``etag_source`` (e.g. the content's SHA-256) becomes a strong ``ETag`` and is what an
    ``If-Range`` header is compared with. A file missing from storage is :class:`NotFound`.
    """
    if not name:
        raise NotFound("No audio is stored for this object.", param="id", code="audio_not_found")
    try:
        size = storage.size(name)
    except (OSError, NotImplementedError) as exc:
        raise NotFound(
            "The audio of this object is no longer stored.", param="id", code="audio_not_found"
        ) from exc
    etag = _etag(etag_source) if etag_source else None
    header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if header and if_range is not None and (etag is None or if_range.strip() != etag):
        header = None  # the client's copy is stale: it gets the whole current file
    try:
        byte_range = parse_range(header, size)
    except RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    first, length = (byte_range.first, byte_range.length) if byte_range else (0, size)
    if request.method == "HEAD":
        response_h = HttpResponse(status=206 if byte_range else 200, content_type=content_type)
        _set_headers(response_h, length, byte_range, etag, filename, as_attachment)
        return response_h
    try:
        fh = storage.open(name, "rb")
    except OSError as exc:
        raise NotFound(
            "The audio of this object is no longer stored.", param="id", code="audio_not_found"
        ) from exc
    content = (
        _achunks(fh, first, length)
        if isinstance(request, ASGIRequest)
        else _chunks(fh, first, length)
    )
    response_s = StreamingHttpResponse(
        content, status=206 if byte_range else 200, content_type=content_type
    )
    _set_headers(response_s, length, byte_range, etag, filename, as_attachment)
    # Closed with the response too, in case the client leaves before the iterator ends.
    response_s._resource_closers.append(fh.close)  # type: ignore[attr-defined]
    return response_s


def _set_headers(
    response: HttpResponse | StreamingHttpResponse,
    length: int,
    byte_range: ByteRange | None,
    etag: str | None,
    filename: str,
    as_attachment: bool,
) -> None:
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private"
    response["X-Content-Type-Options"] = "nosniff"
    if byte_range is not None:
        response["Content-Range"] = byte_range.content_range
    if etag:
        response["ETag"] = etag
    disposition = content_disposition_header(as_attachment, filename)
    if disposition:
        response["Content-Disposition"] = disposition
