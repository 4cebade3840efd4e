"""The journal backend: a whole batch as ONE ``append_logs`` call and one replay; the atomic
read-decide-write of the worker protocol and atomic study creation under the journal
file's lock.

The records written are those ``JournalStorage.create_new_trial(study_id, template)``,
``create_new_study`` and ``set_study_*_attr`` write (optuna/storages/journal/_storage.py),
so every reader (``optuna.load_study``, ``optuna trials``, optuna-dashboard) replays them
as if Optuna had written them one by one.  It reads Optuna's replay state (internals,
checked when the backend is built: :class:`~ssropt.storage._backend.Unsupported` if one
is missing, and the generic backend takes over).
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
import pickle
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, distribution_to_json
from optuna.trial import TrialState

from ssropt.storage._backend import (
    StudyBackend,
    StudyNameTaken,
    Unsupported,
    dedupe_key,
    metric_names_key,
    prepare_records,
)
from ssropt.storage._journal_file import JournalDamaged, JournalFile
from ssropt.storage._open import StorageError, StorageUnavailable, _one_line
from ssropt.storage._records import (
    StoredTrial,
    _batch_distributions,
    _check_compatible,
    _json_safe,
    _Prepared,
    _utc_now,
)

_STORAGE_INTERNALS = ("_backend", "_thread_lock", "_replay_result", "_sync_with_backend")
_REPLAY_INTERNALS = (
    "worker_id", "_trials", "_study_id_to_trial_ids", "_next_study_id", "get_study",
    "get_all_trials", "get_all_studies",
)
_OPERATIONS = ("CREATE_STUDY", "SET_STUDY_USER_ATTR", "SET_STUDY_SYSTEM_ATTR", "CREATE_TRIAL")
_WARNED: set[type] = set()
#: distribution JSON strings whose parse Optuna's replay keeps (see _remember_distributions)
REMEMBERED_DISTRIBUTIONS = 4096
_logger = logging.getLogger("ssropt.storage")


def _internals() -> tuple[Any, int, Any]:
    """Optuna's ``JournalOperation``, ``SNAPSHOT_INTERVAL`` and ``BaseJournalSnapshot``."""
    try:
        from optuna.storages.journal import _storage as module
    except ImportError as error:
        raise Unsupported(f"optuna.storages.journal._storage: {error}")
    operation = getattr(module, "JournalOperation", None)
    if operation is None or not all(hasattr(operation, name) for name in _OPERATIONS):
        raise Unsupported("JournalOperation")
    try:
        from optuna.storages.journal._base import BaseJournalSnapshot
    except ImportError:
        BaseJournalSnapshot = None  # noqa: N806
    _remember_distributions(module)
    return operation, int(getattr(module, "SNAPSHOT_INTERVAL", 100)), BaseJournalSnapshot


def _remember_distributions(module: Any) -> None:
    """Optuna's replay parses every trial's distributions from their JSON, and a study's
    trials repeat a handful of them (a 5,000-trial study: 55,000 parses of about ten
    strings); the parse of each string is kept (an equal distribution; none is ever
    changed in place).  Installed once, in place of the module's own function."""
    parse = getattr(module, "json_to_distribution", None)
    if parse is None or getattr(parse, "_ssropt_remembered", False):
        return
    remembered = functools.lru_cache(maxsize=REMEMBERED_DISTRIBUTIONS)(parse)
    remembered._ssropt_remembered = True
    module.json_to_distribution = remembered


