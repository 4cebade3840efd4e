"""The reference SSR configurator: the one-design-at-a-time implementation the fast
configurator (``ssropt.objectives.models.ssr.configurator``) must match choice for choice.

It configures one assignment at a time, each accelerator an enumeration over the whole
candidate grid (``cdac_top`` -> ``cdse_on_chip``, spec sections 5 and 6), with the rule
documented in ``ssropt.objectives.models.lockstep.configurator``: the split, the Bdot
pre-pass, RAM widening, reconciliation and the selection (least RAM within 8 % of the
fastest).  It is slow (about 20-50 designs per second) and kept only as the tests' oracle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.design import DesignBatch, relabel_by_first_use
from ssropt.objectives.models.lockstep.buffers import ceil_div
from ssropt.objectives.models.ssr.accelerator import (
    broadcast_and_columns,
    ram_banks,
    ssr_layer_cycles,
)
from ssropt.objectives.models.ssr.values import ssr_values
from ssropt.objectives.workloads.graph import Role

if TYPE_CHECKING:
    from ssropt.objectives.models.base import CostModel



# -- the split (spec 5) ------------------------------------------------------------
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


# -- one accelerator (spec 6) ------------------------------------------------------
#: cdse_on_chip: candidates within this factor of the best time compete on RAM
TIME_BAND = 1.08
#: entries of a search cache before it is cleared
CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class AcceleratorChoice:
    """The configuration chosen for one accelerator and what it uses."""

    params: tuple[int, ...]  # a, b, c, dup, h1, w1, w2
    used: tuple[int, ...]  # aie, plio_in, plio_out, bram, uram
    time_ns: float  # sum of the accelerator's layer times over all blocks
    hardened: bool = False  # weights resident in AIE memory


class AcceleratorSearch:
    """The candidate grid of one ``ssr`` model and value tables, and the search over it.

    Args:
        model: the cost model (``ssr`` on a Versal platform).
        values: allowed values of each parameter (a space's value tables); default the
            model's full domains (:func:`~ssropt.objectives.models.ssr.values.ssr_values`).
    """

    def __init__(self, model: CostModel, values: dict[str, np.ndarray] | None = None) -> None:
        platform = model.platform
        self.platform = platform
        self.workload = workload = model.workload
        dtype = platform.dtype(model.dtype)
        self.dtype = dtype
        self.dt = dtype.bytes
        defaults = ssr_values(workload, platform, model.dtype)
        values = {k: np.asarray(v, dtype=np.int64) for k, v in {**defaults, **(values or {})}.items()}
        self.values = values
        shapes = workload.shape_arrays()
        self.m, self.k, self.n = shapes["m"], shapes["k"], shapes["n"]
        self.repeat, self.copies = shapes["repeat"], shapes["copies"]
        self.act = shapes["activation_rhs"]
        self.heads = int(self.repeat.max())
        s, budget = platform.ssr, platform.budget
        self.ns_per_cycle = 1e9 / platform.aie.clock_hz / (platform.pl.clock_hz / platform.pl.reference_clock_hz)

        # -- the (a, b, c) list in SSR's loop order (c, then b, then a), statically pruned
        cc, bb, aa = np.meshgrid(values["c"], values["b"], values["a"], indexing="ij")
        a, b, c = aa.ravel(), bb.ravel(), cc.ravel()
        keep = (
            (a * c <= s.ac_max)
            & ~((a > s.ac_both_max) & (c > s.ac_both_max))
            & (np.maximum(np.maximum(a, b), c) <= s.array_dim_max)
            & ((b <= s.b_multiple_above) | (b % s.b_multiple == 0))
            & (np.minimum(np.minimum(a, b), c) >= 1)
        )
        a, b, c = a[keep], b[keep], c[keep]
        a_bro, c_bro, columns = broadcast_and_columns(a, b, c)
        fits = columns <= budget.columns
        self.a, self.b, self.c = a[fits], b[fits], c[fits]
        self.a_bro, self.c_bro = a_bro[fits], c_bro[fits]
        self.lhs_plio = self.a * self.b * ceil_div(self.c, self.a_bro)
        self.rhs_plio = self.c * self.b * ceil_div(self.a, self.c_bro)
        hh, ww1, ww2 = np.meshgrid(values["h1"], values["w1"], values["w2"], indexing="ij")
        self.h1, self.w1, self.w2 = hh.ravel(), ww1.ravel(), ww2.ravel()
        self.dups = np.array(sorted(d for d in values["dup"].tolist() if d >= 1 and self.heads % d == 0), dtype=np.int64)
        if self.dups.size == 0 or self.dups[0] != 1:
            self.dups = np.concatenate([[1], self.dups]).astype(np.int64)
        self._tables: dict[int, tuple] = {}
        self._search_cache: dict[tuple, AcceleratorChoice | None] = {}

    # -- per-node tables over the candidate grid -------------------------------------------
    def _node_table(self, j: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Node ``j``'s time of all its copies per head group, ns ``(n_abc, n_tile)``;
        its hardened weight bytes ``(n_abc, n_tile)`` and weight words ``(n_abc,)``
        (None for activation x activation nodes)."""
        if j in self._tables:
            return self._tables[j]
        a, b, c = (v[:, None] for v in (self.a, self.b, self.c))
        h1, w1, w2 = (v[None, :] for v in (self.h1, self.w1, self.w2))
        m, k, n, copies = int(self.m[j]), int(self.k[j]), int(self.n[j]), int(self.copies[j])
        cycles = ssr_layer_cycles(m, k, n, 1, a, b, c, 1, h1, w1, w2, self.platform, self.dtype)
        time = cycles * (copies * self.ns_per_cycle)
        if self.act[j]:
            table = (time, None, None)
        else:
            resident = ceil_div(k, b * w1) * w1 * ceil_div(n, c * w2) * w2 * self.dt * copies
            npp = self.platform.pl.plio_width_bits // (8 * self.dt)
            words = ceil_div(ceil_div(k, self.b) * ceil_div(n, self.c), npp) * copies
            table = (time, resident, words)
        self._tables[j] = table
        return table

    # -- one accelerator ---------------------------------------------------------------------
    def search(
        self,
        nodes: tuple[int, ...],
        share: tuple[int, ...],
        dup_max: int = 1,
        c_rule: tuple[str, int] | None = None,
        producers: tuple[tuple[int, int, int], ...] = (),
        self_roles: tuple[int, ...] = (),
        lhs_buffers: int = 1,
        consumers: tuple = (),
    ) -> AcceleratorChoice | None:
        """The best configuration of one accelerator holding ``nodes`` within ``share``.

        Args:
            nodes: the workload nodes on the accelerator.
            share: ``(aie, plio_in, plio_out, bram, uram)`` its budget.
            dup_max: largest head replication allowed (only attention-only accelerators
                may replicate).
            c_rule: ``("dup", d)``: ``c % d == 0``; ``("heads", h)``: ``h % c == 0`` or
                ``c % h == 0``; None: no rule.
            producers: ``(role, A, C * dup)`` of every dependency from an already
                configured accelerator into ``nodes``.
            self_roles: roles of the dependencies between the accelerator's own nodes.
            lhs_buffers: LHS input buffers (DBUFF_L) from the buffer simulation.
            consumers: ``(roles, needs, (a, b, c, dup))`` of every configured accelerator
                this one feeds: the roles of the edges, the consumer's lcm needs
                ``(aL, bL, bR, cR)`` from its other producers, and its array; the
                consumer's partition factors must stay within bounds (SSR checks this
                for the last accelerator's successors, spec 6.2 rule 8).

        Returns:
            The choice, or None when no candidate fits.
        """
        key = (tuple(nodes), tuple(int(x) for x in share), int(dup_max), c_rule,
               tuple(producers), tuple(sorted(set(self_roles))), int(lhs_buffers), tuple(consumers))
        if key in self._search_cache:
            return self._search_cache[key]
        choice = self._search(*key)
        if len(self._search_cache) >= CACHE_LIMIT:
            self._search_cache.clear()
        self._search_cache[key] = choice
        return choice

    def _search(self, nodes, share, dup_max, c_rule, producers, self_roles, lhs_buffers, consumers):
        s, p, dt = self.platform.ssr, self.platform, self.dt
        nodes = np.array(nodes, dtype=np.int64)
        aie_cap, in_cap, out_cap, bram_cap, uram_cap = share
        act = self.act[nodes]
        weights_only = not act.any()
        dups = self.dups[self.dups <= (dup_max if act.all() else 1)]

        # -- level 1: arrays (a, b, c, dup), SSR order: dup varies fastest
        n_abc, n_dup = len(self.a), len(dups)
        ia = np.repeat(np.arange(n_abc), n_dup)
        d = np.tile(dups, n_abc)
        a, b, c = self.a[ia], self.b[ia], self.c[ia]
        ok = (a * b * c * d <= aie_cap) & (a * c * d <= out_cap) & (self.lhs_plio[ia] * d <= in_cap)
        if c_rule is not None:
            kind, value = c_rule
            ok &= (c % value == 0) if kind == "dup" else ((value % c == 0) | (c % value == 0))
        need = {"aL": a.copy(), "bL": b.copy(), "bR": b.copy(), "cR": c.copy()}
        for role in self_roles:  # producer == consumer: A = a, C' = c
            pairs = {0: (("aL", a), ("bL", c)), 1: (("bR", a), ("cR", c)), 2: (("bR", c), ("cR", a))}[role]
            for name, value in pairs:
                need[name] = np.lcm(need[name], value)
        for role, pa, pcd in producers:
            ok &= pcd % d == 0
            pc_eff = np.maximum(pcd // d, 1)
            pairs = {0: (("aL", pa), ("bL", pc_eff)), 1: (("bR", pa), ("cR", pc_eff)),
                     2: (("bR", pc_eff), ("cR", pa))}[role]
            for name, value in pairs:
                need[name] = np.lcm(need[name], value)
        own = {"aL": a, "bL": b, "bR": b, "cR": c}
        part = {name: need[name] // own[name] for name in need}
        ok &= np.maximum.reduce(list(part.values())) <= s.partition_max
        ok &= part["aL"] * part["bL"] * part["bR"] * part["cR"] <= s.partition_product_max
        extra_bram = np.zeros_like(a)
        extra_uram = np.zeros_like(a)
        for roles, needs, (ya, yb, yc, ydup), buffers in consumers:  # candidate as producer
            ok &= (c * d) % ydup == 0
            c_eff = np.maximum(c * d // ydup, 1)
            theirs = dict(zip(("aL", "bL", "bR", "cR"), needs))
            for role in roles:
                pairs = {0: (("aL", a), ("bL", c_eff)), 1: (("bR", a), ("cR", c_eff)),
                         2: (("bR", c_eff), ("cR", a))}[role]
                for name, value in pairs:
                    theirs[name] = np.lcm(theirs[name], value)
            factors = np.broadcast_arrays(
                theirs["aL"] // ya, theirs["bL"] // yb, theirs["bR"] // yb, theirs["cR"] // yc, a
            )[:4]
            ok &= np.maximum.reduce(factors) <= s.partition_max
            ok &= factors[0] * factors[1] * factors[2] * factors[3] <= s.partition_product_max
            # the consumer's banks grow with its factors: its extra RAM is charged here
            old = [n // o for n, o in zip(needs, (ya, yb, yb, yc))]
            new_bram, new_uram = self._buffer_banks(ya, yb, yc, factors, *buffers)
            old_bram, old_uram = self._buffer_banks(ya, yb, yc, old, *buffers)
            extra_bram = extra_bram + (new_bram - old_bram)
            extra_uram = extra_uram + (new_uram - old_uram)
        first = np.flatnonzero(ok)
        if first.size == 0:
            return None
        ia, d, a, b, c = ia[first], d[first], a[first], b[first], c[first]
        extra_bram, extra_uram = extra_bram[first], extra_uram[first]
        part = {name: v[first] for name, v in part.items()}

        # -- level 2: (array, tile) grid, cheap masks first
        h1, w1, w2 = self.h1[None, :], self.w1[None, :], self.w2[None, :]
        time = np.zeros((len(ia), len(self.h1)))
        resident = 0
        words = 0
        for j in nodes.tolist():
            t, res, wds = self._node_table(j)
            time += t[ia] * ceil_div(int(self.repeat[j]), d)[:, None]
            if res is not None:
                resident = resident + res[ia]
                words = words + wds[ia]
        lhs_bytes, rhs_bytes = h1 * w1 * dt, w1 * w2 * dt
        if weights_only:
            hardened = 2 * lhs_bytes + resident <= p.aie.local_memory_bytes
        else:
            hardened = np.zeros(time.shape, dtype=bool)
        memory_ok = hardened | (2 * (lhs_bytes + rhs_bytes) <= p.aie.local_memory_bytes)
        plio_in = (self.lhs_plio[ia][:, None] + np.where(hardened, 0, self.rhs_plio[ia][:, None])) * d[:, None]
        ok = memory_ok & (plio_in <= in_cap)
        row, col = np.nonzero(ok)
        if row.size == 0:
            return None
        time, hardened, plio_in = time[row, col], hardened[row, col], plio_in[row, col]
        a, b, c, d = a[row], b[row], c[row], d[row]
        h1, w1, w2 = self.h1[col], self.w1[col], self.w2[col]
        f = {name: v[row] for name, v in part.items()}

        # -- partition alignment of every layer (ext_part_check)
        ok = np.ones(row.size, dtype=bool)
        for j in nodes.tolist():
            nx, ny = ceil_div(int(self.m[j]), a * h1), ceil_div(int(self.k[j]), b * w1)
            nz = ceil_div(int(self.n[j]), c * w2)
            ok &= (nx % f["aL"] == 0) | ((h1 // 8) % f["aL"] == 0)
            ok &= (ny % f["bL"] == 0) | ((w1 // 2) % f["bL"] == 0)
            ok &= (ny % f["bR"] == 0) | ((w1 // 8) % f["bR"] == 0)
            ok &= (nz % f["cR"] == 0) | ((w2 // 2) % f["cR"] == 0)

        # -- BRAM / URAM (buff_count_0): LHS and RHS buffers in BRAM or URAM, weights fixed
        npp = p.pl.plio_width_bits // (8 * dt)
        x = ceil_div(int(self.m[nodes].max()), a * h1)
        y = ceil_div(int(self.k[nodes].max()), b * w1)
        pl_ = f["aL"] * f["bL"]
        l_bram, l_uram = ram_banks(a * b * pl_, x * y * ceil_div(h1 * w1, npp) / pl_, s.ram_type_lhs, p)
        l_bram, l_uram = l_bram * lhs_buffers, l_uram * lhs_buffers
        if act.any():
            y_mha = ceil_div(int(self.k[nodes[act]].max()), b * w1)
            z_mha = ceil_div(int(self.n[nodes[act]].max()), c * w2)
            pr_ = f["bR"] * f["cR"]
            r_bram, r_uram = ram_banks(c * b * pr_, y_mha * z_mha * ceil_div(w1 * w2, npp) / pr_, s.ram_type_rhs, p)
            r_bram, r_uram = np.where(hardened, 0, r_bram), np.where(hardened, 0, r_uram)
        else:
            r_bram = r_uram = np.zeros_like(l_bram)
        weight_words = np.where(hardened, 0, words[row]) if np.ndim(words) else np.zeros_like(a)
        lanes = c * b * -(-p.pl.plio_width_bits // (s.bram_width_bits // s.ram_type_rhs))
        w_bram = lanes * ceil_div(weight_words % s.uram_depth, s.bram_depth * s.ram_type_rhs)
        w_uram = c * b * -(-p.pl.plio_width_bits // s.uram_width_bits) * (weight_words // s.uram_depth)
        score = np.full(a.shape, np.iinfo(np.int64).max)
        bram = np.zeros_like(a)
        uram = np.zeros_like(a)
        # each buffer goes to the memory with the lower score BRAM + 8 URAM: that is
        # SSR's cheapest placement and the one the model (``place_buffers``) evaluates;
        # the model moves buffers to URAM only when the whole chip's BRAM overflows,
        # by a global rule a per-accelerator choice cannot anticipate, so a placement
        # that fits the share only by such a move is not counted
        l_uram_side = s.uram_weight * l_uram < l_bram
        r_uram_side = s.uram_weight * r_uram < r_bram
        bram = w_bram + np.where(l_uram_side, 0, l_bram) + np.where(r_uram_side, 0, r_bram)
        uram = w_uram + np.where(l_uram_side, l_uram, 0) + np.where(r_uram_side, r_uram, 0)
        bram = bram + extra_bram[row]
        uram = uram + extra_uram[row]
        score = bram + s.uram_weight * uram
        ok &= (bram <= bram_cap) & (uram <= uram_cap)
        if not ok.any():
            return None

        # -- selection (6.7): least RAM within TIME_BAND of the best time
        best = time[ok].min()
        band = np.flatnonzero(ok & (time <= math.floor(TIME_BAND * best)))
        if band.size == 0:  # best itself is below one ns of the floor: keep the best
            band = np.flatnonzero(ok & (time <= best))
        pick = band[np.lexsort((band, time[band], score[band]))[0]]
        params = tuple(int(v[pick]) for v in (a, b, c, d, h1, w1, w2))
        used = (
            int(a[pick] * b[pick] * c[pick] * d[pick]),
            int(plio_in[pick]),
            int(a[pick] * c[pick] * d[pick]),
            int(bram[pick]),
            int(uram[pick]),
        )
        return AcceleratorChoice(params, used, float(time[pick]), bool(hardened[pick]))

    def _buffer_banks(self, a, b, c, factors, lhs_words, rhs_words, lhs_buffers, rhs_buffers):
        """(BRAM, URAM) of an accelerator's LHS and RHS buffers for partition ``factors``
        ``(aL, bL, bR, cR)`` (arrays or scalars), each buffer placed where the model puts
        it; ``lhs_words``/``rhs_words`` are the unpartitioned depths x*y*LEFT and
        y_mha*z_mha*RIGHT."""
        s, p = self.platform.ssr, self.platform
        pl_ = np.asarray(factors[0]) * factors[1]
        pr_ = np.asarray(factors[2]) * factors[3]
        l_bram, l_uram = ram_banks(a * b * pl_, lhs_words / pl_, s.ram_type_lhs, p)
        r_bram, r_uram = ram_banks(c * b * pr_, rhs_words / pr_, s.ram_type_rhs, p)
        l_side = s.uram_weight * l_uram < l_bram
        r_side = s.uram_weight * r_uram < r_bram
        bram = np.where(l_side, 0, l_bram) * lhs_buffers + np.where(r_side, 0, r_bram) * rhs_buffers
        uram = np.where(l_side, l_uram, 0) * lhs_buffers + np.where(r_side, r_uram, 0) * rhs_buffers
        return bram, uram


# -- whole designs ----------------------------------------------------------------
_ROLE_CODE = {Role.LHS: 0, Role.RHS: 1, Role.RHS_T: 2}
#: reconciliation passes over accelerators fed by accelerators configured after them
RECONCILE_PASSES = 3


@dataclass(frozen=True)
class Configuration:
    """The configured accelerators of one assignment (canonical labels).

    Attributes:
        assignment: ``(n_nodes,)`` canonical accelerator of every node.
        batch: images per batch.
        params: ``(k, 7)`` ``a, b, c, dup, h1, w1, w2`` per accelerator (the smallest
            candidate for accelerators left unconfigured when ``feasible`` is False).
        feasible: every accelerator found a configuration within its share.
        shares: ``(k, 5)`` the budget each accelerator was given (0 if not reached).
        used: ``(k, 5)`` what each configured accelerator uses by the configurator's count.
        time_ns: ``(k,)`` each accelerator's summed layer time (NaN if not configured).
        dup_hint: the Bdot pre-pass's largest ``dup`` (1 without Bdot accelerators).
    """

    assignment: np.ndarray
    batch: int
    params: np.ndarray
    feasible: bool
    shares: np.ndarray
    used: np.ndarray
    time_ns: np.ndarray
    dup_hint: int


class SsrConfigurator(AcceleratorSearch):
    """Configures accelerators the SSR way for one ``ssr`` cost model (see module doc).

    Args:
        model: the cost model (``ssr`` on a Versal platform).
        values: allowed values of each parameter (a space's value tables); default the
            model's full domains (:func:`~ssropt.objectives.models.ssr.values.ssr_values`).
        reconcile: configure again the accelerators fed by accelerators configured after
            them (see :data:`RECONCILE_PASSES`).
    """

    def __init__(
        self, model: CostModel, values: dict[str, np.ndarray] | None = None, reconcile: bool = True
    ) -> None:
        if model.cost_model != "ssr":
            raise SsroptError(
                f"the SSR configurator needs the 'ssr' cost model, not {model.cost_model!r}"
            )
        platform = model.platform
        if getattr(platform, "family", "versal") != "versal":
            raise SsroptError(
                f"the SSR configurator models Versal AIE arrays; platform {platform.name} is "
                f"of family {platform.family!r}"
            )
        super().__init__(model, values)
        self.model = model
        self.reconcile = bool(reconcile)
        self.scheduler = model.scheduler
        workload, values = self.workload, self.values
        self.attention_input = workload.shape_arrays()["attention_input"]
        self.ops = 2 * self.m * self.k * self.n * self.repeat * self.copies
        self.deps = [
            (workload.index(d.src), workload.index(d.dst), _ROLE_CODE[d.role])
            for d in workload.dependencies
        ]
        self.budget = np.array([getattr(platform.budget, r) for r in SPLIT_RESOURCES], dtype=np.int64)
        self.smallest = (
            int(values["a"].min()), int(values["b"].min()), int(values["c"].min()), 1,
            int(values["h1"].min()), int(values["w1"].min()), int(values["w2"].min()),
        )
        self._configure_cache: dict[tuple, Configuration] = {}

    def _buffer_words(self, nodes, params, hardened: bool) -> tuple[int, int, int]:
        """``(lhs_words, rhs_words, rhs_buffers)`` of a configured accelerator."""
        a, b, c, _, h1, w1, w2 = (int(v) for v in params)
        npp = self.platform.pl.plio_width_bits // (8 * self.dt)
        nodes = np.array(nodes)
        lhs_words = math.ceil(int(self.m[nodes].max()) / (a * h1)) * math.ceil(
            int(self.k[nodes].max()) / (b * w1)) * math.ceil(h1 * w1 / npp)
        act = nodes[self.act[nodes]]
        rhs_words = 0
        if act.size:
            rhs_words = math.ceil(int(self.k[act].max()) / (b * w1)) * math.ceil(
                int(self.n[act].max()) / (c * w2)) * math.ceil(w1 * w2 / npp)
        return lhs_words, rhs_words, 0 if hardened else 1

    # -- whole designs -----------------------------------------------------------------------
    def configure(self, assignment: np.ndarray, batch: int) -> Configuration:
        """Configure every accelerator of one assignment (any labels) at one batch size."""
        return self.configure_many(np.asarray(assignment)[None, :], np.array([batch]))[0]

    def configure_many(self, assignments: np.ndarray, batches: np.ndarray) -> list[Configuration]:
        """:meth:`configure` for ``(n, n_nodes)`` assignments and ``(n,)`` batches; the
        schedules (buffer counts) of all rows are simulated together."""
        assignments = np.asarray(assignments, dtype=np.int64)
        batches = np.asarray(batches, dtype=np.int64).reshape(-1)
        if assignments.ndim != 2 or assignments.shape[1] != self.workload.n_nodes:
            raise SsroptError(
                f"assignments have shape {assignments.shape}, expected (n, {self.workload.n_nodes})"
            )
        canonical, _ = relabel_by_first_use(assignments)
        out: list[Configuration | None] = [None] * len(canonical)
        missing = []
        for i, (row, batch) in enumerate(zip(canonical, batches)):
            key = (row.tobytes(), int(batch))
            if key in self._configure_cache:
                out[i] = self._configure_cache[key]
            else:
                missing.append(i)
        if missing:
            rows = np.array(missing)
            summaries = self.scheduler.summaries(batches[rows], canonical[rows])
            for i, summary in zip(missing, summaries):
                key = (canonical[i].tobytes(), int(batches[i]))
                if key not in self._configure_cache:
                    if len(self._configure_cache) >= CACHE_LIMIT:
                        self._configure_cache.clear()
                    self._configure_cache[key] = self._configure(canonical[i], int(batches[i]), summary)
                out[i] = self._configure_cache[key]
        return out

    def _configure(self, assign: np.ndarray, batch: int, summary) -> Configuration:
        n_acc = int(assign.max()) + 1
        nodes = [tuple(np.flatnonzero(assign == k).tolist()) for k in range(n_acc)]
        lhs = np.zeros(n_acc, dtype=np.int64)
        rhs = np.zeros(n_acc, dtype=np.int64)
        lhs[: summary.lhs_buffers.size] = summary.lhs_buffers[:n_acc]
        rhs[: summary.rhs_buffers.size] = summary.rhs_buffers[:n_acc]
        mem = (lhs + rhs).astype(float)
        ops = np.bincount(assign, weights=self.ops.astype(float), minlength=n_acc)
        bdot = np.array([bool(self.act[list(nd)].all()) for nd in nodes])
        att = np.array([bool(self.attention_input[list(nd)].any()) for nd in nodes])
        params = np.tile(np.array(self.smallest, dtype=np.int64), (n_acc, 1))
        shares = np.zeros((n_acc, len(SPLIT_RESOURCES)), dtype=np.int64)
        used = np.zeros_like(shares)
        times = np.full(n_acc, np.nan)
        hardened = np.zeros(n_acc, dtype=bool)

        def edges(acc: int, configured: int):
            """Producer constraints, self-edge roles and consumer constraints of ``acc``
            when the accelerators ``< configured`` (and ``acc`` itself) are known."""
            producers, self_roles, feeds = [], [], {}
            for src, dst, role in self.deps:
                s_acc, d_acc = int(assign[src]), int(assign[dst])
                if d_acc == acc and s_acc == acc:
                    self_roles.append(role)
                elif d_acc == acc and s_acc < configured:
                    pa, pc, pd = params[s_acc, 0], params[s_acc, 2], params[s_acc, 3]
                    producers.append((role, int(pa), int(pc * pd)))
                elif s_acc == acc and d_acc < configured:
                    feeds.setdefault(d_acc, set()).add(role)
            consumers = []
            for y, roles in sorted(feeds.items()):
                lhs_words, rhs_words, rhs_buffers = self._buffer_words(nodes[y], params[y], bool(hardened[y]))
                consumers.append((
                    tuple(sorted(roles)), needs(y, acc, configured),
                    tuple(int(v) for v in params[y, :4]),
                    (lhs_words, rhs_words, int(lhs[y]), rhs_buffers),
                ))
            consumers = tuple(consumers)
            return tuple(sorted(set(producers))), tuple(sorted(set(self_roles))), consumers

        def needs(y: int, exclude: int, configured: int) -> tuple[int, int, int, int]:
            """lcm needs (aL, bL, bR, cR) of accelerator ``y`` from its known producers
            other than ``exclude`` (``partition_factors``' rule)."""
            ya, yb, yc, ydup = (int(v) for v in params[y, :4])
            need = {"aL": ya, "bL": yb, "bR": yb, "cR": yc}
            for src, dst, role in self.deps:
                s_acc = int(assign[src])
                if assign[dst] != y or s_acc == exclude or (s_acc >= configured and s_acc != y):
                    continue
                pa, pcd = int(params[s_acc, 0]), int(params[s_acc, 2] * params[s_acc, 3])
                pc_eff = max(pcd // ydup, 1)
                pairs = {0: (("aL", pa), ("bL", pc_eff)), 1: (("bR", pa), ("cR", pc_eff)),
                         2: (("bR", pc_eff), ("cR", pa))}[role]
                for name, value in pairs:
                    need[name] = math.lcm(need[name], value)
            return need["aL"], need["bL"], need["bR"], need["cR"]

        def rule_of(acc: int, hint: int) -> tuple[str, int] | None:
            """The c rule of the accelerator holding Q/K/V (att_flag), else none."""
            if not att[acc]:
                return None
            return ("dup", hint) if bdot.any() else ("heads", self.heads)

        def result(feasible: bool, hint: int) -> Configuration:
            return Configuration(assign.copy(), batch, params, feasible, shares, used, times, hint)

        if n_acc == 1:
            share = tuple(self.budget.tolist())
            shares[0] = share
            rule = ("dup", 1) if bdot[0] else ("heads", self.heads)
            choice = self.search(nodes[0], share, self.heads if bdot[0] else 1, rule,
                                 (), edges(0, 1)[1], int(lhs[0]))
            if choice is None:
                return result(False, 1)
            params[0], used[0], times[0], hardened[0] = choice.params, choice.used, choice.time_ns, choice.hardened
            return result(True, 1)

        dup_hint = 1
        total_ops, total_mem = ops.sum(), mem.sum()
        for acc in np.flatnonzero(bdot):  # pre-pass: the head replication a Bdot acc reaches
            share = ssr_share(self.budget, ops[acc] / total_ops, share_ratio(mem[acc], total_mem, n_acc),
                              last=False, bdot=True)
            choice = self.search(nodes[acc], tuple(share.tolist()), self.heads, None, (),
                                 edges(acc, 0)[1], int(lhs[acc]))
            if choice is not None:
                dup_hint = max(dup_hint, choice.params[3])
        left = self.budget.astype(float)
        ops_left, mem_left = total_ops, total_mem
        for acc in range(n_acc):
            share = ssr_share(left, ops[acc] / ops_left if ops_left > 0 else 1.0,
                              share_ratio(mem[acc], mem_left, n_acc - acc),
                              last=acc == n_acc - 1, bdot=bool(bdot[acc]))
            shares[acc] = share
            producers, self_roles, consumers = edges(acc, acc)
            choice = None
            for _ in range(1 + WIDEN_TRIES):
                choice = self.search(nodes[acc], tuple(share.tolist()), dup_hint if bdot[acc] else 1,
                                     rule_of(acc, dup_hint), producers, self_roles, int(lhs[acc]),
                                     consumers)
                wider = widen_share(share, left)
                if choice is not None or (wider == share).all():
                    break
                share = shares[acc] = wider
            if choice is None:
                return result(False, dup_hint)
            params[acc], used[acc], times[acc], hardened[acc] = choice.params, choice.used, choice.time_ns, choice.hardened
            left = left - np.array(choice.used)
            ops_left -= ops[acc]
            mem_left -= mem[acc]
        if self.reconcile:
            # edges from accelerators configured later were unknown above: configure
            # every accelerator with such edges again, knowing every producer, within
            # its share and what the others leave of the chip; in order, repeated until
            # nothing changes (at most RECONCILE_PASSES passes)
            for _ in range(RECONCILE_PASSES):
                changed = False
                for acc in range(n_acc):
                    producers, self_roles, consumers = edges(acc, n_acc)
                    if (producers, consumers) == edges(acc, acc)[::2]:
                        continue
                    cap = np.minimum(shares[acc], self.budget - (used.sum(axis=0) - used[acc]))
                    choice = self.search(nodes[acc], tuple(cap.tolist()), dup_hint if bdot[acc] else 1,
                                         rule_of(acc, dup_hint), producers, self_roles, int(lhs[acc]),
                                         consumers)
                    if choice is not None and tuple(params[acc].tolist()) != choice.params:
                        params[acc], used[acc], times[acc], hardened[acc] = choice.params, choice.used, choice.time_ns, choice.hardened
                        changed = True
                if not changed:
                    break
        return result(True, dup_hint)

    def designs(self, assignments: np.ndarray, batches: np.ndarray, n_slots: int | None = None) -> tuple[DesignBatch, np.ndarray]:
        """The configured designs of ``(n, n_nodes)`` assignments and ``(n,)`` batches as a
        DesignBatch (canonical assignments, ``n_slots`` accelerator slots, default the
        widest), and ``(n,)`` whether each configuration is feasible."""
        configs = self.configure_many(assignments, batches)
        width = max(len(cfg.params) for cfg in configs) if n_slots is None else int(n_slots)
        n_params = len(self.model.param_names)
        params = np.zeros((len(configs), width, n_params), dtype=np.int64)
        for i, cfg in enumerate(configs):
            params[i, : len(cfg.params)] = cfg.params[:width]
        designs = DesignBatch(
            self.model.cost_model,
            np.asarray(batches, dtype=np.int64).reshape(-1),
            np.stack([cfg.assignment for cfg in configs]),
            params,
        )
        return designs, np.array([cfg.feasible for cfg in configs], dtype=bool)
