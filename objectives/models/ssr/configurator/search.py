"""The ``ssr`` model's pricing inside the configurator's search (SSR spec 6), made by the
compiled search of :mod:`.kernel`; this module prepares its tables.

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

from ssropt.objectives.models.lockstep.buffers import always_bram
from ssropt.objectives.models.lockstep.configurator.selection import Choices, Selector, class_alphas
from ssropt.objectives.models.ssr.accelerator import ram_banks
from ssropt.objectives.models.ssr.configurator import kernel

#: the node-set tables the compiled search reads, in its order
SET_FIELDS = ("member", "lb", "act", "act_all", "wo", "roles", "X", "Y", "Ymha", "Zmha", "words",
              "resident", "hardenable", "aA", "aBL", "aBR", "aC", "lmin", "rmin")


def _suffix_min(values: np.ndarray) -> np.ndarray:
    return np.minimum.accumulate(values[..., ::-1], axis=-1)[..., ::-1]


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
        self._node_times: np.ndarray | None = None
        i64 = np.int64
        self.constants = np.array([self.lbl, self.rbl, self.ul, self.ram_bounds, s.partition_max,
                                   s.partition_product_max, self.lcm_limit, s.bram_depth, s.ram_type_lhs,
                                   s.ram_type_rhs, s.uram_depth, s.uram_weight, cand.local_memory,
                                   cand.n_dups, cand.n_tiles], dtype=i64)
        pin_act = (cand.lhs_plio[cand.al_abc] + cand.rhs_plio[cand.al_abc]) * cand.al_d  # never hardened
        starts = np.arange(0, cand.n_alpha, 1 << kernel.BUCKET_BITS)

        def suffix(values):  # per bucket: the least value from the bucket on
            return _suffix_min(np.minimum.reduceat(values, starts))

        self.cand_tables = tuple(np.ascontiguousarray(x, dtype=i64) for x in (
            cand.al_abc, cand.al_di, cand.al_d, cand.al_a, cand.al_b, cand.al_c, cand.al_size, cand.al_pout,
            cand.al_lplio, pin_act, suffix(cand.al_pout), suffix(cand.al_lplio), suffix(pin_act),
            cand.ai, cand.bi, cand.ci, cand.lhs_plio, cand.rhs_plio, cand.repeat))
        self._bounds = self._bound_arrays(0)
        self._bounded = 0
        self._class_ids: dict[int, int] = {}
        self._class_alphas = np.zeros(0, dtype=i64)
        self._class_next = np.zeros(0, dtype=i64)
        self._class_start: list[int] = []
        self._class_end: list[int] = []
        self.tile_tables = tuple(np.ascontiguousarray(x, dtype=bool if x.dtype == bool else i64) for x in (
            cand.h1, cand.w1, cand.w2, cand.h1i, cand.w1i, cand.w2i, cand.lhs_bytes, cand.memory_ok_unhardened,
            cand.left_words, cand.right_words))

    # -- the search: compiled ---------------------------------------------------------------
    def _select(self, st, queries) -> Choices:
        """Every query's choice by the compiled search (:mod:`.kernel`)."""
        n = queries.n
        out = Choices(np.zeros(n, dtype=bool), np.zeros((n, self.n_params), dtype=np.int64),
                      np.zeros((n, self.n_resources), dtype=np.int64), np.full(n, np.nan), np.zeros(n, dtype=bool))
        if n == 0:
            return out
        sets = tuple(st[name] for name in SET_FIELDS)
        class_of = self._classes(st, queries)  # first: it may add classes
        classes = (self._class_alphas, self._class_next, np.array(self._class_start, dtype=np.int64),
                   np.array(self._class_end, dtype=np.int64), class_of)
        limit = self.lcm_limit  # needs clipped to the lcm table (see lcm_table)
        qs = (queries.set_index, queries.share, queries.dup_cap, queries.rule_kind, queries.rule_val,
              queries.lhs_buffers, np.minimum(queries.prod_a, limit), np.minimum(queries.prod_c, limit),
              queries.prod_div, queries.cons_valid, queries.cons_roles, np.minimum(queries.cons_needs, limit),
              queries.cons_arr, queries.cons_buf, queries.cons_old)
        qs = tuple(np.ascontiguousarray(x) for x in qs)
        kernel.search(self.constants, self.lcm, self.cand_tables, self.tile_tables, self.node_times(), sets,
                      self._set_bounds(sets), classes, qs, (out.found, out.params, out.used, out.time_ns, out.hardened))
        return out

    def _classes(self, st, queries) -> np.ndarray:
        """``(Q,)`` class of every query: its ``dup`` cap and ``c`` rule, which fix the alphas
        it may use (each class's alphas kept in AIE-descending order)."""
        cap = np.where(st["act_all"][queries.set_index], queries.dup_cap, 1)
        val = np.where(queries.rule_kind == 0, 0, queries.rule_val)
        keys = (cap * 3 + queries.rule_kind) << 32 | val  # cap, kind and value as one number
        uniq, inverse = np.unique(keys, return_inverse=True)
        ids = np.empty(len(uniq), dtype=np.int64)
        for i, key in enumerate(uniq.tolist()):
            cid = self._class_ids.get(key)
            if cid is None:
                cid = self._class_ids[key] = len(self._class_start)
                start = len(self._class_alphas)
                alphas = class_alphas(self.cand, (key >> 32) // 3, (key >> 32) % 3, key & 0xFFFFFFFF)
                bucket = alphas >> kernel.BUCKET_BITS
                following = start + np.searchsorted(bucket, bucket, side="right")  # first in a later bucket
                self._class_start.append(start)
                self._class_alphas = np.concatenate([self._class_alphas, alphas])
                self._class_next = np.concatenate([self._class_next, following])
                self._class_end.append(len(self._class_alphas))
            ids[i] = cid
        return ids[inverse.ravel()]

    def _bound_arrays(self, rows: int) -> tuple[np.ndarray, ...]:
        n_alpha = self.cand.n_alpha
        n_buckets = (n_alpha + (1 << kernel.BUCKET_BITS) - 1) >> kernel.BUCKET_BITS
        i64 = np.int64
        return (np.zeros((rows, n_alpha), dtype=i64), np.zeros((rows, n_alpha), dtype=i64),
                np.zeros((rows, n_alpha), dtype=i64), np.zeros((rows, n_buckets)), np.zeros((rows, n_buckets), dtype=i64),
                np.zeros((rows, n_buckets), dtype=i64), np.zeros((rows, n_buckets)),
                np.zeros((rows, n_buckets), dtype=i64), np.zeros((rows, n_buckets), dtype=i64),
                np.zeros((rows, n_buckets), dtype=i64))

    def _set_bounds(self, sets: tuple) -> tuple[np.ndarray, ...]:
        """Per node set: per alpha BRAM blocks of one LHS buffer, of the RHS and weight
        buffers, URAM of the weights -- context-free lower bounds, zero where the
        platform's blocks do not guarantee BRAM; per bucket of alphas the least time lower
        bound and LHS and RHS bounds, and the suffix minima over buckets of those and of
        the URAM bound."""
        count = self.sets.count
        if count == self._bounded:
            return self._bounds
        if count > len(self._bounds[0]):
            grown = self._bound_arrays(max(2 * len(self._bounds[0]), count, 64))
            for old, new in zip(self._bounds, grown):
                new[: self._bounded] = old[: self._bounded]
            self._bounds = grown
        kernel.set_bounds(self.constants, self.cand_tables, sets, self._bounded, count, self._bounds)
        self._bounded = count
        return self._bounds

    def node_times(self) -> np.ndarray:
        """``(n_nodes, n_abc, n_tiles)`` every node's time on every array and tile."""
        if self._node_times is None:
            cand = self.cand
            self._node_times = np.ascontiguousarray(np.stack([cand.node_time(j) for j in range(cand.n_nodes)]))
        return self._node_times

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
