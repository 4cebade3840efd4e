"""Trial records: one evaluated design -> one COMPLETE Optuna trial of a study.

Params are the decoded design (batch, accelerator of each node, each accelerator's
parameters) with fixed distributions; values are (latency, throughput); constraints the
model's ``used - budget``; user attributes resources, energy, strategy and generation;
system attributes the genome and where the design stands in the search
(:data:`GENERATION_KEY`, :data:`INDIVIDUAL_KEY`).
"""

from __future__ import annotations

import numpy as np
import optuna

from ssropt.spaces import Space, SpaceEvaluation
from ssropt.storage import TrialRecord

GENOME_KEY = "ssropt:genome"
GENERATION_KEY = "ssropt:generation"
INDIVIDUAL_KEY = "ssropt:individual"


def trial_records(
    space: Space, result: SpaceEvaluation, strategy: str, generation: int, first_individual: int
) -> list[TrialRecord]:
    """One TrialRecord per evaluated design of a population."""
    designs, ev = result.designs, result.evaluation
    workload = space.model.workload
    distributions = param_distributions(space)
    names = space.param_names
    totals = ev.resources()
    records = []
    for i in range(designs.n_designs):
        n_acc = int(designs.assignment[i].max()) + 1
        params = {"batch": int(designs.batch[i])}
        for j, node in enumerate(workload.names):
            params[f"acc_of_{node}"] = int(designs.assignment[i, j])
        for a in range(n_acc):
            for p, name in enumerate(names):
                params[f"acc{a}_{name}"] = int(designs.params[i, a, p])
        user = {
            "feasible": bool(result.feasible[i]),
            "images_per_s": float(ev.images_per_s[i]),
            "energy_j_per_image": _finite(ev.energy_j_per_image[i]),
            "power_w": _finite(ev.power_w[i]),
            "n_accelerators": n_acc,
            "steps": int(ev.steps[i]),
            "strategy": strategy,
            "generation": generation,
        }
        user.update({k: int(v[i]) for k, v in totals.items()})
        records.append(
            TrialRecord(
                params=params,
                distributions={k: distributions[k] for k in params},
                values=(float(ev.latency_s[i]), float(ev.throughput_ops_per_s[i])),
                constraints={n: float(result.G[i, c]) for c, n in enumerate(result.constraint_names)},
                user_attrs=user,
                system_attrs={
                    GENOME_KEY: [int(x) for x in result.genomes[i]],
                    GENERATION_KEY: generation,
                    INDIVIDUAL_KEY: first_individual + i,
                },
            )
        )
    return records


def param_distributions(space: Space) -> dict[str, optuna.distributions.BaseDistribution]:
    """The fixed distribution of every readable trial param of a space."""
    out: dict[str, optuna.distributions.BaseDistribution] = {
        "batch": optuna.distributions.IntDistribution(int(space.batch_values.min()), int(space.batch_values.max()))
    }
    for node in space.model.workload.names:
        out[f"acc_of_{node}"] = optuna.distributions.IntDistribution(0, max(space.n_slots - 1, 0))
    for a in range(space.n_slots):
        for name in space.param_names:
            values = space.values[name]
            out[f"acc{a}_{name}"] = optuna.distributions.IntDistribution(int(values.min()), int(values.max()))
    return out


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
