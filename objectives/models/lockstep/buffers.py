"""On-chip buffers of lock-step accelerators: bank partitions and RAM placement.

Shared by the ``ssr`` (Versal AIE) and ``fpga`` templates, which differ in their buffer
geometry but not in these rules of the SSR estimator (spec 6.6 and ``buff_count_0``):

* :func:`partition_factors` -- a consumer's banks split its rows and columns into
  multiples of every producer's array (the lcm rules);
* :func:`buffer_placement` (and :func:`place_buffers`, its totals) -- each buffer in BRAM or
  URAM, cheapest first, then moved to URAM until the design's BRAM fits the chip.

Every function works on arrays over designs and accelerators (``(n, A)``).

Example:
    >>> ceil_div(np.array([7, 8]), 4).tolist()
    [2, 2]
"""

from __future__ import annotations

import math

import numpy as np


def ceil_div(a, b):
    """Integer ceil(a / b) for non-negative integer arrays."""
    return -(-np.asarray(a) // np.asarray(b))


def partition_factors(a, b, c, dup, assign, deps) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Bank partition factors of every accelerator from all its producers (6.6, fixed).

    A consumer's LHS banks must split rows into a multiple of the producer's ``A`` and
    columns into a multiple of its effective ``C' = C * dup_p / dup``; an RHS swaps the
    roles, a transposed RHS swaps them back.  Since lcm is associative the factors are
    ``lcm(own dimension, every producer's) / own dimension``, whatever the order.

    Args:
        a, b, c, dup: ``(n, A)`` accelerator arrays.
        assign: ``(n, J)`` accelerator of every node.
        deps: ``(src node, dst node, role code, ...)`` tuples; role 0 LHS, 1 RHS, 2 RHS^T.

    Returns:
        ``{"aL", "bL", "bR", "cR"} -> (n, A)`` factors, and ``(n,)`` the number of
        dependencies whose producer columns ``C * dup_p`` do not divide by ``dup``.
    """
    n = a.shape[0]
    rows = np.arange(n)
    need = {"aL": a.copy(), "bL": b.copy(), "bR": b.copy(), "cR": c.copy()}
    dup_mismatch = np.zeros(n, dtype=np.int64)
    for src, dst, role, *_ in deps:
        producer, consumer = assign[:, src], assign[:, dst]
        pa, pc, pdup = a[rows, producer], c[rows, producer], dup[rows, producer]
        cdup = dup[rows, consumer]
        dup_mismatch += (pc * pdup) % cdup != 0
        pc_eff = np.maximum(pc * pdup // cdup, 1)
        pairs = {0: (("aL", pa), ("bL", pc_eff)), 1: (("bR", pa), ("cR", pc_eff)),
                 2: (("bR", pc_eff), ("cR", pa))}[role]
        for name, value in pairs:
            need[name][rows, consumer] = np.lcm(need[name][rows, consumer], value)
    own = {"aL": a, "bL": b, "bR": b, "cR": c}
    return {k: need[k] // own[k] for k in need}, dup_mismatch


def place_buffers(bram, uram, weight_bram, weight_uram, bram_budget, uram_weight, first_node):
    """Per-accelerator ``(bram, uram)`` of :func:`buffer_placement` (weight banks included)."""
    out_bram, out_uram, _ = buffer_placement(
        bram, uram, weight_bram, weight_uram, bram_budget, uram_weight, first_node
    )
    return out_bram, out_uram


def buffer_placement(bram, uram, weight_bram, weight_uram, bram_budget, uram_weight, first_node):
    """Cheapest feasible BRAM/URAM placement of every buffer of every accelerator.

    Each buffer (``bram``/``uram``: ``(n, A, sides)`` banks if placed in BRAM or in URAM)
    goes to the cheaper memory by score ``BRAM + uram_weight * URAM``; when the design's
    BRAM total then exceeds ``bram_budget``, buffers move to URAM, those saving the most
    BRAM per URAM first, until BRAM fits (``buff_count_0``'s placement choice made jointly
    over the accelerators that share the chip's budget).  Ties are broken by the first
    node of each accelerator (``first_node``, ``(n, A)``), so relabelling accelerators
    never changes the placement.  Returns per-accelerator ``(bram, uram)`` including the
    weight banks, and ``(n, A, sides)`` which buffers are in URAM.
    """
    n, width, sides = bram.shape
    to_uram = uram_weight * uram < bram
    b_total = np.where(to_uram, 0, bram).sum(axis=(1, 2)) + weight_bram.sum(axis=1)
    saved = np.where(to_uram, 0, bram).reshape(n, -1)
    cost = np.where(to_uram, 0, uram).reshape(n, -1)
    gain = np.where(saved > 0, saved / np.maximum(cost, 1), -1.0)
    row = np.repeat(np.arange(n), width * sides)
    tie = np.repeat(first_node, sides, axis=1).ravel() * sides + np.tile(np.arange(sides), n * width)
    order = np.lexsort((tie, -gain.ravel(), row)).reshape(n, -1) - (np.arange(n) * width * sides)[:, None]
    saved_sorted = np.take_along_axis(saved, order, axis=1)
    excess = (b_total - bram_budget)[:, None]
    cumulative = np.cumsum(saved_sorted, axis=1)
    # move every buffer up to and including the first one that brings BRAM within budget
    move_sorted = (cumulative - saved_sorted < excess) & (saved_sorted > 0)
    move = np.zeros_like(move_sorted)
    np.put_along_axis(move, order, move_sorted, axis=1)
    to_uram = to_uram | move.reshape(n, width, sides)
    out_bram = np.where(to_uram, 0, bram).sum(axis=2) + weight_bram
    out_uram = np.where(to_uram, uram, 0).sum(axis=2) + weight_uram
    return out_bram, out_uram, to_uram


def always_bram(bram_lanes: int, uram_lanes: int, bram_depth: int, uram_depth: int, uram_weight: int) -> bool:
    """Whether the score rule places a buffer of any depth in BRAM (never URAM)."""
    period = math.lcm(bram_depth, uram_depth) // bram_depth
    for k in range(period + 1):
        x = k * bram_depth + 0.5
        if uram_weight * uram_lanes * math.ceil(x / uram_depth) < bram_lanes * math.ceil(x / bram_depth):
            return False
    return True
