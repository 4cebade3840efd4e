"""Trial records: one evaluated design -> one COMPLETE Optuna trial of a study.

A trial holds what the strategy searched and what the model said, compactly (the
dashboard loads every trial of a study in one request, so every byte counts ~10,000 times):

* **params** -- exactly the searched genes, decoded: ``batch``, one ``acc_of_<group>``
  per assignment gene (the accelerator of a node group; ``acc_of_q+k+v`` when q, k and v
  must share one; none in the sequential and spatial spaces, whose assignment is fixed)
  and, when accelerators are searched rather than configured, ``acc<a>_<param>`` of each
  used accelerator;
* **values** -- the searched objectives as measured (``latency_s``,
  ``throughput_ops_per_s`` and, in a three-objective study, ``energy_j_per_image``: the
  space's :class:`~ssropt.spaces.ObjectiveSet`), named by the study's metric names;
* **constraints** -- the model's ``used - budget`` values (feasible when all ``<= 0``), as
  Optuna's list-valued ``constraints`` attribute in the order of the study user attribute
  :data:`CONSTRAINT_NAMES_KEY` (see :mod:`ssropt.storage`);
* **user attributes** -- images/s, power, energy per image, images/s/W, the number of
  accelerators, the resource totals, the configured accelerators' parameters as ONE
  string (``accelerators = "a=4 b=2 c=4 dup=1 h1=32 w1=32 w2=32; a=2 ..."``) and, on
  infeasible designs only, ``violations`` (``"aie=12 bram=3"``: what exceeds which budget);
* **system attributes** -- the genome and where the design stands in the search
  (:data:`GENERATION_KEY`, :data:`INDIVIDUAL_KEY`);
* **start and completion times** -- those of the evaluation of the design's chunk.

The study user attribute :data:`ASSIGNMENT_PARAMS_KEY` maps every node to the param that
holds its accelerator (or to the accelerator itself when the space fixes it), so readers
(:mod:`ssropt.outputs.rows`) rebuild each node's accelerator without the space.
"""

from __future__ import annotations

import datetime

import numpy as np
import optuna

from ssropt.engine.study import StudyError
from ssropt.spaces import Space, SpaceEvaluation
from ssropt.storage import TrialRecord

GENOME_KEY = "ssropt:genome"
GENERATION_KEY = "ssropt:generation"
INDIVIDUAL_KEY = "ssropt:individual"
#: study user attribute: the names of the stored constraint values, in order
CONSTRAINT_NAMES_KEY = "ssropt:constraint_names"
#: study user attribute: node -> the param holding its accelerator, or the accelerator
ASSIGNMENT_PARAMS_KEY = "ssropt:assignment_params"


def trial_records(
    space: Space,
    result: SpaceEvaluation,
    generation: int,
    first_individual: int,
    evaluated: tuple[datetime.datetime, datetime.datetime] | None = None,
) -> list[TrialRecord]:
    """One TrialRecord per evaluated design of a population (``evaluated``: the start and
    end of its evaluation, timezone-aware; default: the time of writing)."""
    designs, ev = result.designs, result.evaluation
    distributions = param_distributions(space)
    label_params = _label_params(space)
    searched = space.param_names[: space.n_param_genes]
    configured = space.param_names if space.configurator is not None else ()
    totals = ev.resources()
    values = space.objectives.minimised(result.F)  # F's columns back as measured
    names = list(result.constraint_names)
    start, complete = evaluated if evaluated is not None else (None, None)
    records = []
    for i in range(designs.n_designs):
        assign = designs.assignment[i]
        n_acc = int(assign.max()) + 1
        params: dict[str, int] = {"batch": int(designs.batch[i])}
        for name, node in label_params:
            params[name] = int(assign[node])
        for a in range(n_acc):
            for p, name in enumerate(searched):
                params[f"acc{a}_{name}"] = int(designs.params[i, a, p])
        images = float(ev.images_per_s[i])
        power = _finite(ev.power_w[i])
        user: dict[str, object] = {
            "images_per_s": images,
            "power_w": power,
            "energy_j_per_image": _finite(ev.energy_j_per_image[i]),
            "images_per_s_per_w": images / power if power else None,
            "n_accelerators": n_acc,
        }
        user.update({k: int(v[i]) for k, v in totals.items()})
        if configured:
            user["accelerators"] = accelerators_text(
                [dict(zip(configured, map(int, designs.params[i, a]))) for a in range(n_acc)]
            )
        violated = [(n, float(result.G[i, c])) for c, n in enumerate(names) if result.G[i, c] > 0]
        if violated:
            user["violations"] = " ".join(f"{n}={v:g}" for n, v in violated)
        records.append(
            TrialRecord(
                params=params,
                distributions={k: distributions[k] for k in params},
                values=tuple(float(v) for v in values[i]),
                constraints={n: float(result.G[i, c]) for c, n in enumerate(names)},
                user_attrs=user,
                system_attrs={
                    GENOME_KEY: [int(x) for x in result.genomes[i]],
                    GENERATION_KEY: generation,
                    INDIVIDUAL_KEY: first_individual + i,
                },
                datetime_start=start,
                datetime_complete=complete,
            )
        )
    return records


