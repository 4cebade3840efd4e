"""Writing output files all or nothing: every destination checked first, each file written
to a temporary file beside it and renamed into place.

Every command that writes files (``front --csv/--json/--plot``, ``show --design-out
--gantt``, ``evaluate --gantt``, the reports of ``compare``, ``compare-platforms`` and
``bench``) goes through this module:

* :func:`check_destinations` refuses, before anything runs or is written, a destination
  whose directory is missing or not writable, that is a directory or a special file
  (FIFO, device: ``/dev/full``), that is not writable, has an unknown extension, or is
  named twice;
* :func:`write_outputs` writes several files (:class:`Output`) together: each to a
  temporary file in its own directory, flushed to disk, then all renamed into place -- a
  failure (a full disk, an I/O error) removes the temporary files and leaves every
  destination as it was; :func:`atomic_write` is the same for one file.

A destination ``-`` is standard output (at most one per command).  Every problem raises
:class:`OutputError`, one line naming the file.

Example:
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "front.json"
    >>> write_outputs([Output(out, lambda fh: fh.write("[]"))])
    >>> out.read_text()
    '[]'
    >>> check_destinations([(out.with_suffix(".png"), (".csv",))])
    Traceback (most recent call last):
    ...
    ssropt.outputs.files.OutputError: cannot write '...front.png': the file name must end in .csv
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ssropt.errors import SsroptError
from ssropt.objectives.files import special_file

#: the destination that means standard output
STDOUT = "-"
#: the figure formats a plot or chart may be written in (its file name's extension)
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")

Writer = Callable[[IO[Any]], Any]

#: the files staged by the innermost :func:`staged_outputs` block, if any
_STAGED: contextvars.ContextVar[list[tuple[str, Path]] | None] = contextvars.ContextVar(
    "ssropt_staged_outputs", default=None
)


class OutputError(SsroptError):
    """An output file cannot be written (missing or unwritable directory, a directory or
    special file in the way, unknown extension, full disk, I/O error)."""


@dataclass(frozen=True)
class Output:
    """One file to write: ``writer(fh)`` fills the open file ``fh`` (text, or bytes with
    ``binary``, e.g. ``lambda fh: fig.savefig(fh, format="png")``)."""

    path: str | Path
    writer: Writer
    binary: bool = False


def check_destinations(destinations: Iterable[str | Path | tuple | None], what: str = "") -> None:
    """OutputError unless every destination can be written.

    Each entry is a path, ``(path, suffixes)`` -- the extensions its file name may have,
    e.g. :data:`FIGURE_SUFFIXES` -- or ``None`` (an option not given, skipped); a path
    ``None`` in a pair is skipped too.  ``what`` names the files in messages.
    """
    seen: set[str] = set()
    for entry in destinations:
        path, suffixes = entry if isinstance(entry, tuple) else (entry, None)
        if path is None:
            continue
        text = str(path)
        key = STDOUT if text == STDOUT else os.path.realpath(text)
        if key in seen:
            where = "standard output" if key == STDOUT else repr(text)
            raise OutputError(f"two outputs go to {where}: give each its own destination")
        seen.add(key)
        if text != STDOUT:
            _check_one(text, suffixes, what)


def _check_one(text: str, suffixes: Sequence[str] | None, what: str) -> None:
    label = f"{what} {text!r}" if what else repr(text)
    fail = f"cannot write {label}"
    if not text or text.endswith(os.sep):
        raise OutputError(f"{fail}: not a file name")
    if suffixes is not None and Path(text).suffix.lower() not in suffixes:
        raise OutputError(f"{fail}: the file name must end in {', '.join(suffixes)}")
    target = Path(os.path.realpath(text))
    kind = special_file(target)
    if kind is not None:
        raise OutputError(f"{fail}: it is {kind}, not a regular file")
    directory = target.parent
    if not directory.is_dir():
        raise OutputError(f"{fail}: directory {str(directory)!r} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"{fail}: directory {str(directory)!r} is {_unwritable(directory)}")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"{fail}: the file is not writable")


def _unwritable(directory: Path) -> str:
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return "on a read-only file system"
    except OSError:
        pass
    return "not writable"


def write_outputs(outputs: Iterable[Output]) -> None:
    """Write every output all or nothing (destinations checked first); ``-`` is standard
    output, written after the files.  Inside :func:`staged_outputs` the files join that
    block's set and appear when it ends."""
    outputs = list(outputs)
    check_destinations(out.path for out in outputs)
    with staged_outputs() as staged:
        for out in outputs:
            if str(out.path) != STDOUT:
                staged.append(_stage(out))
    for out in outputs:
        if str(out.path) == STDOUT:
            out.writer(sys.stdout.buffer if out.binary else sys.stdout)
            sys.stdout.flush()


