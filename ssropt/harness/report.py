"""What every harness report shares: its output directory, study names, files and tables.

``ssropt compare``, ``ssropt compare-platforms`` and ``ssropt bench`` each create studies
under a name prefix and write a report directory; before anything runs they check that
the directory can be written (:func:`check_out_dir`) and that no planned study exists
(:func:`check_names_free`).  Their summaries quote the command that reproduces them
(:func:`command_line`) and print Markdown tables (:func:`markdown_table`).

Example:
    >>> print("\\n".join(markdown_table(["a", "b"], [["1", "2"]])))
    | a | b |
    |---|---|
    | 1 | 2 |
    >>> command_line("compare", ["--model", "deit-t", "--out", "my results"])
    "ssropt compare --model deit-t --out 'my results'"
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ssropt.engine.study import StudyError
from ssropt.errors import SsroptError

if TYPE_CHECKING:
    import optuna

#: the files of a front comparison (``compare`` and ``compare-platforms``)
OUTPUT_FILES = ("fronts.png", "fronts.csv", "fronts.json", "summary.md", "report.html")


def markdown_table(head: list[str], body: list[list[str]]) -> list[str]:
    """The lines of a Markdown table with columns ``head`` and rows ``body``."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(row) + " |" for row in body]


def command_line(command: str, words: Iterable[str]) -> str:
    """``ssropt COMMAND WORDS...`` quoted for a shell: the line a report quotes so that
    running it again reproduces the report."""
    return shlex.join(["ssropt", command, *words])


def check_out_dir(path: Path, force: bool) -> None:
    """SsroptError unless ``path`` can be created, or is empty, or ``force`` is given."""
    if path.exists():
        if not path.is_dir():
            raise SsroptError(f"--out {str(path)!r} exists and is not a directory")
        if any(path.iterdir()) and not force:
            raise SsroptError(f"--out {str(path)!r} exists and is not empty (use --force)")
        if not os.access(path, os.W_OK):
            raise SsroptError(f"--out {str(path)!r} is not writable")
        return
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK):
        raise SsroptError(
            f"cannot create --out {str(path)!r}: {str(ancestor)!r} is not a writable directory"
        )
    # permissions do not tell everything (root, /proc, a full or read-only disk): create the
    # directory, then remove what was created -- nothing stays behind before the runs
    created: list[Path] = []
    try:
        for directory in reversed([path.absolute(), *path.absolute().parents]):
            if not directory.exists():
                directory.mkdir()
                created.append(directory)
    except OSError as error:
        raise SsroptError(f"cannot create --out {str(path)!r}: {error.strerror or error}") from None
    finally:
        for directory in reversed(created):
            directory.rmdir()


def check_names_free(
    storage: optuna.storages.BaseStorage, names: Sequence[str], *, list_all: bool = True
) -> None:
    """StudyError when a planned study name already exists in ``storage``.

    The message lists every taken name, or (``list_all=False``, for the dozens of runs of
    a benchmark) the first one and how many more.
    """
    import optuna

    existing = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    taken = [name for name in names if name in existing]
    if not taken:
        return
    if list_all:
        raise StudyError(
            f"studies {', '.join(map(repr, taken))} already exist in this storage: pick another "
            "--study-prefix or --storage"
        )
    more = f" and {len(taken) - 1} more" if len(taken) > 1 else ""
    raise StudyError(
        f"study {taken[0]!r}{more} already exists in this storage: pick another "
        "--study-prefix or --storage"
    )
