"""Reading input files safely: design files, workload files, Hugging Face configs, platform
TOMLs.

:func:`read_text` checks what a path is before opening it -- a FIFO would block the
reader forever, a device or a directory is not a file -- bounds its size, and decodes
UTF-8; :func:`parse_structured` parses JSON or TOML text.  Every problem raises the
caller's error class with one line naming the file.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.json"
    >>> _ = path.write_bytes(b'{"a": 1}')
    >>> parse_structured(read_text(path, "design file"), path)
    {'a': 1}
    >>> _ = path.write_bytes(b'{"a": "\\xe9"}')
    >>> read_text(path, "design file")
    Traceback (most recent call last):
    ...
    ssropt.errors.SsroptError: design file '...x.json' is not UTF-8 text (byte 0xe9 at offset 7)
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

from ssropt.errors import SsroptError

#: the largest input file read, 16 MiB (a design file or platform TOML is a few KiB)
MAX_INPUT_BYTES = 16 * 2**20

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def path_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, in words (``a regular file``, ``a FIFO`` ...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def special_file(path: str | Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file (links followed); None for a
    regular file or a path that does not exist."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return None if stat.S_ISREG(mode) else path_kind(mode)


def read_text(path: str | Path, what: str = "file", error: type[Exception] = SsroptError) -> str:
    """The UTF-8 text of the regular file ``path`` (at most :data:`MAX_INPUT_BYTES`)."""
    shown = repr(str(path))
    try:
        info = os.stat(path)
    except OSError as exc:
        raise error(f"cannot read {what} {shown}: {exc.strerror}") from None
    except ValueError:  # an embedded NUL byte
        raise error(f"cannot read {what} {shown}: not a valid path") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"cannot read {what} {shown}: it is {path_kind(info.st_mode)}, not a regular file")
    if info.st_size > MAX_INPUT_BYTES:
        raise error(f"{what} {shown} is {info.st_size:,} bytes: at most {MAX_INPUT_BYTES:,}")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise error(f"cannot read {what} {shown}: {exc.strerror}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise error(f"{what} {shown} is larger than {MAX_INPUT_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{what} {shown} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def parse_structured(text: str, path: str | Path, error: type[Exception] = SsroptError,
                     toml: bool | None = None):
    """JSON (or TOML: ``toml``, by default for a ``.toml`` path) ``text`` parsed; one line
    naming ``path`` for malformed text, numbers too long to convert and nesting too deep."""
    path = Path(path)
    toml = path.suffix.lower() == ".toml" if toml is None else toml
    kind = "TOML" if toml else "JSON"
    try:
        return tomllib.loads(text) if toml else json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise error(f"{path}: not valid {kind}: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise error(f"{path}: not valid {kind}: {str(exc).splitlines()[0][:120]}") from None
