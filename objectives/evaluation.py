"""The result of evaluating a :class:`~ssropt.objectives.design.DesignBatch`.

Everything is an array over designs (first axis ``n``); per-accelerator arrays have
shape ``(n, max_accelerators)`` with zeros in unused slots, per-node arrays
``(n, n_nodes)``.  ``violations[name]`` is ``used - budget`` (``<= 0`` is feasible).

Which per-accelerator figures and which chip resources exist depends on the cost
model: Versal models report :data:`ACCELERATOR_FIELDS` and :data:`RESOURCE_FIELDS`
(AIE, PLIO, BRAM, URAM, columns), the FPGA template PEs, DSP/tensor blocks, BRAM and
URAM, the GPU roofline one device; ``Evaluation.resource_fields`` names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

ACCELERATOR_FIELDS = ("aie", "plio_in", "plio_out", "bram", "uram", "columns", "x", "y", "z", "hardened")
RESOURCE_FIELDS = ("aie", "plio_in", "plio_out", "bram", "uram", "columns")
#: array fields with one row per design
PER_DESIGN_FIELDS = (
    "latency_s", "compute_s", "relayout_s", "input_s", "throughput_ops_per_s", "images_per_s",
    "energy_j_per_image", "power_w", "steps", "node_cycles", "node_time_s",
)


def budget_violations(accelerators: dict[str, np.ndarray], budgets: dict[str, float]) -> dict[str, np.ndarray]:
    """``used - budget`` of the chip-wide resources: totals over accelerators, except
    ``columns``, which each accelerator must respect on its own (the widest counts)."""
    out = {}
    for name, budget in budgets.items():
        used = accelerators[name]
        out[name] = (used.max(axis=1) if name == "columns" else used.sum(axis=1)) - budget
    return out


@dataclass
class Evaluation:
    """Objectives, constraints and resources of N designs.

    Attributes:
        latency_s: makespan of the whole batch.
        compute_s, relayout_s, input_s: the parts of the latency (see README).
        throughput_ops_per_s: batch * OPS per image / latency.
        images_per_s: batch / latency.
        energy_j_per_image, power_w: the energy model.
        power_terms: name -> ``(n,)`` W, the terms of the power model (their sum is
            ``power_w``; ``ssropt.objectives.energy.TERMS`` on Versal); empty when the
            model has no breakdown.
        steps: lock-step schedule length, -1 where the cost model has none.
        node_cycles, node_time_s: ``(n, n_nodes)`` one instance of each node (heads included).
        accelerators: name -> ``(n, max_accelerators)`` per-accelerator figures.
        violations: name -> ``(n,)`` used - budget.
        resource_fields: the names in ``accelerators`` that are chip resources (summed
            by :meth:`resources`); the first one is nonzero on every used accelerator.
    """

    latency_s: np.ndarray
    compute_s: np.ndarray
    relayout_s: np.ndarray
    input_s: np.ndarray
    throughput_ops_per_s: np.ndarray
    images_per_s: np.ndarray
    energy_j_per_image: np.ndarray
    power_w: np.ndarray
    steps: np.ndarray
    node_cycles: np.ndarray
    node_time_s: np.ndarray
    accelerators: dict[str, np.ndarray]
    violations: dict[str, np.ndarray] = field(default_factory=dict)
    power_terms: dict[str, np.ndarray] = field(default_factory=dict)
    #: set on the instance by models whose resources differ (not a per-design field)
    resource_fields: ClassVar[tuple[str, ...]] = RESOURCE_FIELDS

    def with_resources(self, names: tuple[str, ...]) -> Evaluation:
        """This evaluation, its chip resources named ``names``; returns ``self``."""
        self.resource_fields = names  # type: ignore[misc]
        return self

    @property
    def n_designs(self) -> int:
        return int(self.latency_s.shape[0])

    @property
    def feasible(self) -> np.ndarray:
        """``(n,)`` every violation is ``<= 0``."""
        ok = np.ones(self.n_designs, dtype=bool)
        for value in self.violations.values():
            ok &= value <= 0
        return ok

    def resources(self) -> dict[str, np.ndarray]:
        """Totals over accelerators, ``name -> (n,)``."""
        return {name: self.accelerators[name].sum(axis=1) for name in self.resource_fields}

    @property
    def accelerator_fields(self) -> tuple[str, ...]:
        """Names of the per-accelerator figures, in report order."""
        return tuple(self.accelerators)

    @property
    def n_accelerators_used(self) -> np.ndarray:
        """``(n,)`` accelerators in use (those holding a nonzero first resource)."""
        return (self.accelerators[self.resource_fields[0]] > 0).sum(axis=1)

    def constraint_matrix(self) -> tuple[list[str], np.ndarray]:
        """Names and ``(n, n_constraints)`` matrix of violations (pymoo's ``G``)."""
        names = sorted(self.violations)
        if not names:
            return [], np.zeros((self.n_designs, 0))
        return names, np.stack([self.violations[k] for k in names], axis=1).astype(float)

    def replaced(self, index: np.ndarray, part: Evaluation) -> Evaluation:
        """A copy with the designs at ``index`` replaced by the designs of ``part``."""

        def put(whole: np.ndarray, new: np.ndarray) -> np.ndarray:
            whole = whole.copy()
            whole[index] = new
            return whole

        fields = {name: put(getattr(self, name), getattr(part, name)) for name in PER_DESIGN_FIELDS}
        fields["accelerators"] = {k: put(v, part.accelerators[k]) for k, v in self.accelerators.items()}
        fields["violations"] = {k: put(v, part.violations[k]) for k, v in self.violations.items()}
        fields["power_terms"] = {
            k: put(v, part.power_terms[k]) for k, v in self.power_terms.items() if k in part.power_terms
        }
        return Evaluation(**fields).with_resources(self.resource_fields)

    @staticmethod
    def concatenate(parts: list[Evaluation]) -> Evaluation:
        """The designs of consecutive evaluations as one (accelerator arrays padded)."""
        width = max(next(iter(p.accelerators.values())).shape[1] for p in parts)

        def acc(name: str) -> np.ndarray:
            return np.concatenate(
                [np.pad(p.accelerators[name], ((0, 0), (0, width - p.accelerators[name].shape[1]))) for p in parts]
            )

        fields = {name: np.concatenate([getattr(p, name) for p in parts]) for name in PER_DESIGN_FIELDS}
        fields["accelerators"] = {name: acc(name) for name in parts[0].accelerators}
        fields["violations"] = {k: np.concatenate([p.violations[k] for p in parts]) for k in parts[0].violations}
        fields["power_terms"] = {
            k: np.concatenate([p.power_terms[k] for p in parts])
            for k in parts[0].power_terms
            if all(k in p.power_terms for p in parts)
        }
        return Evaluation(**fields).with_resources(parts[0].resource_fields)
