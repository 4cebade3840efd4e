"""RDB fast path: a whole batch in one transaction through Optuna's SQLAlchemy models."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState

from ssropt.storage._open import StorageError, _one_line
from ssropt.storage._records import _check_compatible, _Prepared, _utc_now

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
