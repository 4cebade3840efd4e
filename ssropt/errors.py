"""The error base classes of ssropt: every bad input raises a subclass of :class:`SsroptError`.

Each part of ssropt names its own errors (``WorkloadError``, ``PlatformError``,
``DesignError``, ``SpaceError``, ``StorageError``, ``StudyError`` ...), all subclasses of
:class:`SsroptError`; the CLI prints ``error: <message>`` on one line and exits with
status 2.  Command-line arguments that argparse refuses raise :class:`UsageError`, which
the CLI prints as ``ssropt COMMAND: error: <message>``.

Example:
    >>> str(UsageError("argument --budget: expected a positive integer, got '0'", "ssropt run"))
    "ssropt run: argument --budget: expected a positive integer, got '0'"
"""

from __future__ import annotations


class SsroptError(ValueError):
    """Bad input: the message names the problem (file, key, value)."""


class UsageError(SsroptError):
    """A command-line argument is invalid.

    Args:
        message: what is wrong (argparse's message, e.g. ``argument --budget: ...``).
        command: the command whose arguments were refused (``ssropt run``), if known.
    """

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message if command is None else f"{command}: {message}")
        self.message = message
        self.command = command
