"""The ``fpga`` cost model: SSR-style accelerators built from DSP slices or AI tensor blocks.

This is the FPGA variant of the SSR estimator (spec section 8, ``Acc_FPGA``): each
accelerator is an ``a x b x c`` array of PEs (one MAC per cycle each), replicated ``dup``
times over attention heads; weights and activations stay on chip; producers write into
their consumers' input buffers; the batch runs on the same lock-step schedule as the
Versal ``ssr`` model (:mod:`ssropt.objectives.models.lockstep.costing`).  Per design, vectorised:

1. per node: ``ceil(M/a) ceil(K/b) ceil(N/c) * ceil(R/dup)`` cycles at the fabric clock;
2. per accelerator: buffer depths ``x, y, z = ceil(max M / a), ceil(max K / b),
   ceil(max N / c)``, bank partition factors from every producer by the lcm rules (with
   ``b`` counted in buffer words of ``lane_width_bits``), BRAM/URAM (or M20K) blocks of the
   LHS, activation-RHS and weight buffers with the cheapest placement, and compute blocks
   ``ceil(a b c dup * blocks_per_mac / macs_per_block)``;
3. latency over the lock-step schedule: slowest job per step, plus the re-layout of
   mismatched moves (``cal_overhead_fpga``) and the DDR input of each image.

Constraints (section 8, all constants in the platform's ``[fpga]`` table): ``b`` a power
of two between ``lane_width_bits`` and ``lane_width_max_bits`` worth of elements (8..64
for INT8); ``a, c <= array_dim_max`` (32), each a multiple of one of
``array_dim_factors`` (2 or 3); ``dup`` divides the head count and is 1 unless the
accelerator holds only attention products; compute blocks, BRAM and URAM within budget.

Decisions on the public code's quirks: the RAM placement is scored ``BRAM + uram_weight *
URAM`` as on Versal (the public FPGA code scores the 8 placements ``8 BRAM + URAM`` and
then tie-breaks on ``BRAM + 8 URAM``); partition factors come from every producer
(as in ``ssr``); a transposed RHS uses the transposed re-layout rule.

Off-chip weights (our extension; SSR keeps every weight on chip, which no DeiT-T design
on a ZCU102 can do).  On a platform with an ``[fpga.memory]`` table an accelerator may
have ``stream = 1``: it keeps only a double-buffered ``K x c`` weight panel of its widest
layer (``2 ceil(K_max / b)`` words on each of its ``c * b / pack`` weight lanes, loop
order N-panel outer, so each weight is read once per image and the LHS, on chip anyway,
is reused across panels), and each of its jobs takes
``max(compute, K N R DT / share)`` with ``share`` the sustained bandwidth
``bandwidth * efficiency`` split equally among the design's streaming accelerators (a
static split, as SSR's ``DDR_BANK = 1/num_acc``).  The image input is not charged
against the same bandwidth.

Power (an estimate, constants in ``[fpga.power]`` and ``[fpga.memory]``; the terms of the
Versal model where they apply, :mod:`.power`)::

    P = static_w + dsp_w * blocks + bram_w * BRAM + uram_w * URAM
        + e_dtype * executed ops/s (padding included)
        + energy_j_per_byte * off-chip bytes/s (streamed weights, the image in, the result out)
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.energy import with_power_terms
from ssropt.objectives.evaluation import Evaluation, budget_violations
from ssropt.objectives.models.fpga.configurator import FpgaConfigurator
from ssropt.objectives.models.fpga.power import fpga_power_terms
from ssropt.objectives.models.fpga.values import cascade_values, fpga_values, pack
from ssropt.objectives.models.lockstep.buffers import ceil_div, partition_factors, place_buffers
from ssropt.objectives.models.lockstep.costing import relayout_ns
from ssropt.objectives.models.lockstep.model import LockStepModel
from ssropt.objectives.platforms import Platform
from ssropt.objectives.workloads.graph import Workload

RESOURCES = ("dsp", "bram", "uram")


# -- equations ------------------------------------------------------------------------------
def fpga_layer_cycles(m, k, n, repeat, a, b, c, dup) -> np.ndarray:
    """Fabric cycles of one layer instance, heads included:
    ``ceil(M/a) * ceil(K/b) * ceil(N/c) * ceil(R/dup)`` (no fill, drain or launch)."""
    return ceil_div(m, a) * ceil_div(k, b) * ceil_div(n, c) * ceil_div(repeat, dup)


def compute_blocks(pe, macs_per_block: int, blocks_per_mac: int) -> np.ndarray:
    """Compute blocks (DSP slices, tensor blocks) holding ``pe`` MAC lanes."""
    return ceil_div(np.asarray(pe) * blocks_per_mac, macs_per_block)


def ram_blocks(lanes, depth_words, width_bits: int, block_width_bits: int, block_depth: int) -> np.ndarray:
    """RAM blocks for ``lanes`` buffers of ``depth_words`` words of ``width_bits`` each:
    ``lanes * ceil(width / block width) * ceil(depth / block depth)`` (depth may be
    fractional: a buffer split over partition banks)."""
    per_lane = -(-width_bits // block_width_bits) * np.ceil(np.asarray(depth_words) / block_depth)
    return (np.asarray(lanes) * per_lane).astype(np.int64)


# -- the model ------------------------------------------------------------------------------
class FpgaModel(LockStepModel):
    """The ``fpga`` template bound to one workload, platform and data type."""

    name = "fpga"
    param_names = ("a", "b", "c", "dup", "stream")  # stream: 1 = weights from off-chip memory
    param_defaults = {"dup": 1, "stream": 0}
    platform_tables = ("fpga",)
    dtype_tables = ("fpga",)
    hard_budgets = ("dsp",)
    configurator_type = FpgaConfigurator

    def __init__(
        self, workload: Workload, platform: Platform, dtype: str = "int8", cost_model: str | None = None
    ) -> None:
        super().__init__(workload, platform, dtype, cost_model)
        self.constants = platform.fpga
        self.kernel = self.data_type.fpga
        self.pack = pack(self.constants, self.data_type.bytes)

    def values(self) -> dict[str, np.ndarray]:
        return fpga_values(self.workload, self.platform, self.dtype)

    def resource_budgets(self) -> dict[str, float]:
        budget = self.constants.budget
        return {name: getattr(budget, name) for name in RESOURCES}

    def _evaluate(self, designs: DesignBatch, detail: bool) -> Evaluation:
        """Evaluate N designs; ``detail=False`` skips the latency breakdown (NaN)."""
        p, kernel = self.constants, self.kernel
        dt, words = self.data_type.bytes, self.pack
        n = designs.n_designs
        layout = self.layout(designs)
        assign, used, on, node = layout.assign, layout.used, layout.on, layout.node
        safe = np.array([1, words, 1, 1])  # harmless values for unused slots
        given = designs.params.astype(np.int64)
        params = np.maximum(np.where(used[:, :, None], given[:, :, :4], safe), 1)
        a, b, c, dup = (params[:, :, i] for i in range(4))
        stream_given = given[:, :, 4] if given.shape[2] > 4 else np.zeros_like(a)
        stream = used & (stream_given > 0)
        weights = ~self.activation_rhs  # nodes whose RHS is a weight matrix

        cycles = fpga_layer_cycles(self.m, self.k, self.n, self.repeat, node(a), node(b), node(c), node(dup))
        node_time = cycles / p.clock_hz
        # -- weights streamed from off-chip memory (our extension, see module docstring):
        # a job's time is the slower of its compute and its weight read at the stream share
        job_weight_bytes = np.where(weights, self.k * self.n * self.repeat * dt, 0)
        streamed = node(stream) & weights
        if stream.any():
            memory = p.memory
            rate = memory.bandwidth_bytes_per_s * memory.efficiency if memory else np.inf
            share = rate / np.maximum(stream.sum(axis=1), 1)
            node_time = np.where(streamed, np.maximum(node_time, job_weight_bytes / share[:, None]), node_time)

        # -- buffer depths from each accelerator's largest layer (section 8)
        def acc_max(values, mask):
            return np.where(mask, np.broadcast_to(values, assign.shape)[:, None, :], 0).max(axis=2)

        x, y, z = ceil_div(acc_max(self.m, on), a), ceil_div(acc_max(self.k, on), b), ceil_div(acc_max(self.n, on), c)
        on_mha = on & self.activation_rhs[None, None, :]
        y_mha, z_mha = ceil_div(acc_max(self.k, on_mha), b), ceil_div(acc_max(self.n, on_mha), c)
        attention_only = layout.attention_only

        # -- bank partitions against every producer, b counted in buffer words
        lanes_b = ceil_div(b, words)
        part, dup_mismatch = partition_factors(a, lanes_b, c, dup, assign, self.lockstep.deps)
        schedules = self.lockstep.schedules(designs)
        dbuff_l = schedules.lhs_buffers  # DBUFF_R = 1, DBUFF_O = 0

        # -- RAM blocks: LHS, activation RHS and weights; cheapest placement
        width = p.lane_width_bits
        bram_l = (p.bram_width_bits // p.ram_type_lhs, p.bram_depth * p.ram_type_lhs)
        bram_r = (p.bram_width_bits // p.ram_type_rhs, p.bram_depth * p.ram_type_rhs)
        uram_geometry = (p.uram_width_bits, p.uram_depth)
        part_l = part["aL"] * part["bL"]
        part_r = part["bR"] * part["cR"]
        lhs_lanes, lhs_depth = a * lanes_b * part_l, x * y / part_l
        rhs_lanes, rhs_depth = c * lanes_b * part_r, y_mha * z_mha / part_r
        l_bram = ram_blocks(lhs_lanes, lhs_depth, width, *bram_l) * dbuff_l
        l_uram = ram_blocks(lhs_lanes, lhs_depth, width, *uram_geometry) * dbuff_l
        r_bram = ram_blocks(rhs_lanes, rhs_depth, width, *bram_r)
        r_uram = ram_blocks(rhs_lanes, rhs_depth, width, *uram_geometry)
        per_node = ceil_div(self.k, node(b)) * ceil_div(self.n, node(c)) * self.copies
        on_weights = on & weights[None, None, :]
        weight_words = np.where(on_weights, per_node[:, None, :], 0).sum(axis=2)
        # a streaming accelerator holds a double-buffered K x c panel of its widest layer
        panel_words = 2 * ceil_div(acc_max(self.k, on_weights), b)
        weight_words = np.where(stream, panel_words, weight_words)
        weight_lanes = c * lanes_b
        if p.budget.uram > 0:
            w_bram = ram_blocks(weight_lanes, weight_words % p.uram_depth, width, *bram_r)
            w_uram = weight_lanes * -(-width // p.uram_width_bits) * (weight_words // p.uram_depth)
            first_node = np.where(on, np.arange(on.shape[2])[None, None, :], on.shape[2]).min(axis=2)
            bram, uram = place_buffers(
                np.stack([l_bram, r_bram], axis=2), np.stack([l_uram, r_uram], axis=2),
                w_bram, w_uram, p.budget.bram, p.uram_weight, first_node,
            )
        else:  # no URAM on the device: every buffer in BRAM (M20K)
            bram = l_bram + r_bram + ram_blocks(weight_lanes, weight_words, width, *bram_r)
            uram = np.zeros_like(bram)

        pe = a * b * c * dup
        dsp = compute_blocks(pe, kernel.macs_per_block, kernel.blocks_per_mac)

        # -- re-layout of mismatched moves (cal_overhead_fpga): outputs leave through
        # output_width_bits ports towards an LHS, lane_width_bits towards an RHS
        ns_per_cycle = 1e9 / p.clock_hz
        footprint = (a * x) * (c * z)
        t_lhs = np.ceil(ns_per_cycle * footprint / (p.output_width_bits / (8 * dt)))
        t_rhs = np.ceil(ns_per_cycle * footprint / (p.lane_width_bits / (8 * dt)))
        relayout = relayout_ns(self.lockstep.deps, assign, a, lanes_b, c, dup, part, {0: t_lhs, 1: t_rhs, 2: t_rhs})
        moves = self.lockstep.moves_s(relayout, n)
        t_input = p.input_bytes_per_image / p.input_bandwidth_bytes_per_s
        times = self.lockstep.latency(schedules, node_time, moves, t_input, detail)

        image_weight_bytes = np.where(on_weights, (job_weight_bytes * self.copies)[None, None, :], 0).sum(axis=2)
        acc = {
            "pe": pe, "dsp": dsp, "bram": bram, "uram": uram, "x": x, "y": y, "z": z,
            "weight_bytes": np.where(stream, 0, image_weight_bytes),  # held on chip
            "streamed_bytes": np.where(stream, image_weight_bytes, 0),  # read per image
        }
        acc = {k: np.where(used, v, 0).astype(np.int64) for k, v in acc.items()}

        def count(bad):
            return (used & bad).sum(axis=1)

        factor_ok = np.zeros_like(a, dtype=bool), np.zeros_like(c, dtype=bool)
        for f in p.array_dim_factors:
            factor_ok = (factor_ok[0] | (a % f == 0), factor_ok[1] | (c % f == 0))
        b_allowed = cascade_values(p, dt)
        heads_ok = (self.heads % dup == 0) & ((dup == 1) | attention_only)
        violations = budget_violations(acc, self.resource_budgets())
        violations |= {
            "array_dim": np.where(used, np.maximum(a, c), 0).max(axis=1) - p.array_dim_max,
            "array_factor": count(~(factor_ok[0] & factor_ok[1])),
            "array_b": count(~np.isin(b, b_allowed)),
            "dup": count(~heads_ok),
            "partition_dup": dup_mismatch,
            "unused_accelerator": count(~on.any(axis=2)),
            "stream_without_memory": count(stream) if p.memory is None else np.zeros(n),
        }
        result = self.lockstep.evaluation(
            designs, times, steps=schedules.steps, cycles=cycles, node_time=node_time,
            accelerators=acc, violations=violations,
        ).with_resources(RESOURCES)
        totals = result.resources()
        # executed operations (padding included) and off-chip bytes of one image
        executed = 2 * ceil_div(self.m, node(a)) * node(a) * ceil_div(self.k, node(b)) * node(b)
        executed = (executed * ceil_div(self.n, node(c)) * node(c) * self.repeat * self.copies).sum(axis=1)
        offchip = (
            result.accelerators["streamed_bytes"].sum(axis=1)
            + p.input_bytes_per_image + self.result_bytes_per_image()
        )
        terms = fpga_power_terms(
            self.platform, self.dtype, dsp=totals["dsp"], bram=totals["bram"], uram=totals["uram"],
            ops_per_s=executed * result.images_per_s, offchip_bytes_per_s=offchip * result.images_per_s,
        )
        with_power_terms(result, terms, designs.batch)
        return result

    def offload_weights(
        self, designs: DesignBatch, result: Evaluation, index: np.ndarray, values: dict[str, np.ndarray]
    ) -> DesignBatch:
        """Designs over their RAM budget: where ``values`` let accelerators stream their
        weights (``stream``), the accelerator holding the most weight bytes on chip streams
        them instead."""
        if "stream" not in values or values["stream"].max() < 1:
            return designs
        held = result.accelerators["weight_bytes"][index]
        ram_over = self.budget_ratio(result, ("bram", "uram"))[index] < 1.0
        target = np.argmax(held, axis=1)
        flip = ram_over & (held.max(axis=1) > 0)
        params = designs.params.copy()
        column = self.param_names.index("stream")
        rows = np.flatnonzero(flip)
        params[rows, target[rows], column] = 1
        return DesignBatch(designs.cost_model, designs.batch, designs.assignment, params)
