"""Per-accelerator equations of the SSR estimator, vectorised over designs.

Each function takes arrays over designs and accelerators (``(n, A)``) or designs and
nodes (``(n, J)``) and returns arrays of the same leading shape.  Section numbers refer
to the SSR estimator specification (``AccelLayer`` ``Esti_SSR_Embed+Block+ClassBlock``):
``cdse_on_chip`` (single-AIE kernel, layer time, local memory, PLIO, placement),
``broadcast_tuning`` (broadcast factors, placement columns, partition alignment) and
``buffer_sel.buff_count_0`` (BRAM/URAM banks).  The partition and placement rules the
``fpga`` template shares live in :mod:`ssropt.objectives.models.lockstep.buffers`.
"""

from __future__ import annotations

import functools

import numpy as np

from ssropt.objectives.models.lockstep.buffers import ceil_div
from ssropt.objectives.platforms import DataType, Platform


def initiation_interval(w1: np.ndarray, kernel) -> np.ndarray:
    """Kernel II as a function of w1 (spec 6.3): the first limit w1 fits under."""
    ii = np.full(np.shape(w1), kernel.ii_default, dtype=np.int64)
    for limit, value in reversed(list(zip(kernel.ii_w1_limits, kernel.ii_values))):
        ii = np.where(w1 <= limit, value, ii)
    return ii


