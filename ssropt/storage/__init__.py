"""Study storage: open an Optuna storage from a URL, and one backend per kind of storage.

Optuna storage is ssropt's system of record (one trial per evaluated design), but the
analytical model costs microseconds per design while Optuna's per-trial bookkeeping costs
about a millisecond.  :func:`backend_for` gives every storage ONE
:class:`StudyBackend` (chosen once: journal file, RDB or generic), through which the
engine writes a whole generation at once and runs the worker protocol:

* **Journal file** (the default, :data:`DEFAULT_STORAGE`): the same ``CREATE_TRIAL`` records
  ``JournalStorage.create_new_trial(study_id, template_trial)`` writes, plus one
  ``SET_STUDY_SYSTEM_ATTR`` record per checkpoint key, appended in ONE write under the
  journal's lock file.  A generation and its checkpoint land together or not at all.
  Damaged lines are reported with their number (:class:`JournalDamaged`);
  :func:`salvage_journal` copies the whole records of a damaged file.
* **SQLite / PostgreSQL / MySQL** (``RDBStorage``): one transaction that inserts the trial
  rows, then their values, params, user and system attributes with bulk ``INSERT``s, then
  upserts the study system attributes, numbering trials exactly as Optuna does.
* **Any other storage** (``InMemoryStorage``, gRPC proxy ...), and the other two when the
  Optuna internals they use are missing (after one warning): Optuna's public API, one
  ``create_new_trial(study_id, template_trial=create_trial(...))`` per record.

Constraints are stored as Optuna's list-valued ``constraints`` trial system attribute, in
the order of each record's ``constraints`` dict: optuna-dashboard and every Optuna version
read that list (Optuna 5's ``FrozenTrial.constraints`` as keys ``"0"``, ``"1"``, ...);
:func:`stored_constraints` reads the values back by name (also from the per-name keys
earlier ssropt versions wrote).  A record's evaluation times become the trial's start and
completion times.

For several workers on one study, :meth:`StudyBackend.update_study` reads study system
attributes, lets a function decide and writes its decision (trials and attributes)
atomically across processes -- under the journal's lock file, or in one transaction that
locks the study row -- the compare-and-set the worker protocol (:mod:`ssropt.engine.worker`)
stands on; :meth:`~StudyBackend.create_study` writes a study and all its attributes at
once; :func:`retry_unavailable` rides out a storage that is away for a while
(:class:`StorageUnavailable`).  The module-level :func:`write_trials`,
:func:`update_study`, :func:`read_study_attrs` and :func:`read_trials` are the backend's
methods for a storage object.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> storage = open_storage("sqlite://")  # in-memory SQLite; a path gives a journal file
    >>> study_id = backend_for(storage).create_study(
    ...     "s", ["minimize", "maximize"], ["latency", "throughput"], {"seed": 0}, {})
    >>> record = TrialRecord(params={"batch": 4}, distributions={"batch": IntDistribution(1, 8)},
    ...                      values=(1.5, 2.7), constraints={"dsp": -3.0})
    >>> write_trials(storage, study_id, [record], {"checkpoint:generation": 0})
    >>> study = optuna.load_study(study_name="s", storage=storage)
    >>> stored_constraints(study.trials[0].system_attrs, ["dsp"]), study.best_trials[0].number
    ([-3.0], 0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import optuna

from ssropt.storage._backend import StudyBackend, StudyNameTaken
from ssropt.storage._journal_file import JournalDamaged, inspect_journal, salvage_journal
from ssropt.storage._open import DEFAULT_STORAGE, StorageError, StorageUnavailable, open_storage
from ssropt.storage._records import (
    CONSTRAINTS_KEY,
    LEGACY_CONSTRAINT_PREFIX,
    StoredTrial,
    StudyUpdate,
    TrialRecord,
    constraint_values,
    stored_constraints,
)
from ssropt.storage._retry import retry_unavailable
from ssropt.storage._select import backend_for, load_study, remember_study, study_ref

__all__ = [
    "CONSTRAINTS_KEY",
    "DEFAULT_STORAGE",
    "JournalDamaged",
    "LEGACY_CONSTRAINT_PREFIX",
    "StorageError",
    "StorageUnavailable",
    "StoredTrial",
    "StudyBackend",
    "StudyNameTaken",
    "StudyUpdate",
    "TrialRecord",
    "backend_for",
    "constraint_values",
    "inspect_journal",
    "load_study",
    "open_storage",
    "read_study_attrs",
    "read_trials",
    "remember_study",
    "retry_unavailable",
    "salvage_journal",
    "stored_constraints",
    "study_ref",
    "update_study",
    "write_trials",
]


def write_trials(
    storage: optuna.storages.BaseStorage,
    study_id: int,
    records: Sequence[TrialRecord],
    study_system_attrs: Mapping[str, Any] | None = None,
) -> None:
    """Persist a batch of finished trials (and optional study system attributes) at once.

    Args:
        storage: a storage from :func:`open_storage` (or any Optuna storage).
        study_id: the study's id.
        records: one :class:`TrialRecord` per design; trial numbers follow this order.
        study_system_attrs: study system attributes set with the batch (the checkpoint).

    Raises:
        StorageError: a record is invalid, the study does not exist, or the write fails;
            nothing of the batch is written in these cases (except on the generic path,
            where a failure can leave a prefix written).
    """
    backend_for(storage).write_trials(study_id, records, study_system_attrs)


def update_study(
    storage: optuna.storages.BaseStorage,
    study_id: int,
    keys: Sequence[str],
    decide: Callable[[dict[str, Any]], StudyUpdate | None],
    *,
    dedupe: tuple[str, str] | None = None,
) -> tuple[StudyUpdate | None, list[int]]:
    """Read the study system attributes ``keys``, decide, write the decision atomically.

    ``decide`` gets a private copy of the attributes that exist and returns a
    :class:`StudyUpdate` to write, or None to write nothing; it runs while the lock is
    held (keep it to a few dictionary operations) and may run more than once when the
    caller retries after :class:`StorageUnavailable`, so it must judge from what it reads.
    ``dedupe`` names two trial system attributes that identify a record: records whose key
    a COMPLETE trial already has (left by a writer killed inside its append) are not
    written again; that trial's id is returned in their place.

    Returns:
        ``(update, trial_ids)``: the update written (None if ``decide`` said None) and the
        trial id of each of its records, in record order.
    """
    return backend_for(storage).update_study(study_id, keys, decide, dedupe)


def read_study_attrs(
    storage: optuna.storages.BaseStorage, study_id: int, keys: Sequence[str]
) -> dict[str, Any]:
    """The study system attributes ``keys`` that exist (one small query on a database)."""
    return backend_for(storage).read_study_attrs(study_id, keys)


def read_trials(
    storage: optuna.storages.BaseStorage, trial_ids: Sequence[int]
) -> list[StoredTrial]:
    """State, values and system attributes of the trials with these ids, in that order."""
    return backend_for(storage).read_trials(trial_ids)
