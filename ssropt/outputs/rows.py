"""What one stored trial says, as one row: the dicts behind fronts, exports and reports.

Reads both trial layouts: the compact one described in :mod:`ssropt.engine.records`
(constraints as one list named by the study attribute ``ssropt:constraint_names``,
params = the searched genes, configured accelerators as one string) and the one earlier
ssropt versions wrote (``constraints:NAME`` keys, ``acc_of_<node>`` and ``acc<a>_<p>``
params for every node and accelerator).

A row is a plain dict with :data:`ROW_FIELDS`: ``assignment`` (node -> accelerator),
``accelerators`` (one dict of parameters per accelerator) and ``resources`` (name ->
chip-wide total) are nested; :func:`flat_row` flattens them for CSV and data frames.

Example:
    >>> import optuna
    >>> trial = optuna.trial.create_trial(
    ...     values=[0.002, 4e12], params={"batch": 2, "acc_of_q": 0, "acc_of_k": 1},
    ...     distributions={"batch": optuna.distributions.IntDistribution(1, 8),
    ...                    "acc_of_q": optuna.distributions.IntDistribution(0, 1),
    ...                    "acc_of_k": optuna.distributions.IntDistribution(0, 1)},
    ...     user_attrs={"images_per_s": 1000.0, "power_w": 50.0, "aie": 300,
    ...                 "accelerators": "a=4 b=2; a=1 b=1"},
    ...     system_attrs={"constraints": [-1.0, 2.0]})
    >>> layout = StudyLayout(constraint_names=("aie", "bram"))
    >>> row = trial_row(trial, layout)
    >>> row["groups"], row["images_per_s_per_w"], row["resources"], row["accelerators"][1]
    ('{q}{k}', 20.0, {'aie': 300}, {'a': 1, 'b': 1})
    >>> trial_feasible(trial), trial_constraints(trial, layout)
    (False, {'aie': -1.0, 'bram': 2.0})
    >>> flat_row(row)["accelerators"], flat_row(row)["aie"]
    ('a=4 b=2; a=1 b=1', 300)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import optuna

from ssropt.engine.records import (
    ASSIGNMENT_PARAMS_KEY,
    CONSTRAINT_NAMES_KEY,
    accelerators_text,
)
from ssropt.spaces import ObjectiveSet
from ssropt.storage import CONSTRAINTS_KEY, LEGACY_CONSTRAINT_PREFIX, constraint_values

#: the fields of every row, in export order
ROW_FIELDS = (
    "trial", "latency_s", "throughput_ops_per_s", "images_per_s", "power_w",
    "energy_j_per_image", "images_per_s_per_w", "batch", "n_accelerators", "groups",
    "assignment", "accelerators", "resources",
)
#: the fields ``--all`` adds: whether the design is feasible, on the front, what it violates
STATUS_FIELDS = ("feasible", "on_front", "violations")
#: user attributes that are not resource totals (earlier versions stored the last three)
_NOT_RESOURCES = {"n_accelerators", "steps", "generation"}
_ACC_PARAM = re.compile(r"acc(\d+)_(.+)")


@dataclass(frozen=True)
class StudyLayout:
    """How a study's trials are laid out (the study attributes of ``engine.records``).

    ``constraint_names``: the names of the stored constraint list, in order (``None`` for
    studies written before the list: their constraints carry their names);
    ``assignment_params``: node -> the param holding its accelerator, or the fixed
    accelerator (``None``: every node has an ``acc_of_<node>`` param);
    ``objectives``: what the trial values are (the study's metric names).
    """

    constraint_names: tuple[str, ...] | None = None
    assignment_params: dict[str, str | int] | None = None
    objectives: ObjectiveSet = ObjectiveSet()

    @classmethod
    def of(cls, study: optuna.Study) -> StudyLayout:
        attrs = study.user_attrs
        names = attrs.get(CONSTRAINT_NAMES_KEY)
        return cls(
            None if names is None else tuple(names),
            attrs.get(ASSIGNMENT_PARAMS_KEY),
            study_objectives(study),
        )


def study_objectives(study: optuna.Study) -> ObjectiveSet:
    """The objectives a study's trial values hold, by its metric names (two when unnamed)."""
    return ObjectiveSet.from_names(study.metric_names)


def trial_feasible(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether every constraint value of the trial is ``<= 0`` (either layout)."""
    return all(v <= 0 for v in constraint_values(trial.system_attrs))


def trial_constraints(trial: optuna.trial.FrozenTrial, layout: StudyLayout) -> dict[str, float]:
    """Constraint name -> value of a trial (either layout)."""
    attrs = trial.system_attrs
    values = attrs.get(CONSTRAINTS_KEY)
    if values is not None:
        names = layout.constraint_names or [str(i) for i in range(len(values))]
        return {name: float(v) for name, v in zip(names, values)}
    n = len(LEGACY_CONSTRAINT_PREFIX)
    return {k[n:]: float(v) for k, v in attrs.items() if k.startswith(LEGACY_CONSTRAINT_PREFIX)}


def trial_assignment(trial: optuna.trial.FrozenTrial, layout: StudyLayout) -> dict[str, int]:
    """Node -> accelerator of a trial's design."""
    params = trial.params
    if layout.assignment_params is None:
        return {k[len("acc_of_"):]: int(v) for k, v in params.items() if k.startswith("acc_of_")}
    out = {}
    for node, source in layout.assignment_params.items():
        if isinstance(source, str):
            # a trial stored before the layout attribute had acc_of_<node> for every node
            out[node] = int(params[source] if source in params else params[f"acc_of_{node}"])
        else:
            out[node] = int(source)
    return out


def trial_accelerators(trial: optuna.trial.FrozenTrial) -> list[dict[str, int]]:
    """Each accelerator's parameters: searched ones from the params, configured ones
    from the ``accelerators`` user attribute; ``[]`` when the design has none."""
    text = trial.user_attrs.get("accelerators")
    if isinstance(text, str):
        return parse_accelerators(text)
    found: dict[int, dict[str, int]] = {}
    for key, value in trial.params.items():
        match = _ACC_PARAM.fullmatch(key)
        if match and not key.startswith("acc_of_"):
            found.setdefault(int(match[1]), {})[match[2]] = int(value)
    return [found[a] for a in sorted(found)]


def parse_accelerators(text: str) -> list[dict[str, int]]:
    """The inverse of :func:`ssropt.engine.records.accelerators_text`."""
    out = []
    for part in text.split(";"):
        pairs = [item.split("=", 1) for item in part.split()]
        if pairs:
            out.append({k: int(v) for k, v in pairs})
    return out


def assignment_summary(assignment: dict[str, int]) -> str:
    """``{q,k,v}{attn_qk,attn_av}...``: the nodes of each accelerator in index order."""
    groups: dict[int, list[str]] = {}
    for node, acc in assignment.items():
        groups.setdefault(acc, []).append(node)
    return "".join("{" + ",".join(groups[a]) + "}" for a in sorted(groups))


def trial_row(trial: optuna.trial.FrozenTrial, layout: StudyLayout) -> dict[str, Any]:
    """The row of one COMPLETE trial (:data:`ROW_FIELDS`)."""
    user = trial.user_attrs
    assignment = trial_assignment(trial, layout)
    images, power = user.get("images_per_s"), user.get("power_w")
    efficiency = user.get("images_per_s_per_w")
    if efficiency is None and power and images is not None:  # earlier layout
        efficiency = float(images) / float(power)
    resources = {
        k: v for k, v in user.items()
        if isinstance(v, int) and not isinstance(v, bool) and k not in _NOT_RESOURCES
    }
    measured = {"energy_j_per_image": user.get("energy_j_per_image")}
    measured.update(zip(layout.objectives.names, trial.values))
    return {
        "trial": trial.number,
        "latency_s": measured["latency_s"],
        "throughput_ops_per_s": measured["throughput_ops_per_s"],
        "images_per_s": images,
        "power_w": power,
        "energy_j_per_image": measured["energy_j_per_image"],
        "images_per_s_per_w": efficiency,
        "batch": trial.params.get("batch"),
        "n_accelerators": user.get("n_accelerators", len(set(assignment.values()))),
        "groups": assignment_summary(assignment),
        "assignment": assignment,
        "accelerators": trial_accelerators(trial),
        "resources": resources,
    }


def status_fields(
    trial: optuna.trial.FrozenTrial, layout: StudyLayout, on_front: bool
) -> dict[str, Any]:
    """:data:`STATUS_FIELDS` of a trial; ``violations`` maps each exceeded budget to its
    excess (empty when feasible)."""
    constraints = trial_constraints(trial, layout)
    return {
        "feasible": all(v <= 0 for v in constraints.values()),
        "on_front": on_front,
        "violations": {k: v for k, v in constraints.items() if v > 0},
    }


def flat_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its nested fields flattened for CSV and data frames: the assignment as
    JSON, the accelerators as ``a=4 b=2; a=1 ...``, violations as ``aie=12 bram=3``, each
    resource as its own column."""
    out = {}
    for key, value in row.items():
        if key == "resources":
            out.update(value)
        elif key == "accelerators":
            out[key] = accelerators_text(value)
        elif key == "violations":
            out[key] = " ".join(f"{k}={v:g}" for k, v in value.items())
        elif isinstance(value, (dict, list)):
            out[key] = json.dumps(value)
        else:
            out[key] = value
    return out
