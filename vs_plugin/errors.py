"""Errors about user input: one line that names the file and the problem."""

from __future__ import annotations

import errno
from pathlib import Path


class InputError(ValueError):
    """Bad input (unreadable media, silent audio, missing file...), tied to a path."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path is not None else problem)

    def __reduce__(self):  # rebuilt from its fields when it crosses a process boundary
        return (type(self), (self.path, self.problem))


class ConfigError(InputError):
    """A bad option or config value, not tied to one file: one line that names the option.

    An ``InputError`` (and so a ``ValueError``), so callers that catch either still do.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(None, problem)

    def __reduce__(self):
        return (type(self), (self.problem,))


DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class OutputError(OSError):
    """An output could not be written (no space left, quota): one line naming the output.

    Raised instead of recording the item as failed: the input was fine, so stages stop here
    and a rerun (after freeing space) continues where this one stopped.
    """

    def __init__(self, path: str | Path, problem: str, code: int = errno.ENOSPC) -> None:
        super().__init__(code, problem)
        self.path = Path(path)
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"

    def __reduce__(self):
        return (type(self), (self.path, self.problem, self.errno))


def is_disk_full(exc: BaseException) -> bool:
    """True for an OSError that means the disk (or quota) is full."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL
