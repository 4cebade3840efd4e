"""Opening a storage: URL parsing, :func:`open_storage`, journal-file repair, errors."""

from __future__ import annotations

import logging
import os
import re
import weakref
from typing import Any

import optuna

from ssropt.storage._errors import StorageError, StorageUnavailable, _one_line
from ssropt.storage._journal_file import JournalDamaged, JournalFile

_logger = logging.getLogger("ssropt.storage")

DEFAULT_STORAGE = "ssropt-studies.log"
"""The storage used when none is given: a journal file in the current directory."""

_RDB_DIALECTS = ("sqlite", "postgresql", "mysql")
_CONNECT_TIMEOUT_S = 10
_JOURNAL_FILES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def open_storage(url: str | None, must_exist: bool = False) -> optuna.storages.BaseStorage:
    """Open the Optuna storage named by ``url``.

    Args:
        url: ``None`` for :data:`DEFAULT_STORAGE`; a file path (no ``://``) for a journal
            file that ``optuna trials --storage PATH --storage-class JournalFileBackend``
            (or plain ``--storage PATH``) can read; ``sqlite:///FILE``,
            ``postgresql[+driver]://…`` or ``mysql[+driver]://…`` for Optuna's RDB storage.
        must_exist: refuse (instead of creating) a journal or SQLite file that does not
            exist, for commands that only read or continue existing studies.

    Raises:
        StorageError: unknown scheme, missing directory, a file of the wrong kind, a missing
            database driver or an unreachable database. The one-line message names the URL
            (password hidden) and the problem; no file is created for a bad URL.
    """
    if url is None:
        url = DEFAULT_STORAGE
    if not isinstance(url, str) or not url.strip():
        raise StorageError(f"storage URL {url!r} is empty: give a journal file path or a DB URL")
    if "://" not in url:
        return _open_journal(url, must_exist)
    scheme = url.split("://", 1)[0]
    dialect = scheme.split("+", 1)[0].lower()
    if dialect not in _RDB_DIALECTS:
        hint = "; did you mean postgresql://?" if dialect == "postgres" else ""
        raise StorageError(
            f"storage {_redact(url)!r}: unknown scheme {scheme!r} (use a journal file path, "
            f"sqlite:///FILE, postgresql://… or mysql://…){hint}"
        )
    return _open_rdb(url, dialect, must_exist)


def _open_journal(path: str, must_exist: bool = False) -> optuna.storages.JournalStorage:
    path = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise StorageError(f"storage {path!r}: directory {directory!r} does not exist")
    if must_exist and not os.path.exists(path):
        raise StorageError(f"storage {path!r} does not exist (no study has been stored there)")
    if os.path.isdir(path):
        raise StorageError(f"storage {path!r} is a directory, not a journal file")
    if os.path.exists(path):
        with open(path, "rb") as file:
            head = file.read(16).lstrip()
        if head.startswith(b"SQLite format 3"):
            raise StorageError(
                f"storage {path!r} is an SQLite database: use the URL 'sqlite:///{path}'"
            )
        if head and not head.startswith(b"{"):
            raise StorageError(f"storage {path!r} is not an Optuna journal file")
    elif not os.access(directory, os.W_OK):
        raise StorageError(f"storage {path!r}: directory {directory!r} is not writable")
    try:
        journal = JournalFile(path)
        journal.repair_tail()
    except OSError as error:
        raise StorageError(f"storage {path!r}: cannot read the journal: {_one_line(error)}")
    try:
        storage = optuna.storages.JournalStorage(journal)
    except JournalDamaged:
        raise
    except OSError as error:
        raise StorageError(f"storage {path!r}: cannot read the journal: {_one_line(error)}")
    except (ValueError, KeyError, TypeError, AssertionError) as error:
        problem = f"a record Optuna cannot apply ({type(error).__name__}: {_one_line(error)})"
        raise JournalDamaged(path, journal.last_line, problem) from None
    _JOURNAL_FILES[storage] = journal
    return storage


def journal_file_of(storage: optuna.storages.BaseStorage) -> Any:
    """The :class:`~ssropt.storage._journal_file.JournalFile` behind a journal storage opened
    by :func:`open_storage`, else None."""
    return _JOURNAL_FILES.get(storage)


def _open_rdb(url: str, dialect: str, must_exist: bool = False) -> optuna.storages.RDBStorage:
    import sqlalchemy

    shown = _redact(url)
    try:
        parsed = sqlalchemy.engine.make_url(url)
        parsed.get_dialect()  # raises NoSuchModuleError for an unknown +driver
    except sqlalchemy.exc.NoSuchModuleError:
        raise StorageError(f"storage {shown!r}: unknown database driver {url.split('://')[0]!r}")
    except (sqlalchemy.exc.ArgumentError, ValueError) as error:
        raise StorageError(f"storage {shown!r}: malformed URL: {_one_line(error)}")
    engine_kwargs: dict[str, Any] = {}
    if dialect == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            directory = os.path.dirname(os.path.abspath(database))
            if not os.path.isdir(directory):
                raise StorageError(f"storage {shown!r}: directory {directory!r} does not exist")
            if must_exist and not os.path.exists(database):
                raise StorageError(
                    f"storage {shown!r}: database file {database!r} does not exist "
                    "(no study has been stored there)"
                )
    else:
        # Check a pooled connection before use: servers drop idle connections between
        # generations, and a dead one would fail the whole batch.
        engine_kwargs["pool_pre_ping"] = True
        if dialect == "postgresql" and "connect_timeout" not in parsed.query:
            engine_kwargs["connect_args"] = {"connect_timeout": _CONNECT_TIMEOUT_S}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    except ImportError as error:
        cause = _one_line(error.__cause__ or error)
        hint = {
            "postgresql": "pip install 'ssropt[postgres]' and use postgresql+psycopg://…",
            "mysql": "pip install pymysql and use mysql+pymysql://…",
        }.get(dialect, "install the driver")
        raise StorageError(f"storage {shown!r}: database driver missing ({cause}): {hint}")
    except sqlalchemy.exc.SQLAlchemyError as error:
        detail = _one_line(getattr(error, "orig", None) or error)
        password = str(parsed.password or "")
        if len(password) >= 3:  # drivers rarely echo it; make sure
            detail = detail.replace(password, "***")
        raise StorageError(f"storage {shown!r}: cannot open the database: {detail}")
    except (RuntimeError, ValueError, OSError) as error:  # e.g. schema version mismatch
        raise StorageError(f"storage {shown!r}: {_one_line(error)}")


def _redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


__all__ = ["DEFAULT_STORAGE", "StorageError", "StorageUnavailable", "_one_line", "open_storage",
           "journal_file_of"]