def accelerators_text(accelerators: list[dict[str, int]]) -> str:
    """``"a=4 b=2 c=4; a=2 b=1 c=3"``: each accelerator's parameters, ``; `` between them.

    Example:
        >>> accelerators_text([{"a": 4, "b": 2}, {"a": 2, "b": 1}])
        'a=4 b=2; a=2 b=1'
    """
    return "; ".join(" ".join(f"{k}={v}" for k, v in acc.items()) for acc in accelerators)


def param_distributions(space: Space) -> dict[str, optuna.distributions.BaseDistribution]:
    """The fixed distribution of every param a trial of ``space`` may have."""
    out: dict[str, optuna.distributions.BaseDistribution] = {
        "batch": optuna.distributions.IntDistribution(
            int(space.batch_values.min()), int(space.batch_values.max())
        )
    }
    slots = optuna.distributions.IntDistribution(0, max(space.n_slots - 1, 0))
    for name, _ in _label_params(space):
        out[name] = slots
    for a in range(space.n_slots):
        for name in space.param_names[: space.n_param_genes]:
            values = space.values[name]
            out[f"acc{a}_{name}"] = optuna.distributions.IntDistribution(
                int(values.min()), int(values.max())
            )
    return out


def record_layout(space: Space, constraint_names: list[str]) -> dict:
    """The study user attributes that describe the records of ``space`` (module doc)."""
    group_params = [name for name, _ in _label_params(space)]  # label gene g = group g
    assignment: dict[str, str | int] = {}
    for j, node in enumerate(space.model.workload.names):
        group = int(space.group_of_node[j])
        if group_params:
            assignment[node] = group_params[group]
        elif space.n_slots == 1:
            assignment[node] = 0
        else:  # spatial: one accelerator per group, numbered in order of first use
            assignment[node] = group
    return {CONSTRAINT_NAMES_KEY: list(constraint_names), ASSIGNMENT_PARAMS_KEY: assignment}


def ensure_record_layout(backend, study_id: int, space: Space, constraint_names: list[str]) -> None:
    """Write the study attributes of :func:`record_layout` through ``backend`` (a
    :class:`~ssropt.storage.StudyBackend`) unless they are there already; StudyError when
    stored ones describe other records (another model version)."""
    wanted = record_layout(space, constraint_names)
    stored = backend.user_attrs(study_id)
    for key, value in wanted.items():
        if key in stored and stored[key] != value:
            raise StudyError(
                f"the study's {key} ({stored[key]}) is not this search space's ({value}): "
                "it was searched with another model version"
            )
    missing = {key: value for key, value in wanted.items() if key not in stored}
    if missing:
        backend.set_user_attrs(study_id, missing)


def _label_params(space: Space) -> list[tuple[str, int]]:
    """``(param name, first node)`` of each assignment gene (node group)."""
    out = []
    for g, gene in enumerate(space.gene_names[space.label_genes]):
        first = int(np.flatnonzero(space.group_of_node == g)[0])
        out.append((gene, first))
    return out


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
