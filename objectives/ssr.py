"""The ``ssr`` cost model: several AIE-array accelerators, activations forwarded on chip.

Given complete designs (no search inside the model) it derives, vectorised over designs:

1. per node: layer cycles on its accelerator (spec 6.3, 6.5);
2. per accelerator: buffer multiples X, Y, Z from its largest layer, weight hardening in
   AIE memory, bank partition factors from *all* producers by the lcm rules (transposed
   RHS priced as transposed), BRAM/URAM banks with the cheapest placement, PLIO and
   placement columns (spec 6.2, 6.4, 6.6);
3. the lock-step schedule of the batch and the buffer counts along it
   (:mod:`ssropt.objectives.schedule`);
4. the latency: for every step the slowest job, each job costing its layer time plus the
   re-layout of its outgoing moves (``cal_overhead``) plus, for layer 0 of an image, the
   DDR input time (spec 3.2, 3.3).
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.design import DesignBatch, relabel_by_first_use
from ssropt.objectives.evaluation import RESOURCE_FIELDS, Evaluation, budget_violations
from ssropt.objectives.platform import DataType, Platform
from ssropt.objectives.schedule import FINAL, FIRST, LAST, N_VARIANTS, LockStepScheduler
from ssropt.objectives.ssr_accelerator import (
    broadcast_and_columns,
    ceil_div,
    layer_cycles,
    partition_factors,
    place_buffers,
    ram_banks,
)
from ssropt.objectives.workload import Role, Section, Workload

ROLE_CODE = {Role.LHS: 0, Role.RHS: 1, Role.RHS_T: 2}


def _acc_max(values: np.ndarray, on: np.ndarray) -> np.ndarray:
    """``(n, A)`` largest per-node value over the nodes on each accelerator (0 if none)."""
    return np.where(on, values[:, None, :], 0).max(axis=2)


class SsrModel:
    """The ``ssr`` model bound to one workload, platform and data type.

    Keeps the lock-step schedule cache of the workload, so repeated evaluations of
    designs that share an assignment and batch size reuse their schedule.
    """

    def __init__(self, workload: Workload, platform: Platform, dtype: str) -> None:
        self.workload = workload
        self.platform = platform
        self.dtype_name = dtype
        self.dtype: DataType = platform.dtype(dtype)
        self.scheduler = LockStepScheduler(workload)
        shapes = workload.shape_arrays()
        self.m, self.k, self.n = shapes["m"], shapes["k"], shapes["n"]
        self.repeat = shapes["repeat"]
        self.activation_rhs = shapes["activation_rhs"]
        self.copies = shapes["copies"]
        self.heads = int(self.repeat.max())
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

    # ------------------------------------------------------------------------------------
    def evaluate(self, designs: DesignBatch, detail: bool = True) -> Evaluation:
        """Evaluate N designs; ``detail=False`` skips the latency breakdown (NaN)."""
        p = self.platform
        s = p.ssr
        dt = self.dtype.bytes
        n, n_slots = designs.n_designs, designs.max_accelerators
        assign = designs.assignment.astype(np.int64)
        n_acc = assign.max(axis=1) + 1
        slot_used = np.arange(n_slots)[None, :] < n_acc[:, None]
        params = np.where(slot_used[:, :, None], designs.params, 1).astype(np.int64)
        a, b, c, dup, h1, w1, w2 = (params[:, :, i] for i in range(7))
        on = assign[:, None, :] == np.arange(n_slots)[None, :, None]  # (n, A, J)

        def node(x):
            return np.take_along_axis(x, assign, axis=1)

        na, nb, nc, ndup, nh1, nw1, nw2 = (node(x) for x in (a, b, c, dup, h1, w1, w2))
        cycles = layer_cycles(
            self.m, self.k, self.n, self.repeat, na, nb, nc, ndup, nh1, nw1, nw2, p, self.dtype
        )
        cycle_s = 1.0 / p.aie.clock_hz / (p.pl.clock_hz / p.pl.reference_clock_hz)
        node_time = cycles * cycle_s

        # -- per accelerator: buffer multiples and hardening (6.2, 6.4)
        big_m, big_k, big_n = (_acc_max(np.broadcast_to(v, assign.shape), on) for v in (self.m, self.k, self.n))
        x, y, z = ceil_div(big_m, a * h1), ceil_div(big_k, b * w1), ceil_div(big_n, c * w2)
        on_mha = on & self.activation_rhs[None, None, :]
        y_mha = ceil_div(np.where(on_mha, self.k, 0).max(axis=2), b * w1)
        z_mha = ceil_div(np.where(on_mha, self.n, 0).max(axis=2), c * w2)
        weights_only = ~on_mha.any(axis=2)
        attention_only = on.any(axis=2) & ~(on & ~self.activation_rhs[None, None, :]).any(axis=2)
        lhs_bytes, rhs_bytes = h1 * w1 * dt, w1 * w2 * dt
        resident = (
            ceil_div(self.k, nb * nw1) * nw1 * ceil_div(self.n, nc * nw2) * nw2 * dt * self.copies
        )
        all_weights_bytes = np.where(on, resident[:, None, :], 0).sum(axis=2)
        hardened = weights_only & (2 * lhs_bytes + all_weights_bytes <= p.aie.local_memory_bytes)
        local_memory = np.where(hardened, 0, 2 * (lhs_bytes + rhs_bytes) - p.aie.local_memory_bytes)

        # -- bank partition factors from every producer (lcm rules, 6.6)
        part, dup_mismatch = partition_factors(a, b, c, dup, assign, self.deps)
        part_max = np.maximum.reduce([part[k] for k in part])
        part_product = part["aL"] * part["bL"] * part["bR"] * part["cR"]

        # partition alignment with every layer's tile counts (ext_part_check)
        nx, ny, nz = ceil_div(self.m, na * nh1), ceil_div(self.k, nb * nw1), ceil_div(self.n, nc * nw2)
        npart = {k: node(v) for k, v in part.items()}

        def aligned(f, tiles, sub):
            return (tiles % f == 0) | (sub % f == 0)

        misaligned = ~(
            aligned(npart["aL"], nx, nh1 // 8)
            & aligned(npart["bL"], ny, nw1 // 2)
            & aligned(npart["bR"], ny, nw1 // 8)
            & aligned(npart["cR"], nz, nw2 // 2)
        )

        # -- schedule and buffer counts
        # the schedule is invariant under relabelling accelerators: key it canonically
        canonical, rank = relabel_by_first_use(assign)
        uniq, inverse = self._unique_keys(designs.batch, canonical)
        summaries = self.scheduler.summaries(uniq[:, 0], uniq[:, 1:])
        steps = np.array([sm.steps for sm in summaries], dtype=np.int64)[inverse]
        lhs_buffers = np.zeros((len(summaries), max(n_slots, rank.shape[1])), dtype=np.int64)
        for u, sm in enumerate(summaries):
            lhs_buffers[u, : sm.lhs_buffers.size] = sm.lhs_buffers
        dbuff_l = np.take_along_axis(lhs_buffers[inverse], rank, axis=1)
        dbuff_l = np.pad(dbuff_l, ((0, 0), (0, max(0, n_slots - dbuff_l.shape[1]))))[:, :n_slots]
        dbuff_r = np.where(hardened, 0, 1)

        # -- BRAM / URAM (buff_count_0); output buffers are not allocated (DBUFF_O = 0)
        npp = p.pl.plio_width_bits // (8 * dt)
        left, right = ceil_div(h1 * w1, npp), ceil_div(w1 * w2, npp)
        pl_ = part["aL"] * part["bL"]
        pr_ = part["bR"] * part["cR"]
        l_bram, l_uram = ram_banks(a * b * pl_, x * y * left / pl_, s.ram_type_lhs, p)
        r_bram, r_uram = ram_banks(c * b * pr_, y_mha * z_mha * right / pr_, s.ram_type_rhs, p)
        l_bram, l_uram = l_bram * dbuff_l, l_uram * dbuff_l
        r_bram, r_uram = r_bram * dbuff_r, r_uram * dbuff_r
        words = ceil_div(ceil_div(self.k, nb) * ceil_div(self.n, nc), npp) * self.copies
        weight_words = np.where(on & ~self.activation_rhs[None, None, :], words[:, None, :], 0).sum(axis=2)
        weight_words = np.where(hardened, 0, weight_words)
        lanes = c * b * -(-p.pl.plio_width_bits // (s.bram_width_bits // s.ram_type_rhs))
        w_bram = lanes * ceil_div(weight_words % s.uram_depth, s.bram_depth * s.ram_type_rhs)
        w_uram = c * b * -(-p.pl.plio_width_bits // s.uram_width_bits) * (weight_words // s.uram_depth)
        bram, uram = place_buffers(
            np.stack([l_bram, r_bram], axis=2), np.stack([l_uram, r_uram], axis=2),
            w_bram, w_uram, p.budget.bram, s.uram_weight,
            np.where(on, np.arange(on.shape[2])[None, None, :], on.shape[2]).min(axis=2),
        )

        # -- PLIO and placement (6.2)
        a_bro, c_bro, columns = broadcast_and_columns(a, b, c)
        rhs_plio = np.where(hardened, 0, c * b * ceil_div(a, c_bro))
        plio_in = (a * b * ceil_div(c, a_bro) + rhs_plio) * dup
        plio_out = a * c * dup

        # -- re-layout overhead per dependency (cal_overhead, 3.3), ns
        relayout_ns = self._relayout(a, c, dup, h1, w2, x, z, b, part, assign)
        moves = np.zeros((n, self.workload.n_nodes, 2))
        for (src, _, _, active), cost in zip(self.deps, relayout_ns):
            for last in (0, 1):
                if active[last]:
                    moves[:, src, last] += cost * 1e-9

        # -- latency over the schedule's step kinds
        t_input = s.input_bytes_per_image / s.input_bandwidth_bytes_per_s
        variant = np.arange(1, N_VARIANTS) - 1
        is_last = (variant & LAST) != 0
        is_first = (variant & FIRST) != 0
        is_final = (variant & FINAL) != 0
        base = np.zeros((n, self.workload.n_nodes, N_VARIANTS))
        base[:, :, 1:] = node_time[:, :, None]
        with_input = base.copy()
        with_input[:, :, 1:] += is_first * t_input
        full = with_input.copy()
        full[:, :, 1:] += np.where(is_final, 0.0, moves[:, :, is_last.astype(int)])
        if detail:
            compute_s, after_input, latency = self._schedule_sum(
                summaries, inverse, (base, with_input, full)
            )
        else:
            (latency,) = self._schedule_sum(summaries, inverse, (full,))
            compute_s = after_input = np.full(n, np.nan)

        used = slot_used
        acc = {
            "aie": a * b * c * dup,
            "plio_in": plio_in,
            "plio_out": plio_out,
            "bram": bram,
            "uram": uram,
            "columns": columns,
            "x": x,
            "y": y,
            "z": z,
            "hardened": hardened.astype(np.int64),
        }
        acc = {k: np.where(used, v, 0).astype(np.int64) for k, v in acc.items()}
        budget = p.budget

        def worst(v):
            return np.where(used, v, np.iinfo(np.int64).min // 2).max(axis=1)

        heads_ok = (self.heads % dup == 0) & ((dup == 1) | attention_only)
        empty = used & ~on.any(axis=2)
        violations = budget_violations(
            acc, {name: getattr(budget, name) for name in RESOURCE_FIELDS}
        )
        violations |= {
            "array_dim": worst(np.maximum(np.maximum(a, b), c)) - s.array_dim_max,
            "array_ac": worst(a * c) - s.ac_max,
            "array_ac_both": worst(np.minimum(a, c)) - s.ac_both_max,
            "array_b": (used & (b > s.b_multiple_above) & (b % s.b_multiple != 0)).sum(axis=1),
            "dup": (used & ~heads_ok).sum(axis=1),
            "aie_memory": worst(local_memory),
            "partition_factor": worst(part_max) - s.partition_max,
            "partition_product": worst(part_product) - s.partition_product_max,
            "partition_dup": dup_mismatch,
            "partition_alignment": misaligned.sum(axis=1),
            "unused_accelerator": empty.sum(axis=1),
        }
        violations = {k: v.astype(float) for k, v in violations.items()}
        ops = float(self.workload.ops_per_image)
        batch = designs.batch.astype(float)
        return Evaluation(
            latency_s=latency,
            compute_s=compute_s,
            relayout_s=latency - after_input,
            input_s=after_input - compute_s,
            throughput_ops_per_s=batch * ops / latency,
            images_per_s=batch / latency,
            energy_j_per_image=np.full(n, np.nan),
            power_w=np.full(n, np.nan),
            steps=steps,
            node_cycles=cycles,
            node_time_s=node_time,
            accelerators=acc,
            violations=violations,
        )

    # ------------------------------------------------------------------------------------
    def _relayout(self, a, c, dup, h1, w2, x, z, b, part, assign) -> list[np.ndarray]:
        """Re-layout time (ns) of every dependency's move, ``(n,)`` each (cal_overhead).

        T_full re-streams the producer's padded output through one PLIO port at the PL
        clock; it is paid in full when both the row and column split of the consumer's
        banks mismatch the producer's array, per row/column group when one does.
        """
        s = self.platform.ssr
        words_per_cycle = s.relayout_port_bits // (8 * self.dtype.bytes)
        ns_per_cycle = 1e9 / s.relayout_clock_hz
        rows = np.arange(a.shape[0])
        out = []
        for src, dst, role, _ in self.deps:
            ps, cs = assign[:, src], assign[:, dst]
            pa, pc = a[rows, ps], c[rows, ps]
            pc_eff = np.maximum(pc * dup[rows, ps] // dup[rows, cs], 1)
            footprint = (h1[rows, ps] * pa * x[rows, ps]) * (w2[rows, ps] * pc * z[rows, ps])
            t_full = np.ceil(ns_per_cycle * footprint / words_per_cycle)
            ca, cb, cc = a[rows, cs], b[rows, cs], c[rows, cs]
            f = {k: v[rows, cs] for k, v in part.items()}
            if role == 0:
                m1, m2 = (ca * f["aL"]) % pa != 0, (cb * f["bL"]) % pc_eff != 0
            elif role == 1:
                m1, m2 = (cb * f["bR"]) % pa != 0, (cc * f["cR"]) % pc_eff != 0
            else:
                m1, m2 = (cc * f["cR"]) % pa != 0, (cb * f["bR"]) % pc_eff != 0
            cost = np.select(
                [m1 & m2, m1, m2], [t_full, np.floor(t_full / pc_eff), np.floor(t_full / pa)], 0.0
            )
            out.append(cost)
        return out

    @staticmethod
    def _unique_keys(batch: np.ndarray, assign: np.ndarray):
        """Distinct ``[batch, assignment...]`` rows and each design's row index."""
        keys = np.concatenate([batch[:, None].astype(np.int64), assign], axis=1)
        base = int(assign.shape[1])
        if base ** base * (int(batch.max()) + 1) < 2**62:  # pack each row into one integer
            packed = keys[:, 1:] @ (base ** np.arange(base, dtype=np.int64)) + keys[:, 0] * base**base
            _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
            return keys[first], inverse.ravel()
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        return uniq, inverse.ravel()

    def _schedule_sum(self, summaries, inverse, tables):
        """Sum over step kinds of count x slowest job, for each cost table ``(n, J, 9)``."""
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
