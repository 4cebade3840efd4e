"""Journal fast path: a whole batch as ONE ``append_logs`` call and one replay sync; and
the atomic read-decide-write of the multi-worker protocol under the journal file's lock."""

from __future__ import annotations

import datetime
import json
import logging
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState

from ssropt.storage._open import (
    StorageError,
    StorageUnavailable,
    _one_line,
    cut_torn_tail_locked,
)
from ssropt.storage._records import (
    StoredTrial,
    StudyUpdate,
    _batch_distributions,
    _check_compatible,
    _Prepared,
    _utc_now,
)

_logger = logging.getLogger("ssropt.storage")

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

    from optuna.storages.journal._base import BaseJournalSnapshot
    from optuna.storages.journal._storage import SNAPSHOT_INTERVAL

    with storage._thread_lock:
        storage._sync_with_backend()
        replay = storage._replay_result
        _check_batch(replay, study_id, batch_distributions)
        logs = _trial_logs(replay.worker_id, study_id, prepared) + _attr_logs(
            replay.worker_id, study_id, study_system_attrs
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


def _check_batch(
    replay: Any, study_id: int, batch_distributions: Mapping[str, BaseDistribution]
) -> None:
    """StorageError if the study is missing or a distribution clashes with a stored one."""
    try:
        replay.get_study(study_id)
    except KeyError:
        raise StorageError(f"study id {study_id} does not exist in the storage")
    existing = _journal_distributions(replay, study_id, batch_distributions.keys())
    for name, distribution in batch_distributions.items():
        if name in existing:
            _check_compatible(name, existing[name], distribution)


def _trial_logs(worker_id: str, study_id: int, prepared: Sequence[_Prepared]) -> list[dict]:
    """The ``CREATE_TRIAL`` entries ``create_new_trial(study_id, template)`` would write."""
    from optuna.distributions import distribution_to_json
    from optuna.storages.journal._storage import JournalOperation

    now = _utc_now()

    def iso(when: datetime.datetime | None) -> str:  # as JournalStorage.create_new_trial
        return (when or now).astimezone(datetime.UTC).isoformat(timespec="microseconds")

    json_by_id: dict[int, str] = {}  # records usually share distribution objects

    def as_json(distribution: BaseDistribution) -> str:
        text = json_by_id.get(id(distribution))
        if text is None:
            text = json_by_id[id(distribution)] = distribution_to_json(distribution)
        return text

    logs: list[dict[str, Any]] = []
    for item in prepared:
        many = item.values is not None and len(item.values) > 1
        logs.append(
            {
                "op_code": int(JournalOperation.CREATE_TRIAL),
                "worker_id": worker_id,
                "study_id": study_id,
                "datetime_start": iso(item.datetime_start),
                "state": int(item.state),
                "value": item.values[0] if item.values and not many else None,
                "values": item.values if many else None,
                "datetime_complete": iso(item.datetime_complete),
                "distributions": {n: as_json(d) for n, d in item.distributions.items()},
                "params": item.params_internal,
                "user_attrs": item.user_attrs,
                "system_attrs": item.system_attrs,
                "intermediate_values": {},
            }
        )
    return logs


def _attr_logs(worker_id: str, study_id: int, attrs: Mapping[str, Any]) -> list[dict]:
    """``SET_STUDY_SYSTEM_ATTR`` entries, one key each (the replay takes one key per entry)."""
    from optuna.storages.journal._storage import JournalOperation

    return [
        {
            "op_code": int(JournalOperation.SET_STUDY_SYSTEM_ATTR),
            "worker_id": worker_id,
            "study_id": study_id,
            "system_attr": {key: value},
        }
        for key, value in attrs.items()
    ]


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


# -- atomic read-decide-write (the multi-worker protocol's compare-and-set) -----------------


def _journal_atomic_supported(storage: optuna.storages.JournalStorage) -> bool:
    """Whether the journal's file lock can be held across read, decide and append."""
    from optuna.storages.journal import JournalFileBackend

    backend = getattr(storage, "_backend", None)
    return (
        _journal_supported(storage)
        and isinstance(backend, JournalFileBackend)
        and hasattr(backend, "_lock")
        and hasattr(backend, "_file_path")
    )


class _HeldLock:
    """Stands in for the backend's lock while we hold the real one (append_logs re-locks)."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


_HELD = _HeldLock()
# (generation, individual)-style keys of the COMPLETE trials already scanned, per replay
_STORED_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _update_journal(
    storage: optuna.storages.JournalStorage,
    study_id: int,
    keys: Sequence[str],
    decide: Callable[[dict[str, Any]], StudyUpdate | None],
    dedupe: tuple[str, str] | None,
) -> tuple[StudyUpdate | None, list[int]]:
    """Under the journal file's lock: cut a torn tail, replay, read ``keys``, decide, append.

    Every writer that goes through here holds the same lock file as Optuna's own appends,
    so the attributes ``decide`` sees are the latest and nobody appends between the read
    and our append: a compare-and-set across processes.
    """
    backend = storage._backend
    lock = backend._lock
    with storage._thread_lock:
        try:
            lock.acquire()
        except OSError as error:
            raise StorageUnavailable(f"cannot lock the journal: {_one_line(error)}")
        try:
            try:
                cut_torn_tail_locked(backend._file_path)
                storage._sync_with_backend()
            except OSError as error:
                raise StorageUnavailable(f"cannot read the journal: {_one_line(error)}")
            replay = storage._replay_result
            try:
                study = replay.get_study(study_id)
            except KeyError:
                raise StorageError(f"study id {study_id} does not exist in the storage")
            attrs = {
                k: json.loads(json.dumps(study.system_attrs[k]))  # decide may change its copy
                for k in keys
                if k in study.system_attrs
            }
            update = decide(attrs)
            if update is None:
                return None, []
            prepared = update.prepared(len(study.directions))
            _check_batch(replay, study_id, _batch_distributions(prepared))
            known = _stored_keys(replay, study_id, dedupe) if dedupe else {}
            ids, new = [], []
            next_id = len(replay._trials)
            for item in prepared:
                key = _dedupe_key(item.system_attrs, dedupe) if dedupe else None
                if key is not None and key in known:
                    ids.append(known[key])  # left by a writer killed inside its append
                else:
                    ids.append(next_id)
                    next_id += 1
                    new.append(item)
            logs = _trial_logs(replay.worker_id, study_id, new) + _attr_logs(
                replay.worker_id, study_id, update.attrs_to_write(ids)
            )
            backend._lock = _HELD
            try:
                backend.append_logs(logs)
            except (TypeError, ValueError) as error:
                raise StorageError(f"cannot write the batch to the journal: {_one_line(error)}")
            except OSError as error:
                raise StorageUnavailable(f"cannot write to the journal: {_one_line(error)}")
            finally:
                backend._lock = lock
            storage._sync_with_backend()
            if new and len(replay._trials) != next_id:
                raise StorageError("the journal numbered the batch's trials unexpectedly")
        finally:
            try:
                lock.release()
            except RuntimeError:  # another process broke our lock after its grace period
                _logger.warning("the journal lock was taken from us while we held it")
    return update, ids


def _dedupe_key(system_attrs: Mapping[str, Any], names: tuple[str, str]) -> tuple | None:
    if names[0] not in system_attrs or names[1] not in system_attrs:
        return None
    return (json.dumps(system_attrs[names[0]]), json.dumps(system_attrs[names[1]]))


def _stored_keys(replay: Any, study_id: int, names: tuple[str, str]) -> dict[tuple, int]:
    """Key -> trial id of the study's COMPLETE trials, scanning only trials new since last."""
    per_replay = _STORED_KEYS.setdefault(replay, {})
    scanned, known = per_replay.setdefault((study_id, names), [0, {}])
    trial_ids = replay._study_id_to_trial_ids.get(study_id, [])
    for trial_id in trial_ids[scanned:]:
        trial = replay._trials[trial_id]
        if trial.state == TrialState.COMPLETE:
            key = _dedupe_key(trial.system_attrs, names)
            if key is not None:
                known.setdefault(key, trial_id)
    per_replay[(study_id, names)][0] = len(trial_ids)
    return known


def _read_journal_attrs(
    storage: optuna.storages.JournalStorage, study_id: int, keys: Sequence[str]
) -> dict[str, Any]:
    with storage._thread_lock:
        try:
            storage._sync_with_backend()
        except OSError as error:
            raise StorageUnavailable(f"cannot read the journal: {_one_line(error)}")
        try:
            attrs = storage._replay_result.get_study(study_id).system_attrs
        except KeyError:
            raise StorageError(f"study id {study_id} does not exist in the storage")
        return {k: json.loads(json.dumps(attrs[k])) for k in keys if k in attrs}


def _read_journal_trials(
    storage: optuna.storages.JournalStorage, trial_ids: Sequence[int]
) -> list[StoredTrial]:
    with storage._thread_lock:
        try:
            storage._sync_with_backend()
        except OSError as error:
            raise StorageUnavailable(f"cannot read the journal: {_one_line(error)}")
        out = []
        for trial_id in trial_ids:
            try:
                trial = storage._replay_result._trials[trial_id]
            except KeyError:
                raise StorageError(f"trial id {trial_id} does not exist in the storage")
            values = None if trial.values is None else list(trial.values)
            out.append(StoredTrial(trial_id, trial.state, values, dict(trial.system_attrs)))
        return out
