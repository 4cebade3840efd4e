"""The SSR configurator's choice for one accelerator (spec 6, ``cdse_on_chip``).

Every candidate ``(a, b, c, dup, h1, w1, w2)`` of the value tables is priced at once with
the model's own equations (:mod:`ssropt.objectives.models.ssr.accelerator`): the
accelerator's objective is the sum of its layer times over all blocks; a candidate is
kept when it fits the share (AIE, PLIO with hardened weights when they fit in AIE
memory, BRAM/URAM with the cheapest placement of the LHS and RHS buffers that fits), the
array rules (a*c, not both a and c > 8, the cascade rule, placement columns), AIE local
memory, the bank-partition bounds and the partition alignment of every layer.  The
choice is the selection rule of spec 6.7 as intended (without its ring buffers): among
the feasible candidates whose time is at most ``floor(1.08 * best)``, the least ``BRAM +
8 * URAM``; ties go to the smaller time, then to the first candidate in SSR's loop order
(c, b, a, dup, h1, w1, w2).

Per-node tables (layer time, hardened-weight bytes, weight words) over the candidate
grid are computed once per :class:`AcceleratorSearch` (one workload, platform, data type
and value tables) and every search is cached by its inputs (node set, share, producer
constraints, buffer count), so a search is a sum of table rows, a few masks and an
argmin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssropt.objectives.models.lockstep.buffers import ceil_div
from ssropt.objectives.models.ssr.accelerator import (
    broadcast_and_columns,
    ram_banks,
    ssr_layer_cycles,
)
from ssropt.objectives.models.ssr.values import ssr_values

if TYPE_CHECKING:
    from ssropt.objectives.models.base import CostModel

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
