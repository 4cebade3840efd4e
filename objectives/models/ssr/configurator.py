"""SSR-style accelerator configuration: from an assignment and a batch to complete designs.

The SSR estimator does not search accelerator shapes jointly with the assignment: for a
given node-to-accelerator assignment it splits the chip among the accelerators and then
picks each accelerator's best configuration by exhaustive enumeration
(``cdac_top`` -> ``cdse_on_chip``; specification sections 5 and 6).
:class:`SsrConfigurator` does the same for the ``ssr`` cost model, vectorised over the
candidate configurations:

1. **Split** (spec 5, :mod:`.share`).  Accelerators are processed in order of first use;
   each gets its share of what is left of the chip, by operations and buffers, and what
   it *actually uses* is subtracted from what is left.  With several accelerators and an
   attention-only ("Bdot") one, a pre-pass configures each Bdot accelerator on its
   initial share to find ``dup_hint`` (the largest head replication found), which then
   bounds the Bdot accelerators' ``dup`` and requires ``c % dup_hint == 0`` on the
   accelerator holding Q/K/V; without a Bdot accelerator the Q/K/V accelerator needs
   ``heads % c == 0`` or ``c % heads == 0`` (one accelerator: that rule always).

2. **Configure** (spec 6, :mod:`.search`).  Every candidate of the value tables is priced
   at once with the model's own equations and the fastest within the share wins (least
   RAM within 8 % of the fastest).

Approximation (documented): bank-partition factors depend on every producer of an
accelerator's nodes.  During selection only producers already configured (earlier in
the order) and the accelerator's own edges are known, so edges from later accelerators
are ignored here (the public code does the same, spec 5 "coverage" quirk).  The design is
then evaluated by the real model (``Space.evaluate``), which derives the factors from
all producers and repairs anything over budget.

Searches are cached (:class:`~.search.AcceleratorSearch`), and so is the configuration
of every (canonical assignment, batch), so configuring a design again costs a lookup.

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

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.design import DesignBatch, relabel_by_first_use
from ssropt.objectives.models.ssr.search import CACHE_LIMIT, AcceleratorSearch
from ssropt.objectives.models.ssr.share import (
    SPLIT_RESOURCES,
    WIDEN_TRIES,
    share_ratio,
    ssr_share,
    widen_share,
)
from ssropt.objectives.workloads.graph import Role

if TYPE_CHECKING:
    from ssropt.objectives.models.base import CostModel

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
