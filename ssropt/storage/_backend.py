"""One door to a storage: :class:`StudyBackend`, chosen once per storage by :func:`backend_for`.

Everything the engine needs from Optuna storage beyond Optuna's public API -- batched
trial writes, the atomic read-decide-write of the worker protocol, targeted reads,
atomic study creation -- is a method of a backend, one class per kind of storage:

* :class:`~ssropt.storage._journal.JournalBackend`: a journal file (ssropt's
  :class:`~ssropt.storage._journal_file.JournalFile`); batches as one append under the
  file's lock;
* :class:`~ssropt.storage._rdb.RdbBackend`: SQLite / PostgreSQL / MySQL; batches as one
  transaction through Optuna's SQLAlchemy models;
* :class:`~ssropt.storage._generic.GenericBackend`: anything else, and the fallback of the
  other two: Optuna's public ``BaseStorage`` methods only, one ``create_new_trial`` per
  record, atomic under the journal file's lock (journal files) or a lock of this process.

The fast backends use Optuna internals; they check for them when they are built and,
if one is missing or changed (a newer Optuna), :func:`backend_for` logs ONE warning and
returns the generic backend instead: slower, never a crash.  The engine never touches an
Optuna private name; this package is the only place that does.
"""

from __future__ import annotations

import functools
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import optuna
from optuna.study import StudyDirection
from optuna.trial import TrialState

from ssropt.storage._open import StorageError
from ssropt.storage._records import StoredTrial, StudyUpdate, TrialRecord, _prepare, _Prepared

_logger = logging.getLogger("ssropt.storage")


def prepare_records(records: Sequence[TrialRecord], n_objectives: int) -> list[_Prepared]:
    """Every record validated into storage form (StorageError naming the first bad one)."""
    return [_prepare(i, record, n_objectives) for i, record in enumerate(records)]


def dedupe_key(system_attrs: Mapping[str, Any], names: tuple[str, str]) -> tuple | None:
    """The identity of a stored record by two of its system attributes (e.g. generation
    and individual), or None if it lacks one."""
    if names[0] not in system_attrs or names[1] not in system_attrs:
        return None
    return (json.dumps(system_attrs[names[0]]), json.dumps(system_attrs[names[1]]))


class Unsupported(Exception):
    """The Optuna internals a fast backend relies on are missing or changed."""


class StudyNameTaken(StorageError):
    """A study of that name already exists."""


@functools.cache
def metric_names_key() -> str:
    """The study system attribute Optuna keeps metric names in, learnt through the public
    ``Study.set_metric_names`` (so the format follows Optuna rather than being copied)."""
    import warnings

    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, directions=["minimize"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.set_metric_names(["probe"])
    study_id = storage.get_study_id_from_name(study.study_name)
    (key,) = storage.get_study_system_attrs(study_id)
    return key


class StudyBackend(ABC):
    """What the engine asks of a storage (one instance per storage object).

    The public-API methods are implemented here once; the fast backends override what
    they do faster or atomically.

    Attributes:
        storage: the Optuna storage (pass it to ``optuna.load_study`` and friends).
        kind: ``"journal"``, ``"rdb"`` or ``"generic"``.
    """

    kind = "generic"

    def __init__(self, storage: optuna.storages.BaseStorage) -> None:
        self.storage = storage

    # -- studies ---------------------------------------------------------------------------
    def study_id(self, name: str) -> int | None:
        """The id of the study named ``name``, or None if there is none."""
        try:
            return self.storage.get_study_id_from_name(name)
        except KeyError:
            return None

    def study_names(self) -> list[str]:
        return [study.study_name for study in self.storage.get_all_studies()]

    def user_attrs(self, study_id: int) -> dict[str, Any]:
        try:
            return dict(self.storage.get_study_user_attrs(study_id))
        except KeyError:
            raise StorageError(f"study id {study_id} does not exist in the storage")

    def system_attrs(self, study_id: int) -> dict[str, Any]:
        try:
            return dict(self.storage.get_study_system_attrs(study_id))
        except KeyError:
            raise StorageError(f"study id {study_id} does not exist in the storage")

    def directions(self, study_id: int) -> list[StudyDirection]:
        try:
            return list(self.storage.get_study_directions(study_id))
        except KeyError:
            raise StorageError(f"study id {study_id} does not exist in the storage")

    def n_trials(self, study_id: int) -> int:
        return len(self.storage.get_all_trials(study_id, deepcopy=False))

    def set_user_attrs(self, study_id: int, attrs: Mapping[str, Any]) -> None:
        for key, value in attrs.items():
            self.storage.set_study_user_attr(study_id, key, value)

    def delete_study(self, study_id: int) -> None:
        self.storage.delete_study(study_id)

    @abstractmethod
    def create_study(
        self,
        name: str,
        directions: Sequence[str],
        metric_names: Sequence[str],
        user_attrs: Mapping[str, Any],
        system_attrs: Mapping[str, Any],
    ) -> int:
        """Create a study with its directions, metric names and attributes -- all of them
        or, where the storage allows, none (one append, one transaction); the attribute
        written last is the last of ``system_attrs``.  StudyNameTaken if the name exists."""

    def fail_running_trials(self, study_id: int) -> int:
        """Mark the study's RUNNING trials FAIL (left by dead Optuna clients); how many."""
        stale = self.storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        for trial in stale:
            trial_id = self.storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
            self.storage.set_trial_state_values(trial_id, TrialState.FAIL)
        return len(stale)

    # -- trials and the worker protocol --------------------------------------------------------
    @abstractmethod
    def write_trials(
        self,
        study_id: int,
        records: Sequence[TrialRecord],
        study_system_attrs: Mapping[str, Any] | None = None,
    ) -> None:
        """Persist finished trials (and study system attributes) as one batch; see
        :func:`ssropt.storage.write_trials`."""

    @abstractmethod
    def update_study(
        self,
        study_id: int,
        keys: Sequence[str],
        decide: Callable[[dict[str, Any]], StudyUpdate | None],
        dedupe: tuple[str, str] | None = None,
    ) -> tuple[StudyUpdate | None, list[int]]:
        """Read, decide and write atomically; see :func:`ssropt.storage.update_study`."""

    @abstractmethod
    def read_study_attrs(self, study_id: int, keys: Sequence[str]) -> dict[str, Any]:
        """The study system attributes ``keys`` that exist."""

    @abstractmethod
    def read_trials(self, trial_ids: Sequence[int]) -> list[StoredTrial]:
        """State, values and system attributes of these trials, in this order."""
