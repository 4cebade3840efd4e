"""SSR's configurator for the ``ssr`` cost model (spec sections 5 and 6).

:class:`SsrConfigurator` is the lock-step configurator
(:mod:`ssropt.objectives.models.lockstep.configurator`) with SSR's split of the Versal
chip -- AIEs and PLIO ports by work, BRAM and URAM by buffers, ``+15`` of any share at
most 15, PLIO floors of 25 in and 20 out for attention-only accelerators -- its head
replication pre-pass, and the ``ssr`` model's pricing (:mod:`.search`) over the
candidate grid of the space's value tables (:mod:`.candidates`).  The choices are the
reference implementation's exactly (``tests/objectives/models/ssr/reference_configurator.py``
is the slow oracle the tests compare against).

Example:
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.models import CostModel
    >>> model = CostModel(build_model("deit-t", tokens=192, blocks=1, embed_and_head=False),
    ...                   load_platform("vck190"), "int8")
    >>> configurator = SsrConfigurator(model)
    >>> result = configurator.configure(np.array([0, 0, 0, 1, 1, 2, 2, 2]), batch=1)
    >>> result.feasible, result.params.shape
    (True, (3, 7))
"""

from __future__ import annotations

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.models.lockstep.buffers import ceil_div
from ssropt.objectives.models.lockstep.configurator.driver import LockStepConfigurator
from ssropt.objectives.models.lockstep.configurator.split import SplitRule
from ssropt.objectives.models.ssr.configurator.candidates import Candidates
from ssropt.objectives.models.ssr.configurator.nodesets import NodeSetTable
from ssropt.objectives.models.ssr.configurator.search import SsrSelector

#: the resources split among accelerators, in this order
SPLIT_RESOURCES = ("aie", "plio_in", "plio_out", "bram", "uram")
#: cdac_top: a non-last accelerator gets this much more of every resource whose share is
#: at most this much
COMPENSATION = 15
#: cdac_top: an attention-only (Bdot) accelerator gets at least this many PLIO in / out
BDOT_PLIO_FLOOR = (25, 20)
SSR_SPLIT = SplitRule(
    resources=SPLIT_RESOURCES,
    by_work=(True, True, True, False, False),
    compensation=COMPENSATION,
    attention_floors={"plio_in": BDOT_PLIO_FLOOR[0], "plio_out": BDOT_PLIO_FLOOR[1]},
    widened=("bram", "uram"),
)


def ssr_share(left, ops_ratio: float, mem_ratio: float, *, last: bool, bdot: bool) -> np.ndarray:
    """The budget of one accelerator (spec 5): ``(aie, plio_in, plio_out, bram, uram)``.

    ``left`` is what is left of the chip's budget, ``ops_ratio`` the accelerator's share
    of the remaining operations, ``mem_ratio`` its share of the remaining buffers.

    >>> ssr_share([364, 156, 117, 867, 420], 0.04, 0.5, last=False, bdot=False).tolist()
    [29, 21, 19, 433, 210]
    >>> ssr_share([100, 10, 10, 50, 50], 0.2, 0.2, last=False, bdot=True).tolist()
    [20, 10, 10, 10, 10]
    """
    return SSR_SPLIT.shares(np.asarray(left, dtype=float)[None, :], np.array([ops_ratio]), np.array([mem_ratio]),
                            last=np.array([last]), attention_only=np.array([bdot]))[0]


class SsrConfigurator(LockStepConfigurator):
    """Configures the accelerators of ``ssr`` designs the SSR way (see the module doc).

    Args:
        model: the cost model (``ssr`` on a Versal platform).
        values: allowed values of each parameter (``Space.values``); default the model's
            value tables.
        reconcile: configure again the accelerators whose producers come later.
    """

    rule = SSR_SPLIT

    def __init__(self, model, values: dict[str, np.ndarray] | None = None, reconcile: bool = True) -> None:
        if model.cost_model != "ssr":
            raise SsroptError(f"the SSR configurator needs the 'ssr' cost model, not {model.cost_model!r}")
        platform = model.platform
        if getattr(platform, "family", "versal") != "versal":
            raise SsroptError(
                f"the SSR configurator models Versal AIE arrays; platform {platform.name} is "
                f"of family {platform.family!r}"
            )
        self.model = model
        self.reconcile = bool(reconcile)
        values = {k: np.asarray(v, dtype=np.int64) for k, v in {**model.values(), **(values or {})}.items()}
        self.values = values
        self.cand = Candidates(model, values)
        s = platform.ssr
        self.sets = NodeSetTable(self.cand, s.partition_max, s.bram_depth * s.ram_type_lhs, s.bram_depth * s.ram_type_rhs)
        self.selector = SsrSelector(self.cand, self.sets)
        budget = platform.budget
        self.budget = np.array([getattr(budget, r) for r in SPLIT_RESOURCES], dtype=np.int64)
        self.smallest = np.array([values["a"].min(), values["b"].min(), values["c"].min(), 1,
                                  values["h1"].min(), values["w1"].min(), values["w2"].min()], dtype=np.int64)

    def buffer_words(self, st: dict, rows: np.ndarray, width: int) -> np.ndarray:
        """``(n, U, 4)``: LHS words, RHS words, LHS buffers and RHS buffers of every
        accelerator (the unpartitioned depths ``x*y*LEFT`` and ``y_mha*z_mha*RIGHT``)."""
        p = st["params"][rows, :width]
        a, b, c, h1, w1, w2 = (p[..., i] for i in (0, 1, 2, 4, 5, 6))
        npp = self.cand.npp
        lhs_words = (ceil_div(st["mmax"][rows, :width], a * h1) * ceil_div(st["kmax"][rows, :width], b * w1)
                     * ceil_div(h1 * w1, npp))
        kact = st["kact"][rows, :width]
        rhs_words = np.where(
            kact > 0, ceil_div(kact, b * w1) * ceil_div(st["nact"][rows, :width], c * w2) * ceil_div(w1 * w2, npp), 0
        )
        rhs_buffers = np.where(st["hardened"][rows, :width], 0, 1)
        return np.stack([lhs_words, rhs_words, st["lhs"][rows, :width], rhs_buffers], axis=2)
