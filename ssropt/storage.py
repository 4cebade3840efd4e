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

import dataclasses
import datetime
import functools
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, check_distribution_compatibility
from optuna.trial import TrialState

from ssropt.objectives.errors import SsroptError

__all__ = [
    "DEFAULT_STORAGE",
    "StorageError",
    "TrialRecord",
    "open_storage",
    "write_trials",
]

_logger = logging.getLogger(__name__)

DEFAULT_STORAGE = "ssropt-studies.log"
"""The storage used when none is given: a journal file in the current directory."""

_RDB_DIALECTS = ("sqlite", "postgresql", "mysql")
_CONNECT_TIMEOUT_S = 10
_FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class StorageError(SsroptError):
    """A storage URL cannot be opened, or a batch of trials cannot be written."""


# --------------------------------------------------------------------------- opening


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
        backend = optuna.storages.journal.JournalFileBackend(path)
        _cut_torn_tail(path, backend)
        return optuna.storages.JournalStorage(backend)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StorageError(f"storage {path!r}: cannot read the journal: {_one_line(error)}")


def _cut_torn_tail(path: str, backend: Any) -> None:
    """Remove an incomplete last line left by a writer killed in the middle of a batch.

    Optuna's reader skips such a line, but the next append would glue a new entry onto
    it and turn it into a corrupt line in the middle of the journal, which no reader
    can get past.  The complete entries before it stay (the run loop skips the designs
    they hold when it redoes their generation).  Checked under the journal's file lock,
    so a line another process is still writing is never cut.
    """
    if not _ends_torn(path):
        return
    lock = getattr(backend, "_lock", None)
    if lock is not None:
        lock.acquire()
    try:
        if not _ends_torn(path):
            return
        with open(path, "rb+") as file:
            size = file.seek(0, os.SEEK_END)
            end = size
            while end > 0:
                start = max(0, end - 65536)
                file.seek(start)
                newline = file.read(end - start).rfind(b"\n")
                if newline >= 0:
                    end = start + newline + 1
                    break
                end = start
            file.truncate(end)
            file.flush()
            os.fsync(file.fileno())
        _logger.warning("%s: removed an incomplete last entry (%d bytes)", path, size - end)
    finally:
        if lock is not None:
            lock.release()


def _ends_torn(path: str) -> bool:
    """Whether the file is non-empty and does not end with a line break."""
    with open(path, "rb") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return False
        file.seek(size - 1)
        return file.read(1) != b"\n"


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


def _one_line(error: object) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


# --------------------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """One evaluated design, as it becomes one Optuna trial.

    Attributes:
        params: parameter name → external value (what ``trial.params`` returns).
        distributions: parameter name → Optuna distribution; same keys as ``params``.
        values: objective values in study-direction order; ``None`` for FAIL / PRUNED.
        constraints: constraint name → value, feasible when ``<= 0``
            (read back by ``FrozenTrial.constraints``).
        user_attrs: JSON-serialisable values; numpy scalars and arrays are converted.
        system_attrs: JSON-serialisable values (e.g. ``NSGAIISampler:generation``).
        state: COMPLETE, PRUNED or FAIL.
    """

    params: dict[str, int | float | str]
    distributions: dict[str, BaseDistribution]
    values: tuple[float, ...] | None
    constraints: dict[str, float] = dataclasses.field(default_factory=dict)
    user_attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    system_attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    state: TrialState = TrialState.COMPLETE


@dataclasses.dataclass
class _Prepared:
    """A validated record in storage form (internal param values, JSON-safe attributes)."""

    state: TrialState
    values: list[float] | None
    params_internal: dict[str, float]
    distributions: dict[str, BaseDistribution]
    user_attrs: dict[str, Any]
    system_attrs: dict[str, Any]


@functools.cache
def _constraint_key_prefix() -> str:
    """The system-attribute key prefix Optuna uses for a constraint (``"constraints:"``).

    Learnt once from Optuna's public ``create_trial(constraints=...)`` so the format
    follows Optuna rather than being copied.
    """
    probe = optuna.trial.create_trial(state=TrialState.RUNNING, constraints={"": 0.0})
    (key,) = probe.system_attrs
    return key


def _json_safe(value: Any) -> Any:
    """``value`` with numpy scalars / arrays turned into Python numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _prepare(index: int, record: TrialRecord, n_objectives: int) -> _Prepared:
    """Validate ``record`` as ``optuna.trial.create_trial`` would; raise StorageError if bad."""
    where = f"trial record {index}"
    state = TrialState(record.state)
    if state not in _FINISHED_STATES:
        raise StorageError(f"{where}: state {state.name} is not COMPLETE, PRUNED or FAIL")
    values = None if record.values is None else [float(v) for v in record.values]
    if state == TrialState.FAIL and values is not None:
        raise StorageError(f"{where}: a FAIL trial must have values=None")
    if (state == TrialState.COMPLETE or values is not None) and (
        values is None or len(values) != n_objectives
    ):
        got = "none" if values is None else len(values)
        raise StorageError(f"{where}: the study needs {n_objectives} values, got {got}")
    if state == TrialState.COMPLETE and any(math.isnan(v) for v in values or ()):
        raise StorageError(f"{where}: objective values contain NaN: {values}")
    if record.params.keys() != record.distributions.keys():
        raise StorageError(
            f"{where}: params {sorted(record.params)} and distributions "
            f"{sorted(record.distributions)} name different parameters"
        )
    params_internal: dict[str, float] = {}
    for name, value in record.params.items():
        distribution = record.distributions[name]
        try:
            internal = distribution.to_internal_repr(_json_safe(value))
            contained = distribution._contains(internal)
        except (ValueError, TypeError) as error:
            raise StorageError(f"{where}: parameter {name!r}={value!r}: {_one_line(error)}")
        if not contained:
            raise StorageError(f"{where}: parameter {name!r}={value!r} is outside {distribution}")
        params_internal[name] = internal
    system_attrs = _json_safe(record.system_attrs)
    prefix = _constraint_key_prefix()
    for name, value in record.constraints.items():
        value = float(value)
        if math.isnan(value):
            raise StorageError(f"{where}: constraint {name!r} is NaN")
        system_attrs[prefix + name] = value
    return _Prepared(
        state,
        values,
        params_internal,
        record.distributions,
        _json_safe(record.user_attrs),
        system_attrs,
    )


