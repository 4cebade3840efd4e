"""The ``ssr`` cost model: several AIE-array accelerators, activations forwarded on chip.

Given complete designs (no search inside the model) it derives, vectorised over designs:

1. per node: layer cycles on its accelerator (spec 6.3, 6.5);
2. per accelerator: buffer multiples X, Y, Z from its largest layer, weight hardening in
   AIE memory, bank partition factors from *all* producers by the lcm rules (transposed
   RHS priced as transposed), BRAM/URAM banks with the cheapest placement, PLIO and
   placement columns (spec 6.2, 6.4, 6.6);
3. the lock-step schedule of the batch and the buffer counts along it
   (:mod:`ssropt.objectives.models.lockstep.schedule`);
4. the latency: for every step the slowest job, each job costing its layer time plus the
   re-layout of its outgoing moves (``cal_overhead``) plus, for layer 0 of an image, the
   DDR input time (spec 3.2, 3.3);
5. the power, term by term, from the work of the batch (:mod:`.traffic`,
   :mod:`ssropt.objectives.energy`).
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.energy import with_versal_power
from ssropt.objectives.evaluation import RESOURCE_FIELDS, Evaluation, budget_violations
from ssropt.objectives.models.base import value_index
from ssropt.objectives.models.lockstep.buffers import buffer_placement, ceil_div, partition_factors
from ssropt.objectives.models.lockstep.costing import relayout_ns
from ssropt.objectives.models.lockstep.model import LockStepModel
from ssropt.objectives.models.ssr.accelerator import (
    broadcast_and_columns,
    ram_banks,
    ssr_layer_cycles,
)
from ssropt.objectives.models.ssr.configurator import SsrConfigurator
from ssropt.objectives.models.ssr.tiles import kernel_tile_violations, tile_mode
from ssropt.objectives.models.ssr.traffic import ssr_activity
from ssropt.objectives.models.ssr.values import ssr_values
from ssropt.objectives.platforms.versal import SHARED_BUDGETS


def _acc_max(values: np.ndarray, on: np.ndarray) -> np.ndarray:
    """``(n, A)`` largest per-node value over the nodes on each accelerator (0 if none)."""
    return np.where(on, values[:, None, :], 0).max(axis=2)


class SsrModel(LockStepModel):
    """The ``ssr`` model bound to one workload, platform and data type."""

    name = "ssr"
    param_names = ("a", "b", "c", "dup", "h1", "w1", "w2")
    param_defaults = {"dup": 1}
    platform_tables = ("aie", "pl", "physical", "budget", "ssr", "power")
    dtype_tables = ("ssr",)
    hard_budgets = ("aie", "plio_in", "plio_out", "columns")
    configurator_type = SsrConfigurator

    @classmethod
    def check_platform(cls, platform, dtype: str) -> None:
        """The tables the model reads, and a known ``[ssr] tiles`` mode."""
        super().check_platform(platform, dtype)
        tile_mode(platform)

    def values(self) -> dict[str, np.ndarray]:
        return ssr_values(self.workload, self.platform, self.dtype)

    def resource_budgets(self) -> dict[str, float]:
        budget = self.platform.budget
        return {name: getattr(budget, name) for name in SHARED_BUDGETS}

    # ------------------------------------------------------------------------------------
    def _evaluate(self, designs: DesignBatch, detail: bool) -> Evaluation:
        """Evaluate N designs; ``detail=False`` skips the latency breakdown (NaN)."""
        p = self.platform
        s = p.ssr
        dt = self.data_type.bytes
        n = designs.n_designs
        layout = self.layout(designs)
        assign, slot_used, on, node = layout.assign, layout.used, layout.on, layout.node
        params = np.where(slot_used[:, :, None], designs.params, 1).astype(np.int64)
        a, b, c, dup, h1, w1, w2 = (params[:, :, i] for i in range(7))

        na, nb, nc, ndup, nh1, nw1, nw2 = (node(x) for x in (a, b, c, dup, h1, w1, w2))
        cycles = ssr_layer_cycles(
            self.m, self.k, self.n, self.repeat, na, nb, nc, ndup, nh1, nw1, nw2, p, self.data_type
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
        attention_only = layout.attention_only
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
        schedules = self.lockstep.schedules(designs)
        steps, dbuff_l = schedules.steps, schedules.lhs_buffers
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
        bram, uram, in_uram = buffer_placement(
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
        relayout = self._relayout(a, c, dup, h1, w2, x, z, b, part, assign)
        moves = self.lockstep.moves_s(relayout, n)

        # -- latency over the schedule's step kinds
        t_input = s.input_bytes_per_image / s.input_bandwidth_bytes_per_s
        times = self.lockstep.latency(schedules, node_time, moves, t_input, detail)

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
        if s.tiles == "native":  # tiles = "native": on the grid, whole native products
            violations["kernel_tile"] = (used & kernel_tile_violations(p, self.dtype, h1, w1, w2)).sum(axis=1)
        result = self.lockstep.evaluation(
            designs, times, steps=steps, cycles=cycles, node_time=node_time,
            accelerators=acc, violations=violations,
        )
        activity = ssr_activity(
            self, designs, layout, params, hardened=hardened, buffer_in_uram=in_uram,
            weight_uram_share=np.where(
                weight_words > 0, weight_words // s.uram_depth * s.uram_depth / np.maximum(weight_words, 1), 0.0
            ),
            a_bro=a_bro, c_bro=c_bro, relayout_ns=relayout,
        )
        return with_versal_power(result, p, self.dtype, designs.batch, activity)

    # ------------------------------------------------------------------------------------
    def _relayout(self, a, c, dup, h1, w2, x, z, b, part, assign) -> list[np.ndarray]:
        """Re-layout time (ns) of every dependency's move, ``(n,)`` each (cal_overhead).

        T_full re-streams the producer's padded output (``(h1 a x) * (w2 c z)`` elements)
        through one PLIO port at the PL clock, whatever the operand role.
        """
        s = self.platform.ssr
        words_per_cycle = s.relayout_port_bits // (8 * self.data_type.bytes)
        ns_per_cycle = 1e9 / s.relayout_clock_hz
        footprint = (h1 * a * x) * (w2 * c * z)
        t_full = np.ceil(ns_per_cycle * footprint / words_per_cycle)
        return relayout_ns(self.deps, assign, a, b, c, dup, part, {0: t_full, 1: t_full, 2: t_full})

    # -- search support --------------------------------------------------------------------
    def repair_shapes(self, designs: DesignBatch, values: dict[str, np.ndarray]) -> DesignBatch:
        """The ``dup`` rule of every lock-step template, then the AIE array rules: not both
        ``a, c > 8``; ``a*c <= 48``; the cascade ``b`` shortened (to a value of ``values``)
        until the array fits the placement columns."""
        designs = super().repair_shapes(designs, values)
        params = designs.params.copy()
        a, b, c = (params[:, :, i] for i in range(3))
        s = self.platform.ssr
        both = (a > s.ac_both_max) & (c > s.ac_both_max)
        a_le_c = a <= c
        a[:] = np.where(both & a_le_c, s.ac_both_max, a)
        c[:] = np.where(both & ~a_le_c, s.ac_both_max, c)
        too_big = a * c > s.ac_max
        a_ge_c = a >= c
        a[:] = np.where(too_big & a_ge_c, np.maximum(1, s.ac_max // np.maximum(c, 1)), a)
        c[:] = np.where(too_big & ~a_ge_c, np.maximum(1, s.ac_max // np.maximum(a, 1)), c)
        used = a > 0
        _, _, cols = broadcast_and_columns(np.maximum(a, 1), np.ones_like(b), np.maximum(c, 1))
        b_cap = np.maximum(1, self.platform.budget.columns // np.maximum(cols, 1))
        b_values = values["b"]
        b[:] = np.where(used, b_values[value_index(b_values, np.minimum(b, b_cap))], 0)
        return DesignBatch(designs.cost_model, designs.batch, designs.assignment, params)

    def latency_lower_bound(self) -> float:
        """The DDR input of one image plus one launch overhead per layer on the longest
        dependency chain."""
        workload, p = self.workload, self.platform
        depth = np.ones(workload.n_layers, dtype=np.int64)
        for src, dst, _ in workload.unrolled_edges():
            depth[dst] = max(depth[dst], depth[src] + 1)
        cycle_s = 1.0 / p.aie.clock_hz / (p.pl.clock_hz / p.pl.reference_clock_hz)
        launch = depth.max() * p.ssr.launch_cycles * cycle_s
        return p.ssr.input_bytes_per_image / p.ssr.input_bandwidth_bytes_per_s + launch
