"""The choice for one accelerator, made for many searches at once (SSR spec 6.7).

Each search picks, among the candidates of its node set that fit its share and every
rule, the one of least RAM (``BRAM + uram_weight * URAM``) among those within
``TIME_BAND`` (8 %) of the fastest: with ``T*`` the least feasible time, the band is every
feasible candidate of time at most ``floor(1.08 T*)`` (or ``T*`` itself when that floor
is below it); ties go to the smaller time, then to the first candidate in SSR's loop
order (``c, b, a``, then ``dup``, then the tile).  That is exactly the reference
implementation's rule; this module finds the same answer without pricing the whole
candidate grid of every search:

* A candidate is an *array* ``alpha = (a, b, c, dup)`` with a *tile*.  Per node set,
  every alpha has a time lower bound ``lb`` (the sum over its nodes of each node's
  fastest tile), and the alphas a class of searches may use (node set, ``dup`` cap,
  ``c`` rule) are kept in one pool in order of their primary resource (AIE or compute
  blocks), descending, with context-free bounds on the other resources.
* A search starts at the first alpha its share of the primary resource admits, scans
  a window, prices the tiles of the alphas that pass the bounds and keeps the feasible
  ones; once one is feasible its time ``T`` bounds the rest: ``thr = max(floor(1.08 T),
  T)``.  Every alpha whose ``lb`` exceeds ``thr`` is skipped (none of its tiles can be
  in the band), every tile above ``thr`` too; the scan ends where the suffix minimum of
  ``lb`` exceeds ``thr``.  With a threshold known, each bucket of ``BUCKET`` alphas is
  read in ``lb`` order, so only the alphas below it are touched.  ``thr`` only
  tightens, so everything in the final band has been priced.
* Identical searches are made once, and remembered across calls by their key (everything
  an answer depends on); a hint (e.g. the accelerator's current choice) is
  priced first, so a feasible hint bounds the search from the start.

Model-specific work -- the context-free bounds, partition and consumer rules, the tile
pricing -- is a subclass's (``ssropt.objectives.models.fpga.configurator``).  A subclass
may also replace the search of one call (:meth:`Selector._select`) while keeping the rule
and the memory of answers: the ``ssr`` selector does, with a compiled loop per query
(``ssropt.objectives.models.ssr.configurator.kernel``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ssropt.objectives.models.lockstep.configurator.context import Queries

#: cdse_on_chip: candidates within this factor of the best time compete on RAM
TIME_BAND = 1.08
#: alphas per bucket of a class's AIE-descending order; within a bucket they are sorted
#: by their time lower bound, so a scan with a known threshold touches only those below
BUCKET = 32
#: a key past every class's alphas (the pool's unused tail sorts last)
_END = np.iinfo(np.int64).max
#: classes are numbered this far apart in the pool's search key (primary resource < it)
_KEY_STRIDE = 1_000_000
#: answers of earlier calls kept by query key (all forgotten when more would be kept)
ANSWERS_KEPT = 500_000


@dataclass
class Choices:
    """The answer of each of Q searches."""

    found: np.ndarray  # (Q,)
    params: np.ndarray  # (Q, n_params)
    used: np.ndarray  # (Q, R) what the choice uses of each split resource
    time_ns: np.ndarray  # (Q,)
    hardened: np.ndarray  # (Q,) weights resident in the array (SSR; False otherwise)

    def take(self, index: np.ndarray) -> Choices:
        return Choices(self.found[index], self.params[index], self.used[index],
                       self.time_ns[index], self.hardened[index])


class ClassPool:
    """The alphas of every class of searches met so far, concatenated, each class in
    order of its primary resource (descending), with its bounds, suffix minima and a
    per-bucket order by time lower bound."""

    def __init__(self, selector: Selector) -> None:
        self.selector = selector
        self.ids: dict[tuple, int] = {}
        self.offset: list[int] = []
        self.length: list[int] = []
        self.arrays: dict[str, np.ndarray] = {}
        self.size = 0
        self.capacity = 0
        self.position = np.full((0, selector.cand.n_alpha), -1, dtype=np.int64)

    def classes(self, st: dict, queries: Queries) -> np.ndarray:
        """``(Q,)`` class id of every query (building the pool entries of new classes)."""
        cap = np.where(st["act_all"][queries.set_index], queries.dup_cap, 1)
        val = np.where(queries.rule_kind == 0, 0, queries.rule_val)
        keys = np.stack([queries.set_index, cap, queries.rule_kind, val], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        ids = np.empty(len(uniq), dtype=np.int64)
        for i, row in enumerate(map(tuple, uniq.tolist())):
            cid = self.ids.get(row)
            ids[i] = self._add(st, *row) if cid is None else cid
        return ids[inverse.ravel()]

    def _add(self, st: dict, sid: int, cap: int, kind: int, val: int) -> int:
        cand = self.selector.cand
        alpha = class_alphas(cand, cap, kind, val)
        bounds = self.selector.class_bounds(st, sid, alpha)
        lb = st["lb"][sid, alpha]
        cid = len(self.offset)
        start = self.size
        fields = {
            "alpha": alpha, "lb": lb, "suf": _suffix_min(lb),
            "key": cid * _KEY_STRIDE - cand.al_size[alpha],
            "perm": np.lexsort((lb, np.arange(len(alpha)) // BUCKET)) + start,
        }
        fields["lbs"] = lb[fields["perm"] - start]
        for name, values in bounds.items():
            fields[name] = values
            if name in self.selector.suffix_fields:
                fields["suf_" + name] = _suffix_min(values)
        self.ids[(sid, cap, kind, val)] = cid
        self.offset.append(start)
        self.length.append(len(alpha))
        self.size += len(alpha)
        self._store(fields, start, self.size)
        if cid >= len(self.position):
            grown = np.full((max(2 * len(self.position), 64), cand.n_alpha), -1, dtype=np.int64)
            grown[: len(self.position)] = self.position
            self.position = grown
        self.position[cid, alpha] = np.arange(start, self.size)
        return cid

    def _store(self, fields: dict, start: int, stop: int) -> None:
        if stop > self.capacity or not self.arrays:
            cap = max(2 * self.capacity, stop, 1 << 16)
            for name, values in fields.items():
                grown = np.full(cap, _END if name == "key" else 0, dtype=values.dtype)
                if self.capacity:
                    grown[: self.capacity] = self.arrays[name][: self.capacity]
                self.arrays[name] = grown
            self.capacity = cap
        for name, values in fields.items():
            self.arrays[name][start:stop] = values


def class_alphas(cand, cap: int, kind: int, val: int) -> np.ndarray:
    """The alphas a class of searches may use, in the candidates' order (primary resource
    descending): ``dup`` at most ``cap``, and the ``c`` rule -- kind 1 ``c % val == 0``,
    kind 2 ``val % c == 0`` or ``c % val == 0``."""
    c = cand.al_c
    mask = cand.al_d <= cap
    if kind == 1:
        mask &= c % val == 0
    elif kind == 2:
        mask &= (val % c == 0) | (c % val == 0)
    return np.flatnonzero(mask)


def _suffix_min(values: np.ndarray) -> np.ndarray:
    return np.minimum.accumulate(values[::-1])[::-1] if len(values) else values


class Selector:
    """SSR's per-accelerator choice for many searches at once (see the module docstring).

    A subclass provides the candidate grid (``self.cand``: the alphas in primary-resource
    descending order, ``al_*`` arrays, ``n_tiles``, ``n_dups``, ``lookup``) and the
    model's pricing through :meth:`class_bounds`, :meth:`cheap`, :meth:`hopeless`,
    :meth:`alphas`, :meth:`times`, :meth:`evaluate`, :meth:`evaluate_pairs` and
    :meth:`used`.  Pairs are dicts of ``(P,)`` arrays with at least ``q`` (query),
    ``alpha``, ``abc`` (array index), ``d`` and ``di`` (replication and its index).
    """

    #: alphas a search without a threshold scans first; each next window is
    #: ``window_growth`` times wider
    first_window = 16
    window_growth = 8
    #: rounds with at most this many (pair, tile) candidates price all of them at once
    full_eval_limit = 200_000

    def __init__(self, cand) -> None:
        self.cand = cand
        self.pool = ClassPool(self)
        self._answers: dict[bytes, int] = {}  # query key -> its row of the answer table
        self._table: Choices | None = None  # the answers of earlier calls
        self._kept = 0

    #: pool fields of :meth:`class_bounds` whose suffix minima :meth:`hopeless` reads
    suffix_fields: tuple[str, ...] = ()

    # -- the model's part -----------------------------------------------------------------
    def class_bounds(self, st: dict, sid: int, alpha: np.ndarray) -> dict[str, np.ndarray]:
        """Per-alpha pool fields of a class: context-free bounds, and anything a search
        reads per alpha (gathered once per scanned entry)."""
        return {}

    def cheap(self, queries: Queries, q: np.ndarray, gp: np.ndarray) -> np.ndarray:
        """Which (query, pool entry) pairs pass the context-free bounds."""
        return np.ones(len(q), dtype=bool)

    def hopeless(self, queries: Queries, p: np.ndarray) -> np.ndarray:
        """``(Q,)`` no alpha from pool position ``p`` on can meet the share."""
        return np.zeros(queries.n, dtype=bool)

    def alphas(self, st: dict, queries: Queries, q: np.ndarray, gp: np.ndarray) -> dict:
        raise NotImplementedError

    def times(self, st: dict, queries: Queries, pairs: dict) -> np.ndarray:
        raise NotImplementedError

    def evaluate(self, st: dict, queries: Queries, pairs: dict, pi: np.ndarray, ti: np.ndarray):
        """``(ok, score, columns)`` of candidates ``(pair pi, tile ti)``; ``columns`` a dict
        of arrays :meth:`used` and ``hardened`` read back."""
        raise NotImplementedError

    def evaluate_pairs(self, st: dict, queries: Queries, pairs: dict, rows: np.ndarray):
        """:meth:`evaluate` for every tile of pairs ``rows``, ``(R, n_tiles)`` arrays."""
        raise NotImplementedError

    def used(self, abc: np.ndarray, d: np.ndarray, tile: np.ndarray, columns: dict) -> tuple[np.ndarray, np.ndarray]:
        """``(params, used)`` of chosen candidates."""
        raise NotImplementedError

    # -- the search -----------------------------------------------------------------------
    def select(self, st: dict, queries: Queries) -> Choices:
        """The choice of every query; identical queries are searched once, and a query
        answered in an earlier call (the same key: everything its answer depends on) is
        not searched again."""
        if queries.n == 0:
            return self._select(st, queries)
        keys, first, inverse = queries.keys()
        rows = np.fromiter((self._answers.get(key, -1) for key in keys), dtype=np.int64, count=len(keys))
        todo = np.flatnonzero(rows < 0)
        if len(self._answers) + todo.size > ANSWERS_KEPT:  # forget all; this call's answers fresh
            self._answers.clear()
            self._table, rows[:] = None, -1
            todo = np.arange(len(keys))
        if todo.size:
            rows[todo] = self._keep(self._select(st, queries.take(first[todo])))
            self._answers.update(zip([keys[i] for i in todo.tolist()], rows[todo].tolist()))
        return self._table.take(rows[inverse])

    def _keep(self, found: Choices) -> np.ndarray:
        """Append answers to the table of remembered ones; their rows."""
        table, n = self._table, len(found.found)
        if table is None:
            self._table, self._kept = found, n
            return np.arange(n)
        start, columns = self._kept, [f.name for f in fields(Choices)]
        if start + n > len(table.found):  # grow by doubling
            size = max(2 * len(table.found), start + n)
            grown = {}
            for name in columns:
                column = getattr(table, name)
                grown[name] = np.zeros((size,) + column.shape[1:], dtype=column.dtype)
                grown[name][:start] = column[:start]
            table = self._table = Choices(**grown)
        for name in columns:
            getattr(table, name)[start : start + n] = getattr(found, name)
        self._kept = start + n
        return np.arange(start, start + n)

    def prepare(self, queries: Queries) -> None:
        """Per-call preparation of the queries (a subclass's)."""

    def _select(self, st: dict, queries: Queries) -> Choices:
        n = queries.n
        self.prepare(queries)
        pool = self.pool
        cls = pool.classes(st, queries)
        arrays = pool.arrays
        offset = np.array(pool.offset)[cls]
        end = offset + np.array(pool.length)[cls]
        pos = np.searchsorted(arrays["key"], cls * _KEY_STRIDE - queries.share[:, 0], side="left")
        t_ub = np.full(n, np.inf)
        thr = np.full(n, np.inf)
        found: list[dict] = []
        active = pos < end
        active &= ~self.hopeless(queries, np.minimum(pos, self.pool.capacity - 1))
        if queries.hint is not None:
            self._hints(st, queries, cls, pos, active, t_ub, thr, found)
        width = self.first_window
        while active.any():
            qs = np.flatnonzero(active)
            known = np.isfinite(thr[qs])
            qw = qs[~known]  # no feasible candidate yet: a window of positions
            window = pos[qw, None] + np.arange(width)[None, :]
            inside = window < end[qw, None]
            qq = np.broadcast_to(qw[:, None], window.shape)[inside]
            gp = window[inside]
            qb = qs[known]  # a threshold: every remaining alpha below it at once
            if qb.size:
                bq, bgp = self._below(qb, pos[qb], offset[qb], end[qb], thr[qb])
                qq, gp = np.concatenate([qq, bq]), np.concatenate([gp, bgp])
            keep = arrays["lb"][gp] <= thr[qq]
            keep &= self.cheap(queries, qq, gp)
            pairs = self.alphas(st, queries, qq[keep], gp[keep])
            if len(pairs["q"]):
                self._tiles(st, queries, pairs, t_ub, thr, found)
            pos[qw] += width
            p = pos[qw]
            more = p < end[qw]
            more[more] &= arrays["suf"][p[more]] <= thr[qw[more]]
            active[qw] = more
            active[qb] = False
            if active.any():
                width *= self.window_growth
        return self._pick(n, found, thr)

    def _below(self, q, start, offset, end, thr):
        """``(query, pool index)`` of every alpha from ``start`` on whose lower bound is at
        most ``thr``: the buckets up to the first whose suffix minimum exceeds it, and in
        each the ``lb``-sorted prefix below it."""
        arrays = self.pool.arrays
        suf, lbs, perm = arrays["suf"], arrays["lbs"], arrays["perm"]
        b0 = (start - offset) // BUCKET
        nb = -(-(end - offset) // BUCKET)
        lo, hi = b0 + 1, nb.copy()
        while (lo < hi).any():  # bisect for the first bucket whose suffix minimum is over
            go = lo < hi
            mid = (lo + hi) // 2
            over = np.zeros(len(q), dtype=bool)
            over[go] = suf[offset[go] + mid[go] * BUCKET] > thr[go]
            hi = np.where(go & over, mid, hi)
            lo = np.where(go & ~over, mid + 1, lo)
        count = lo - b0
        rows = np.repeat(np.arange(len(q)), count)
        bucket = b0[rows] + (np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count))
        s = offset[rows] + bucket * BUCKET
        e = np.minimum(s + BUCKET, end[rows])
        t = thr[rows]
        a, z = s.copy(), e.copy()
        while (a < z).any():  # bisect each bucket's sorted bounds for thr
            go = a < z
            mid = (a + z) // 2
            le = np.zeros(len(rows), dtype=bool)
            le[go] = lbs[mid[go]] <= t[go]
            a = np.where(go & le, mid + 1, a)
            z = np.where(go & ~le, mid, z)
        take = a - s
        rr = np.repeat(rows, take)
        k = np.arange(len(rr)) - np.repeat(np.cumsum(take) - take, take)
        gp = perm[np.repeat(s, take) + k]
        keep = gp >= start[rr]
        return q[rr[keep]], gp[keep]

    def _hints(self, st, queries, cls, pos, active, t_ub, thr, found) -> None:
        """Price each query's hint first: when it is feasible its time bounds the search
        from the start (a real candidate, so the answer does not change)."""
        h = np.flatnonzero(active & (queries.hint[:, 0] > 0))
        if h.size == 0:
            return
        alpha, tile = self.cand.lookup(queries.hint[h])
        ok = (alpha >= 0) & (tile >= 0)
        h, alpha, tile = h[ok], alpha[ok], tile[ok]
        gp = self.pool.position[cls[h], alpha]
        ok = (gp >= 0) & (gp >= pos[h])
        ok[ok] &= self.cheap(queries, h[ok], gp[ok])
        h, gp, tile = h[ok], gp[ok], tile[ok]
        if h.size == 0:
            return
        tile_of = np.full(queries.n, -1, dtype=np.int64)
        tile_of[h] = tile
        pairs = self.alphas(st, queries, h, gp)
        if len(pairs["q"]) == 0:
            return
        times = self.times(st, queries, pairs)
        pi = np.arange(len(pairs["q"]))
        ti = tile_of[pairs["q"]]
        ok, score, columns = self.evaluate(st, queries, pairs, pi, ti)
        k = np.flatnonzero(ok)
        if k.size:
            self._record(pairs, pi[k], ti[k], times[pi[k], ti[k]], score[k],
                         {name: v[k] for name, v in columns.items()}, t_ub, thr, found)

    def _record(self, pairs, pi, ti, t, score, columns, t_ub, thr, found) -> None:
        """Keep feasible candidates and tighten their queries' thresholds."""
        cand = self.cand
        q = pairs["q"][pi]
        np.minimum.at(t_ub, q, t)
        key = (pairs["abc"][pi] * cand.n_dups + pairs["di"][pi]) * cand.n_tiles + ti
        found.append({"q": q, "t": t, "score": score, "key": key, "abc": pairs["abc"][pi],
                      "d": pairs["d"][pi], "tile": ti, **columns})
        fin = np.isfinite(t_ub)
        thr[fin] = np.maximum(np.floor(TIME_BAND * t_ub[fin]), t_ub[fin])

    def _tiles(self, st, queries, pairs, t_ub, thr, found) -> None:
        """Price the tiles of this round's pairs that may lie within the band."""
        times = self.times(st, queries, pairs)
        pq = pairs["q"]
        if times.size <= self.full_eval_limit:
            # few pairs: every tile of every pair in one vectorised pricing is cheaper
            # than probing them a few at a time
            ok, score, columns = self.evaluate_pairs(st, queries, pairs, np.arange(len(pq)))
            ok &= times <= thr[pq][:, None]
            pi, ti = np.nonzero(ok)
            if pi.size:
                self._record(pairs, pi, ti, times[pi, ti], score[pi, ti],
                             {name: v[pi, ti] for name, v in columns.items()}, t_ub, thr, found)
            return
        evaluated = np.zeros(times.shape, dtype=bool)
        tmin = times.min(axis=1)

        def run(pi, ti):
            evaluated[pi, ti] = True
            ok, score, columns = self.evaluate(st, queries, pairs, pi, ti)
            k = np.flatnonzero(ok)
            if k.size:
                self._record(pairs, pi[k], ti[k], times[pi[k], ti[k]], score[k],
                             {name: v[k] for name, v in columns.items()}, t_ub, thr, found)

        # probe each query's pairs in order of their fastest tile, each with the tiles that
        # could share a band with it, while that tile is within the query's threshold
        order = np.lexsort((tmin, pq))
        sq = pq[order]
        first = np.concatenate([[0], np.flatnonzero(sq[1:] != sq[:-1]) + 1])
        rank = np.empty(len(pq), dtype=np.int64)
        rank[order] = np.arange(len(pq)) - np.repeat(first, np.diff(np.concatenate([first, [len(pq)]])))
        band = np.maximum(np.floor(TIME_BAND * tmin), tmin)
        by_rank = np.argsort(rank, kind="stable")
        top = int(rank.max()) + 1
        edges = [0, 1, 2]
        while edges[-1] < top:
            edges.append(2 * edges[-1])
        bounds = np.searchsorted(rank[by_rank], edges)
        for r in range(len(edges) - 1):  # ranks 0, 1, 2-3, 4-7, ...
            rows = by_rank[bounds[r] : bounds[r + 1]]
            rows = rows[tmin[rows] <= thr[pq[rows]]]
            if rows.size == 0:
                continue
            lim = np.minimum(band[rows], thr[pq[rows]])
            pi, ti = np.nonzero((times[rows] <= lim[:, None]) & ~evaluated[rows])
            if pi.size:
                run(rows[pi], ti)
        # still nothing for a query: every remaining tile of its pairs
        rest = np.flatnonzero(np.isinf(thr[pq]))
        if rest.size:
            ok, score, columns = self.evaluate_pairs(st, queries, pairs, rest)
            ok &= ~evaluated[rest]
            evaluated[rest] = True
            pi, ti = np.nonzero(ok)
            if pi.size:
                self._record(pairs, rest[pi], ti, times[rest[pi], ti], score[pi, ti],
                             {name: v[pi, ti] for name, v in columns.items()}, t_ub, thr, found)
        # everything within the (final) threshold not priced yet
        pi, ti = np.nonzero((times <= thr[pq][:, None]) & ~evaluated)
        if pi.size:
            run(pi, ti)

    def _pick(self, n: int, found: list[dict], thr: np.ndarray) -> Choices:
        """Per query the least (score, time, SSR order) among its feasible candidates
        within its final threshold."""
        n_params, n_resources = self.n_params, self.n_resources
        out = Choices(np.zeros(n, dtype=bool), np.zeros((n, n_params), dtype=np.int64),
                      np.zeros((n, n_resources), dtype=np.int64), np.full(n, np.nan), np.zeros(n, dtype=bool))
        if not found:
            return out
        cols = {name: np.concatenate([f[name] for f in found]) for name in found[0]}
        keep = cols["t"] <= thr[cols["q"]]
        cols = {name: v[keep] for name, v in cols.items()}
        q = cols["q"]
        order = np.lexsort((cols["key"], cols["t"], cols["score"], q))
        sq = q[order]
        first = order[np.concatenate([[True], sq[1:] != sq[:-1]])]
        chosen = {name: v[first] for name, v in cols.items()}
        qi = chosen["q"]
        params, used = self.used(chosen["abc"], chosen["d"], chosen["tile"], chosen)
        out.found[qi] = True
        out.params[qi] = params
        out.used[qi] = used
        out.time_ns[qi] = chosen["t"]
        if "hardened" in chosen:
            out.hardened[qi] = chosen["hardened"]
        return out
