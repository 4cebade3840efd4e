"""The RDB backend (SQLite, PostgreSQL, MySQL): every write one transaction through Optuna's
SQLAlchemy models -- a batch of trials with bulk INSERTs, the worker protocol's
read-decide-write behind a lock of the study row, a study with all its attributes.

It uses Optuna internals (``optuna.storages._rdb.models``, ``_create_scoped_session``),
checked when the backend is built: :class:`~ssropt.storage._backend.Unsupported` if one
is missing, and the generic backend takes over.  The row helpers are
:mod:`ssropt.storage._rdb_rows`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import optuna
import sqlalchemy
from optuna.trial import TrialState

from ssropt.storage._backend import (
    StudyBackend,
    StudyNameTaken,
    Unsupported,
    metric_names_key,
    prepare_records,
)
from ssropt.storage._open import StorageError, _one_line
from ssropt.storage._rdb_rows import (
    _check_distributions,
    _database_error,
    _insert_prepared,
    _set_study_attrs,
    is_transient,
)
from ssropt.storage._records import (
    StoredTrial,
    StudyUpdate,
    _batch_distributions,
    _json_safe,
)

__all__ = ["RdbBackend", "is_transient"]

_RDB_ATTEMPTS = 3
_MODELS = (
    "StudyModel", "StudyDirectionModel", "StudyUserAttributeModel", "StudySystemAttributeModel",
    "TrialModel", "TrialValueModel", "TrialParamModel", "TrialUserAttributeModel",
    "TrialSystemAttributeModel",
)


def _internals() -> tuple[Any, Callable]:
    try:
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session
    except ImportError as error:
        raise Unsupported(f"optuna.storages._rdb: {error}")
    missing = [name for name in _MODELS if not hasattr(models, name)]
    if missing:
        raise Unsupported("optuna.storages._rdb.models." + ", ".join(missing))
    return models, _create_scoped_session


class RdbBackend(StudyBackend):
    """An ``RDBStorage``: one transaction per write."""

    kind = "rdb"

    def __init__(self, storage: optuna.storages.RDBStorage) -> None:
        super().__init__(storage)
        self.models, self._scoped = _internals()
        if not hasattr(storage, "scoped_session"):
            raise Unsupported("RDBStorage.scoped_session")

    @contextmanager
    def _session(self):
        with self._scoped(self.storage.scoped_session) as session:
            yield session

    # -- studies -----------------------------------------------------------------------------------
    def create_study(self, name, directions, metric_names, user_attrs, system_attrs) -> int:
        models = self.models
        system = _json_safe({metric_names_key(): list(metric_names), **system_attrs})
        try:
            with self._session() as session:
                study = models.StudyModel(
                    study_name=name,
                    directions=[
                        models.StudyDirectionModel(
                            objective=k, direction=optuna.study.StudyDirection[d.upper()]
                        )
                        for k, d in enumerate(directions)
                    ],
                )
                session.add(study)
                session.flush()
                study_id = study.study_id
                session.add_all(
                    [models.StudyUserAttributeModel(study_id=study_id, key=k, value_json=json.dumps(v))
                     for k, v in _json_safe(dict(user_attrs)).items()]
                    + [models.StudySystemAttributeModel(study_id=study_id, key=k,
                                                        value_json=json.dumps(v))
                       for k, v in system.items()]
                )
        except sqlalchemy.exc.IntegrityError:
            raise StudyNameTaken(f"a study named {name!r} already exists") from None
        except optuna.exceptions.StorageInternalError as error:
            if isinstance(error.__cause__, sqlalchemy.exc.IntegrityError):
                raise StudyNameTaken(f"a study named {name!r} already exists") from None
            raise _database_error(error, "create the study")
        except sqlalchemy.exc.SQLAlchemyError as error:
            raise _database_error(error, "create the study")
        return study_id

    # -- trials ------------------------------------------------------------------------------------
    def write_trials(self, study_id, records, study_system_attrs=None) -> None:
        """One transaction, retried whole when the database reports a transient error such as
        ``database is locked``; a failed attempt is rolled back, so nothing is half-written."""
        from optuna.exceptions import StorageInternalError

        attrs = _json_safe(dict(study_system_attrs or {}))
        prepared = prepare_records(records, len(self.directions(study_id)))
        batch_distributions = _batch_distributions(prepared)
        if not prepared and not attrs:
            return
        models = self.models
        for attempt in range(1, _RDB_ATTEMPTS + 1):
            try:
                with self._session() as session:
                    # Lock the study row as RDBStorage.create_new_trial does (PostgreSQL/MySQL),
                    # so no one else numbers trials of this study meanwhile; SQLite locks the
                    # whole database from the first INSERT on.
                    study = models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
                    _check_distributions(session, study, batch_distributions)
                    _insert_prepared(session, study_id, prepared)
                    _set_study_attrs(session, study, study_id, attrs)
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

    def update_study(self, study_id, keys, decide, dedupe=None):
        """One transaction: lock the study row, read ``keys``, decide, insert, upsert, commit.

        PostgreSQL and MySQL lock the row with ``SELECT ... FOR UPDATE``; SQLite ignores that
        clause, so there a no-op UPDATE of the study row takes the database's write lock
        first.  Either way no other writer of this protocol reads the attributes until we
        commit.  (A transaction is all or nothing: ``dedupe`` has nothing to do here.)
        """
        from optuna.exceptions import StorageInternalError

        models = self.models
        table = models.StudySystemAttributeModel.__table__
        update: StudyUpdate | None = None
        try:
            with self._session() as session:
                if session.bind.dialect.name == "sqlite":
                    studies = models.StudyModel.__table__
                    session.execute(
                        studies.update()
                        .where(studies.c.study_id == study_id)
                        .values(study_name=studies.c.study_name)
                    )
                study = models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
                rows = session.execute(
                    sqlalchemy.select(table.c.key, table.c.value_json)
                    .where(table.c.study_id == study_id)
                    .where(table.c.key.in_(list(keys)))
                ).all()
                update = decide({key: json.loads(text) for key, text in rows})
                if update is None:
                    return None, []
                prepared = update.prepared(len(study.directions))
                _check_distributions(session, study, _batch_distributions(prepared))
                ids = _insert_prepared(session, study_id, prepared) if prepared else []
                _set_study_attrs(session, study, study_id, update.attrs_to_write(ids))
        except KeyError:
            raise StorageError(f"study id {study_id} does not exist in the storage")
        except StorageInternalError as error:
            raise _database_error(error, "update the study")
        except (TypeError, ValueError) as error:
            if isinstance(error, StorageError):
                raise
            raise StorageError(f"cannot update the study: {_one_line(error)}")
        except sqlalchemy.exc.SQLAlchemyError as error:
            raise _database_error(error, "update the study")
        return update, ids

    def read_study_attrs(self, study_id, keys) -> dict[str, Any]:
        from optuna.exceptions import StorageInternalError

        table = self.models.StudySystemAttributeModel.__table__
        try:
            with self._session() as session:
                rows = session.execute(
                    sqlalchemy.select(table.c.key, table.c.value_json)
                    .where(table.c.study_id == study_id)
                    .where(table.c.key.in_(list(keys)))
                ).all()
        except (StorageInternalError, sqlalchemy.exc.SQLAlchemyError) as error:
            raise _database_error(error, "read the study")
        return {key: json.loads(text) for key, text in rows}

    def read_trials(self, trial_ids) -> list[StoredTrial]:
        """State, values and system attributes of the trials, in three queries."""
        from optuna.exceptions import StorageInternalError

        models = self.models
        trials = models.TrialModel.__table__
        values_table = models.TrialValueModel.__table__
        attrs_table = models.TrialSystemAttributeModel.__table__
        wanted = sorted(set(int(i) for i in trial_ids))
        try:
            with self._session() as session:
                states = dict(
                    session.execute(
                        sqlalchemy.select(trials.c.trial_id, trials.c.state).where(
                            trials.c.trial_id.in_(wanted)
                        )
                    ).all()
                )
                value_rows = session.execute(
                    sqlalchemy.select(
                        values_table.c.trial_id, values_table.c.objective,
                        values_table.c.value, values_table.c.value_type,
                    ).where(values_table.c.trial_id.in_(wanted))
                ).all()
                attr_rows = session.execute(
                    sqlalchemy.select(
                        attrs_table.c.trial_id, attrs_table.c.key, attrs_table.c.value_json
                    ).where(attrs_table.c.trial_id.in_(wanted))
                ).all()
        except (StorageInternalError, sqlalchemy.exc.SQLAlchemyError) as error:
            raise _database_error(error, "read trials")
        value_type = models.TrialValueModel.TrialValueType
        values: dict[int, dict[int, float]] = {}
        for trial_id, objective, value, kind in value_rows:
            kind = kind if isinstance(kind, value_type) else value_type(kind)
            values.setdefault(trial_id, {})[objective] = (
                models.TrialValueModel.stored_repr_to_value(value, kind)
            )
        attrs: dict[int, dict[str, Any]] = {}
        for trial_id, key, text in attr_rows:
            attrs.setdefault(trial_id, {})[key] = json.loads(text)
        out = []
        for trial_id in trial_ids:
            if trial_id not in states:
                raise StorageError(f"trial id {trial_id} does not exist in the storage")
            state = states[trial_id]
            state = state if isinstance(state, TrialState) else TrialState[str(state)]
            objectives = values.get(trial_id)
            out.append(
                StoredTrial(
                    trial_id,
                    state,
                    None if not objectives else [objectives[k] for k in sorted(objectives)],
                    attrs.get(trial_id, {}),
                )
            )
        return out
