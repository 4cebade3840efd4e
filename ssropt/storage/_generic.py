"""The generic backend: Optuna's public ``BaseStorage`` API only.

For storages without a fast path (``InMemoryStorage``, other journal backends, a gRPC
proxy ...) and the fallback of the journal and RDB backends when the Optuna internals
they rely on are missing: one ``create_new_trial(study_id, template_trial=...)`` per
record, then one ``set_study_system_attr`` per key.  Read-decide-write is atomic across
processes on an ssropt journal file (under the file's lock: the appends Optuna makes
meanwhile from this thread do not lock again), and within this process elsewhere.  A
write interrupted part-way leaves a prefix of its trials (and no attributes): the worker
protocol's ``dedupe`` keys then keep those trials from being stored twice, and a study
whose creation was interrupted is recognised by its missing settings.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import optuna
from optuna.trial import TrialState

from ssropt.storage._backend import (
    StudyBackend,
    StudyNameTaken,
    dedupe_key,
    metric_names_key,
    prepare_records,
)
from ssropt.storage._journal_file import JournalFile
from ssropt.storage._open import StorageError
from ssropt.storage._records import (
    StoredTrial,
    _batch_distributions,
    _json_safe,
    _Prepared,
)

_logger = logging.getLogger("ssropt.storage")
_WARNED: set[type] = set()


class GenericBackend(StudyBackend):
    """Any Optuna storage, through its public methods (see the module docstring).

    Args:
        storage: the storage.
        journal_file: the ssropt journal file behind a ``JournalStorage``, whose lock makes
            read-decide-write atomic across processes.
    """

    kind = "generic"

    def __init__(
        self, storage: optuna.storages.BaseStorage, journal_file: JournalFile | None = None
    ) -> None:
        super().__init__(storage)
        self.journal_file = journal_file
        self._lock = threading.RLock()
        self._stored_keys: dict[tuple, list] = {}

    @contextmanager
    def _atomic(self, warn: bool = False) -> Iterator[None]:
        with self._lock:
            if self.journal_file is not None:
                with self.journal_file.locked():
                    self.journal_file.cut_torn_tail()
                    yield
                return
            if warn and not isinstance(self.storage, optuna.storages.InMemoryStorage):
                if type(self.storage) not in _WARNED:
                    _WARNED.add(type(self.storage))
                    _logger.warning(
                        "%s: study updates are atomic within this process only; run one "
                        "worker per study on it (use a journal file or a database for several)",
                        type(self.storage).__name__,
                    )
            yield

    # -- studies ---------------------------------------------------------------------------------
    def create_study(self, name, directions, metric_names, user_attrs, system_attrs) -> int:
        with self._atomic():
            if self.study_id(name) is not None:
                raise StudyNameTaken(f"a study named {name!r} already exists")
            try:
                study_id = self.storage.create_new_study(
                    [optuna.study.StudyDirection[d.upper()] for d in directions], name
                )
            except optuna.exceptions.DuplicatedStudyError:
                raise StudyNameTaken(f"a study named {name!r} already exists") from None
            self.storage.set_study_system_attr(study_id, metric_names_key(), list(metric_names))
            for key, value in _json_safe(dict(user_attrs)).items():
                self.storage.set_study_user_attr(study_id, key, value)
            for key, value in _json_safe(dict(system_attrs)).items():
                self.storage.set_study_system_attr(study_id, key, value)
        return study_id

    # -- trials ----------------------------------------------------------------------------------
    def write_trials(self, study_id, records, study_system_attrs=None) -> None:
        attrs = _json_safe(dict(study_system_attrs or {}))
        prepared = prepare_records(records, len(self.directions(study_id)))
        _batch_distributions(prepared)
        if not prepared and not attrs:
            return
        with self._atomic():
            write_prepared(self.storage, study_id, prepared, attrs)

    def update_study(self, study_id, keys, decide, dedupe=None):
        with self._atomic(warn=True):
            try:
                current = self.storage.get_study_system_attrs(study_id)
                n_objectives = len(self.storage.get_study_directions(study_id))
            except KeyError:
                raise StorageError(f"study id {study_id} does not exist in the storage")
            update = decide({k: _json_safe(current[k]) for k in keys if k in current})
            if update is None:
                return None, []
            prepared = update.prepared(n_objectives)
            known = self._known_keys(study_id, dedupe) if dedupe else {}
            ids: list[int | None] = []
            new = []
            for item in prepared:
                key = dedupe_key(item.system_attrs, dedupe) if dedupe else None
                ids.append(known.get(key) if key is not None else None)
                if ids[-1] is None:
                    new.append(item)
            created = iter(write_prepared(self.storage, study_id, new, {}))
            ids = [trial_id if trial_id is not None else next(created) for trial_id in ids]
            for key, value in update.attrs_to_write(ids).items():
                self.storage.set_study_system_attr(study_id, key, value)
        return update, ids

    def _known_keys(self, study_id: int, names: tuple[str, str]) -> dict[tuple, int]:
        """Key -> trial id of the study's COMPLETE trials (trials scanned once)."""
        scanned, known = self._stored_keys.setdefault((study_id, names), [0, {}])
        trials = self.storage.get_all_trials(study_id, deepcopy=False)
        for trial in trials[scanned:]:
            if trial.state == TrialState.COMPLETE:
                key = dedupe_key(trial.system_attrs, names)
                if key is not None and key not in known:
                    known[key] = self.storage.get_trial_id_from_study_id_trial_number(
                        study_id, trial.number
                    )
        self._stored_keys[(study_id, names)][0] = len(trials)
        return known

    def read_study_attrs(self, study_id, keys) -> dict[str, Any]:
        try:
            attrs = self.storage.get_study_system_attrs(study_id)
        except KeyError:
            raise StorageError(f"study id {study_id} does not exist in the storage")
        return {k: _json_safe(attrs[k]) for k in keys if k in attrs}

    def read_trials(self, trial_ids) -> list[StoredTrial]:
        out = []
        for trial_id in trial_ids:
            try:
                trial = self.storage.get_trial(trial_id)
            except KeyError:
                raise StorageError(f"trial id {trial_id} does not exist in the storage")
            values = None if trial.values is None else list(trial.values)
            out.append(StoredTrial(trial_id, trial.state, values, dict(trial.system_attrs)))
        return out


def write_prepared(
    storage: optuna.storages.BaseStorage,
    study_id: int,
    prepared: Sequence[_Prepared],
    study_system_attrs: Mapping[str, Any],
) -> list[int]:
    """One ``create_new_trial`` per record, then the study attributes; the new trials' ids.

    Trials go first so that an interruption leaves trials without their checkpoint (the
    run loop redoes the generation) rather than a checkpoint without its trials.
    """
    ids = []
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
        # create_trial stamped "now"; Optuna keeps naive local times in a FrozenTrial
        if item.datetime_start is not None:
            template.datetime_start = item.datetime_start.astimezone().replace(tzinfo=None)
        if item.datetime_complete is not None:
            template.datetime_complete = item.datetime_complete.astimezone().replace(tzinfo=None)
        ids.append(storage.create_new_trial(study_id, template_trial=template))
    for key, value in study_system_attrs.items():
        storage.set_study_system_attr(study_id, key, value)
    return ids
