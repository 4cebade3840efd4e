"""The journal file itself: reading it record by record with damage reports, appending to it
under its lock file, cutting a torn tail, and salvaging the whole records of a damaged one.

:class:`JournalFile` is an Optuna journal backend (``BaseJournalBackend``: ``read_logs`` and
``append_logs``) for a file in Optuna's own format -- one JSON record per line -- that any
Optuna tool reads.  It differs from Optuna's ``JournalFileBackend`` in what it does with a
damaged file: every line it reads is checked (JSON object, known ``op_code``, the fields
that operation needs), and the first bad one raises :class:`JournalDamaged` naming the
file, the line number and how to recover, where Optuna raises ``AssertionError``, a codec
message, or skips a bad last line (and the trial in it) silently.  Its lock is Optuna's
own lock file (``PATH.lock``, ``JournalFileSymlinkLock``), so Optuna processes and ssropt
processes writing the same file exclude each other; :meth:`JournalFile.locked` holds it
across a read-decide-append (appends made meanwhile by the holding thread do not lock
again).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from optuna.storages.journal import BaseJournalBackend, JournalFileSymlinkLock

from ssropt.storage._errors import StorageError, StorageUnavailable, _one_line

_logger = logging.getLogger("ssropt.storage")

#: op_code -> the fields a record of that operation must have (Optuna's journal format:
#: optuna/storages/journal/_storage.py writes them; the codes are fixed by the file format)
OPERATIONS: dict[int, tuple[str, ...]] = {
    0: ("study_name", "directions"),  # CREATE_STUDY
    1: ("study_id",),  # DELETE_STUDY
    2: ("study_id", "user_attr"),  # SET_STUDY_USER_ATTR
    3: ("study_id", "system_attr"),  # SET_STUDY_SYSTEM_ATTR
    4: ("study_id", "datetime_start"),  # CREATE_TRIAL
    5: ("trial_id", "param_name", "param_value_internal", "distribution"),  # SET_TRIAL_PARAM
    6: ("trial_id", "state", "values"),  # SET_TRIAL_STATE_VALUES
    7: ("trial_id", "step", "intermediate_value"),  # SET_TRIAL_INTERMEDIATE_VALUE
    8: ("trial_id", "user_attr"),  # SET_TRIAL_USER_ATTR
    9: ("trial_id", "system_attr"),  # SET_TRIAL_SYSTEM_ATTR
    10: (),  # DISCARD_TRIALS (written by other Optuna implementations only)
}
_ONE_KEY_DICTS = ("user_attr", "system_attr")
_DICTS = ("distributions", "params", "user_attrs", "system_attrs", "intermediate_values")


class JournalDamaged(StorageError):
    """A line of a journal file is not a whole, known journal record."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(
            f"journal {path!r} is damaged at line {line}: {problem}; nothing was changed. "
            f"`ssropt studies --storage {path} --salvage NEW.log` copies every whole record "
            "into NEW.log (a new file), to be used in its place"
        )
        self.path = path
        self.line = line
        self.problem = problem