def _batch_distributions(prepared: Sequence[_Prepared]) -> dict[str, BaseDistribution]:
    """One distribution per parameter name; raise if the batch mixes incompatible ones."""
    first: dict[str, BaseDistribution] = {}
    seen_ids: set[int] = set()
    for item in prepared:
        for name, distribution in item.distributions.items():
            if id(distribution) in seen_ids:
                continue
            seen_ids.add(id(distribution))
            _check_compatible(name, first.setdefault(name, distribution), distribution)
    return first


def _check_compatible(name: str, old: BaseDistribution, new: BaseDistribution) -> None:
    try:
        check_distribution_compatibility(old, new)
    except ValueError as error:
        raise StorageError(
            f"parameter {name!r}: distribution {new} is incompatible with {old} "
            f"({_one_line(error)})"
        )


# --------------------------------------------------------------------------- writing


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


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# --------------------------------------------------------------------------- journal fast path

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


# --------------------------------------------------------------------------- RDB fast path

_RDB_ATTEMPTS = 3


def _write_rdb(
    storage: optuna.storages.RDBStorage,
    study_id: int,
    prepared: Sequence[_Prepared],
    batch_distributions: Mapping[str, BaseDistribution],
    study_system_attrs: Mapping[str, Any],
) -> None:
    """Insert the batch in one transaction through Optuna's SQLAlchemy models.

    Retried (whole transaction) when the database reports a transient error such as
    ``database is locked``; a failed attempt is rolled back, so nothing is half-written.
    """
    import random
    import time

    import sqlalchemy
    from optuna.exceptions import StorageInternalError

    for attempt in range(1, _RDB_ATTEMPTS + 1):
        try:
            _rdb_transaction(storage, study_id, prepared, batch_distributions, study_system_attrs)
            return
        except KeyError:
            raise StorageError(f"study id {study_id} does not exist in the storage")
        except StorageInternalError as error:
            if attempt == _RDB_ATTEMPTS:
                detail = _one_line(getattr(error.__cause__, "orig", None) or error.__cause__)
                raise StorageError(f"cannot write the batch to the database: {detail}")
            time.sleep(random.random())
        except StorageError:
            raise
        except (TypeError, ValueError, sqlalchemy.exc.SQLAlchemyError) as error:
            detail = _one_line(getattr(error, "orig", None) or error)
            raise StorageError(f"cannot write the batch to the database: {detail}")


