"""How a lock-step configurator splits the chip among accelerators (SSR spec 5, ``cdac_top``).

Accelerators are processed in order of first use (the canonical labels).  Accelerator
``k`` receives, of what is left of each shared resource, its share of the remaining
*work* (operations; compute resources and their ports) or of the remaining *buffers*
(LHS + RHS input buffers from the lock-step buffer simulation; on-chip RAM).
Compensation (SSR's constants): the last accelerator gets everything left; an
attention-only accelerator gets floors on some resources (SSR: 25 PLIO in, 20 out); any
other accelerator gets ``+compensation`` of every resource whose share is at most
``compensation``.  Shares are floored and (a guard the public code lacks) never exceed
what is left.  Where nothing fits in a share, the RAM resources are widened
(:meth:`SplitRule.widen`, doubled at most to what is left) before giving up -- our
departure from SSR, which gives up on the assignment.

Everything here is vectorised over designs: ``(n, R)`` arrays, ``R`` the rule's resources.

Example:
    >>> rule = SplitRule(("aie", "plio_in", "plio_out", "bram", "uram"), by_work=(True,) * 3 + (False,) * 2,
    ...                  compensation=15, attention_floors={"plio_in": 25, "plio_out": 20},
    ...                  widened=("bram", "uram"))
    >>> rule.shares(np.array([[364, 156, 117, 867, 420]]), np.array([1 / 14]), np.array([1 / 6]),
    ...             last=np.array([False]), attention_only=np.array([False])).tolist()
    [[26, 26, 23, 144, 70]]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ssropt.objectives.models.base import SHARE_WEIGHTS, SSR_RULE, TUNED_RULE  # noqa: F401 (re-exported)

#: times an accelerator's RAM share is doubled when nothing fits in it
WIDEN_TRIES = 3


@dataclass(frozen=True)
class SplitRule:
    """Which resources are split among accelerators, and how.

    Attributes:
        resources: the shared budgets, in the order of a share vector.
        by_work: per resource, split by the share of operations (True) or of buffers.
        compensation: a non-last, non-attention-only accelerator gets this much more of
            every resource whose share is at most this much (0: none).
        attention_floors: resource -> the least an attention-only accelerator gets.
        widened: resources doubled (to at most what is left) when nothing fits.
    """

    resources: tuple[str, ...]
    by_work: tuple[bool, ...]
    compensation: float = 0.0
    attention_floors: dict[str, int] = field(default_factory=dict)
    widened: tuple[str, ...] = ()

    def shares(self, left, work_ratio, buffer_ratio, *, last, attention_only) -> np.ndarray:
        """``(n, R)`` budgets of one accelerator of each of n designs.

        ``left`` is ``(n, R)`` what is left of the chip, ``work_ratio`` / ``buffer_ratio``
        ``(n,)`` the accelerator's share of the remaining operations / buffers, ``last``
        and ``attention_only`` ``(n,)`` flags.
        """
        left = np.asarray(left, dtype=float)
        ratio = np.where(np.array(self.by_work)[None, :], np.asarray(work_ratio)[:, None],
                         np.asarray(buffer_ratio)[:, None])
        share = left * ratio
        floored = share.copy()
        for name, floor in self.attention_floors.items():
            i = self.resources.index(name)
            floored[:, i] = np.maximum(share[:, i], floor)
        if self.compensation:
            share = np.where(share <= self.compensation, share + self.compensation, share)
        share = np.where(np.asarray(attention_only)[:, None], floored, share)
        positive = np.maximum(left, 0)
        out = np.floor(np.clip(share, 0, positive)).astype(np.int64)
        return np.where(np.asarray(last)[:, None], np.floor(positive).astype(np.int64), out)

    def widen(self, share: np.ndarray, left: np.ndarray) -> np.ndarray:
        """``(n, R)`` shares with the widened resources doubled, at most to what is left."""
        wider = share.copy()
        for name in self.widened:
            i = self.resources.index(name)
            wider[:, i] = np.minimum(np.asarray(left)[:, i].astype(np.int64), np.maximum(2 * share[:, i], 1))
        return np.maximum(wider, share)


def share_ratio(part, total, remaining):
    """``part / total``, or an equal split among ``remaining`` accelerators where the
    total is 0 (elementwise)."""
    part, total = np.asarray(part, dtype=float), np.asarray(total, dtype=float)
    positive = total > 0
    return np.where(positive, part / np.where(positive, total, 1.0), 1.0 / np.maximum(remaining, 1))
