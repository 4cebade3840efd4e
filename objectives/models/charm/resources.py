"""The resource half of the ``charm`` cost model: broadcast factors, PL buffer RAMs, PLIO.

The judgement calls on pack factors are documented in :mod:`.model`'s docstring.  Equations
from CHARM (FPGA'23, DAC'23), ``CDSE/broadcast_tuning.py`` and ``CDAC/cdse.py``.  Every
function works on numpy arrays of any (broadcastable) shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ssropt.objectives.platforms import Platform
    from ssropt.objectives.platforms.versal import CharmKernel

ARRAY_ROWS_MAX = 8  # [CHARM] c <= 8: the c-dimension is laid out along an 8-row AIE column
UNPACKED_B_MAX = 16  # [CHARM] unpacked kernels: b <= 16, and b % 4 == 0 when b > 8
UNPACKED_B_MULTIPLE_ABOVE = 8
UNPACKED_B_MULTIPLE = 4
_INFEASIBLE = np.int64(1) << 40  # pushes placements that break a RAM budget behind all others


def _ceil_div(num, den) -> np.ndarray:
    """Integer ``ceil(num / den)`` for non-negative integer arrays."""
    return -(-np.asarray(num, dtype=np.int64) // np.asarray(den, dtype=np.int64))


def resolve_packing(kernel: CharmKernel, pack_in, pack_out) -> tuple[np.ndarray, np.ndarray]:
    """Replace pack factors of 0 by the data type's packed defaults (see ``charm``'s docstring)."""
    pack_in, pack_out = np.asarray(pack_in, dtype=np.int64), np.asarray(pack_out, dtype=np.int64)
    return np.where(pack_in == 0, kernel.pack_in, pack_in), np.where(
        pack_out == 0, kernel.pack_out, pack_out
    )


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
