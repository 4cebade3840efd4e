"""The storage errors, and the one-line form of any error message."""

from __future__ import annotations

from ssropt.errors import SsroptError


class StorageError(SsroptError):
    """A storage URL cannot be opened, or a batch of trials cannot be written."""


class StorageUnavailable(StorageError):
    """The storage could not be reached for the moment (connection refused or dropped,
    database restarting or locked, journal file I/O error): nothing was written, and the
    same operation may succeed when retried."""


def _one_line(error: object) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
