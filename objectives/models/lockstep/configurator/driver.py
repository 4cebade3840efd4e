"""Configuring the accelerators of whole populations at once, SSR's way.

The SSR estimator does not search accelerator shapes jointly with the assignment: for a
node-to-accelerator assignment it splits the chip among the accelerators and picks each
one's best configuration within its share (``cdac_top`` -> ``cdse_on_chip``; spec
sections 5 and 6).  :class:`LockStepConfigurator` does that for N designs at once --
loops run over accelerator slots, passes and dependencies, never over designs:

1. **One accelerator**: it gets the whole budget.
2. **Pre-pass** (rules with a head-replication hint, SSR): each attention-only
   accelerator is configured on its initial share; the largest ``dup`` found
   (``dup_hint``) bounds the attention-only accelerators' ``dup`` and requires ``c %
   dup_hint == 0`` of the accelerator holding Q/K/V (without an attention-only
   accelerator: ``heads % c == 0`` or ``c % heads == 0``).
3. **The split**, in order of first use (:mod:`.split`): each accelerator gets its share
   of what is left, by work or by buffers, and what it *actually uses* is subtracted; an
   accelerator that fits nothing gets its RAM widened (up to three times) before the
   design is given up.
4. **Reconciliation**: partition factors depend on every producer, but during the split
   only the accelerators before one are known; those with later producers or consumers
   are configured again knowing all, within their share and what the others leave, in
   order, until nothing changes (at most three passes).  A search whose inputs have not
   changed since it last ran is skipped (its answer is in place).

The per-accelerator choice is the selector's (:mod:`.selection`); everything a model
prices differently is a subclass's (``ssropt.objectives.models.ssr.configurator``).
``weights`` (the ``tuned`` configurator) scale each accelerator's work and buffers before
the split, so the search can reach designs SSR's fixed split never builds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.design import DesignBatch, relabel_by_first_use
from ssropt.objectives.models.lockstep.configurator.context import (
    Queries,
    consumers,
    dependency_view,
    needs,
    producers,
    same_context,
)
from ssropt.objectives.models.lockstep.configurator.split import WIDEN_TRIES, share_ratio

#: reconciliation passes over accelerators fed by accelerators configured after them
RECONCILE_PASSES = 3


@dataclass(frozen=True)
class Configuration:
    """The configured accelerators of one assignment (canonical labels).

    Attributes:
        assignment: ``(n_nodes,)`` canonical accelerator of every node.
        batch: images per batch.
        params: ``(k, n_params)`` parameters per accelerator (the smallest candidate for
            accelerators left unconfigured when ``feasible`` is False).
        feasible: every accelerator found a configuration within its share.
        shares: ``(k, R)`` the budget each accelerator was given (0 if not reached).
        used: ``(k, R)`` what each configured accelerator uses by the configurator's count.
        time_ns: ``(k,)`` each accelerator's summed layer time (NaN if not configured).
        dup_hint: the pre-pass's largest ``dup`` (1 without attention-only accelerators).
    """

    assignment: np.ndarray
    batch: int
    params: np.ndarray
    feasible: bool
    shares: np.ndarray
    used: np.ndarray
    time_ns: np.ndarray
    dup_hint: int


@dataclass
class Configured:
    """Configurations of N designs as arrays (``A`` the widest accelerator count)."""

    assignment: np.ndarray  # (n, J) canonical
    batch: np.ndarray  # (n,)
    params: np.ndarray  # (n, A, n_params), zero beyond each design's accelerators
    feasible: np.ndarray  # (n,)
    shares: np.ndarray  # (n, A, R)
    used: np.ndarray  # (n, A, R)
    time_ns: np.ndarray  # (n, A)
    dup_hint: np.ndarray  # (n,)
    n_acc: np.ndarray  # (n,)


class LockStepConfigurator:
    """Configures the accelerators of a lock-step model (see the module docstring).

    A subclass sets ``model``, ``cand`` (the candidate grid: ``ops``, ``act``,
    ``attention_input``, ``m``, ``k``, ``n``, ``heads``, ``deps``, ``dups``), ``sets`` (node-set
    table with ``index(masks)`` and ``arrays``), ``selector``, ``rule`` (a
    :class:`~.split.SplitRule`), ``budget`` (``(R,)``), ``smallest`` (``(n_params,)``) and
    ``dup_hint_rule``, and implements :meth:`partition_arrays` and :meth:`buffer_words`.
    """

    #: SSR's pre-pass and ``c`` rule on the accelerator holding Q/K/V
    dup_hint_rule = True
    reconcile = True

    # -- model-specific ------------------------------------------------------------------
    def partition_arrays(self, params: np.ndarray) -> np.ndarray:
        """``(..., 4)``: ``a, b, c, dup`` as bank partitions count them."""
        return params[..., :4]

    def buffer_words(self, st: dict, rows: np.ndarray, width: int) -> np.ndarray:
        """``(n, U, 4)`` words and buffer counts of every accelerator's banks (what
        ``selector.buffer_banks`` takes after the partition factors)."""
        raise NotImplementedError

    # -- public API ----------------------------------------------------------------------
    def configure(self, assignment: np.ndarray, batch: int) -> Configuration:
        """Configure every accelerator of one assignment (any labels) at one batch size."""
        return self.configure_many(np.asarray(assignment)[None, :], np.array([batch]))[0]

    def configure_many(self, assignments: np.ndarray, batches: np.ndarray) -> list[Configuration]:
        """:meth:`configure` for ``(n, n_nodes)`` assignments and ``(n,)`` batches."""
        cfg = self.configure_arrays(assignments, batches)
        return [  # a convenience view of the arrays, one object per design
            Configuration(cfg.assignment[i].copy(), int(cfg.batch[i]), cfg.params[i, :k], bool(cfg.feasible[i]),
                          cfg.shares[i, :k], cfg.used[i, :k], cfg.time_ns[i, :k], int(cfg.dup_hint[i]))
            for i, k in enumerate(cfg.n_acc.tolist())
        ]

    def designs(self, assignments, batches, n_slots: int | None = None, weights=None) -> tuple[DesignBatch, np.ndarray]:
        """The configured designs of ``(n, n_nodes)`` assignments and ``(n,)`` batches as a
        DesignBatch (canonical assignments, ``n_slots`` accelerator slots, default the
        widest) and ``(n,)`` whether each configuration fit its shares; ``weights`` ``(n,
        A)`` share weights of the canonical accelerators (``tuned``)."""
        cfg = self.configure_arrays(assignments, batches, weights)
        width = cfg.params.shape[1] if n_slots is None else int(n_slots)
        params = np.zeros((len(cfg.batch), width, cfg.params.shape[2]), dtype=np.int64)
        w = min(width, cfg.params.shape[1])
        params[:, :w] = cfg.params[:, :w]
        return DesignBatch(self.model.cost_model, cfg.batch, cfg.assignment, params), cfg.feasible

    # -- the passes ----------------------------------------------------------------------
    def configure_arrays(self, assignments, batches, weights=None) -> Configured:
        """:class:`Configured` of ``(n, n_nodes)`` assignments and ``(n,)`` batches, under
        the model's lock (its schedule cache and this configurator's tables are shared by
        every thread that prices the workload)."""
        with self.model.lock:
            return self._configure_arrays(assignments, batches, weights)

    def _configure_arrays(self, assignments, batches, weights=None) -> Configured:
        cand = self.cand
        assignments = np.asarray(assignments, dtype=np.int64)
        batches = np.asarray(batches, dtype=np.int64).reshape(-1)
        if assignments.ndim != 2 or assignments.shape[1] != len(cand.m):
            raise SsroptError(f"assignments have shape {assignments.shape}, expected (n, {len(cand.m)})")
        if len(batches) != len(assignments):
            raise SsroptError(f"{len(batches)} batch sizes for {len(assignments)} assignments")
        canon, _ = relabel_by_first_use(assignments)
        n, J = canon.shape
        n_acc = canon.max(axis=1) + 1
        A = int(n_acc.max(initial=1))
        slots = np.arange(A)
        on = canon[:, None, :] == slots[None, :, None]
        used_slot = slots[None, :] < n_acc[:, None]
        masks = np.where(used_slot, (on.astype(np.int64) << np.arange(J)).sum(axis=2), 1)
        lhs, rhs = _buffer_counts(self.model.scheduler.summaries(batches, canon), n_acc, A)
        weight = np.ones((n, A)) if weights is None else np.asarray(weights, dtype=float)[:, :A]
        mem = (lhs + rhs).astype(float) * weight
        ops = np.where(on, cand.ops, 0).sum(axis=2).astype(float) * weight
        bdot = used_slot & ~(on & ~cand.act).any(axis=2)  # attention-only
        att = (on & cand.attention_input).any(axis=2)  # holds Q/K/V
        act_nodes = on & cand.act
        st = {
            "canon": canon, "A": A, "set_index": self.sets.index(masks), "lhs": lhs,
            "params": np.tile(self.smallest, (n, A, 1)), "hardened": np.zeros((n, A), dtype=bool),
            "mmax": np.where(on, cand.m, 0).max(axis=2), "kmax": np.where(on, cand.k, 0).max(axis=2),
            "kact": np.where(act_nodes, cand.k, 0).max(axis=2), "nact": np.where(act_nodes, cand.n, 0).max(axis=2),
        }
        params = st["params"]
        R = len(self.budget)
        shares = np.zeros((n, A, R), dtype=np.int64)
        used = np.zeros((n, A, R), dtype=np.int64)
        times = np.full((n, A), np.nan)
        feasible = np.ones(n, dtype=bool)
        dup_hint = np.ones(n, dtype=np.int64)
        heads = cand.heads
        multi = n_acc > 1
        any_bdot = bdot.any(axis=1)

        def commit(rows, k, ch, sel):
            r = rows[sel]
            params[r, k], used[r, k], times[r, k] = ch.params[sel], ch.used[sel], ch.time_ns[sel]
            st["hardened"][r, k] = ch.hardened[sel]

        def rule_of(rows, k):
            """Per row: the dup cap and the c rule of accelerator k."""
            if not self.dup_hint_rule:
                return np.where(bdot[rows, k], heads, 1), np.zeros(len(rows), np.int64), np.zeros(len(rows), np.int64)
            kind = np.where(att[rows, k], np.where(any_bdot[rows], 1, 2), 0)
            val = np.where(any_bdot[rows], dup_hint[rows], heads)
            return np.where(bdot[rows, k], dup_hint[rows], 1), kind, val

        # -- one accelerator: the whole budget
        rows = np.flatnonzero(~multi)
        if rows.size:
            share = np.tile(self.budget, (rows.size, 1))
            shares[rows, 0] = share
            b0 = bdot[rows, 0]
            if self.dup_hint_rule:
                kind, val = np.where(b0, 1, 2), np.where(b0, 1, heads)
            else:
                kind = val = np.zeros(rows.size, np.int64)
            ch = self.choose(st, self.queries(st, rows, 0, 1, share, np.where(b0, heads, 1), kind, val))
            commit(rows, 0, ch, ch.found)
            feasible[rows[~ch.found]] = False

        total_ops, total_mem = ops.sum(axis=1), mem.sum(axis=1)
        # -- pre-pass: the head replication each attention-only accelerator reaches (the
        # searches of every slot are independent -- nothing is configured yet -- so they
        # are made in one call)
        if self.dup_hint_rule:
            searches, owners = [], []
            for k in range(A):
                rows = np.flatnonzero(multi & (k < n_acc) & bdot[:, k])
                if rows.size == 0:
                    continue
                share = self.rule.shares(np.tile(self.budget, (rows.size, 1)), ops[rows, k] / total_ops[rows],
                                         share_ratio(mem[rows, k], total_mem[rows], n_acc[rows]),
                                         last=np.zeros(rows.size, bool), attention_only=np.ones(rows.size, bool))
                z = np.zeros(rows.size, dtype=np.int64)
                searches.append(self.queries(st, rows, k, 0, share, np.full(rows.size, heads), z, z))
                owners.append(rows)
            if searches:
                ch = self.choose(st, Queries.concatenate(searches))
                rows = np.concatenate(owners)
                np.maximum.at(dup_hint, rows[ch.found], ch.params[ch.found, 3])

        # -- the split, in order of first use
        left = np.tile(self.budget.astype(float), (n, 1))
        ops_left, mem_left = total_ops.copy(), total_mem.copy()
        for k in range(A):
            rows = np.flatnonzero(multi & feasible & (k < n_acc))
            if rows.size == 0:
                continue
            ol = ops_left[rows]
            ops_ratio = np.where(ol > 0, ops[rows, k] / np.where(ol > 0, ol, 1.0), 1.0)
            share = self.rule.shares(left[rows], ops_ratio, share_ratio(mem[rows, k], mem_left[rows], n_acc[rows] - k),
                                     last=k == n_acc[rows] - 1, attention_only=bdot[rows, k])
            shares[rows, k] = share
            queries = self.queries(st, rows, k, k, share, *rule_of(rows, k))
            ch = self.choose(st, queries)
            commit(rows, k, ch, ch.found)
            lost = np.flatnonzero(~ch.found)
            if lost.size:
                self._widened(st, k, rows, lost, queries, left, shares, commit)
            done = ~np.isnan(times[rows, k])
            feasible[rows[~done]] = False
            ok = rows[done]
            left[ok] -= used[ok, k]
            ops_left[ok] -= ops[ok, k]
            mem_left[ok] -= mem[ok, k]

        # -- reconciliation with every producer known
        if self.reconcile:
            active = multi & feasible
            version = np.zeros(n, dtype=np.int64)
            searched = np.full((n, A), -1, dtype=np.int64)
            for _ in range(RECONCILE_PASSES):
                changed = np.zeros(n, dtype=bool)
                for k in range(A):
                    rows = np.flatnonzero(active & (k < n_acc))
                    rows = rows[searched[rows, k] != version[rows]]
                    if rows.size == 0:
                        continue
                    view = dependency_view(canon[rows], self.partition_arrays(params[rows]), cand.deps)
                    rows = rows[~same_context(view, k, n_acc[rows], A)]
                    if rows.size == 0:
                        continue
                    cap = np.minimum(shares[rows, k], self.budget - (used[rows].sum(axis=1) - used[rows, k]))
                    queries = self.queries(st, rows, k, n_acc[rows], cap, *rule_of(rows, k))
                    queries.hint = params[rows, k].copy()  # the current choice bounds the search
                    ch = self.choose(st, queries)
                    diff = ch.found & (ch.params != params[rows, k]).any(axis=1)
                    commit(rows, k, ch, diff)
                    changed[rows[diff]] = True
                    version[rows[diff]] += 1
                    searched[rows, k] = version[rows]
                active &= changed
                if not active.any():
                    break

        params = np.where(used_slot[:, :, None], params, 0)
        return Configured(canon, batches, params, feasible, shares, used, times, dup_hint, n_acc)

    def _widened(self, st, k, rows, lost, queries, left, shares, commit) -> None:
        """Accelerator ``k`` of the designs ``rows[lost]``, which fit nothing in their
        share: tried again with the widened resources doubled (up to ``WIDEN_TRIES`` times,
        while the share still grows), the first widening that fits kept.  A design that
        fits none keeps the share one more widening gives (as the split records it).
        Every widening is known in advance, so all of them are searched in one call."""
        share = queries.share[lost]
        going = np.ones(lost.size, dtype=bool)
        which, shares_of = [], []
        last = share.copy()  # per row its last share that grew
        for step in range(WIDEN_TRIES + 1):
            wider = self.rule.widen(share, left[rows[lost]])
            going &= ~(wider == share).all(axis=1)
            share = np.where(going[:, None], wider, share)
            last[going] = share[going]
            if step < WIDEN_TRIES:
                which.append(np.flatnonzero(going))
                shares_of.append(share[going])
        grew = ~(last == queries.share[lost]).all(axis=1)
        shares[rows[lost[grew]], k] = last[grew]
        if not any(w.size for w in which):
            return
        searches = queries.take(np.concatenate([lost[w] for w in which]))
        searches.share = np.concatenate(shares_of)
        ch = self.choose(st, searches)
        attempt = np.concatenate([np.full(w.size, t) for t, w in enumerate(which)])
        row = np.concatenate(which)
        hit = np.flatnonzero(ch.found)
        if hit.size == 0:
            return
        order = hit[np.lexsort((attempt[hit], row[hit]))]  # per row its first try that fits
        first = order[np.concatenate([[True], row[order][1:] != row[order][:-1]])]
        r = rows[lost[row[first]]]
        shares[r, k] = searches.share[first]
        commit(r, k, ch.take(first), np.ones(first.size, dtype=bool))

    # -- one slot's searches -------------------------------------------------------------
    def choose(self, st: dict, queries: Queries):
        return self.selector.select(self.sets.arrays, queries)

    def queries(self, st, rows, k, configured, share, dup_cap, rule_kind, rule_val) -> Queries:
        """The searches of accelerator ``k`` of designs ``rows`` when the accelerators
        before ``configured`` (per row) are known."""
        n, U = len(rows), st["A"]
        conf = np.reshape(np.broadcast_to(configured, (n,)), (n, 1))
        arrays = self.partition_arrays(st["params"][rows])
        view = dependency_view(st["canon"][rows], arrays, self.cand.deps)
        prod_a, prod_c, prod_div = producers(view, k, conf, self.cand.dups)
        cons_valid, cons_roles = consumers(view, k, conf, U)
        cons_arr = arrays[:, :U, :4].copy()
        if cons_valid.any():
            cons_needs = needs(view, k, conf[:, 0], U)
            cons_buf = self.buffer_words(st, rows, U)
            old = (cons_needs[..., 0] // cons_arr[..., 0], cons_needs[..., 1] // cons_arr[..., 1],
                   cons_needs[..., 2] // cons_arr[..., 1], cons_needs[..., 3] // cons_arr[..., 2])
            ob, ou = self.selector.buffer_banks(cons_arr[..., 0], cons_arr[..., 1], cons_arr[..., 2], old,
                                                *(cons_buf[..., i] for i in range(4)))
            cons_old = np.stack([ob, ou], axis=2)
        else:
            cons_needs = np.ones((n, U, 4), dtype=np.int64)
            cons_buf = np.zeros((n, U, 4), dtype=np.int64)
            cons_old = np.zeros((n, U, 2), dtype=np.int64)
        return Queries(
            set_index=st["set_index"][rows, k], share=share, dup_cap=dup_cap, rule_kind=rule_kind,
            rule_val=rule_val, lhs_buffers=st["lhs"][rows, k], prod_a=prod_a, prod_c=prod_c,
            prod_div=prod_div, cons_valid=cons_valid, cons_roles=cons_roles, cons_needs=cons_needs,
            cons_arr=cons_arr, cons_buf=cons_buf, cons_old=cons_old,
        )


def _buffer_counts(summaries, n_acc: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n, width)`` peak LHS and RHS buffers of every design's accelerators."""
    out = []
    for field in ("lhs_buffers", "rhs_buffers"):
        parts = [getattr(sm, field) for sm in summaries]
        length = np.minimum(np.array([len(p) for p in parts], dtype=np.int64), n_acc)
        values = np.concatenate([p[:k] for p, k in zip(parts, length.tolist())]) if parts else np.zeros(0, np.int64)
        rows = np.repeat(np.arange(len(parts)), length)
        cols = np.arange(len(rows)) - np.repeat(np.cumsum(length) - length, length)
        counts = np.zeros((len(parts), width), dtype=np.int64)
        counts[rows, cols] = values
        out.append(counts)
    return out[0], out[1]