def _rdb_transaction(
    storage: optuna.storages.RDBStorage,
    study_id: int,
    prepared: Sequence[_Prepared],
    batch_distributions: Mapping[str, BaseDistribution],
    study_system_attrs: Mapping[str, Any],
) -> None:
    import json

    from optuna.distributions import distribution_to_json, json_to_distribution
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    now = _utc_now()
    with _create_scoped_session(storage.scoped_session) as session:
        # Lock the study row as RDBStorage.create_new_trial does (PostgreSQL/MySQL), so no
        # one else numbers trials of this study meanwhile; SQLite locks the whole database
        # from the first INSERT on.
        study = models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
        for name, distribution in batch_distributions.items():
            row = (
                session.query(models.TrialParamModel.distribution_json)
                .join(models.TrialModel)
                .filter(models.TrialModel.study_id == study_id)
                .filter(models.TrialParamModel.param_name == name)
                .first()
            )
            if row is not None:
                _check_compatible(name, json_to_distribution(row[0]), distribution)

        trial_ids = _insert_trial_rows(session, study_id, [item.state for item in prepared], now)

        json_by_id: dict[int, str] = {}
        value_rows, param_rows, user_rows, system_rows = [], [], [], []
        for trial_id, item in zip(trial_ids, prepared):
            for objective, value in enumerate(item.values or ()):
                stored, kind = models.TrialValueModel.value_to_stored_repr(value)
                value_rows.append(
                    {
                        "trial_id": trial_id,
                        "objective": objective,
                        "value": stored,
                        "value_type": kind,
                    }
                )
            for name, distribution in item.distributions.items():
                text = json_by_id.get(id(distribution))
                if text is None:
                    text = json_by_id[id(distribution)] = distribution_to_json(distribution)
                param_rows.append(
                    {
                        "trial_id": trial_id,
                        "param_name": name,
                        "param_value": item.params_internal[name],
                        "distribution_json": text,
                    }
                )
            for key, value in item.user_attrs.items():
                user_rows.append(
                    {"trial_id": trial_id, "key": key, "value_json": json.dumps(value)}
                )
            for key, value in item.system_attrs.items():
                system_rows.append(
                    {"trial_id": trial_id, "key": key, "value_json": json.dumps(value)}
                )
        for model, rows in (
            (models.TrialValueModel, value_rows),
            (models.TrialParamModel, param_rows),
            (models.TrialUserAttributeModel, user_rows),
            (models.TrialSystemAttributeModel, system_rows),
        ):
            if rows:
                session.execute(_bulk_insert(session, model.__table__), rows)

        for key, value in study_system_attrs.items():
            attribute = models.StudySystemAttributeModel.find_by_study_and_key(study, key, session)
            if attribute is None:
                session.add(
                    models.StudySystemAttributeModel(
                        study_id=study_id, key=key, value_json=json.dumps(value)
                    )
                )
            else:
                attribute.value_json = json.dumps(value)


def _bulk_insert(session: Any, table: Any) -> Any:
    """An INSERT for many rows, sent as few multi-row statements where possible.

    Core ``executemany`` (the ORM's bulk insert is ~3x slower in Python). On PostgreSQL
    plain executemany still runs one statement per row on the server; asking for the
    primary key back switches SQLAlchemy to "insertmanyvalues", 1,000 rows a statement.
    """
    statement = table.insert()
    dialect = session.bind.dialect
    if dialect.name != "sqlite" and dialect.insert_executemany_returning:
        statement = statement.returning(*table.primary_key.columns)
    return statement


def _insert_trial_rows(
    session: Any, study_id: int, states: Sequence[TrialState], now: datetime.datetime
) -> list[int]:
    """Insert one ``trials`` row per state; return their ids in order, numbered as Optuna does.

    Optuna's rule (``TrialModel.count_past_trials``): a trial's number is the count of the
    study's trials with a smaller id. The caller holds the study lock, so the only trials of
    this study inserted meanwhile are ours.
    """
    import sqlalchemy as sa
    from optuna.storages._rdb import models

    if not states:
        return []
    table = models.TrialModel.__table__
    if session.bind.dialect.insert_executemany_returning_sort_by_parameter_order:
        naive_utc = now.astimezone(datetime.UTC).replace(tzinfo=None)  # as TrialModel stores
        rows = [
            {
                "study_id": study_id,
                "number": None,
                "state": state,
                "datetime_start": naive_utc,
                "datetime_complete": naive_utc,
            }
            for state in states
        ]
        statement = table.insert().returning(table.c.trial_id, sort_by_parameter_order=True)
        trial_ids = list(session.execute(statement, rows).scalars())
    else:  # e.g. MySQL: no RETURNING; the ORM inserts row by row and reads each id
        trials = [
            models.TrialModel(
                study_id=study_id,
                number=None,
                state=state,
                datetime_start=now,
                datetime_complete=now,
            )
            for state in states
        ]
        session.add_all(trials)
        session.flush()
        trial_ids = [trial.trial_id for trial in trials]
    base = session.execute(
        sa.select(sa.func.count(table.c.trial_id))
        .where(table.c.study_id == study_id)
        .where(table.c.trial_id < min(trial_ids))
    ).scalar_one()
    # Ids are normally consecutive and in record order, but a PostgreSQL sequence may
    # interleave other studies' trials: rank by id rather than assume.
    numbers = [
        {"id_": trial_id, "number_": base + rank} for rank, trial_id in enumerate(sorted(trial_ids))
    ]
    session.execute(
        table.update()
        .where(table.c.trial_id == sa.bindparam("id_"))
        .values(number=sa.bindparam("number_")),
        numbers,
    )
    return trial_ids
