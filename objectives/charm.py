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
    >>> from ssropt.objectives.platforms import load_platform
    >>> kernel_cycles(load_platform("vck190").dtype("fp32").charm)
    4392
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ssropt.objectives.charm_resources import (
    ARRAY_ROWS_MAX,
    UNPACKED_B_MAX,
    UNPACKED_B_MULTIPLE,
    UNPACKED_B_MULTIPLE_ABOVE,
    CharmResources,
    _ceil_div,
    broadcast_factors,
    buffer_rams,
    resolve_packing,
    resources,
)
from ssropt.errors import SsroptError
from ssropt.objectives.evaluation import Evaluation, budget_violations

if TYPE_CHECKING:
    from ssropt.objectives.design import DesignBatch
    from ssropt.objectives.platforms import Platform
    from ssropt.objectives.platforms.versal import CharmKernel
    from ssropt.objectives.workloads.graph import Workload

__all__ = [  # the resource half lives in charm_resources and is re-exported here
    "ARRAY_ROWS_MAX",
    "UNPACKED_B_MAX",
    "UNPACKED_B_MULTIPLE",
    "UNPACKED_B_MULTIPLE_ABOVE",
    "CharmResources",
    "broadcast_factors",
    "buffer_rams",
    "evaluate_charm",
    "kernel_cycles",
    "layer_cycles",
    "resolve_packing",
    "resources",
    "tile_cycles",
]


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
