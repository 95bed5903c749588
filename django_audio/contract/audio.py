"""Audio payloads handed to providers: a path, bytes, or an open file."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..exceptions import InvalidRequest


@dataclass
class AudioFile:
    """An audio payload: a path on disk, bytes, or an open binary file.

    Paths and open files are streamed to providers in chunks, never read whole.
    """

    content: bytes | IO[bytes] | str | os.PathLike[str]
    filename: str = "audio"
    content_type: str | None = None

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], content_type: str | None = None) -> AudioFile:
        """An audio file on disk."""
        return cls(Path(path), filename=Path(path).name, content_type=content_type)

    @property
    def path(self) -> Path | None:
        """The file's path on disk, when it has one."""
        if isinstance(self.content, str | os.PathLike):
            return Path(self.content)
        name = getattr(self.content, "name", None)
        if isinstance(name, str) and os.path.isfile(name):
            return Path(name)
        return None

    @property
    def size(self) -> int | None:
        """Size in bytes, when it can be known without reading."""
        if isinstance(self.content, bytes):
            return len(self.content)
        if isinstance(self.content, str | os.PathLike):
            return os.path.getsize(self.content)
        size = getattr(self.content, "size", None)
        if isinstance(size, int):
            return size
        with contextlib.suppress(OSError, AttributeError, ValueError):
            pos = self.content.tell()
            end = self.content.seek(0, io.SEEK_END)
            self.content.seek(pos)
            return end - pos
        return None

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """Open for reading from the start; does not close a caller's file object."""
        if isinstance(self.content, bytes):
            yield io.BytesIO(self.content)
        elif isinstance(self.content, str | os.PathLike):
            with open(self.content, "rb") as fh:
                yield fh
        else:
            with contextlib.suppress(OSError, AttributeError, ValueError):
                self.content.seek(0)
            yield self.content

    def read(self) -> bytes:
        """All the bytes (for small payloads such as voice samples)."""
        with self.open() as fh:
            return fh.read()

    def validate(self, param: str, max_size: int | None) -> None:
        """Refuse an empty or oversized payload, naming ``param``."""
        size = self.size
        if size == 0:
            raise InvalidRequest(f"The '{param}' is empty.", param=param, code="empty_file")
        if max_size is not None and size is not None and size > max_size:
            raise InvalidRequest(
                f"The '{param}' is {size} bytes; the limit is {max_size} bytes.",
                param=param,
                code="file_too_large",
            )
