"""What the management commands share: a small stderr progress bar and the exit codes.

Exit codes: ``0`` everything worked, ``1`` some items failed (the others were done),
``2`` a usage error (bad arguments or settings: nothing was done).
"""

from __future__ import annotations

from django.core.management.base import CommandError, OutputWrapper

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "Progress", "failed", "usage_error"]

EXIT_FAILED = 1
EXIT_USAGE = 2

#: Width of the bar, in characters.
BAR_WIDTH = 24


def usage_error(message: str) -> CommandError:
    """A :class:`CommandError` exiting with status 2 (nothing was done)."""
    return CommandError(message, returncode=EXIT_USAGE)


def failed(message: str) -> CommandError:
    """A :class:`CommandError` exiting with status 1 (some items failed)."""
    return CommandError(message, returncode=EXIT_FAILED)


class Progress:
    """A progress bar on a terminal, one line per step otherwise (logs, pipes, tests).

    The bar goes to stderr so that stdout carries only the command's output.
    """

    def __init__(
        self,
        stream: OutputWrapper,
        total: int,
        *,
        enabled: bool = True,
        unit: str = "",
        every_step: bool = True,
    ) -> None:
        self.stream = stream
        #: Off a terminal: a line per step, or (``False``) only one line once complete.
        self.every_step = every_step
        self.total = max(0, total)
        self.done = 0
        self.enabled = enabled
        self.unit = unit
        self.interactive = stream.isatty()

    def _bar(self) -> str:
        filled = BAR_WIDTH * self.done // self.total if self.total else BAR_WIDTH
        return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"

    def advance(self, step: int = 1, label: str = "") -> None:
        """Count ``step`` more units done and redraw (or print a line) with ``label``."""
        self.done = min(self.total, self.done + step) if self.total else self.done + step
        if not self.enabled:
            return
        count = f"{self.done}/{self.total}{self.unit}" if self.total else f"{self.done}{self.unit}"
        if self.interactive:
            self.stream.write(f"\r{self._bar()} {count} {label}"[:200].ljust(80), ending="")
            self.stream.flush()
        elif self.every_step or (self.total and self.done >= self.total):
            self.stream.write(f"[{count}] {label}".rstrip())

    def close(self) -> None:
        """End the bar's line on a terminal."""
        if self.enabled and self.interactive:
            self.stream.write("")
