"""The ``ssr`` model's pricing inside the configurator's search (SSR spec 6).

An accelerator holding a node set, in one search's context, is priced per candidate as
the model prices it (:mod:`ssropt.objectives.models.ssr.accelerator`):

* **array level** (an alpha): AIEs ``a*b*c*dup`` and PLIO out ``a*c*dup`` within the share,
  PLIO in at least ``lhs_plio*dup`` (plus the RHS ports unless the weights harden), the
  ``c`` rule, ``dup`` dividing every producer's ``C * dup_p``, the bank partition factors
  (lcm rules against the producers and the set's own edges) within ``partition_max`` and
  their product within ``partition_product_max``, the partitions of the configured
  consumers it feeds within the same bounds -- and the RAM those consumers gain;
* **tile level**: the layer times summed over the set's nodes, weights hardened in AIE
  memory when they all fit, AIE local memory, PLIO in, the partition alignment of every
  node's tile counts, and BRAM/URAM of the LHS, activation-RHS and weight buffers with
  each buffer in the cheaper of BRAM and URAM (``BRAM + uram_weight * URAM``).

Lower bounds keep the search short without changing its answer: a buffer split over
``p`` partitions needs ``lanes * p * ceil(depth / (p D)) >= lanes * max(p, ceil(depth /
D))`` blocks, so with every buffer in BRAM (as the platform's block geometry guarantees
when :func:`always_bram` holds) an alpha needs at least ``lbl * a * b * max(pl, lmin)``
blocks per LHS buffer (``lmin`` the least depth over tiles) and the consumers' extra RAM
is never negative (their factors only grow by integer multiples).
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.models.lockstep.buffers import always_bram, ceil_div
from ssropt.objectives.models.lockstep.configurator.selection import Selector
from ssropt.objectives.models.ssr.accelerator import ram_banks


def lcm_table(limit: int) -> np.ndarray:
    """``min(lcm(x, y), limit)`` for ``0 <= x, y <= limit``, flattened (index ``x * (limit
    + 1) + y``).  With ``limit`` at least ``(partition_max + 1) * (largest array
    dimension)``, a need that reaches it gives a factor above ``partition_max`` on any
    array, so its exact value never matters and needs never leave the table."""
    x = np.arange(limit + 1)
    return np.minimum(np.lcm(x[:, None], x[None, :]), limit).ravel()


class SsrSelector(Selector):
    """The configurator's search with the ``ssr`` model's pricing."""

    n_params = 7
    n_resources = 5  # aie, plio_in, plio_out, bram, uram
    suffix_fields = ("pout", "pin", "la", "rb", "wu")

    def __init__(self, cand, sets) -> None:
        super().__init__(cand)
        self.sets = sets
        p = cand.platform
        s = self.s = p.ssr
        width = p.pl.plio_width_bits
        self.lbl = -(-width // (s.bram_width_bits // s.ram_type_lhs))
        self.rbl = -(-width // (s.bram_width_bits // s.ram_type_rhs))
        self.ul = -(-width // s.uram_width_bits)
        l_bram = always_bram(self.lbl, self.ul, s.bram_depth * s.ram_type_lhs, s.uram_depth, s.uram_weight)
        r_bram = always_bram(self.rbl, self.ul, s.bram_depth * s.ram_type_rhs, s.uram_depth, s.uram_weight)
        self.ram_bounds = l_bram and r_bram
        v = cand.values
        self.lcm_limit = (s.partition_max + 1) * int(max(v["a"].max(), v["b"].max(), v["c"].max()))
        self.lcm = lcm_table(self.lcm_limit)
        self._needs: dict[str, np.ndarray] = {}
        self._time_index = np.full((0, cand.n_alpha), -1, dtype=np.int64)
        self._time_table = np.empty((0, cand.n_tiles))
        self._time_count = 0

    def _lcm(self, x, y):
        """lcm of needs within the table's limit (see :func:`lcm_table`)."""
        return self.lcm.take(x * (self.lcm_limit + 1) + y)

    def prepare(self, queries) -> None:
        """The queries' producer and consumer needs clipped to the lcm table's limit."""
        limit = self.lcm_limit
        self._needs = {"prod_a": np.minimum(queries.prod_a, limit), "prod_c": np.minimum(queries.prod_c, limit),
                       "cons_needs": np.minimum(queries.cons_needs, limit)}

    # -- context-free bounds of a class ----------------------------------------------------
    def class_bounds(self, st, sid, alpha):
        cand = self.cand
        abc = cand.al_abc[alpha]
        a, b, c, d = cand.al_a[alpha], cand.al_b[alpha], cand.al_c[alpha], cand.al_d[alpha]
        bi, ci = cand.bi[abc], cand.ci[abc]
        act = bool(st["act"][sid])
        pin = (cand.lhs_plio[abc] + cand.rhs_plio[abc]) * d if act else cand.al_lplio[alpha]
        la = np.zeros(len(alpha), dtype=np.int64)
        rb = np.zeros(len(alpha), dtype=np.int64)
        if self.ram_bounds:
            la = self.lbl * a * b * st["lmin"][sid, cand.ai[abc], bi]
            if act:
                rb = self.rbl * c * b * st["rmin"][sid, bi, ci]
        never_hard = (not st["wo"][sid]) | ~st["hardenable"][sid, bi, ci]
        wb, wu = self._weight_banks(b, c, np.where(never_hard, st["words"][sid, abc], 0))
        i32 = np.int32
        return {"pout": cand.al_pout[alpha].astype(i32), "pin": pin.astype(i32), "la": la.astype(i32),
                "ra": rb.astype(i32), "rb": (rb + wb).astype(i32), "wu": wu.astype(i32),
                "abc": abc.astype(i32), "a": a.astype(i32), "b": b.astype(i32), "c": c.astype(i32),
                "d": d.astype(i32), "di": cand.al_di[alpha].astype(i32)}

    def cheap(self, queries, q, gp):
        pool = self.pool.arrays
        share = queries.share
        ok = (pool["pout"][gp] <= share[q, 2]) & (pool["pin"][gp] <= share[q, 1])
        if self.ram_bounds:
            ok &= queries.lhs_buffers[q] * pool["la"][gp] + pool["rb"][gp] <= share[q, 3]
            ok &= pool["wu"][gp] <= share[q, 4]
        return ok

    def hopeless(self, queries, p):
        pool = self.pool.arrays
        share = queries.share
        out = (pool["suf_pout"][p] > share[:, 2]) | (pool["suf_pin"][p] > share[:, 1])
        if self.ram_bounds:
            out |= queries.lhs_buffers * pool["suf_la"][p] + pool["suf_rb"][p] > share[:, 3]
            out |= pool["suf_wu"][p] > share[:, 4]
        return out

    # -- array level -----------------------------------------------------------------------
    def alphas(self, st, queries, q, gp):
        s, pool = self.s, self.pool.arrays
        alpha = pool["alpha"][gp]
        u = queries.set_index[q]
        abc, a, b, c, d, di = (pool[name][gp].astype(np.int64) for name in ("abc", "a", "b", "c", "d", "di"))
        ok = queries.prod_div[q, di]
        roles = st["roles"][u]
        lcm, prod_a, prod_c = self._lcm, self._needs["prod_a"], self._needs["prod_c"]
        n_al = lcm(a, prod_a[q, 0])
        n_bl = lcm(b, prod_c[q, 0, di])
        n_bl = np.where(roles[:, 0], lcm(n_bl, c), n_bl)
        n_br = lcm(lcm(b, prod_a[q, 1]), prod_c[q, 2, di])
        n_br = np.where(roles[:, 1], lcm(n_br, a), n_br)
        n_br = np.where(roles[:, 2], lcm(n_br, c), n_br)
        n_cr = lcm(lcm(c, prod_c[q, 1, di]), prod_a[q, 2])
        n_cr = np.where(roles[:, 2], lcm(n_cr, a), n_cr)
        fa, fbl, fbr, fcr = n_al // a, n_bl // b, n_br // b, n_cr // c
        ok &= np.maximum(np.maximum(fa, fbl), np.maximum(fbr, fcr)) <= s.partition_max
        ok &= fa * fbl * fbr * fcr <= s.partition_product_max
        if self.ram_bounds:  # the RAM bound with the partitions known, consumers' RAM to come
            ram = self._ram_bound(st, queries, q, gp, u, abc, a, b, c, fa * fbl, fbr * fcr)
            ok &= ram <= queries.share[q, 3]
        keep = np.flatnonzero(ok)
        q, gp, alpha, u, abc, a, b, c, d, di = (x[keep] for x in (q, gp, alpha, u, abc, a, b, c, d, di))
        fa, fbl, fbr, fcr = fa[keep], fbl[keep], fbr[keep], fcr[keep]
        extra_b = np.zeros(len(q), dtype=np.int64)
        extra_u = np.zeros(len(q), dtype=np.int64)
        ok = np.ones(len(q), dtype=bool)
        valid = queries.cons_valid[q]
        for k in np.flatnonzero(valid.any(axis=0)).tolist():  # the consumers it feeds
            rows = np.flatnonzero(valid[:, k] & ok)
            if rows.size == 0:
                continue
            qk = q[rows]
            ya, yb, yc, ydup = (queries.cons_arr[qk, k, i] for i in range(4))
            ar, cr, dr = a[rows], c[rows], d[rows]
            good = (cr * dr) % ydup == 0
            c_eff = np.maximum(cr * dr // ydup, 1)
            needs = self._needs["cons_needs"][qk, k]
            r = queries.cons_roles[qk, k]
            r0, r1, r2 = (r & 1) != 0, (r & 2) != 0, (r & 4) != 0
            t_al = np.where(r0, lcm(needs[:, 0], ar), needs[:, 0])
            t_bl = np.where(r0, lcm(needs[:, 1], c_eff), needs[:, 1])
            t_br = np.where(r1, lcm(needs[:, 2], ar), needs[:, 2])
            t_br = np.where(r2, lcm(t_br, c_eff), t_br)
            t_cr = np.where(r1, lcm(needs[:, 3], c_eff), needs[:, 3])
            t_cr = np.where(r2, lcm(t_cr, ar), t_cr)
            f = (t_al // ya, t_bl // yb, t_br // yb, t_cr // yc)
            good &= np.maximum(np.maximum(f[0], f[1]), np.maximum(f[2], f[3])) <= s.partition_max
            good &= f[0] * f[1] * f[2] * f[3] <= s.partition_product_max
            new_b, new_u = self.buffer_banks(ya, yb, yc, f, *(queries.cons_buf[qk, k, i] for i in range(4)))
            extra_b[rows] += new_b - queries.cons_old[qk, k, 0]
            extra_u[rows] += new_u - queries.cons_old[qk, k, 1]
            ok[rows] &= good
        if self.ram_bounds and valid.any():
            consumed = np.flatnonzero(valid.any(axis=1) & ok)
            ram = self._ram_bound(st, queries, q[consumed], gp[consumed], u[consumed], abc[consumed], a[consumed],
                                  b[consumed], c[consumed], (fa * fbl)[consumed], (fbr * fcr)[consumed])
            ok[consumed] &= ram + extra_b[consumed] <= queries.share[q[consumed], 3]
            ok[consumed] &= pool["wu"][gp[consumed]] + extra_u[consumed] <= queries.share[q[consumed], 4]
        keep = np.flatnonzero(ok)
        return {
            "q": q[keep], "alpha": alpha[keep], "abc": abc[keep], "d": d[keep], "di": di[keep],
            "f": (fa[keep], fbl[keep], fbr[keep], fcr[keep]), "extra": (extra_b[keep], extra_u[keep]),
        }

    def _ram_bound(self, st, queries, q, gp, u, abc, a, b, c, pl, pr):
        """Least BRAM of the pairs' candidates with partitions ``pl``, ``pr`` and no consumer:
        a buffer split over ``p`` banks needs ``lanes * p * ceil(depth / (p D)) >= lanes *
        max(p, ceil(depth / D))`` blocks, the least depth over tiles counted."""
        cand, pool = self.cand, self.pool.arrays
        bi = cand.bi[abc]
        la = self.lbl * a * b * np.maximum(pl, st["lmin"][u, cand.ai[abc], bi])
        rmin = st["rmin"][u, bi, cand.ci[abc]]
        ra = np.where(st["act"][u], self.rbl * c * b * np.maximum(pr, rmin), 0)
        return queries.lhs_buffers[q] * la + ra + pool["rb"][gp] - pool["ra"][gp]

    def buffer_banks(self, a, b, c, f, lhs_words, rhs_words, lhs_buffers, rhs_buffers):
        """(BRAM, URAM) of an accelerator's LHS and RHS buffers under partition factors
        ``f = (aL, bL, bR, cR)``, each buffer where the score rule places it."""
        s, p = self.s, self.cand.platform
        pl, pr = f[0] * f[1], f[2] * f[3]
        l_bram, l_uram = ram_banks(a * b * pl, lhs_words / pl, s.ram_type_lhs, p)
        r_bram, r_uram = ram_banks(c * b * pr, rhs_words / pr, s.ram_type_rhs, p)
        l_side = s.uram_weight * l_uram < l_bram
        r_side = s.uram_weight * r_uram < r_bram
        bram = np.where(l_side, 0, l_bram) * lhs_buffers + np.where(r_side, 0, r_bram) * rhs_buffers
        uram = np.where(l_side, l_uram, 0) * lhs_buffers + np.where(r_side, r_uram, 0) * rhs_buffers
        return bram, uram

    def _weight_banks(self, b, c, weight_words):
        s = self.s
        w_bram = c * b * self.rbl * ceil_div(weight_words % s.uram_depth, s.bram_depth * s.ram_type_rhs)
        w_uram = c * b * self.ul * (weight_words // s.uram_depth)
        return w_bram, w_uram

    # -- tile level ------------------------------------------------------------------------
    def times(self, st, queries, pairs):
        """``(P, n_tiles)`` time of every tile of every pair, summed over the set's nodes in
        node order exactly as the reference does; rows cached per (node set, alpha)."""
        cand = self.cand
        sids, alphas = queries.set_index[pairs["q"]], pairs["alpha"]
        if st["member"].shape[0] > self._time_index.shape[0]:
            grown = np.full((st["member"].shape[0], cand.n_alpha), -1, dtype=np.int64)
            grown[: self._time_index.shape[0]] = self._time_index
            self._time_index = grown
        rows = self._time_index[sids, alphas]
        need = rows < 0
        if need.any():
            new_keys = np.unique(sids[need] * cand.n_alpha + alphas[need])
            sid, alpha = new_keys // cand.n_alpha, new_keys % cand.n_alpha
            abc, d = cand.al_abc[alpha], cand.al_d[alpha]
            new = np.zeros((len(new_keys), cand.n_tiles))
            member = st["member"][sid]
            for j in range(cand.n_nodes):
                sel = np.flatnonzero(member[:, j])
                if sel.size:
                    new[sel] += cand.node_time(j)[abc[sel]] * ceil_div(int(cand.repeat[j]), d[sel])[:, None]
            start, stop = self._time_count, self._time_count + len(new_keys)
            if stop > len(self._time_table):
                grown = np.empty((max(2 * len(self._time_table), stop, 4096), cand.n_tiles))
                grown[:start] = self._time_table[:start]
                self._time_table = grown
            self._time_table[start:stop] = new
            self._time_count = stop
            self._time_index[sid, alpha] = np.arange(start, stop)
            rows = self._time_index[sids, alphas]
        return self._time_table[rows]

    def evaluate(self, st, queries, pairs, pi, ti):
        cand, s = self.cand, self.s
        q = pairs["q"][pi]
        u = queries.set_index[q]
        share = queries.share[q]
        abc, d = pairs["abc"][pi], pairs["d"][pi]
        a, b, c = cand.a[abc], cand.b[abc], cand.c[abc]
        ai, bi, ci = cand.ai[abc], cand.bi[abc], cand.ci[abc]
        h1i, w1i, w2i = cand.h1i[ti], cand.w1i[ti], cand.w2i[ti]
        resident = st["resident"][u, bi, w1i, ci, w2i]
        hardened = st["wo"][u] & (2 * cand.lhs_bytes[ti] + resident <= cand.local_memory)
        ok = hardened | cand.memory_ok_unhardened[ti]
        plio_in = (cand.lhs_plio[abc] + np.where(hardened, 0, cand.rhs_plio[abc])) * d
        ok &= plio_in <= share[:, 1]
        fa, fbl, fbr, fcr = (f[pi] for f in pairs["f"])
        ok &= ((st["aA"][u, ai, h1i] >> fa) & (st["aBL"][u, bi, w1i] >> fbl)
               & (st["aBR"][u, bi, w1i] >> fbr) & (st["aC"][u, ci, w2i] >> fcr) & 1).astype(bool)
        pl, pr = fa * fbl, fbr * fcr
        depth = st["X"][u, ai, h1i] * st["Y"][u, bi, w1i] * cand.left_words[ti]
        l_bram, l_uram = ram_banks(a * b * pl, depth / pl, s.ram_type_lhs, cand.platform)
        nL = queries.lhs_buffers[q]
        l_bram, l_uram = l_bram * nL, l_uram * nL
        rdepth = st["Ymha"][u, bi, w1i] * st["Zmha"][u, ci, w2i] * cand.right_words[ti]
        r_bram, r_uram = ram_banks(c * b * pr, rdepth / pr, s.ram_type_rhs, cand.platform)
        no_rhs = hardened | ~st["act"][u]
        r_bram, r_uram = np.where(no_rhs, 0, r_bram), np.where(no_rhs, 0, r_uram)
        w_bram, w_uram = self._weight_banks(b, c, np.where(hardened, 0, st["words"][u, abc]))
        l_side = s.uram_weight * l_uram < l_bram
        r_side = s.uram_weight * r_uram < r_bram
        extra_b, extra_u = (e[pi] for e in pairs["extra"])
        bram = w_bram + np.where(l_side, 0, l_bram) + np.where(r_side, 0, r_bram) + extra_b
        uram = w_uram + np.where(l_side, l_uram, 0) + np.where(r_side, r_uram, 0) + extra_u
        ok &= (bram <= share[:, 3]) & (uram <= share[:, 4])
        return ok, bram + s.uram_weight * uram, {"plio_in": plio_in, "bram": bram, "uram": uram, "hardened": hardened}

    def evaluate_pairs(self, st, queries, pairs, rows):
        """Every tile of pairs ``rows`` from per-(h1, w1) LHS and per-(w1, w2) RHS pieces."""
        cand, s = self.cand, self.s
        nh, nw1, nw2 = cand.tile_shape
        q = pairs["q"][rows]
        u = queries.set_index[q]
        share = queries.share[q]
        abc, d = pairs["abc"][rows], pairs["d"][rows]
        a, b, c = cand.a[abc], cand.b[abc], cand.c[abc]
        ai, bi, ci = cand.ai[abc], cand.bi[abc], cand.ci[abc]
        fa, fbl, fbr, fcr = (f[rows] for f in pairs["f"])
        extra_b, extra_u = (e[rows] for e in pairs["extra"])
        nL = queries.lhs_buffers[q]
        pl = (fa * fbl)[:, None, None]
        left = cand.left_words.reshape(cand.tile_shape)[:, :, 0]
        depth = st["X"][u, ai][:, :, None] * st["Y"][u, bi][:, None, :] * left[None]
        l_bram, l_uram = ram_banks((a * b)[:, None, None] * pl, depth / pl, s.ram_type_lhs, cand.platform)
        l_bram, l_uram = l_bram * nL[:, None, None], l_uram * nL[:, None, None]
        l_side = s.uram_weight * l_uram < l_bram
        lb_, lu_ = np.where(l_side, 0, l_bram), np.where(l_side, l_uram, 0)  # (R, nh, nw1)
        act = st["act"][u][:, None, None]
        pr = (fbr * fcr)[:, None, None]
        right = cand.right_words.reshape(cand.tile_shape)[0]
        rdepth = st["Ymha"][u, bi][:, :, None] * st["Zmha"][u, ci][:, None, :] * right[None]
        r_bram, r_uram = ram_banks((c * b)[:, None, None] * pr, rdepth / pr, s.ram_type_rhs, cand.platform)
        r_bram, r_uram = np.where(act, r_bram, 0), np.where(act, r_uram, 0)
        r_side = s.uram_weight * r_uram < r_bram
        rb_, ru_ = np.where(r_side, 0, r_bram), np.where(r_side, r_uram, 0)  # (R, nw1, nw2)
        lhs_bytes = cand.lhs_bytes.reshape(cand.tile_shape)
        resident = st["resident"][u, bi, :, ci, :]  # (R, nw1, nw2)
        hard = st["wo"][u][:, None, None, None] & (2 * lhs_bytes[None] + resident[:, None] <= cand.local_memory)
        wb, wu = self._weight_banks(b, c, st["words"][u, abc])
        # activation-RHS buffers exist only on accelerators that never harden
        bram = (np.where(hard, 0, wb[:, None, None, None]) + lb_[:, :, :, None] + rb_[:, None, :, :]
                + extra_b[:, None, None, None])
        uram = (np.where(hard, 0, wu[:, None, None, None]) + lu_[:, :, :, None] + ru_[:, None, :, :]
                + extra_u[:, None, None, None])
        plio_in = (cand.lhs_plio[abc][:, None, None, None]
                   + np.where(hard, 0, cand.rhs_plio[abc][:, None, None, None])) * d[:, None, None, None]
        ok = hard | cand.memory_ok_unhardened.reshape(cand.tile_shape)[None]
        ok &= plio_in <= share[:, 1, None, None, None]
        al_a = (st["aA"][u, ai] >> fa[:, None]) & 1
        al_b = (st["aBL"][u, bi] >> fbl[:, None]) & (st["aBR"][u, bi] >> fbr[:, None]) & 1
        al_c = (st["aC"][u, ci] >> fcr[:, None]) & 1
        ok &= (al_a[:, :, None, None] & al_b[:, None, :, None] & al_c[:, None, None, :]).astype(bool)
        ok &= (bram <= share[:, 3, None, None, None]) & (uram <= share[:, 4, None, None, None])
        shape = (len(rows), nh * nw1 * nw2)
        hard = np.broadcast_to(hard, (len(rows), nh, nw1, nw2))
        columns = {"plio_in": plio_in, "bram": bram, "uram": uram, "hardened": hard}
        return (ok.reshape(shape), (bram + s.uram_weight * uram).reshape(shape),
                {name: v.reshape(shape) for name, v in columns.items()})

    def used(self, abc, d, tile, columns):
        cand = self.cand
        a, b, c = cand.a[abc], cand.b[abc], cand.c[abc]
        params = np.stack([a, b, c, d, cand.h1[tile], cand.w1[tile], cand.w2[tile]], axis=1)
        used = np.stack([a * b * c * d, columns["plio_in"], a * c * d, columns["bram"], columns["uram"]], axis=1)
        return params, used
