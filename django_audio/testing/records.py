"""What the fake upstream records about each request, and the multipart parser it uses.

Multipart bodies are split with a small parser over the standard library's header parser,
so the fake needs neither python-multipart nor a web framework.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import HTTP
from typing import Any

import httpx

__all__ = [
    "RecordedRequest",
    "UploadedFile",
    "form_list",
    "form_str",
    "parse_multipart",
    "split_path",
]

_DEPLOYMENT = re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/(?P<rest>.+)$")


# --------------------------------------------------------------------------- records


@dataclass
class UploadedFile:
    """A file part of a recorded multipart request."""

    name: str
    filename: str | None
    content_type: str | None
    size: int
    data: bytes = field(repr=False)


@dataclass
class RecordedRequest:
    """One request the fake received, as it arrived.

    ``headers`` is case-insensitive (``headers["authorization"]``); ``form`` holds the
    multipart text fields (names ending in ``[]`` are always lists, repeated names become
    lists); ``files`` the file parts by field name; ``json`` the decoded JSON body.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: httpx.Headers
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    body_size: int = 0
    request_id: str = ""
    #: The Azure deployment from ``/openai/deployments/{deployment}/…``, else ``None``.
    deployment: str | None = None
    #: The status the fake answered with (set once the response has started).
    status: int | None = None

    @property
    def api_version(self) -> str | None:
        """The ``api-version`` query parameter (Azure)."""
        return self.query.get("api-version")

    @property
    def auth_header(self) -> str | None:
        """Which header carried the key: ``"authorization"``, ``"api-key"`` or ``None``."""
        if "authorization" in self.headers:
            return "authorization"
        if "api-key" in self.headers:
            return "api-key"
        return None

    @property
    def operation(self) -> str:
        """The path after ``/v1/`` or the deployment (``audio/speech``, ``chat/completions``)."""
        return split_path(self.path)[1]


def split_path(path: str) -> tuple[str | None, str]:
    """``(deployment, operation)`` of a request path."""
    m = _DEPLOYMENT.match(path)
    if m:
        return m["deployment"], m["rest"].strip("/")
    for prefix in ("/openai/v1/", "/v1/"):
        if path.startswith(prefix):
            return None, path[len(prefix) :].strip("/")
    return None, path.strip("/")


# --------------------------------------------------------------------------- multipart


def parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Split a ``multipart/form-data`` body into text fields and file parts."""
    header = BytesHeaderParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("Malformed multipart body: no boundary.")
    form: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for raw in body.split(delimiter)[1:]:
        if raw.startswith(b"--"):
            break
        head, sep, data = raw.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("Malformed multipart body: part without headers.")
        data = data.removesuffix(b"\r\n")
        headers = BytesHeaderParser(policy=HTTP).parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        filename = headers.get_param("filename", header="content-disposition")
        if not isinstance(name, str):
            raise ValueError("Malformed multipart body: part without a name.")
        if isinstance(filename, str):
            ctype = headers.get("content-type")
            files[name] = UploadedFile(
                name=name,
                filename=filename,
                content_type=str(ctype) if ctype else None,
                size=len(data),
                data=data,
            )
            continue
        value = data.decode("utf-8", errors="replace")
        if name.endswith("[]"):
            form.setdefault(name, []).append(value)
        elif name in form:
            previous = form[name]
            form[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            form[name] = value
    return form, files


def form_list(form: dict[str, Any], name: str) -> list[str]:
    """An array field sent as ``name[]`` (OpenAI SDK) or repeated ``name``."""
    values = form.get(f"{name}[]", form.get(name, []))
    return list(values) if isinstance(values, list) else [values]


def form_str(form: dict[str, Any], name: str) -> str | None:
    value = form.get(name)
    if isinstance(value, list):
        return str(value[-1]) if value else None
    return value if value is None else str(value)