def kernel_cycles(h1, w1, w2, b, platform: Platform, dtype: DataType) -> np.ndarray:
    """T_aie: one single-AIE tile iteration, bound by compute or window transfer (6.3).

    T_comp = prologue + (ceil(PI*w1*PJ/mac) + II) * (ceil(h1/PI)*ceil(w2/PJ) - 1)
             + epilogue + b;  T_aie = max(h1*w1*DT//4, w1*w2*DT//4, T_comp).

    With ``tiles = "native"`` the micro-block is chosen per tile (:func:`micro_blocks`):
    SSR's ``PI x PJ`` where it divides the tile, else the tile granule (8), and blocks
    narrower than ``PI x PJ`` may pay ``narrow_block_stall_per_16`` extra cycles per 16.
    The constants rest on SSR's measured INT8 kernels (16 x 16 micro-blocks, the II table,
    30 + 80 cycles; the 32 x 48 x 32 layer reproduces the board run, spec 6.5) and CHARM's
    INT8 8 x 4 kernel (+4 cycles per 16); micro-blocks of 8 under SSR's II table are an
    extrapolation between the two.  On multiples of 16 both modes give the same cycles.
    """
    k = dtype.ssr
    c = platform.ssr
    if c.tiles == "native":
        pi, pj = micro_blocks(h1, w2, k, c.tile_granule)
    else:
        pi, pj = k.pi, k.pj
    per_block = ceil_div(pi * w1 * pj, k.macs_per_cycle)
    if c.tiles == "native" and c.narrow_block_stall_per_16 > 0:
        narrow = (pi < k.pi) | (pj < k.pj)
        per_block = per_block + np.where(narrow, np.ceil(per_block * c.narrow_block_stall_per_16 / 16), 0).astype(np.int64)
    compute = (
        c.kernel_prologue_cycles
        + (per_block + initiation_interval(w1, k)) * (ceil_div(h1, pi) * ceil_div(w2, pj) - 1)
        + c.kernel_epilogue_cycles
        + b
    )
    dt = dtype.bytes
    return np.maximum(np.maximum(h1 * w1 * dt // 4, w1 * w2 * dt // 4), compute)


def micro_blocks(h1, w2, kernel, granule: int) -> tuple[np.ndarray, np.ndarray]:
    """``(PI, PJ)`` of native tiles: the kernel's ``pi`` (``pj``) where it divides ``h1``
    (``w2``), else the granule."""
    pi = np.where(np.asarray(h1) % kernel.pi == 0, kernel.pi, granule)
    pj = np.where(np.asarray(w2) % kernel.pj == 0, kernel.pj, granule)
    return pi, pj


def ssr_layer_cycles(m, k, n, repeat, a, b, c, dup, h1, w1, w2, platform: Platform, dtype: DataType):
    """AIE cycles of one layer instance, heads included (6.5), before the PL clock scaling.

    cycles = ceil(R/dup) * [launch + rd*T_aie + iter*(rd-1) + cascade*(b+1)
                            + max(h1*w1*DT//4 * PACK_IN, w1*w2*DT//4 * PACK_OUT)],
    rd = ceil(M/(a*h1)) * ceil(K/(b*w1)) * ceil(N/(c*w2)); PACK_IN = PACK_OUT = 1.
    """
    s = platform.ssr
    rd = ceil_div(m, a * h1) * ceil_div(k, b * w1) * ceil_div(n, c * w2)
    t_aie = kernel_cycles(h1, w1, w2, b, platform, dtype)
    dt = dtype.bytes
    fill = np.maximum(h1 * w1 * dt // 4, w1 * w2 * dt // 4)
    one = s.launch_cycles + rd * t_aie + s.iteration_cycles * (rd - 1) + s.cascade_cycles * (b + 1) + fill
    return ceil_div(repeat, dup) * one


def broadcast_factor(a, b, c):
    """``broadC_factor(a, b, c)`` -> (C_BRO, height) (6.2 rule 5), elementwise.

    The broadcast factor is the largest divisor of ``a`` not above a cap that shrinks as
    the cascade ``b`` grows; the cap table and the placement height depend on ``c``.
    """
    caps = np.select(
        [c > 4, c >= 3, c == 2],
        [
            np.select([b > 12, b > 5, b > 2], [1, 3, 4], default=0),
            np.select([b > 12, b > 5, b > 2], [2, 4, 8], default=0),
            np.select([b > 12, b > 5, b > 2], [4, 8, 16], default=0),
        ],
        default=np.select([b > 12, b > 5, b > 2], [8, 16, 32], default=0),
    )
    caps = np.where(caps == 0, a, np.minimum(caps, a))
    factor = np.ones_like(a)
    for d in range(1, int(np.max(a, initial=1)) + 1):  # largest divisor of a <= cap
        factor = np.where((a % d == 0) & (d <= caps), d, factor)
    height = np.select([c > 4, c == 4, c == 3], [c, 8, 6], default=8)
    return factor, height


_TABLE_SIZE = 65


@functools.cache
def _broadcast_table() -> np.ndarray:
    """(A_BRO, C_BRO, columns) of every array up to 64 x 64 x 64, ``(3, 65, 65, 65)``."""
    a, b, c = np.meshgrid(*(np.arange(_TABLE_SIZE),) * 3, indexing="ij")
    return np.stack(_broadcast_and_columns(np.maximum(a, 1), np.maximum(b, 1), np.maximum(c, 1)))


def broadcast_and_columns(a, b, c):
    """(A_BRO, C_BRO, columns) of AIE arrays (6.2 rules 5 and 7), from a cached table."""
    a, b, c = np.asarray(a), np.asarray(b), np.asarray(c)
    if max(a.max(initial=0), b.max(initial=0), c.max(initial=0)) >= _TABLE_SIZE:
        return _broadcast_and_columns(a, b, c)
    table = _broadcast_table()
    flat = (a * _TABLE_SIZE + b) * _TABLE_SIZE + c
    return tuple(np.take(table[i].ravel(), flat) for i in range(3))


def _broadcast_and_columns(a, b, c):
    narrow = c <= 8
    c_bro_n, height_n = broadcast_factor(a, b, c)
    a_bro_w, height_w = broadcast_factor(c, b, a)
    a_bro = np.where(narrow, c, a_bro_w)
    c_bro = np.where(narrow, c_bro_n, a)
    height = np.where(narrow, height_n, height_w)
    area = a * c
    columns = (area // height + (area % height != 0)) * b
    return a_bro, c_bro, columns


def ram_banks(lanes, depth_words, ram_type, platform: Platform):
    """(BRAM36, URAM) banks for ``lanes`` parallel buffers of ``depth_words`` words each.

    A port of ``plio_width_bits`` spans ceil(width / (72 / r)) BRAMs of depth 512*r, or
    ceil(width / 72) URAMs of depth 4096 (``buff_count_0``).  ``depth_words`` may be
    fractional (a buffer split over partition banks); the depth rounds up.
    """
    s = platform.ssr
    width = platform.pl.plio_width_bits
    bram = lanes * -(-width // (s.bram_width_bits // ram_type)) * np.ceil(depth_words / (s.bram_depth * ram_type))
    uram = lanes * -(-width // s.uram_width_bits) * np.ceil(depth_words / s.uram_depth)
    return bram.astype(np.int64), uram.astype(np.int64)
