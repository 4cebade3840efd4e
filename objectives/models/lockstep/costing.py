"""Latency of designs under the SSR lock-step schedule, shared by every SSR-style template.

The ``ssr`` (Versal AIE) and ``fpga`` (DSP / tensor-block) templates differ in how long a
layer takes on an accelerator and what its buffers cost, but not in how the batch is
scheduled: every (image, layer) job takes one step, a step lasts as long as its slowest
job, each job pays its layer time, the re-layout of its outgoing moves and, for layer 0
of an image, the DDR input time (SSR estimator spec sections 3.1-3.3).  This module holds
that common part, vectorised over designs:

* :class:`LockStep` computes (and caches, through
  :class:`~ssropt.objectives.models.lockstep.schedule.LockStepScheduler`) the schedules of N designs and
  sums per-node job costs over the schedule's step kinds;
* :func:`relayout_ns` is ``cal_overhead``'s rule: a move is free when the consumer's
  bank partition is a multiple of the producer's array, else the producer's output is
  re-streamed in full or per row/column group.

Example:
    >>> import numpy as np
    >>> from ssropt.objectives.design import DesignBatch
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> w = build_model("deit-t", tokens=192, embed_and_head=False)
    >>> designs = DesignBatch("ssr", np.array([1, 6]), np.zeros((2, 8), dtype=np.int64),
    ...                       np.ones((2, 1, 7), dtype=np.int64))
    >>> LockStep(w).schedules(designs).steps.tolist()
    [96, 576]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssropt.objectives.design import DesignBatch, relabel_by_first_use
from ssropt.objectives.evaluation import Evaluation
from ssropt.objectives.models.lockstep.schedule import (
    FINAL,
    FIRST,
    LAST,
    N_VARIANTS,
    LockStepScheduler,
    ScheduleSummary,
)
from ssropt.objectives.workloads.graph import ROLE_CODE, Section, Workload


@dataclass(frozen=True)
class Schedules:
    """The schedules of N designs, one summary per distinct (batch, canonical assignment).

    Attributes:
        summaries: distinct schedule summaries.
        inverse: ``(n,)`` index of each design's summary.
        steps: ``(n,)`` lock-step steps of each design.
        lhs_buffers: ``(n, n_slots)`` peak live LHS input buffers of each accelerator.
    """

    summaries: list[ScheduleSummary]
    inverse: np.ndarray
    steps: np.ndarray
    lhs_buffers: np.ndarray


class LockStep:
    """The lock-step schedule and its costing for one workload graph."""

    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.scheduler = LockStepScheduler(workload)
        #: ``(src node, dst node, role code, (moves data when src is not / is its last copy))``
        self.deps = [
            (workload.index(d.src), workload.index(d.dst), ROLE_CODE[d.role], self._dep_variants(d))
            for d in workload.dependencies
        ]

    def _dep_variants(self, dep) -> tuple[bool, bool]:
        """Whether a dependency moves data in (not last copy, last copy) of its producer."""
        src = self.workload.nodes[self.workload.index(dep.src)]
        dst = self.workload.nodes[self.workload.index(dep.dst)]
        if src.section == Section.BLOCK and dst.section == Section.BLOCK and dep.next_block:
            return (True, False)
        if src.section == Section.BLOCK and dst.section == Section.POST:
            return (False, True)
        return (True, True)

    # -- schedules ---------------------------------------------------------------------------
    def schedules(self, designs: DesignBatch) -> Schedules:
        """Schedules of N designs, keyed canonically (relabelling never changes them)."""
        n_slots = designs.max_accelerators
        assign = designs.assignment.astype(np.int64)
        canonical, rank = relabel_by_first_use(assign)
        uniq, inverse = _unique_keys(designs.batch, canonical)
        summaries = self.scheduler.summaries(uniq[:, 0], uniq[:, 1:])
        steps = np.array([sm.steps for sm in summaries], dtype=np.int64)[inverse]
        lhs = np.zeros((len(summaries), max(n_slots, rank.shape[1])), dtype=np.int64)
        for u, sm in enumerate(summaries):
            lhs[u, : sm.lhs_buffers.size] = sm.lhs_buffers
        per_slot = np.take_along_axis(lhs[inverse], rank, axis=1)
        per_slot = np.pad(per_slot, ((0, 0), (0, max(0, n_slots - per_slot.shape[1]))))[:, :n_slots]
        return Schedules(summaries, inverse, steps, per_slot)

    # -- costing -----------------------------------------------------------------------------
    def moves_s(self, relayout: list[np.ndarray], n: int) -> np.ndarray:
        """``(n, n_nodes, 2)`` re-layout seconds a job pays for its outgoing moves, when it is
        not / is the last copy of its node; ``relayout`` is :func:`relayout_ns`'s list."""
        moves = np.zeros((n, self.workload.n_nodes, 2))
        for (src, _, _, active), cost in zip(self.deps, relayout):
            for last in (0, 1):
                if active[last]:
                    moves[:, src, last] += cost * 1e-9
        return moves

    def latency(
        self, schedules: Schedules, node_time_s: np.ndarray, moves_s: np.ndarray, input_s: float, detail: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(compute_s, after_input_s, latency_s)``, each ``(n,)``: the schedule's sum over
        steps of the slowest job, without overheads, with the DDR input of each image's
        first layer, and with the re-layout of every move too (the last step moves
        nothing).  ``detail=False`` returns NaN for the first two."""
        n = node_time_s.shape[0]
        variant = np.arange(1, N_VARIANTS) - 1
        is_last = (variant & LAST) != 0
        is_first = (variant & FIRST) != 0
        is_final = (variant & FINAL) != 0
        base = np.zeros((n, self.workload.n_nodes, N_VARIANTS))
        base[:, :, 1:] = node_time_s[:, :, None]
        with_input = base.copy()
        with_input[:, :, 1:] += is_first * input_s
        full = with_input.copy()
        full[:, :, 1:] += np.where(is_final, 0.0, moves_s[:, :, is_last.astype(int)])
        if detail:
            return tuple(self._schedule_sum(schedules, (base, with_input, full)))  # type: ignore[return-value]
        (total,) = self._schedule_sum(schedules, (full,))
        nan = np.full(n, np.nan)
        return nan, nan.copy(), total

    def evaluation(self, designs: DesignBatch, times, *, steps, cycles, node_time, accelerators, violations) -> Evaluation:
        """The :class:`Evaluation` of N designs from :meth:`latency`'s ``times``
        ``(compute_s, after_input_s, latency_s)``; energy and power are left NaN for the
        cost model to fill."""
        compute_s, after_input, latency = times
        n = designs.n_designs
        batch = designs.batch.astype(float)
        return Evaluation(
            latency_s=latency,
            compute_s=compute_s,
            relayout_s=latency - after_input,
            input_s=after_input - compute_s,
            throughput_ops_per_s=batch * float(self.workload.ops_per_image) / latency,
            images_per_s=batch / latency,
            energy_j_per_image=np.full(n, np.nan),
            power_w=np.full(n, np.nan),
            steps=steps,
            node_cycles=cycles,
            node_time_s=node_time,
            accelerators=accelerators,
            violations={k: np.asarray(v).astype(float) for k, v in violations.items()},
        )

    def _schedule_sum(self, schedules: Schedules, tables) -> list[np.ndarray]:
        """Sum over step kinds of count x slowest job, for each cost table ``(n, J, 9)``."""
        summaries, inverse = schedules.summaries, schedules.inverse
        kind_index, kind_count = self.scheduler.kind_table()
        first = np.array([sm.first_kind for sm in summaries], dtype=np.int64)[inverse]
        per_design = np.array([sm.counts.size for sm in summaries], dtype=np.int64)[inverse]
        design = np.repeat(np.arange(inverse.size), per_design)
        offset = np.arange(design.size) - np.repeat(np.cumsum(per_design) - per_design, per_design)
        row = np.repeat(first, per_design) + offset
        # flat index of (design, node, variant) in a (n, J, N_VARIANTS) cost table
        stride = kind_index.shape[1] * N_VARIANTS
        dtype = np.int32 if inverse.size * stride < 2**31 else np.int64
        flat = kind_index[row] + (design * stride).astype(dtype)[:, None]
        weights = kind_count[row]
        out = []
        for table in tables:
            step_time = np.take(table.ravel(), flat).max(axis=1)
            out.append(np.bincount(design, weights=weights * step_time, minlength=inverse.size))
        return out


def _unique_keys(batch: np.ndarray, assign: np.ndarray):
    """Distinct ``[batch, assignment...]`` rows and each design's row index."""
    keys = np.concatenate([batch[:, None].astype(np.int64), assign], axis=1)
    base = int(assign.shape[1])
    if base**base * (int(batch.max()) + 1) < 2**62:  # pack each row into one integer
        packed = keys[:, 1:] @ (base ** np.arange(base, dtype=np.int64)) + keys[:, 0] * base**base
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
        return keys[first], inverse.ravel()
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    return uniq, inverse.ravel()


def relayout_ns(deps, assign, a, b, c, dup, part, t_full_ns) -> list[np.ndarray]:
    """Re-layout time (ns) of every dependency's move, ``(n,)`` each (``cal_overhead``).

    The consumer's banks split rows into ``a * part_aL`` (LHS) and columns into ``b *
    part_bL``; a move is free when those are multiples of the producer's array rows
    ``A_p`` and effective columns ``C_p' = C_p * dup_p / dup`` (an RHS uses ``b * part_bR``
    and ``c * part_cR``; a transposed RHS swaps the two tests).  Otherwise the producer's
    output is re-streamed: in full (``t_full``) when both tests fail, one column group
    (``t_full / C_p'``) or one row group (``t_full / A_p``) when one does.

    Args:
        deps: ``(src node, dst node, role code, ...)`` tuples.
        assign: ``(n, J)`` accelerator of every node.
        a, b, c, dup: ``(n, A)``; ``b`` as the consumer's banks see it (the FPGA template
            passes ``b`` in buffer words).
        part: ``{"aL", "bL", "bR", "cR"} -> (n, A)`` bank partition factors.
        t_full_ns: role code -> ``(n, A)`` time to re-stream each producer's output, ns.
    """
    rows = np.arange(a.shape[0])
    out = []
    for src, dst, role, *_ in deps:
        ps, cs = assign[:, src], assign[:, dst]
        pa, pc = a[rows, ps], c[rows, ps]
        pc_eff = np.maximum(pc * dup[rows, ps] // dup[rows, cs], 1)
        t_full = t_full_ns[role][rows, ps]
        ca, cb, cc = a[rows, cs], b[rows, cs], c[rows, cs]
        f = {k: v[rows, cs] for k, v in part.items()}
        if role == 0:
            m1, m2 = (ca * f["aL"]) % pa != 0, (cb * f["bL"]) % pc_eff != 0
        elif role == 1:
            m1, m2 = (cb * f["bR"]) % pa != 0, (cc * f["cR"]) % pc_eff != 0
        else:
            m1, m2 = (cc * f["cR"]) % pa != 0, (cb * f["bR"]) % pc_eff != 0
        cost = np.select([m1 & m2, m1, m2], [t_full, np.floor(t_full / pc_eff), np.floor(t_full / pa)], 0.0)
        out.append(cost)
    return out
