"""The part every lock-step cost model shares: :class:`LockStepModel`.

The ``ssr`` (Versal AIE) and ``fpga`` (DSP / tensor-block) templates place several
accelerators on one chip, forward activations between them and run the batch on the SSR
lock-step schedule (:mod:`.schedule`, costed by :mod:`.costing`).  They differ in how
long a layer takes and what a buffer costs, not in this set-up: the workload's shape
arrays, the schedule and its cache, where each design's nodes sit
(:class:`SlotLayout`), the ``dup`` rule (heads replicated only on accelerators holding
nothing but attention products) and its value table (the divisors of the head count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models.base import CostModel
from ssropt.objectives.models.lockstep.costing import LockStep
from ssropt.objectives.platforms import Platform
from ssropt.objectives.workloads.graph import Workload


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def dup_values(workload: Workload) -> np.ndarray:
    """Allowed ``dup``: the divisors of the head count (1 without attention products)."""
    heads = max(n.repeat for n in workload.nodes)
    has_attention = any(n.activation_rhs for n in workload.nodes)
    return np.array(divisors(heads) if has_attention else [1])


@dataclass(frozen=True)
class SlotLayout:
    """Where the nodes of N designs sit.

    Attributes:
        assign: ``(n, J)`` int64 accelerator of every node.
        used: ``(n, A)`` the slot is one of the design's accelerators.
        on: ``(n, A, J)`` node ``j`` runs on slot ``a``.
        attention_only: ``(n, A)`` the slot holds nodes, all of them attention products.
    """

    assign: np.ndarray
    used: np.ndarray
    on: np.ndarray
    attention_only: np.ndarray

    def node(self, values: np.ndarray) -> np.ndarray:
        """``(n, J)`` the value of ``(n, A)`` ``values`` on each node's accelerator."""
        return np.take_along_axis(values, self.assign, axis=1)


class LockStepModel(CostModel):
    """A cost model whose accelerators run the batch on the lock-step schedule.

    Keeps the lock-step schedule cache of the workload, so repeated evaluations of
    designs that share an assignment and batch size reuse their schedule.
    """

    repairable = True

    def __init__(
        self, workload: Workload, platform: Platform, dtype: str = "int8", cost_model: str | None = None
    ) -> None:
        super().__init__(workload, platform, dtype, cost_model)
        self.data_type = platform.dtype(dtype)
        self.lockstep = LockStep(workload)
        shapes = workload.shape_arrays()
        self.m, self.k, self.n = shapes["m"], shapes["k"], shapes["n"]
        self.repeat = shapes["repeat"]
        self.activation_rhs = shapes["activation_rhs"]
        self.copies = shapes["copies"]
        self.heads = int(self.repeat.max())
        self.deps = self.lockstep.deps

    @property
    def scheduler(self):
        return self.lockstep.scheduler

    def result_bytes_per_image(self) -> int:
        """Bytes of the outputs that leave the chip, per image: those of the nodes whose
        last copy feeds no layer (the final layer's result)."""
        moves_on = {src for src, _, _, active in self.deps if active[1]}
        return sum(
            node.m * node.n * node.repeat * self.data_type.bytes
            for j, node in enumerate(self.workload.nodes)
            if j not in moves_on
        )

    def layout(self, designs: DesignBatch) -> SlotLayout:
        """Where the nodes of ``designs`` sit (see :class:`SlotLayout`)."""
        assign = designs.assignment.astype(np.int64)
        n_slots = designs.max_accelerators
        n_acc = assign.max(axis=1) + 1
        used = np.arange(n_slots)[None, :] < n_acc[:, None]
        on = assign[:, None, :] == np.arange(n_slots)[None, :, None]  # (n, A, J)
        attention_only = on.any(axis=2) & ~(on & ~self.activation_rhs[None, None, :]).any(axis=2)
        return SlotLayout(assign, used, on, attention_only)

    def repair_shapes(self, designs: DesignBatch, values: dict[str, np.ndarray]) -> DesignBatch:
        """``dup > 1`` only on attention-only accelerators (both templates)."""
        params = designs.params.copy()
        dup = params[:, :, self.param_names.index("dup")]
        dup[:] = np.where(self.layout(designs).attention_only, dup, np.minimum(dup, 1))
        return DesignBatch(designs.cost_model, designs.batch, designs.assignment, params)
