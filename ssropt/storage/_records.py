"""Trial records: :class:`TrialRecord`, validation into storage form, the constraint encoding.

Constraints are stored as ONE list-valued trial system attribute, ``constraints``, in the
order of the record's ``constraints`` dict: the one layout every reader agrees on
(optuna-dashboard reads only this list; Optuna 4.x reads only this list; Optuna 5.x
reads it as keys ``"0"``, ``"1"``, ...).  The names are the caller's to keep, once per
study (ssropt keeps them in the study attribute ``ssropt:constraint_names``);
:func:`stored_constraints` reads them back by name, from this list or from the per-name
``constraints:NAME`` keys that earlier ssropt versions wrote.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, check_distribution_compatibility
from optuna.trial import TrialState

from ssropt.storage._open import StorageError, _one_line

_FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """One evaluated design, as it becomes one Optuna trial.

    Attributes:
        params: parameter name → external value (what ``trial.params`` returns).
        distributions: parameter name → Optuna distribution; same keys as ``params``.
        values: objective values in study-direction order; ``None`` for FAIL / PRUNED.
        constraints: constraint name → value, feasible when ``<= 0``; stored as the
            list-valued ``constraints`` system attribute in this dict's order (see the
            module docstring; read back by name with :func:`stored_constraints`).
        user_attrs: JSON-serialisable values; numpy scalars and arrays are converted.
        system_attrs: JSON-serialisable values (e.g. ``NSGAIISampler:generation``).
        state: COMPLETE, PRUNED or FAIL.
        datetime_start, datetime_complete: when the design's evaluation started and
            ended (timezone-aware); ``None``: the time of writing.
    """

    params: dict[str, int | float | str]
    distributions: dict[str, BaseDistribution]
    values: tuple[float, ...] | None
    constraints: dict[str, float] = dataclasses.field(default_factory=dict)
    user_attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    system_attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    state: TrialState = TrialState.COMPLETE
    datetime_start: datetime.datetime | None = None
    datetime_complete: datetime.datetime | None = None


@dataclasses.dataclass
class _Prepared:
    """A validated record in storage form (internal param values, JSON-safe attributes)."""

    state: TrialState
    values: list[float] | None
    params_internal: dict[str, float]
    distributions: dict[str, BaseDistribution]
    user_attrs: dict[str, Any]
    system_attrs: dict[str, Any]
    datetime_start: datetime.datetime | None = None
    datetime_complete: datetime.datetime | None = None


#: the list-valued trial system attribute optuna-dashboard and every Optuna version read
CONSTRAINTS_KEY = "constraints"
#: the per-name keys (``constraints:NAME``) of Optuna 5's ``create_trial(constraints=)``,
#: which ssropt wrote before; still read, never written
LEGACY_CONSTRAINT_PREFIX = "constraints:"


def stored_constraints(system_attrs: Mapping[str, Any], names: Sequence[str]) -> list[float]:
    """A trial's constraint values in the order of ``names``, from either layout.

    The list-valued ``constraints`` attribute holds them in the study's order (which the
    caller passes as ``names``); older trials hold one ``constraints:NAME`` key each.
    Raises KeyError when a name is missing or the list has another length.
    """
    values = system_attrs.get(CONSTRAINTS_KEY)
    if values is not None:
        if len(values) != len(names):
            raise KeyError(f"{len(values)} stored constraint values for {len(names)} names")
        return [float(v) for v in values]
    return [float(system_attrs[LEGACY_CONSTRAINT_PREFIX + name]) for name in names]


def constraint_values(system_attrs: Mapping[str, Any]) -> list[float]:
    """Every constraint value of a trial, in either layout (feasible: all ``<= 0``)."""
    values = [float(v) for v in system_attrs.get(CONSTRAINTS_KEY) or ()]
    values += [
        float(v) for k, v in system_attrs.items() if k.startswith(LEGACY_CONSTRAINT_PREFIX)
    ]
    return values


_PLAIN = frozenset((str, int, float, bool, type(None)))


def _json_safe(value: Any) -> Any:
    """``value`` with numpy scalars / arrays turned into Python numbers and lists."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if (kind is list or kind is tuple) and all(type(v) in _PLAIN for v in value):
        return list(value)  # the common case (genomes, work documents): nothing to convert
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
    if record.constraints:
        if CONSTRAINTS_KEY in system_attrs:
            raise StorageError(f"{where}: constraints given twice (as a system attribute too)")
        constraints = []
        for name, value in record.constraints.items():
            value = float(value)
            if math.isnan(value):
                raise StorageError(f"{where}: constraint {name!r} is NaN")
            constraints.append(value)
        system_attrs[CONSTRAINTS_KEY] = constraints
    for when in (record.datetime_start, record.datetime_complete):
        if when is not None and when.tzinfo is None:
            raise StorageError(f"{where}: evaluation times must be timezone-aware, got {when}")
    return _Prepared(
        state,
        values,
        params_internal,
        record.distributions,
        _json_safe(record.user_attrs),
        system_attrs,
        record.datetime_start,
        record.datetime_complete,
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


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass
class StudyUpdate:
    """What one atomic update of a study writes (see :func:`ssropt.storage.update_study`).

    Attributes:
        attrs: study system attributes to set.
        records: finished trials to add, numbered in this order.
        attrs_from_ids: optional; called with the trial id of every record (in record
            order) before anything is written, returns more study system attributes to
            set in the same batch (e.g. a marker naming the new trials).
        result: anything the caller wants handed back with the ids.
    """

    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    records: Sequence[TrialRecord] = ()
    attrs_from_ids: Callable[[list[int]], Mapping[str, Any]] | None = None
    result: Any = None

    def prepared(self, n_objectives: int) -> list[_Prepared]:
        """The records validated and converted for writing (StorageError if one is bad)."""
        return [_prepare(i, record, n_objectives) for i, record in enumerate(self.records)]

    def attrs_to_write(self, trial_ids: Sequence[int]) -> dict[str, Any]:
        """The study attributes to set once the records have ``trial_ids``: ``attrs`` and
        those of ``attrs_from_ids``, JSON-safe."""
        attrs = dict(self.attrs)
        if self.attrs_from_ids is not None:
            attrs.update(self.attrs_from_ids(list(trial_ids)))
        return _json_safe(attrs)


@dataclasses.dataclass(frozen=True)
class StoredTrial:
    """The parts of a stored trial the run loop reads back: state, values, system attributes."""

    trial_id: int
    state: TrialState
    values: list[float] | None
    system_attrs: dict[str, Any]