def record_problem(line: bytes) -> tuple[dict | None, str | None]:
    """``(record, None)`` for a whole journal record, ``(None, what is wrong)`` otherwise."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    try:
        record = json.loads(text)
    except ValueError:
        return None, "not a whole JSON record (torn or garbled)"
    if not isinstance(record, dict):
        return None, f"a JSON {type(record).__name__}, not a record"
    op = record.get("op_code")
    if isinstance(op, bool) or not isinstance(op, int):
        return None, "a record without an integer op_code"
    if op not in OPERATIONS:
        return None, f"unknown op_code {op} (written by a newer Optuna, or garbled)"
    missing = [name for name in OPERATIONS[op] if name not in record]
    if missing:
        return None, f"op_code {op} without its field(s) {', '.join(missing)}"
    for name in _ONE_KEY_DICTS:
        if name in record and not (isinstance(record[name], dict) and len(record[name]) == 1):
            return None, f"op_code {op} with a malformed {name}"
    for name in _DICTS:
        if record.get(name) is not None and not isinstance(record[name], dict):
            return None, f"op_code {op} with a malformed {name}"
    return record, None


class JournalFile(BaseJournalBackend):
    """An Optuna journal file that reports damage by line number (see the module doc).

    Args:
        path: the journal file (created empty if missing).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = JournalFileSymlinkLock(path)  # Optuna's own lock file, PATH.lock
        if not os.path.exists(path):
            open(path, "ab").close()
        self._offsets: dict[int, int] = {0: 0}  # record number -> byte offset
        self._owner: int | None = None  # thread holding self.lock through locked()
        self.last_line = 0  # 1-based line of the last record read_logs yielded

    # -- BaseJournalBackend ------------------------------------------------------------
    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        """The records from number ``log_number_from`` on (JournalDamaged at a bad line).

        Only what the file held when reading began is read; a last line without its line
        break is a record still being written (or torn by a kill) and is left for later.
        """
        start = log_number_from  # read where the last read ended, as a reader usually does
        if start not in self._offsets:
            start = max(n for n in self._offsets if n <= log_number_from)
        with open(self.path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            offset = self._offsets[start]
            file.seek(offset)
            number = start
            for line in file:
                if offset + len(line) > size or not line.endswith(b"\n"):
                    return
                offset += len(line)
                if number >= log_number_from:
                    record, problem = record_problem(line)
                    if problem is not None:
                        raise JournalDamaged(self.path, number + 1, problem)
                    self.last_line = number + 1
                    self._offsets[number + 1] = offset
                    yield record
                else:
                    self._offsets.setdefault(number + 1, offset)
                number += 1

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append ``logs`` in one ``write`` and ``fsync`` (under the lock unless held)."""
        text = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs)
        data = text.encode("utf-8")
        if self._owner == threading.get_ident():
            self._write(data)
            return
        with self.locked():
            self._write(data)

    # -- locking -------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the journal's lock file (re-entrant for the holding thread)."""
        if self._owner == threading.get_ident():
            yield
            return
        try:
            self.lock.acquire()
        except OSError as error:
            raise StorageUnavailable(f"cannot lock the journal: {_one_line(error)}")
        self._owner = threading.get_ident()
        try:
            yield
        finally:
            self._owner = None
            try:
                self.lock.release()
            except RuntimeError:  # another process broke our lock after its grace period
                _logger.warning("the journal lock was taken from us while we held it")

    def _write(self, data: bytes) -> None:
        with open(self.path, "ab") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())

    def cut_torn_tail(self) -> None:
        """Remove an incomplete last line left by a writer killed in the middle of an
        append (call with the lock held, or through :meth:`repair_tail`).

        Optuna's reader skips such a line, but the next append would glue a new record
        onto it and turn it into a damaged line in the middle of the journal.  The whole
        records before it stay.
        """
        if not _ends_torn(self.path):
            return
        with open(self.path, "rb+") as file:
            size = file.seek(0, os.SEEK_END)
            end = size
            while end > 0:
                begin = max(0, end - 65536)
                file.seek(begin)
                newline = file.read(end - begin).rfind(b"\n")
                if newline >= 0:
                    end = begin + newline + 1
                    break
                end = begin
            file.truncate(end)
            file.flush()
            os.fsync(file.fileno())
        _logger.warning("%s: removed an incomplete last entry (%d bytes)", self.path, size - end)

    def repair_tail(self) -> None:
        """:meth:`cut_torn_tail` under the lock, so a line still being written is never cut."""
        if _ends_torn(self.path):
            with self.locked():
                self.cut_torn_tail()


def _ends_torn(path: str) -> bool:
    """Whether the file is non-empty and does not end with a line break."""
    with open(path, "rb") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return False
        file.seek(size - 1)
        return file.read(1) != b"\n"


# -- inspecting and salvaging -------------------------------------------------------------
@dataclass(frozen=True)
class LineDamage:
    """One damaged line: its number, what is wrong, and whether a whole record was kept
    from it (a torn record with a whole one glued to its end)."""

    line: int
    problem: str
    recovered: bool


def inspect_journal(path: str) -> list[LineDamage]:
    """Every damaged line of the journal file (an incomplete last line counts too)."""
    return [damage for damage, _ in _scan(path) if damage is not None]


def _scan(path: str) -> Iterator[tuple[LineDamage, None] | tuple[None, bytes]]:
    """Each line as ``(None, whole record line)`` or ``(damage, None)``; a damaged line that
    ends in a whole record (a torn one glued to the next) also yields that record."""
    with open(path, "rb") as file:
        for number, line in enumerate(file, start=1):
            if not line.endswith(b"\n"):
                yield LineDamage(number, "an incomplete last line (torn by a kill)", False), None
                continue
            _, problem = record_problem(line)
            if problem is None:
                yield None, line
                continue
            tail = _whole_tail(line)
            yield LineDamage(number, problem, tail is not None), None
            if tail is not None:
                yield None, tail


def _whole_tail(line: bytes) -> bytes | None:
    """The longest whole record that ends ``line`` after a torn beginning, if any."""
    start = line.find(b'{"op_code"', 1)
    while start > 0:
        tail = line[start:]
        if record_problem(tail)[1] is None:
            return tail
        start = line.find(b'{"op_code"', start + 1)
    return None


def salvage_journal(path: str, out: str) -> tuple[int, list[LineDamage]]:
    """Copy every whole record of ``path`` into the new file ``out``, in order.

    Returns the number of records written and the damaged lines (each dropped, or only its
    glued whole record kept).  ``path`` is not changed; ``out`` must not exist.
    """
    if os.path.exists(out):
        raise StorageError(f"{out!r} exists: --salvage writes a new file")
    directory = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(directory):
        raise StorageError(f"{out!r}: directory {directory!r} does not exist")
    kept, damaged = 0, []
    partial = out + ".partial"
    with open(partial, "wb") as file:
        for damage, line in _scan(path):
            if damage is not None:
                damaged.append(damage)
            else:
                file.write(line)
                kept += 1
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, out)
    return kept, damaged