class JournalBackend(StudyBackend):
    """A ``JournalStorage``; cross-process atomic on an ssropt :class:`JournalFile`."""

    kind = "journal"

    def __init__(self, storage: optuna.storages.JournalStorage, file: JournalFile | None) -> None:
        super().__init__(storage)
        missing = [n for n in _STORAGE_INTERNALS if not hasattr(storage, n)]
        replay = getattr(storage, "_replay_result", None)
        missing += [f"_replay_result.{n}" for n in _REPLAY_INTERNALS if not hasattr(replay, n)]
        if missing:
            raise Unsupported("JournalStorage." + ", ".join(missing))
        self.operation, self.snapshot_interval, self.snapshot_type = _internals()
        self.file = file
        self._process_lock = threading.RLock()
        self._stored_keys: dict[tuple, list] = {}  # (study, names) -> [scanned, key -> id]

    # -- reading Optuna's replay -----------------------------------------------------------------
    @contextmanager
    def _synced(self, *, lock: bool) -> Iterator[Any]:
        """The replay, synced with the file (under the file's lock if ``lock``)."""
        storage = self.storage
        with self._locked(lock), storage._thread_lock:
            try:
                if lock and self.file is not None:
                    self.file.cut_torn_tail()
                storage._sync_with_backend()
            except JournalDamaged:
                raise
            except OSError as error:
                raise StorageUnavailable(f"cannot read the journal: {_one_line(error)}")
            except (AssertionError, KeyError, TypeError, ValueError) as error:
                line = self.file.last_line if self.file is not None else 0
                path = self.file.path if self.file is not None else "journal"
                raise JournalDamaged(path, line, f"a record Optuna cannot apply ({_one_line(error)})")
            yield storage._replay_result

    @contextmanager
    def _locked(self, lock: bool) -> Iterator[None]:
        if not lock:
            yield
        elif self.file is not None:
            with self._process_lock, self.file.locked():
                yield
        else:
            if type(self.storage._backend) not in _WARNED:
                _WARNED.add(type(self.storage._backend))
                _logger.warning(
                    "%s: study updates are atomic within this process only; run one worker "
                    "per study on it (use a journal file or a database for several)",
                    type(self.storage._backend).__name__,
                )
            with self._process_lock:
                yield

    def _append(self, replay: Any, logs: list[dict]) -> None:
        try:
            self.storage._backend.append_logs(logs)  # serialises everything before writing
        except (TypeError, ValueError) as error:  # not JSON-serialisable
            raise StorageError(f"cannot write the batch to the journal: {_one_line(error)}")
        except OSError as error:
            raise StorageUnavailable(f"cannot write to the journal: {_one_line(error)}")
        try:
            self.storage._sync_with_backend()
        except OSError as error:
            raise StorageUnavailable(f"cannot read the journal: {_one_line(error)}")

    # -- studies -----------------------------------------------------------------------------------
    def create_study(self, name, directions, metric_names, user_attrs, system_attrs) -> int:
        op = self.operation
        directions_out = [int(optuna.study.StudyDirection[d.upper()]) for d in directions]
        with self._synced(lock=True) as replay:
            if any(s.study_name == name for s in replay.get_all_studies()):
                raise StudyNameTaken(f"a study named {name!r} already exists")
            study_id = replay._next_study_id
            worker = replay.worker_id
            logs = [{"op_code": int(op.CREATE_STUDY), "worker_id": worker,
                     "study_name": name, "directions": directions_out}]
            system = {metric_names_key(): list(metric_names), **system_attrs}
            logs += [{"op_code": int(op.SET_STUDY_USER_ATTR), "worker_id": worker,
                      "study_id": study_id, "user_attr": {k: v}}
                     for k, v in _json_safe(dict(user_attrs)).items()]
            logs += _attr_logs(op, worker, study_id, _json_safe(system))
            self._append(replay, logs)
            if replay.get_study(study_id).study_name != name:
                raise StorageError(f"the journal numbered study {name!r} unexpectedly")
        return study_id

    # -- trials ------------------------------------------------------------------------------------
    def write_trials(self, study_id, records, study_system_attrs=None) -> None:
        attrs = _json_safe(dict(study_system_attrs or {}))
        with self._synced(lock=self.file is not None) as replay:
            directions = _directions(replay, study_id)
            prepared = prepare_records(records, len(directions))
            if not prepared and not attrs:
                return
            self._check_batch(replay, study_id, _batch_distributions(prepared))
            before = len(replay._trials)
            logs = _trial_logs(self.operation, replay.worker_id, study_id, prepared)
            self._append(replay, logs + _attr_logs(self.operation, replay.worker_id, study_id, attrs))
            self._maybe_snapshot(replay, before)

    def _maybe_snapshot(self, replay: Any, n_trials_before: int) -> None:
        """``create_new_trial`` dumps a snapshot whenever a trial id is a multiple of the
        snapshot interval (snapshot-capable backends only, not files): dump one, of the
        state after the whole batch, if the batch crossed such an id."""
        backend = self.storage._backend
        if self.snapshot_type is None or not isinstance(backend, self.snapshot_type):
            return
        interval = self.snapshot_interval
        last_id, first_id = len(replay._trials) - 1, max(n_trials_before, 1)
        if last_id >= first_id and last_id // interval * interval >= first_id:
            backend.save_snapshot(pickle.dumps(replay))

    def _check_batch(self, replay, study_id, batch_distributions) -> None:
        """StorageError if a distribution clashes with one stored in the study."""
        wanted = set(batch_distributions)
        found: dict[str, BaseDistribution] = {}
        for trial in replay.get_all_trials(study_id, None):
            for name in wanted.intersection(trial.distributions):
                found[name] = trial.distributions[name]
            wanted.difference_update(found)
            if not wanted:
                break
        for name, distribution in batch_distributions.items():
            if name in found:
                _check_compatible(name, found[name], distribution)

    def update_study(self, study_id, keys, decide, dedupe=None):
        with self._synced(lock=True) as replay:
            study = _study(replay, study_id)
            attrs = {
                k: json.loads(json.dumps(study.system_attrs[k]))  # decide may change its copy
                for k in keys
                if k in study.system_attrs
            }
            update = decide(attrs)
            if update is None:
                return None, []
            prepared = update.prepared(len(study.directions))
            self._check_batch(replay, study_id, _batch_distributions(prepared))
            known = self._known_keys(replay, study_id, dedupe) if dedupe else {}
            ids, new = [], []
            next_id = len(replay._trials)
            for item in prepared:
                key = dedupe_key(item.system_attrs, dedupe) if dedupe else None
                if key is not None and key in known:
                    ids.append(known[key])  # left by a writer killed inside its append
                else:
                    ids.append(next_id)
                    next_id += 1
                    new.append(item)
            worker = replay.worker_id
            logs = _trial_logs(self.operation, worker, study_id, new)
            logs += _attr_logs(self.operation, worker, study_id, update.attrs_to_write(ids))
            self._append(replay, logs)
            if new and len(replay._trials) != next_id:
                raise StorageError("the journal numbered the batch's trials unexpectedly")
        return update, ids

    def _known_keys(self, replay, study_id: int, names: tuple[str, str]) -> dict[tuple, int]:
        """Key -> trial id of the study's COMPLETE trials, scanning only new trials."""
        scanned, known = self._stored_keys.setdefault((study_id, names), [0, {}])
        trial_ids = replay._study_id_to_trial_ids.get(study_id, [])
        for trial_id in trial_ids[scanned:]:
            trial = replay._trials[trial_id]
            if trial.state == TrialState.COMPLETE:
                key = dedupe_key(trial.system_attrs, names)
                if key is not None:
                    known.setdefault(key, trial_id)
        self._stored_keys[(study_id, names)][0] = len(trial_ids)
        return known

    def read_study_attrs(self, study_id, keys) -> dict[str, Any]:
        with self._synced(lock=False) as replay:
            attrs = _study(replay, study_id).system_attrs
            return {k: json.loads(json.dumps(attrs[k])) for k in keys if k in attrs}

    def read_trials(self, trial_ids) -> list[StoredTrial]:
        with self._synced(lock=False) as replay:
            out = []
            for trial_id in trial_ids:
                trial = replay._trials.get(trial_id)
                if trial is None:
                    raise StorageError(f"trial id {trial_id} does not exist in the storage")
                values = None if trial.values is None else list(trial.values)
                out.append(StoredTrial(trial_id, trial.state, values, dict(trial.system_attrs)))
            return out


def _study(replay: Any, study_id: int) -> Any:
    try:
        return replay.get_study(study_id)
    except KeyError:
        raise StorageError(f"study id {study_id} does not exist in the storage")


def _directions(replay: Any, study_id: int) -> list:
    return list(_study(replay, study_id).directions)


def _trial_logs(op: Any, worker_id: str, study_id: int, prepared: Sequence[_Prepared]) -> list:
    """The ``CREATE_TRIAL`` records ``create_new_trial(study_id, template)`` would write."""
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
                "op_code": int(op.CREATE_TRIAL),
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


def _attr_logs(op: Any, worker_id: str, study_id: int, attrs: Mapping[str, Any]) -> list[dict]:
    """``SET_STUDY_SYSTEM_ATTR`` records, one key each (the replay takes one key a record)."""
    return [
        {"op_code": int(op.SET_STUDY_SYSTEM_ATTR), "worker_id": worker_id,
         "study_id": study_id, "system_attr": {key: value}}
        for key, value in attrs.items()
    ]
