"""HTML pieces of the admin: the ``<audio>`` player and the staff-only audio stream.

The player never points at the storage URL: a private S3 bucket has none that a browser may
fetch. It points at an admin view that checks the staff user's view permission and streams
the file from storage, answering ``Range`` requests so the browser can seek.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

__all__ = ["audio_player", "stream_field_file"]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 64 * 1024


def audio_player(url: str | None, *, content_type: str = "") -> SafeString:
    """An HTML5 ``<audio controls>`` for ``url`` (or a dash when there is no audio)."""
    if not url:
        return format_html("<span>{}</span>", "—")
    return format_html(
        '<audio controls preload="none" src="{}" data-content-type="{}">'
        '<a href="{}">{}</a></audio>',
        url,
        content_type,
        url,
        _("Download the audio"),
    )


def _chunks(fh: IO[bytes], length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            data = fh.read(min(_CHUNK, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        fh.close()


def stream_field_file(
    request: HttpRequest, field: FieldFile, content_type: str, filename: str
) -> HttpResponse | StreamingHttpResponse:
    """Stream a stored file, honouring a single ``Range: bytes=a-b`` (206) for seeking."""
    if not field or not field.name:
        raise Http404(_("This row has no stored audio."))
    storage = field.storage
    try:
        size = storage.size(field.name)
        fh = storage.open(field.name, "rb")
    except (OSError, NotImplementedError) as exc:
        raise Http404(_("The stored audio is missing.")) from exc
    content_type = content_type or "application/octet-stream"
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match and (match[1] or match[2]):
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:  # "bytes=-N": the last N bytes
            start, end = max(0, size - int(match[2])), size - 1
        if start > end or start >= size:
            fh.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        fh.seek(start)
        partial = StreamingHttpResponse(
            _chunks(fh, end - start + 1), status=206, content_type=content_type
        )
        partial["Content-Range"] = f"bytes {start}-{end}/{size}"
        partial["Content-Length"] = str(end - start + 1)
        partial["Accept-Ranges"] = "bytes"
        return partial
    full = FileResponse(fh, content_type=content_type, filename=filename)
    full["Content-Length"] = str(size)
    full["Accept-Ranges"] = "bytes"
    return full
