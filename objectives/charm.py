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

Example:
    >>> from ssropt.objectives.platform import load_platform
    >>> kernel_cycles(load_platform("vck190").dtype("fp32").charm)
    4392
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssropt.objectives.errors import SsroptError
from ssropt.objectives.evaluation import Evaluation, budget_violations

if TYPE_CHECKING:
    from ssropt.objectives.design import DesignBatch
    from ssropt.objectives.platform import CharmKernel, Platform
    from ssropt.objectives.workload import Workload

ARRAY_ROWS_MAX = 8  # [CHARM] c <= 8: the c-dimension is laid out along an 8-row AIE column
UNPACKED_B_MAX = 16  # [CHARM] unpacked kernels: b <= 16, and b % 4 == 0 when b > 8
UNPACKED_B_MULTIPLE_ABOVE = 8
UNPACKED_B_MULTIPLE = 4
_INFEASIBLE = np.int64(1) << 40  # pushes placements that break a RAM budget behind all others


def _ceil_div(num, den) -> np.ndarray:
    """Integer ``ceil(num / den)`` for non-negative integer arrays."""
    return -(-np.asarray(num, dtype=np.int64) // np.asarray(den, dtype=np.int64))


# -- timing -------------------------------------------------------------------------------
def kernel_cycles(kernel: CharmKernel) -> int:
    """CHARM's single-AIE ``COMPUTE_CYCLE`` for one H1 x W1 x W2 kernel call.

    ``(PI*PK*PJ/mac + stall) * (H1/PI)*(W1/PK)*(W2/PJ) + tail`` with CHARM's integer
    divisions; ``tail`` is the accumulator stall ("Acc_stall").  FP32: 4392, INT8: 2600.
    """
    per_step = (
        kernel.pi * kernel.pk * kernel.pj // kernel.macs_per_cycle + kernel.kernel_stall_cycles
    )
    steps = (kernel.h1 // kernel.pi) * (kernel.w1 // kernel.pk) * (kernel.w2 // kernel.pj)
    return per_step * steps + kernel.kernel_tail_cycles


def resolve_packing(kernel: CharmKernel, pack_in, pack_out) -> tuple[np.ndarray, np.ndarray]:
    """Replace pack factors of 0 by the data type's packed defaults (see module docstring)."""
    pack_in, pack_out = np.asarray(pack_in, dtype=np.int64), np.asarray(pack_out, dtype=np.int64)
    return np.where(pack_in == 0, kernel.pack_in, pack_in), np.where(
        pack_out == 0, kernel.pack_out, pack_out
    )


def tile_cycles(platform: Platform, dtype: str, x, y, z, pack_in, pack_out) -> np.ndarray:
    """``AIE_CYCLE``: one PL tile of x*y*z kernel calls on the array, with fill and drain.

    Each call is bound by compute or by moving its LHS/RHS window over a 32-bit stream;
    the packet-switched fill (LHS) and drain (OUT) add ``window * PACK`` [CHARM §4.3].
    """
    kernel, size = platform.dtype(dtype).charm, platform.dtype(dtype).bytes
    stream = platform.charm.aie_stream_bytes_per_cycle
    lhs_window = kernel.h1 * kernel.w1 * size // stream
    rhs_window = kernel.w1 * kernel.w2 * size // stream
    out_window = kernel.h1 * kernel.w2 * size // stream
    call = max(lhs_window, rhs_window, kernel_cycles(kernel))
    return (
        call * np.asarray(x) * y * z
        + lhs_window * np.asarray(pack_in)
        + out_window * np.asarray(pack_out)
    )


def _ddr_cycles(nbytes: np.ndarray, bytes_per_cycle, ddr_banks, clock_ratio: float) -> np.ndarray:
    """Cycles to move ``nbytes`` at a profiled rate scaled by the DDR share and PL clock.

    CHARM: ``ceil(bytes / ((rate * DDR_BANK) * 230/250))``, same operation order.
    """
    return np.ceil(nbytes / ((bytes_per_cycle * ddr_banks) * clock_ratio)).astype(np.int64)


def layer_cycles(
    workload: Workload,
    platform: Platform,
    dtype: str,
    a,
    b,
    c,
    x,
    y,
    z,
    pack_in,
    pack_out,
    ddr_share=1.0,
) -> np.ndarray:
    """``(n, n_nodes)`` cycles of every node (its count included, one block) [CHARM §4.3-4.6].

    Args:
        a, b, c, x, y, z, pack_in, pack_out: ``(n, n_nodes)`` parameters of the accelerator
            each node runs on (pack 0 = default).
        ddr_share: fraction of ``platform.charm.ddr_banks`` the accelerator gets
            (broadcastable to ``(n, n_nodes)``; ``evaluate_charm`` passes 1/K).

    A node is a grid of X*Y*Z PL tiles (padded) run as a double-buffered pipeline: the first
    tile's loads (two streams at once), then steady-state stages bound by the slowest of
    AIE compute and the three concurrent DDR streams, then the last store (one stream).
    When K is split (Y > 1) only the X*Z tile changes that also store a result pay the
    three-stream stage; the others pay the two-stream load.
    """
    kernel, size = platform.dtype(dtype).charm, platform.dtype(dtype).bytes
    a, b, c, x, y, z = (np.asarray(v, dtype=np.int64) for v in (a, b, c, x, y, z))
    pack_in, pack_out = resolve_packing(kernel, pack_in, pack_out)
    shapes = workload.shape_arrays()
    m, k, n, count = shapes["m"], shapes["k"], shapes["n"], shapes["repeat"]

    x_tiles = _ceil_div(m, x * a * kernel.h1)
    y_tiles = _ceil_div(k, y * b * kernel.w1)
    z_tiles = _ceil_div(n, z * c * kernel.w2)
    tiles = x_tiles * y_tiles * z_tiles

    charm = platform.charm
    banks = charm.ddr_banks * np.asarray(ddr_share, dtype=float)
    ratio = platform.pl.clock_hz / platform.pl.reference_clock_hz
    lhs_bytes = a * b * kernel.h1 * kernel.w1 * size * x * y
    rhs_bytes = b * c * kernel.w1 * kernel.w2 * size * y * z
    out_bytes = a * c * kernel.h1 * kernel.w2 * size * x * z
    first_load = np.maximum(
        _ddr_cycles(lhs_bytes, charm.ddr_bytes_per_cycle_two, banks, ratio),
        _ddr_cycles(rhs_bytes, charm.ddr_bytes_per_cycle_two, banks, ratio),
    )
    last_store = _ddr_cycles(out_bytes, charm.ddr_bytes_per_cycle_out, banks, ratio)
    three = charm.ddr_bytes_per_cycle_three
    aie = tile_cycles(platform, dtype, x, y, z, pack_in, pack_out)
    steady = np.maximum.reduce(
        [
            _ddr_cycles(lhs_bytes, three, banks, ratio),
            _ddr_cycles(rhs_bytes, three, banks, ratio),
            _ddr_cycles(out_bytes, three, banks, ratio),
            aie,
        ]
    )
    load_or_compute = np.maximum(first_load, aie)

    single = first_load + aie + last_store
    k_whole = (
        first_load
        + load_or_compute
        + np.maximum(aie, last_store)
        + steady * (tiles - 2)
        + last_store
    )
    stores = x_tiles * z_tiles
    k_split = (
        first_load + load_or_compute * (tiles - stores) + steady * (stores - 1) + aie + last_store
    )
    cycles = np.where(tiles == 1, single, np.where(y_tiles == 1, k_whole, k_split))
    return cycles * count


# -- resources ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CharmResources:
    """Per-accelerator resources, arrays of the parameters' broadcast shape.

    ``buffer_placement`` is CHARM's BUFF_SEL index ``4*L + 2*R + O`` (bit set = URAM).
    """

    aie: np.ndarray
    plio_in: np.ndarray
    plio_out: np.ndarray
    columns: np.ndarray
    bram: np.ndarray
    uram: np.ndarray
    a_bro: np.ndarray
    c_bro: np.ndarray
    height: np.ndarray
    buffer_placement: np.ndarray
    shape_excess: np.ndarray


def _largest_divisor_at_most(value: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Largest divisor of ``value`` that is ``<= cap`` (CHARM's ``find_factor``)."""
    result = np.ones_like(value)
    for d in range(2, int(np.max(np.minimum(cap, value), initial=1)) + 1):
        result = np.where((d <= cap) & (value % d == 0), d, result)
    return result


def broadcast_factors(a, b, c, packed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A_BRO, C_BRO, height)`` of CHARM's broadcast tuning (``CDSE/broadcast_tuning.py``).

    Packed kernels: A_BRO = c/2, C_BRO = 2 if a is even, 3 if a % 3 == 0, else 1, and
    the array is laid out min(c, 8) rows high.  Unpacked kernels: A_BRO = c; C_BRO is the
    largest divisor of a under a cap that shrinks as the cascade b grows (``broadC_factor``),
    and the height is c (c > 4), 8 (c = 1, 2, 4) or 6 (c = 3).
    """
    a, b, c = (np.asarray(v, dtype=np.int64) for v in (a, b, c))
    packed = np.asarray(packed, dtype=bool)
    # caps for b > 12, b > 5, b > 2; b <= 2 broadcasts the whole of a
    base = np.select([c > 4, c > 2, c == 2], [1, 2, 4], default=8)
    cap = np.select([b > 12, b > 5, b > 2], [base, 2 * base, 4 * base], default=a)
    unpacked_c_bro = _largest_divisor_at_most(a, cap)
    unpacked_height = np.select([c > 4, c == 3], [c, 6], default=8)

    packed_c_bro = np.select([a % 2 == 0, a % 3 == 0], [2, 3], default=1)
    a_bro = np.where(packed, np.maximum(c // 2, 1), c)
    c_bro = np.where(packed, packed_c_bro, unpacked_c_bro)
    height = np.where(packed, np.minimum(c, ARRAY_ROWS_MAX), unpacked_height)
    return a_bro, c_bro, height


def _buffer_banks(lanes, partition, width_bits, words, ram_width_bits, ram_depth) -> np.ndarray:
    """RAM blocks of one buffer copy: per lane and partition, enough blocks for width and depth."""
    return (
        lanes
        * partition
        * _ceil_div(width_bits, ram_width_bits)
        * _ceil_div(words, partition * ram_depth)
    )


def buffer_rams(platform: Platform, dtype: str, a, b, c, x, y, z, pack_in, pack_out):
    """``(bram, uram, placement)`` of the double-buffered LHS/RHS/OUT PL buffers.

    CHARM's ``buff_count_0`` with T2P RAMs: each PLIO lane (PACK AIEs share one) holds its
    part of the tile in ``partition`` banks of words as wide as the PLIO.  Of the 8 ways to
    put L, R, O in BRAM or URAM, take the cheapest (BRAM + 8 URAM) that fits the budgets,
    or the cheapest overall if none fits (the violation then shows it).
    """
    kernel, size, charm = platform.dtype(dtype).charm, platform.dtype(dtype).bytes, platform.charm
    a, b, c, x, y, z, pack_in, pack_out = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.int64) for v in (a, b, c, x, y, z, pack_in, pack_out))
    )
    in_lanes = _ceil_div(b, pack_in)
    operands = (  # lanes, partition, PLIO bits, words per lane
        (
            a * in_lanes,
            kernel.partition_lhs,
            kernel.plio_bits_lhs,
            x * y * (kernel.h1 * kernel.w1 * size * 8 // kernel.plio_bits_lhs) * pack_in,
        ),
        (
            c * in_lanes,
            kernel.partition_rhs,
            kernel.plio_bits_rhs,
            y * z * (kernel.w1 * kernel.w2 * size * 8 // kernel.plio_bits_rhs) * pack_in,
        ),
        (
            a * _ceil_div(c, pack_out),
            kernel.partition_out,
            kernel.plio_bits_out,
            x * z * (kernel.h1 * kernel.w2 * size * 8 // kernel.plio_bits_out) * pack_out,
        ),
    )
    in_bram = [
        charm.buffer_copies * _buffer_banks(*op, charm.bram_width_bits, charm.bram_depth)
        for op in operands
    ]
    in_uram = [
        charm.buffer_copies * _buffer_banks(*op, charm.uram_width_bits, charm.uram_depth)
        for op in operands
    ]
    options_bram, options_uram = [], []
    for index in range(8):  # bits (L, R, O), 1 = URAM, as CHARM's BUFF_SEL
        to_uram = [(index >> shift) & 1 for shift in (2, 1, 0)]
        options_bram.append(sum(br for br, u in zip(in_bram, to_uram) if not u))
        options_uram.append(sum(ur for ur, u in zip(in_uram, to_uram) if u))
    bram = np.stack(np.broadcast_arrays(*options_bram), axis=-1)
    uram = np.stack(np.broadcast_arrays(*options_uram), axis=-1)
    fits = (bram <= charm.bram) & (uram <= charm.uram)
    score = bram + charm.uram_weight * uram + np.where(fits, 0, _INFEASIBLE)
    placement = np.argmin(score, axis=-1)  # first of equals, as numpy's argmin in CHARM
    pick = placement[..., None]
    return (
        np.take_along_axis(bram, pick, -1)[..., 0],
        np.take_along_axis(uram, pick, -1)[..., 0],
        placement,
    )


def resources(
    platform: Platform, dtype: str, a, b, c, x, y, z, pack_in, pack_out
) -> CharmResources:
    """AIE, PLIO, columns, BRAM/URAM and array-shape excess of accelerators [CHARM §4.7].

    PLIO in = a*(b/PACK_IN)*(c/A_BRO) + c*(b/PACK_IN)*(a/C_BRO), out = a*(c/PACK_OUT), with
    ceilings (CHARM floors, but only accepts shapes where they divide).  Columns: the a*c
    AIEs fill columns ``height`` high, each group b columns wide.  ``shape_excess`` is 0 for
    shapes CHARM accepts, else how far off: c <= 8; unpacked b <= 16 and b % 4 == 0 above 8;
    packed b % PACK_IN == 0 and c % PACK_OUT == 0 (packet merging needs whole groups).
    """
    kernel = platform.dtype(dtype).charm
    a, b, c = (np.asarray(v, dtype=np.int64) for v in (a, b, c))
    pack_in, pack_out = resolve_packing(kernel, pack_in, pack_out)
    packed = (pack_in > 1) | (pack_out > 1)
    a_bro, c_bro, height = broadcast_factors(a, b, c, packed)
    in_lanes = _ceil_div(b, pack_in)
    plio_in = a * in_lanes * _ceil_div(c, a_bro) + c * in_lanes * _ceil_div(a, c_bro)
    plio_out = a * _ceil_div(c, pack_out)
    columns = _ceil_div(a * c, height) * b
    bram, uram, placement = buffer_rams(platform, dtype, a, b, c, x, y, z, pack_in, pack_out)

    unpacked_b = np.maximum(b - UNPACKED_B_MAX, 0) + (
        (b > UNPACKED_B_MULTIPLE_ABOVE) & (b % UNPACKED_B_MULTIPLE != 0)
    )
    packed_groups = (b % pack_in != 0).astype(np.int64) + (c % pack_out != 0)
    shape_excess = np.maximum(c - ARRAY_ROWS_MAX, 0) + np.where(packed, packed_groups, unpacked_b)
    return CharmResources(
        a * b * c,
        plio_in,
        plio_out,
        columns,
        bram,
        uram,
        a_bro,
        c_bro,
        height,
        placement,
        shape_excess,
    )


# -- evaluation ---------------------------------------------------------------------------
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
    cycles = layer_cycles(workload, platform, dtype_name, **on_node, ddr_share=1.0 / n_acc[:, None])
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
