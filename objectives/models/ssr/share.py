"""How the SSR configurator splits the chip among accelerators (spec 5, ``cdac_top``).

Accelerators are processed in order of first use (the canonical labels).  Accelerator
``k`` receives ``left * (rho_c, rho_c, rho_c, rho_m, rho_m)`` of what is left of (AIE,
PLIO in, PLIO out, BRAM, URAM), ``rho_c`` its share of the remaining operations and
``rho_m`` its share of the remaining buffers (LHS + RHS input buffers from the lock-step
buffer simulation).  Compensation: the last accelerator gets everything left; an
attention-only ("Bdot") accelerator gets at least 25 PLIO in and 20 PLIO out; any other
accelerator gets +15 of every resource whose share is <= 15.  Shares are floored, and (a
guard the public code lacks) never exceed what is left.  Where nothing fits in a share,
ssropt widens its RAM (:func:`widen_share`) before giving up.
"""

from __future__ import annotations

import numpy as np

#: the resources split among accelerators, in this order
SPLIT_RESOURCES = ("aie", "plio_in", "plio_out", "bram", "uram")
#: cdac_top: a non-last accelerator gets this much more of every resource whose share is
#: at most this much
COMPENSATION = 15
#: cdac_top: an attention-only (Bdot) accelerator gets at least this many PLIO in / out
BDOT_PLIO_FLOOR = (25, 20)
#: times an accelerator's RAM share is doubled when nothing fits in it (see widen_share)
WIDEN_TRIES = 3


def ssr_share(left, ops_ratio: float, mem_ratio: float, *, last: bool, bdot: bool) -> np.ndarray:
    """The budget of one accelerator (spec 5): ``(aie, plio_in, plio_out, bram, uram)``.

    ``left`` is what is left of the chip's budget, ``ops_ratio`` the accelerator's share
    of the remaining operations, ``mem_ratio`` its share of the remaining buffers.

    >>> ssr_share([364, 156, 117, 867, 420], 0.04, 0.5, last=False, bdot=False).tolist()
    [29, 21, 19, 433, 210]
    >>> ssr_share([100, 10, 10, 50, 50], 0.2, 0.2, last=False, bdot=True).tolist()
    [20, 10, 10, 10, 10]
    """
    left = np.asarray(left, dtype=float)
    if last:
        return np.floor(np.maximum(left, 0)).astype(np.int64)
    share = left * np.array([ops_ratio] * 3 + [mem_ratio] * 2)
    if bdot:
        share[1] = max(share[1], BDOT_PLIO_FLOOR[0])
        share[2] = max(share[2], BDOT_PLIO_FLOOR[1])
    else:
        share = np.where(share <= COMPENSATION, share + COMPENSATION, share)
    return np.floor(np.clip(share, 0, np.maximum(left, 0))).astype(np.int64)


def widen_share(share: np.ndarray, left: np.ndarray) -> np.ndarray:
    """``share`` with its RAM (BRAM, URAM) doubled, at most to what is ``left``.

    Our departure from SSR, which gives up on an assignment as soon as one accelerator
    fits nothing in its share: an accelerator whose buffers outgrow its share (large
    batches fill many images' activations) may take more of the RAM left, before the
    accelerators after it are split what remains.
    """
    wider = share.copy()
    for name in ("bram", "uram"):
        i = SPLIT_RESOURCES.index(name)
        wider[i] = min(int(left[i]), max(2 * int(share[i]), 1))
    return np.maximum(wider, share)


def share_ratio(part: float, total: float, remaining: int) -> float:
    """``part / total``, or an equal split of ``remaining`` accelerators when total is 0."""
    return part / total if total > 0 else 1.0 / max(remaining, 1)
