"""Atomic study updates and targeted reads: what several workers need from one storage.

:func:`update_study` reads some study system attributes, hands them to a ``decide``
function and writes what it returns (trials and attributes) so that no other
:func:`update_study` on the same study runs between the read and the write:

* **Journal file**: under the journal's own lock file (the one every Optuna append takes),
  after cutting a tail torn by a killed writer and replaying the log; the whole write is
  one ``append_logs`` call.
* **SQLite / PostgreSQL / MySQL**: one transaction that first locks the study row
  (``SELECT ... FOR UPDATE``; on SQLite a no-op ``UPDATE`` takes the database write lock).
* **Any other storage** (in-memory, other journal backends): a lock of this process only,
  so only one process may work on such a study.

``decide`` runs while the lock is held: keep it to a few dictionary operations.  It may
run more than once when the caller retries after :class:`StorageUnavailable` (a commit
whose acknowledgement was lost included), so it must judge from what it reads.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import optuna

from ssropt.storage._generic import _write_generic
from ssropt.storage._journal import (
    _journal_atomic_supported,
    _read_journal_attrs,
    _read_journal_trials,
    _update_journal,
)
from ssropt.storage._open import StorageError
from ssropt.storage._rdb import _read_rdb_attrs, _read_rdb_trials, _update_rdb
from ssropt.storage._records import StoredTrial, StudyUpdate, _json_safe

_logger = logging.getLogger("ssropt.storage")
_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()
_WARNED: set[type] = set()


def _backend(storage: optuna.storages.BaseStorage) -> optuna.storages.BaseStorage:
    if isinstance(storage, optuna.storages._CachedStorage):
        return storage._backend  # new trials have larger ids: the cache picks them up
    return storage


def update_study(
    storage: optuna.storages.BaseStorage,
    study_id: int,
    keys: Sequence[str],
    decide: Callable[[dict[str, Any]], StudyUpdate | None],
    *,
    dedupe: tuple[str, str] | None = None,
) -> tuple[StudyUpdate | None, list[int]]:
    """Read the study system attributes ``keys``, decide, write the decision atomically.

    Args:
        storage: any Optuna storage (``study._storage`` too).
        study_id: the study's id.
        keys: the study system attributes ``decide`` sees (absent ones are left out); it
            gets a private copy it may change.
        decide: returns a :class:`StudyUpdate` to write, or None to write nothing.
        dedupe: two trial system attribute names that identify a record (journal files
            only, where a writer killed inside its append can leave some of a batch's trial
            lines): records whose key a COMPLETE trial already has are not written again;
            that trial's id is returned in their place.

    Returns:
        ``(update, trial_ids)``: the update written (None if ``decide`` said None) and the
        trial id of each of its records, in record order.

    Raises:
        StorageUnavailable: the storage cannot be reached now; nothing was written (or, if
            a commit's acknowledgement was lost, everything was).
        StorageError: the study does not exist, a record is invalid, the write fails.
    """
    storage = _backend(storage)
    if isinstance(storage, optuna.storages.JournalStorage) and _journal_atomic_supported(storage):
        return _update_journal(storage, study_id, keys, decide, dedupe)
    if isinstance(storage, optuna.storages.RDBStorage):
        return _update_rdb(storage, study_id, keys, decide)
    return _update_generic(storage, study_id, keys, decide)


def read_study_attrs(
    storage: optuna.storages.BaseStorage, study_id: int, keys: Sequence[str]
) -> dict[str, Any]:
    """The study system attributes ``keys`` that exist (one small query on a database)."""
    storage = _backend(storage)
    if isinstance(storage, optuna.storages.JournalStorage) and _journal_atomic_supported(storage):
        return _read_journal_attrs(storage, study_id, keys)
    if isinstance(storage, optuna.storages.RDBStorage):
        return _read_rdb_attrs(storage, study_id, keys)
    try:
        attrs = storage.get_study_system_attrs(study_id)
    except KeyError:
        raise StorageError(f"study id {study_id} does not exist in the storage")
    return {k: _json_safe(attrs[k]) for k in keys if k in attrs}


def read_trials(
    storage: optuna.storages.BaseStorage, trial_ids: Sequence[int]
) -> list[StoredTrial]:
    """State, values and system attributes of the trials with these ids, in that order."""
    storage = _backend(storage)
    if isinstance(storage, optuna.storages.JournalStorage) and _journal_atomic_supported(storage):
        return _read_journal_trials(storage, trial_ids)
    if isinstance(storage, optuna.storages.RDBStorage):
        return _read_rdb_trials(storage, trial_ids)
    out = []
    for trial_id in trial_ids:
        try:
            trial = storage.get_trial(trial_id)
        except KeyError:
            raise StorageError(f"trial id {trial_id} does not exist in the storage")
        values = None if trial.values is None else list(trial.values)
        out.append(StoredTrial(trial_id, trial.state, values, dict(trial.system_attrs)))
    return out


def _update_generic(
    storage: optuna.storages.BaseStorage,
    study_id: int,
    keys: Sequence[str],
    decide: Callable[[dict[str, Any]], StudyUpdate | None],
) -> tuple[StudyUpdate | None, list[int]]:
    """Public API under a lock of this process: atomic for the threads of one process."""
    if not isinstance(storage, optuna.storages.InMemoryStorage) and type(storage) not in _WARNED:
        _WARNED.add(type(storage))
        _logger.warning(
            "%s: study updates are atomic within this process only; run one worker per "
            "study on it (use a journal file or a database for several)",
            type(storage).__name__,
        )
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(storage, threading.RLock())
    with lock:
        try:
            current = storage.get_study_system_attrs(study_id)
            n_objectives = len(storage.get_study_directions(study_id))
        except KeyError:
            raise StorageError(f"study id {study_id} does not exist in the storage")
        update = decide({k: _json_safe(current[k]) for k in keys if k in current})
        if update is None:
            return None, []
        ids = _write_generic(storage, study_id, update.prepared(n_objectives), {})
        for key, value in update.attrs_to_write(ids).items():
            storage.set_study_system_attr(study_id, key, value)
    return update, ids
