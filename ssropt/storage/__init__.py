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

Constraints are stored the way ``optuna.trial.create_trial(constraints=...)`` stores them,
so ``FrozenTrial.constraints`` reads them back as a dict.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> storage = open_storage("sqlite://")  # in-memory SQLite; a path gives a journal file
    >>> study = optuna.create_study(storage=storage, directions=["minimize", "maximize"])
    >>> record = TrialRecord(params={"batch": 4}, distributions={"batch": IntDistribution(1, 8)},
    ...                      values=(1.5, 2.7), constraints={"dsp": -3.0})
    >>> write_trials(storage, study._study_id, [record], {"checkpoint:generation": 0})
    >>> study.trials[0].constraints
    {'dsp': -3.0}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from ssropt.storage._journal import _journal_supported, _write_journal
from ssropt.storage._open import DEFAULT_STORAGE, StorageError, open_storage
from ssropt.storage._rdb import _write_rdb
from ssropt.storage._records import (
    TrialRecord,
    _batch_distributions,
    _json_safe,
    _prepare,
    _Prepared,
)

__all__ = [
    "DEFAULT_STORAGE",
    "StorageError",
    "TrialRecord",
    "open_storage",
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


def _write_generic(
    storage: optuna.storages.BaseStorage,
    study_id: int,
    prepared: Sequence[_Prepared],
    study_system_attrs: Mapping[str, Any],
) -> None:
    """Public-API fallback: one ``create_new_trial`` per record, then the study attributes.

    Trials go first so that an interruption leaves trials without their checkpoint (the
    run loop redoes the generation) rather than a checkpoint without its trials.
    """
    for item in prepared:
        template = optuna.trial.create_trial(
            state=item.state,
            values=item.values,
            params={
                n: d.to_external_repr(item.params_internal[n])
                for n, d in item.distributions.items()
            },
            distributions=item.distributions,
            user_attrs=item.user_attrs,
            system_attrs=item.system_attrs,
        )
        storage.create_new_trial(study_id, template_trial=template)
    for key, value in study_system_attrs.items():
        storage.set_study_system_attr(study_id, key, value)
