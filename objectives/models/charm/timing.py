"""Timing of the ``charm`` model: CHARM's kernel, PL tile and per-node pipeline cycles.

Equations from CHARM (FPGA'23, DAC'23), public code ``arc-research-lab/CHARM``
(``CDAC/cdse.py``).  Every function works on numpy arrays of any (broadcastable) shape,
typically ``(n_designs, n_nodes)``; ``K`` accelerators share the DDR, each getting
``ddr_banks / K`` of the profiled bandwidth, as ``CDAC/cdac.py`` does.

Example:
    >>> from ssropt.objectives.platforms import load_platform
    >>> kernel_cycles(load_platform("vck190").dtype("fp32").charm)
    4392
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ssropt.objectives.models.charm.resources import _ceil_div, resolve_packing

if TYPE_CHECKING:
    from ssropt.objectives.platforms import Platform
    from ssropt.objectives.platforms.versal import CharmKernel
    from ssropt.objectives.workloads.graph import Workload


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


def charm_layer_cycles(
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