def atomic_write(path: str | Path, writer: Writer, binary: bool = False) -> None:
    """Write one file all or nothing (see :func:`write_outputs`)."""
    write_outputs([Output(path, writer, binary)])


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` all or nothing."""
    atomic_write(path, lambda fh: fh.write(text))


def save_figure(fig: Any, path: str | Path) -> None:
    """``fig.savefig`` all or nothing, in the format of the file name's extension."""
    atomic_write(path, lambda fh: fig.savefig(fh, format=_figure_format(path), bbox_inches="tight"),
                 binary=True)


@contextlib.contextmanager
def staged_outputs() -> Iterator[list[tuple[str, Path]]]:
    """``with staged_outputs():`` -- every file written through this module inside the
    block is staged beside its destination; all are renamed into place when the block
    ends without an error, and all are removed otherwise (a nested block joins the
    outer one)."""
    outer = _STAGED.get()
    if outer is not None:
        yield outer
        return
    staged: list[tuple[str, Path]] = []
    token = _STAGED.set(staged)
    try:
        try:
            yield staged
        finally:
            _STAGED.reset(token)
        for temporary, target in staged:
            try:
                os.replace(temporary, target)
            except OSError as exc:
                raise _output_error(target, exc) from None
    except BaseException:
        for temporary, _ in staged:
            _remove(temporary)
        raise


def figure_output(path: str | Path, draw: Callable[[], Any]) -> Output:
    """The Output of a matplotlib figure: ``draw()`` builds it when the file is written,
    in the format of the file name's extension (PNG for ``-``); the figure is closed."""
    fmt = _figure_format(path)

    def write(fh: IO[bytes]) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = draw()
        try:
            fig.savefig(fh, format=fmt, bbox_inches="tight")
        finally:
            plt.close(fig)

    return Output(path, write, binary=True)


@contextlib.contextmanager
def open_output(path: str | Path) -> Iterator[IO[str]]:
    """``with open_output(path) as fh:`` -- a text file written all or nothing: the
    content appears at ``path`` when the block ends without an error."""
    buffer = io.StringIO()
    yield buffer
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()))


def _figure_format(path: str | Path) -> str:
    suffix = Path(str(path)).suffix.lower()
    return suffix[1:] if suffix in FIGURE_SUFFIXES else "png"


def _stage(out: Output) -> tuple[str, Path]:
    """Write ``out`` to a temporary file in the directory of its path (links followed);
    the temporary file's name and the destination.  An OSError names the destination."""
    path, writer, binary = str(out.path), out.writer, out.binary
    target = Path(os.path.realpath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _output_error(path, exc) from None
    text = {} if binary else {"newline": "", "encoding": "utf-8"}
    try:
        with os.fdopen(fd, "wb" if binary else "w", **text) as fh:
            os.fchmod(fh.fileno(), _mode(target))
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        _remove(temporary)
        raise _output_error(path, exc) from None
    except BaseException:
        _remove(temporary)
        raise
    return temporary, target


def _output_error(path: str | Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}")


def _mode(target: Path) -> int:
    """The permissions of the file replaced, or those a new file gets under the umask."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
