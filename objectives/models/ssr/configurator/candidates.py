"""The SSR configurator's candidate grid and per-node tables.

A candidate is an array ``(a, b, c)`` in SSR's loop order (``c`` outermost, then ``b``,
then ``a``), a head replication ``dup`` and a single-AIE tile ``(h1, w1, w2)``.  The
arrays are pruned once by the rules no share can change (``a*c``, not both ``a`` and
``c`` above their bound, the cascade rule, placement columns within the chip); an
*alpha* is an array with a ``dup``, pruned by the chip budget (no share ever exceeds it)
and kept in order of AIEs, descending.  Per node, the time of every (array, tile) is the
model's own layer time (:func:`~ssropt.objectives.models.ssr.accelerator.ssr_layer_cycles`)
times the node's copies, in ns -- computed the same way as the reference configurator, so
sums over a node set are bit-identical.
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.models.base import exact_index
from ssropt.objectives.models.lockstep.buffers import ceil_div
from ssropt.objectives.models.lockstep.configurator.workload import WorkloadArrays
from ssropt.objectives.models.ssr.accelerator import broadcast_and_columns, ssr_layer_cycles
from ssropt.objectives.models.ssr.tiles import kernel_tile_violations


def _index_of(values: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.searchsorted(values, x)


class Candidates(WorkloadArrays):
    """The candidate grid of one ``ssr`` model and value tables, and per-node tables."""

    def __init__(self, model, values: dict[str, np.ndarray]) -> None:
        platform, workload = model.platform, model.workload
        self.platform = platform
        self.dtype = dtype = platform.dtype(model.dtype)
        self.dt = dtype.bytes
        s, budget = platform.ssr, platform.budget
        self.values = values
        super().__init__(workload)
        self.ns_per_cycle = 1e9 / platform.aie.clock_hz / (platform.pl.clock_hz / platform.pl.reference_clock_hz)
        self.npp = platform.pl.plio_width_bits // (8 * self.dt)
        self.local_memory = platform.aie.local_memory_bytes

        # -- arrays in SSR's loop order (c, then b, then a), statically pruned
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
        a_bro, c_bro = a_bro[fits], c_bro[fits]
        self.lhs_plio = self.a * self.b * ceil_div(self.c, a_bro)
        self.rhs_plio = self.c * self.b * ceil_div(self.a, c_bro)
        self.n_abc = len(self.a)
        self.ai = _index_of(values["a"], self.a)
        self.bi = _index_of(values["b"], self.b)
        self.ci = _index_of(values["c"], self.c)

        # -- tiles in SSR's loop order (h1, then w1, then w2)
        hh, ww1, ww2 = np.meshgrid(values["h1"], values["w1"], values["w2"], indexing="ij")
        self.h1, self.w1, self.w2 = hh.ravel(), ww1.ravel(), ww2.ravel()
        self.n_tiles = len(self.h1)
        self.tile_shape = (len(values["h1"]), len(values["w1"]), len(values["w2"]))
        self.h1i = _index_of(values["h1"], self.h1)
        self.w1i = _index_of(values["w1"], self.w1)
        self.w2i = _index_of(values["w2"], self.w2)
        self.lhs_bytes = self.h1 * self.w1 * self.dt
        self.rhs_bytes = self.w1 * self.w2 * self.dt
        self.memory_ok_unhardened = 2 * (self.lhs_bytes + self.rhs_bytes) <= self.local_memory
        self.bad_tiles = (
            kernel_tile_violations(platform, model.dtype, self.h1, self.w1, self.w2)
            if platform.ssr.tiles == "native" else np.zeros(self.n_tiles, dtype=bool)
        )
        self.left_words = ceil_div(self.h1 * self.w1, self.npp)
        self.right_words = ceil_div(self.w1 * self.w2, self.npp)

        dups = sorted(d for d in values["dup"].tolist() if d >= 1 and self.heads % d == 0)
        if not dups or dups[0] != 1:
            dups = [1] + dups
        self.dups = np.array(dups, dtype=np.int64)
        self.n_dups = len(self.dups)

        # -- alphas: every array with every replication, pruned by the chip budget, in
        #    order of AIEs (descending), then SSR's loop order
        abc = np.repeat(np.arange(self.n_abc), self.n_dups)
        di = np.tile(np.arange(self.n_dups), self.n_abc)
        d = self.dups[di]
        aie = self.a[abc] * self.b[abc] * self.c[abc] * d
        pout = self.a[abc] * self.c[abc] * d
        lplio = self.lhs_plio[abc] * d
        ok = (aie <= budget.aie) & (pout <= budget.plio_out) & (lplio <= budget.plio_in)
        order = np.lexsort((np.flatnonzero(ok), -aie[ok]))
        sel = np.flatnonzero(ok)[order]
        self.al_abc, self.al_di, self.al_d = abc[sel], di[sel], d[sel]
        self.al_a, self.al_b, self.al_c = self.a[self.al_abc], self.b[self.al_abc], self.c[self.al_abc]
        self.al_size = aie[sel]  # the primary resource of the pool order
        self.al_pout, self.al_lplio = pout[sel], lplio[sel]
        self.al_rplio = self.rhs_plio[self.al_abc] * self.al_d
        self.n_alpha = len(sel)

        # -- lookups from parameter values to candidate indices (hints)
        na, nb, nc = len(values["a"]), len(values["b"]), len(values["c"])
        self._abc_of = np.full((na, nb, nc), -1, dtype=np.int64)
        self._abc_of[self.ai, self.bi, self.ci] = np.arange(self.n_abc)
        self._alpha_of = np.full((self.n_abc, self.n_dups), -1, dtype=np.int64)
        self._alpha_of[self.al_abc, self.al_di] = np.arange(self.n_alpha)
        self._tile_of = np.arange(self.n_tiles).reshape(self.tile_shape)

        self._node_time: dict[int, np.ndarray] = {}
        self._node_tmin: dict[int, np.ndarray] = {}
        self._node_words: dict[int, np.ndarray] = {}

    # -- per node ---------------------------------------------------------------------------
    def node_time(self, j: int) -> np.ndarray:
        """``(n_abc, n_tiles)`` ns of node ``j``'s copies per head group."""
        table = self._node_time.get(j)
        if table is None:
            a, b, c = (v[:, None] for v in (self.a, self.b, self.c))
            h1, w1, w2 = (v[None, :] for v in (self.h1, self.w1, self.w2))
            cycles = ssr_layer_cycles(int(self.m[j]), int(self.k[j]), int(self.n[j]), 1, a, b, c, 1,
                                      h1, w1, w2, self.platform, self.dtype)
            table = cycles * (int(self.copies[j]) * self.ns_per_cycle)
            if self.bad_tiles.any():  # tiles = "native": never a tile the model refuses
                table = np.where(self.bad_tiles[None, :], np.inf, table)
            self._node_time[j] = table
            self._node_tmin[j] = table.min(axis=1)
        return table

    def node_tmin(self, j: int) -> np.ndarray:
        """``(n_abc,)`` node ``j``'s fastest tile on each array."""
        self.node_time(j)
        return self._node_tmin[j]

    def node_words(self, j: int) -> np.ndarray:
        """``(n_abc,)`` weight words of node ``j`` on each array (``buff_count_0``)."""
        table = self._node_words.get(j)
        if table is None:
            k, n = int(self.k[j]), int(self.n[j])
            table = ceil_div(ceil_div(k, self.b) * ceil_div(n, self.c), self.npp) * int(self.copies[j])
            self._node_words[j] = table
        return table

    def lookup(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Alpha and tile index of ``(n, 7)`` configurations (-1 where not a candidate)."""

        v = self.values
        (ai, oa), (bi, ob), (ci, oc) = exact_index(v["a"], params[:, 0]), exact_index(v["b"], params[:, 1]), exact_index(v["c"], params[:, 2])
        di, od = exact_index(self.dups, params[:, 3])
        (hi, oh), (wi, ow), (vi, ov) = exact_index(v["h1"], params[:, 4]), exact_index(v["w1"], params[:, 5]), exact_index(v["w2"], params[:, 6])
        abc = self._abc_of[ai, bi, ci]
        alpha = np.where(oa & ob & oc & od & (abc >= 0), self._alpha_of[np.maximum(abc, 0), di], -1)
        tile = np.where(oh & ow & ov, self._tile_of[hi, wi, vi], -1)
        return alpha, tile
