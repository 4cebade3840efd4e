"""The ``charm`` cost model: AIE-array matmul accelerators fed from DDR through PL buffers.

Equations from CHARM (FPGA'23, DAC'23), public code ``arc-research-lab/CHARM``: the
per-accelerator model of ``CDAC/cdse.py`` evaluated at one fixed configuration (see
``model/charm.md``).  Every function works on numpy arrays of any (broadcastable) shape,
typically ``(n_designs, n_nodes)`` or ``(n_designs, max_accelerators)``.

Judgement calls, all documented where they are made:

* ``pack_in``/``pack_out`` equal to 0 mean the data type's packed values (INT8 2/2, INT16
  3/2, FP32 4/4), whatever the array size: that is ``CDSE/cdse.py``, and it is what
  reproduces CHARM's DeiT-T numbers with a 48-AIE array.  (``CDAC/cdse.py`` switches to 1/1
  when the accelerator's AIE *share* is small; a share is not a property of a design.)
* A kernel is "packed" (CHARM's odd ``kernel_type``) when either pack factor exceeds 1; it
  selects the broadcast rule and the array-shape rule.
* ``K`` accelerators share the DDR: each gets ``ddr_banks / K`` of the profiled bandwidth,
  as ``CDAC/cdac.py`` does.

Its timing is :mod:`.timing`, its resource model :mod:`.resources`, the work its batch does
(for the power model) :mod:`.traffic`.

Example:
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> model = CharmModel(build_model("deit-t", tokens=192), load_platform("vck190"), "int8")
    >>> int(model.values()["x"].max())
    15
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.energy import with_versal_power
from ssropt.objectives.evaluation import Evaluation, budget_violations
from ssropt.objectives.models.base import CostModel
from ssropt.objectives.models.charm.resources import resolve_packing, resources
from ssropt.objectives.models.charm.timing import charm_layer_cycles
from ssropt.objectives.models.charm.traffic import charm_activity
from ssropt.objectives.platforms.versal import SHARED_BUDGETS

if TYPE_CHECKING:
    from ssropt.objectives.design import DesignBatch
    from ssropt.objectives.platforms import Platform
    from ssropt.objectives.platforms.versal import CharmKernel
    from ssropt.objectives.workloads.graph import Workload


def _accelerator_params(designs: DesignBatch, built: np.ndarray, kernel: CharmKernel) -> dict:
    """``name -> (n, max_accelerators)`` int parameters, packs resolved, unbuilt slots 1."""
    params = {}
    for name in ("a", "b", "c", "x", "y", "z", "pack_in", "pack_out"):
        value = designs.param(name).astype(np.int64)
        lowest = 0 if name.startswith("pack") else 1
        bad = built & (value < lowest)
        if bad.any():
            d, k = np.argwhere(bad)[0]
            raise SsroptError(
                f"charm design {d}, accelerator {k}: {name} must be >= {lowest}, got {value[d, k]}"
            )
        params[name] = value
    params["pack_in"], params["pack_out"] = resolve_packing(
        kernel, params["pack_in"], params["pack_out"]
    )
    return {name: np.where(built, value, 1) for name, value in params.items()}


def evaluate_charm(
    workload: Workload, platform: Platform, dtype_name: str, designs: DesignBatch
) -> Evaluation:
    """Evaluate N ``charm`` designs at once.

    Each accelerator runs its nodes for every image; its per-image time is
    ``T_k = sum(node cycles * copies) / AIE clock``.  Images stream through the
    accelerators, so a batch takes ``sum_k T_k + (batch - 1) * max_k T_k``.
    ``energy_j_per_image`` and ``power_w`` are NaN here: ``ssropt.objectives.energy``
    fills them from this evaluation.

    Violations (``<= 0`` feasible): ``aie``, ``plio_in``, ``plio_out``, ``bram``, ``uram``
    (totals against ``platform.budget.aie`` and ``platform.charm``), ``columns`` (widest
    accelerator against ``platform.budget.columns``), ``array_shape`` (summed
    ``shape_excess``, see :func:`resources`) and ``unused_accelerator`` (accelerators
    below ``n_accelerators`` with no node).
    """
    if designs.cost_model != "charm":
        raise SsroptError(
            f"evaluate_charm needs charm designs, got cost model {designs.cost_model!r}"
        )
    assignment = designs.assignment.astype(np.int64)
    if assignment.shape[1] != workload.n_nodes:
        raise SsroptError(
            f"assignment has {assignment.shape[1]} nodes, workload "
            f"{workload.name} has {workload.n_nodes}"
        )
    slots = designs.max_accelerators
    if assignment.min(initial=0) < 0 or assignment.max(initial=0) >= slots:
        raise SsroptError(f"assignment indices must lie in 0..{slots - 1}")
    batch = designs.batch.astype(np.int64)
    if (batch < 1).any():
        raise SsroptError("batch must be >= 1")
    kernel = platform.dtype(dtype_name).charm
    n_acc = designs.n_accelerators
    built = np.arange(slots)[None, :] < n_acc[:, None]
    params = _accelerator_params(designs, built, kernel)

    used = resources(platform, dtype_name, **params)
    on_node = {
        name: np.take_along_axis(value, assignment, axis=1) for name, value in params.items()
    }
    cycles = charm_layer_cycles(workload, platform, dtype_name, **on_node, ddr_share=1.0 / n_acc[:, None])
    per_image = cycles * workload.copies_array
    owned = assignment[:, None, :] == np.arange(slots)[None, :, None]  # (n, slots, n_nodes)
    acc_time = (owned * per_image[:, None, :]).sum(axis=2) / platform.aie.clock_hz
    latency = acc_time.sum(axis=1) + (batch - 1) * acc_time.max(axis=1)

    def per_acc(value):
        return np.where(built, value, 0)

    accelerators = {
        "aie": per_acc(used.aie),
        "plio_in": per_acc(used.plio_in),
        "plio_out": per_acc(used.plio_out),
        "bram": per_acc(used.bram),
        "uram": per_acc(used.uram),
        "columns": per_acc(used.columns),
        "x": per_acc(params["x"]),
        "y": per_acc(params["y"]),
        "z": per_acc(params["z"]),
        "hardened": np.zeros_like(assignment, shape=built.shape),
    }
    charm, budget = platform.charm, platform.budget
    violations = budget_violations(
        accelerators,
        {"aie": budget.aie, "plio_in": charm.plio_in, "plio_out": charm.plio_out,
         "bram": charm.bram, "uram": charm.uram, "columns": budget.columns},
    )
    violations |= {
        "array_shape": per_acc(used.shape_excess).sum(axis=1),
        "unused_accelerator": (built & ~owned.any(axis=2)).sum(axis=1),
    }
    ops = batch * workload.ops_per_image
    nan = np.full(designs.n_designs, np.nan)
    return Evaluation(
        latency_s=latency,
        compute_s=latency.copy(),
        relayout_s=np.zeros(designs.n_designs),
        input_s=np.zeros(designs.n_designs),
        throughput_ops_per_s=ops / latency,
        images_per_s=batch / latency,
        energy_j_per_image=nan,  # filled by ssropt.objectives.energy
        power_w=nan.copy(),
        steps=np.full(designs.n_designs, -1, dtype=np.int64),
        node_cycles=cycles,
        node_time_s=cycles / platform.aie.clock_hz,
        accelerators=accelerators,
        violations=violations,
    )


class CharmModel(CostModel):
    """The ``charm`` model bound to one workload, platform and data type."""

    name = "charm"
    param_names = ("a", "b", "c", "x", "y", "z", "pack_in", "pack_out")
    param_defaults = {"pack_in": 0, "pack_out": 0}  # 0: the data type's packing rule
    platform_tables = ("aie", "pl", "physical", "budget", "charm", "power")
    dtype_tables = ("charm",)
    hard_budgets = ("aie", "plio_in", "plio_out", "columns")

    def values(self) -> dict[str, np.ndarray]:
        """Array along M and K up to 16, ``c`` up to one AIE column (8), PL tiling 1..15,
        packing by the data type's rule."""
        return {
            "a": np.arange(1, 17),
            "b": np.arange(1, 17),
            "c": np.arange(1, 9),
            "x": np.arange(1, 16),
            "y": np.arange(1, 16),
            "z": np.arange(1, 16),
            "pack_in": np.array([0]),
            "pack_out": np.array([0]),
        }

    def resource_budgets(self) -> dict[str, float]:
        budget = self.platform.budget
        return {name: getattr(budget, name) for name in SHARED_BUDGETS}

    def _evaluate(self, designs: DesignBatch, detail: bool) -> Evaluation:
        result = evaluate_charm(self.workload, self.platform, self.dtype, designs)
        return with_versal_power(result, self.platform, self.dtype, designs.batch, self.activity(designs))

    def activity(self, designs: DesignBatch):
        """The work of one batch of each design (:func:`.traffic.charm_activity`)."""
        kernel = self.platform.dtype(self.dtype).charm
        built = np.arange(designs.max_accelerators)[None, :] < designs.n_accelerators[:, None]
        params = _accelerator_params(designs, built, kernel)
        return charm_activity(self.workload, self.platform, self.dtype, designs, params)
