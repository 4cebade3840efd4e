"""The work of one batch of ``charm`` designs, for the power model (:mod:`ssropt.objectives.energy`).

A CHARM accelerator streams every operand from DDR through PL buffers.  Per node (one
instance; times its count, copies and the batch), with ``X_T, Y_T, Z_T`` PL tiles of
``(x a H1) x (y b W1) x (z c W2)`` [CHARM 4.4-4.6] and ``tiles = X_T Y_T Z_T``:

* DDR: loads ``tiles * (L + R)`` with ``L = a b H1 W1 x y DT``, ``R = b c W1 W2 y z DT``;
  stores ``X_T Z_T * O`` with ``O = a c H1 W2 x z DT`` (K is accumulated on the PL).
* MACs executed, padding included: ``tiles * (x a H1)(y b W1)(z c W2)``.
* AIE data memory: core loads ``MACs * DT (1/PI + 1/PJ)`` (the kernel's ``PI x PJ`` output
  block) + DMA window writes ``tiles * x y z * a b c (H1 W1 + W1 W2) DT`` + the output
  windows ``tiles * O``.
* PLIO: in ``tiles * x y z * (a b ceil(c / A_BRO) H1 W1 + c b ceil(a / C_BRO) W1 W2) DT``
  (each broadcast stream carries its window once; packing merges ports, not bytes), out
  ``tiles * O``.
* PL buffers, in the RAM CHARM's ``BUFF_SEL`` placed each in: writes = DDR loads + PLIO
  out; reads = PLIO in + DDR stores + the partial sums re-read when K is split
  (``(tiles - X_T Z_T) * O``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ssropt.objectives.energy import Activity, sum_columns
from ssropt.objectives.models.charm.resources import _ceil_div, resources

if TYPE_CHECKING:
    from ssropt.objectives.design import DesignBatch
    from ssropt.objectives.platforms import Platform
    from ssropt.objectives.workloads.graph import Workload


def charm_activity(
    workload: Workload, platform: Platform, dtype: str, designs: DesignBatch, params: dict[str, np.ndarray]
) -> Activity:
    """The work of one batch of each design (see the module docstring).

    Args:
        params: ``name -> (n, max_accelerators)`` the accelerators' parameters, packs
            resolved, unbuilt slots 1 (``_accelerator_params``).
    """
    kernel = platform.dtype(dtype).charm
    dt = platform.dtype(dtype).bytes
    assign = designs.assignment.astype(np.int64)
    built = np.arange(designs.max_accelerators)[None, :] < designs.n_accelerators[:, None]
    used = resources(platform, dtype, **params)

    def node(values):
        return np.take_along_axis(np.asarray(values), assign, axis=1)

    a, b, c, x, y, z = (node(params[k]) for k in ("a", "b", "c", "x", "y", "z"))
    a_bro, c_bro, placement = node(used.a_bro), node(used.c_bro), node(used.buffer_placement)
    shapes = workload.shape_arrays()
    count = shapes["repeat"] * shapes["copies"]
    x_tiles = _ceil_div(shapes["m"], x * a * kernel.h1)
    y_tiles = _ceil_div(shapes["k"], y * b * kernel.w1)
    z_tiles = _ceil_div(shapes["n"], z * c * kernel.w2)
    tiles = count * x_tiles * y_tiles * z_tiles  # PL tiles of one image
    stores = count * x_tiles * z_tiles
    lhs = a * b * kernel.h1 * kernel.w1 * x * y * dt
    rhs = b * c * kernel.w1 * kernel.w2 * y * z * dt
    out = a * c * kernel.h1 * kernel.w2 * x * z * dt
    ddr_load_lhs, ddr_load_rhs, ddr_store = tiles * lhs, tiles * rhs, stores * out

    macs = tiles * (x * a * kernel.h1) * (y * b * kernel.w1) * (z * c * kernel.w2)
    calls = tiles * x * y * z
    core = macs * dt * (1.0 / kernel.pi + 1.0 / kernel.pj)
    dma = calls * a * b * c * (kernel.h1 * kernel.w1 + kernel.w1 * kernel.w2) * dt + tiles * out
    plio_lhs = calls * a * b * _ceil_div(c, a_bro) * kernel.h1 * kernel.w1 * dt
    plio_rhs = calls * c * b * _ceil_div(a, c_bro) * kernel.w1 * kernel.w2 * dt
    plio_out = tiles * out
    partial_sums = (tiles - stores) * out
    # BUFF_SEL bits (L, R, O), 1 = URAM
    in_uram = [(placement >> shift) & 1 for shift in (2, 1, 0)]
    buffer_bytes = (
        (ddr_load_lhs + plio_lhs, in_uram[0]),
        (ddr_load_rhs + plio_rhs, in_uram[1]),
        (plio_out + ddr_store + partial_sums, in_uram[2]),
    )
    uram = sum_columns(sum(nbytes * side for nbytes, side in buffer_bytes))
    bram = sum_columns(sum(nbytes * (1 - side) for nbytes, side in buffer_bytes))
    batch = designs.batch.astype(float)
    return Activity(
        aie=sum_columns(np.where(built, used.aie, 0)),
        macs=batch * sum_columns(macs),
        local_memory_bytes=batch * sum_columns(core + dma),
        bram_bytes=batch * bram,
        uram_bytes=batch * uram,
        plio_bytes=batch * sum_columns(plio_lhs + plio_rhs + plio_out),
        ddr_bytes=batch * sum_columns(ddr_load_lhs + ddr_load_rhs + ddr_store),
    )
