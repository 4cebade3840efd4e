"""Journal fast path: a whole batch as ONE ``append_logs`` call and one replay sync."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution

from ssropt.storage._open import StorageError, _one_line
from ssropt.storage._records import _check_compatible, _Prepared, _utc_now

# The private JournalStorage members the fast path uses (checked, else the generic path runs).
_JOURNAL_INTERNALS = ("_backend", "_thread_lock", "_replay_result", "_sync_with_backend")


def _journal_supported(storage: optuna.storages.JournalStorage) -> bool:
    return all(hasattr(storage, name) for name in _JOURNAL_INTERNALS) and hasattr(
        storage._replay_result, "worker_id"
    )


def _write_journal(
    storage: optuna.storages.JournalStorage,
    study_id: int,
    prepared: Sequence[_Prepared],
    batch_distributions: Mapping[str, BaseDistribution],
    study_system_attrs: Mapping[str, Any],
) -> None:
    """Append the batch as ONE ``append_logs`` call, then replay it (one sync).

    The log entries are those of ``JournalStorage.create_new_trial(study_id, template)`` and
    ``JournalStorage.set_study_system_attr`` (optuna/storages/journal/_storage.py), so every
    reader (``optuna.load_study``, ``optuna trials``, optuna-dashboard) replays them as if
    Optuna had written them one by one.
    """
    import pickle

    from optuna.distributions import distribution_to_json
    from optuna.storages.journal._base import BaseJournalSnapshot
    from optuna.storages.journal._storage import SNAPSHOT_INTERVAL, JournalOperation

    now = _utc_now().isoformat(timespec="microseconds")
    json_by_id: dict[int, str] = {}  # records usually share distribution objects

    def as_json(distribution: BaseDistribution) -> str:
        text = json_by_id.get(id(distribution))
        if text is None:
            text = json_by_id[id(distribution)] = distribution_to_json(distribution)
        return text

    with storage._thread_lock:
        storage._sync_with_backend()
        replay = storage._replay_result
        try:
            replay.get_study(study_id)
        except KeyError:
            raise StorageError(f"study id {study_id} does not exist in the storage")
        existing = _journal_distributions(replay, study_id, batch_distributions.keys())
        for name, distribution in batch_distributions.items():
            if name in existing:
                _check_compatible(name, existing[name], distribution)
        worker_id = replay.worker_id
        logs: list[dict[str, Any]] = []
        for item in prepared:
            many = item.values is not None and len(item.values) > 1
            logs.append(
                {
                    "op_code": int(JournalOperation.CREATE_TRIAL),
                    "worker_id": worker_id,
                    "study_id": study_id,
                    "datetime_start": now,
                    "state": int(item.state),
                    "value": item.values[0] if item.values and not many else None,
                    "values": item.values if many else None,
                    "datetime_complete": now,
                    "distributions": {n: as_json(d) for n, d in item.distributions.items()},
                    "params": item.params_internal,
                    "user_attrs": item.user_attrs,
                    "system_attrs": item.system_attrs,
                    "intermediate_values": {},
                }
            )
        for key, value in study_system_attrs.items():  # the replay takes one key per entry
            logs.append(
                {
                    "op_code": int(JournalOperation.SET_STUDY_SYSTEM_ATTR),
                    "worker_id": worker_id,
                    "study_id": study_id,
                    "system_attr": {key: value},
                }
            )
        n_trials_before = len(replay._trials)
        try:
            storage._backend.append_logs(logs)  # serialises everything before writing
        except (TypeError, ValueError, OSError) as error:  # not JSON-serialisable, disk full
            raise StorageError(f"cannot write the batch to the journal: {_one_line(error)}")
        storage._sync_with_backend()
        # create_new_trial dumps a snapshot whenever a trial id is a multiple of
        # SNAPSHOT_INTERVAL (snapshot-capable backends only, e.g. Redis; not files): dump
        # one, of the state after the whole batch, if the batch crossed such an id.
        last_id = len(replay._trials) - 1
        first_id = max(n_trials_before, 1)
        crossed = (
            last_id >= first_id and last_id // SNAPSHOT_INTERVAL * SNAPSHOT_INTERVAL >= first_id
        )
        if crossed and isinstance(storage._backend, BaseJournalSnapshot):
            storage._backend.save_snapshot(pickle.dumps(replay))


def _journal_distributions(replay: Any, study_id: int, names: Any) -> dict[str, BaseDistribution]:
    """The first stored distribution of each of ``names`` in the study (as Optuna checks)."""
    wanted = set(names)
    found: dict[str, BaseDistribution] = {}
    for trial in replay.get_all_trials(study_id, None):
        for name in wanted.intersection(trial.distributions):
            found[name] = trial.distributions[name]
        wanted.difference_update(found)
        if not wanted:
            break
    return found
