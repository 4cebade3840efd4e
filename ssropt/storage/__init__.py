"""Study storage: open an Optuna storage from a URL and persist evaluated designs in batches.

Optuna storage is ssropt's system of record (one trial per evaluated design), but the
analytical model costs microseconds per design while Optuna's per-trial bookkeeping costs
about a millisecond. :func:`write_trials` therefore writes a whole generation at once:

* **Journal file** (the default, :data:`DEFAULT_STORAGE`): the same ``CREATE_TRIAL`` log
  entries that ``JournalStorage.create_new_trial(study_id, template_trial)`` writes, plus one
  ``SET_STUDY_SYSTEM_ATTR`` entry per checkpoint key, appended with ONE
  ``backend.append_logs`` call (one lock, one ``write``, one ``fsync``) and one replay sync.
  A generation and its checkpoint land together or not at all.
* **SQLite / PostgreSQL / MySQL** (``RDBStorage``): one transaction that inserts the trial
  rows, then their values, params, user and system attributes with bulk ``INSERT``s, then
  upserts the study system attributes, numbering trials exactly as Optuna does.
* **Any other storage** (``InMemoryStorage``, gRPC proxy …): Optuna's public API, one
  ``create_new_trial(study_id, template_trial=create_trial(...))`` per record.

Constraints are stored as Optuna's list-valued ``constraints`` trial system attribute, in
the order of each record's ``constraints`` dict: optuna-dashboard and every Optuna version
read that list (Optuna 5's ``FrozenTrial.constraints`` as keys ``"0"``, ``"1"``, ...);
:func:`stored_constraints` reads the values back by name (also from the per-name keys
earlier ssropt versions wrote).  A record's evaluation times become the trial's start and
completion times.

For several workers on one study, :func:`update_study` reads study system attributes,
lets a function decide and writes its decision (trials and attributes) atomically across
processes -- under the journal's lock file, or in one transaction that locks the study
row -- the compare-and-set the worker protocol (:mod:`ssropt.engine.worker`) stands on;
:func:`read_study_attrs` and :func:`read_trials` read back just what it needs, and
:func:`retry_unavailable` rides out a storage that is away for a while
(:class:`StorageUnavailable`).

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> storage = open_storage("sqlite://")  # in-memory SQLite; a path gives a journal file
    >>> study = optuna.create_study(storage=storage, directions=["minimize", "maximize"])
    >>> record = TrialRecord(params={"batch": 4}, distributions={"batch": IntDistribution(1, 8)},
    ...                      values=(1.5, 2.7), constraints={"dsp": -3.0})
    >>> write_trials(storage, study._study_id, [record], {"checkpoint:generation": 0})
    >>> stored_constraints(study.trials[0].system_attrs, ["dsp"]), study.best_trials[0].number
    ([-3.0], 0)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from ssropt.storage._atomic import read_study_attrs, read_trials, update_study
from ssropt.storage._generic import _write_generic
from ssropt.storage._journal import _journal_supported, _write_journal
from ssropt.storage._open import DEFAULT_STORAGE, StorageError, StorageUnavailable, open_storage
from ssropt.storage._rdb import _write_rdb
from ssropt.storage._records import (
    CONSTRAINTS_KEY,
    LEGACY_CONSTRAINT_PREFIX,
    StoredTrial,
    StudyUpdate,
    TrialRecord,
    _batch_distributions,
    _json_safe,
    _prepare,
    constraint_values,
    stored_constraints,
)
from ssropt.storage._retry import retry_unavailable

__all__ = [
    "CONSTRAINTS_KEY",
    "DEFAULT_STORAGE",
    "LEGACY_CONSTRAINT_PREFIX",
    "StorageError",
    "StorageUnavailable",
    "StoredTrial",
    "StudyUpdate",
    "TrialRecord",
    "constraint_values",
    "open_storage",
    "read_study_attrs",
    "read_trials",
    "retry_unavailable",
    "stored_constraints",
    "update_study",
    "write_trials",
]

_logger = logging.getLogger(__name__)


def write_trials(
    storage: optuna.storages.BaseStorage,
    study_id: int,
    records: Sequence[TrialRecord],
    study_system_attrs: Mapping[str, Any] | None = None,
) -> None:
    """Persist a batch of finished trials (and optional study system attributes) at once.

    Args:
        storage: a storage from :func:`open_storage` (or ``study._storage``).
        study_id: the study's id (``study._study_id``).
        records: one :class:`TrialRecord` per design; trial numbers follow this order.
        study_system_attrs: study system attributes set with the batch (the checkpoint).

    Raises:
        StorageError: a record is invalid, the study does not exist, or the write fails;
            nothing of the batch is written in these cases (except on the per-record
            fallback path, where a database failure can leave a prefix written).
    """
    attrs = _json_safe(dict(study_system_attrs or {}))
    if isinstance(storage, optuna.storages._CachedStorage):
        storage = storage._backend  # new trials have larger ids: the cache picks them up
    try:
        directions = storage.get_study_directions(study_id)
    except KeyError:
        raise StorageError(f"study id {study_id} does not exist in the storage")
    prepared = [_prepare(i, record, len(directions)) for i, record in enumerate(records)]
    batch_distributions = _batch_distributions(prepared)
    if not prepared and not attrs:
        return
    if isinstance(storage, optuna.storages.JournalStorage) and _journal_supported(storage):
        _write_journal(storage, study_id, prepared, batch_distributions, attrs)
    elif isinstance(storage, optuna.storages.JournalStorage):
        _logger.warning(
            "optuna %s changed JournalStorage internals: writing trials one by one (slow)",
            optuna.__version__,
        )
        _write_generic(storage, study_id, prepared, attrs)
    elif isinstance(storage, optuna.storages.RDBStorage):
        _write_rdb(storage, study_id, prepared, batch_distributions, attrs)
    else:
        _write_generic(storage, study_id, prepared, attrs)
