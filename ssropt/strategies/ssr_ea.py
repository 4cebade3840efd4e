"""``ssr-ea``: the SSR estimator's own search, as a baseline strategy.

The public SSR estimator (spec section 2) fixes the accelerator count ``k`` and the batch,
and runs a single-objective evolutionary algorithm over the node-to-accelerator
assignment; every candidate's accelerators are configured by splitting the chip and
enumerating each accelerator's configurations (:mod:`ssropt.objectives.models.ssr.configurator`), and
its cost is the latency.  This strategy does that for every ``(k, batch)`` pair of a
space, with the EA as intended:

- **genome**: one accelerator label per node group, in ``0 .. k-1``, using all ``k``;
- **initial population**: ``nPop = population_size`` uniform random assignments that use
  every accelerator (drawn again until they do), or, when the pair has at most ``nPop``
  distinct assignments (``k = 1``, ``k`` = one per group, the ``spatial`` space, ...),
  every one of them once, which finishes the pair;
- **iteration**: ``nPop`` children from pairs of parents drawn by roulette wheel with
  probability ``exp(-beta * cost / mean cost)`` (``beta = 1``), uniform crossover, and
  mutation of each gene with probability 0.1 by an independent step of +-1 (mod ``k``);
  children that leave an accelerator empty, or whose accelerators find no
  configuration within their shares, cost ``1e30`` without being evaluated;
- **survivors**: the ``nPop`` cheapest of parents and children together
  (:func:`select_survivors`).  The public code divides the parents' costs by their mean
  *in place* before this merge, so the (normalised, ~1) parents always beat the (raw ns)
  children and the population never changes (spec 2, "Quirk"); here the roulette
  normalises a copy and the merge compares raw costs;
- **cost**: the evaluated latency of a feasible design (every ``G <= 0``), else ``1e30``.

Every configured design is asked as a genome of the space and goes through
``Space.evaluate`` like any other strategy's; a design already in the population (or
asked earlier in the same generation) takes its known cost instead of being asked again.

**Schedule.**  The strategy does not know the run's budget, so it cycles: pairs are
ordered by ``k`` (from the space's fewest to its most accelerators; ``sequential`` has
``k = 1`` only, ``spatial`` one assignment, one per group) and then by batch size; each
ask serves the next unfinished pair in that cycle one generation (its initial population
or one iteration), so a budget cut anywhere leaves every pair about equally explored.  A
pair is finished after its initial population and ``ceil(ITERATION_EVALUATIONS /
nPop)`` iterations (20 at ``nPop = 100``); pairs enumerated in one generation share an
ask while they fit in ``nPop``.  The strategy is ``finished`` when every pair is.  Seed
designs (``initial``) form the first ask on their own and are not bred from.

Everything random comes from one ``numpy`` generator seeded with the strategy seed; the
checkpoint is plain JSON data -- the generator's ``bit_generator.state``, every pair's
population (labels) and costs, iteration counts and the cycle position -- so a resumed run
asks exactly what the uninterrupted one would.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.design import relabel_by_first_use
from ssropt.spaces.configured import configurator_for
from ssropt.spaces.space import Space
from ssropt.strategies.base import Strategy, float_array, plain_floats

#: evaluations (population x iterations) each (k, batch) pair gets after its initial one
ITERATION_EVALUATIONS = 2000
#: roulette-wheel selection pressure (``beta`` of the public code)
BETA = 1.0
#: probability that a child's gene is mutated (``mutate_ratio``)
MUTATE_RATIO = 0.1
#: cost of an infeasible or unbuildable assignment
INFEASIBLE = 1e30
_REJECTION_ROUNDS = 200


def select_survivors(
    parents: np.ndarray, parent_cost: np.ndarray, children: np.ndarray, child_cost: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` cheapest of parents and children (parents first on ties), with costs.

    >>> p, c = select_survivors(np.array([[0], [1]]), np.array([5.0, 9.0]),
    ...                         np.array([[2], [3]]), np.array([7.0, 1.0]), 2)
    >>> p.ravel().tolist(), c.tolist()
    ([3, 0], [1.0, 5.0])
    """
    genomes = np.concatenate([parents, children])
    cost = np.concatenate([parent_cost, child_cost]).astype(float)
    order = np.argsort(cost, kind="stable")[:n]
    return genomes[order], cost[order]


def roulette_probabilities(cost: np.ndarray, beta: float = BETA) -> np.ndarray:
    """``exp(-beta * cost / mean(cost))`` normalised; the costs are not modified."""
    cost = np.asarray(cost, dtype=float)
    mean = cost.mean()
    scaled = cost / mean if mean > 0 else np.zeros_like(cost)
    weight = np.exp(-beta * (scaled - scaled.min()))
    return weight / weight.sum()


def stirling2(n: int, k: int) -> int:
    """Ways to split ``n`` groups onto exactly ``k`` unlabelled accelerators."""
    return sum((-1) ** i * math.comb(k, i) * (k - i) ** n for i in range(k + 1)) // math.factorial(k)


def restricted_growth_strings(n: int, k: int) -> np.ndarray:
    """``(S(n, k), n)`` every canonical labelling of ``n`` groups using exactly ``k`` labels."""
    out: list[list[int]] = []

    def grow(prefix: list[int], used: int) -> None:
        left = n - len(prefix)
        if left == 0:
            if used == k:
                out.append(list(prefix))
            return
        if used + left < k:
            return
        for label in range(min(used + 1, k)):
            grow(prefix + [label], max(used, label + 1))

    grow([], 0)
    return np.array(out, dtype=np.int64).reshape(-1, n)


class SsrEa(Strategy):
    """The SSR estimator's EA over assignments, per (accelerators, batch) pair."""

    name = "ssr-ea"

    def __init__(
        self,
        space: Space,
        seed: int,
        population_size: int = 100,
        initial: np.ndarray | None = None,
    ) -> None:
        super().__init__(space, seed, population_size, initial)
        if space.model.cost_model != "ssr":
            raise SsroptError(
                f"strategy 'ssr-ea' configures accelerators with the 'ssr' cost model, "
                f"not {space.model.cost_model!r}"
            )
        self.configurator = configurator_for(space)
        self.n_groups = len(space.group_names)
        family = space.options.family
        if family == "sequential":
            counts = [1]
        elif family == "spatial":
            counts = [self.n_groups]
        else:
            counts = list(range(max(1, space.options.min_accelerators), space.n_slots + 1))
        self.runs = [(k, b) for k in counts for b in range(len(space.batch_values))]
        self.n_iter = max(1, math.ceil(ITERATION_EVALUATIONS / self.population_size))
        self._enumerable = [
            family != "hybrid" or stirling2(self.n_groups, k) <= self.population_size
            for k, _ in self.runs
        ]
        self._rng = np.random.default_rng(self.seed)
        self._population: list[np.ndarray | None] = [None] * len(self.runs)
        self._cost: list[np.ndarray | None] = [None] * len(self.runs)
        self._iterations = [0] * len(self.runs)
        self._done = [False] * len(self.runs)
        self._cursor = 0
        self._initial_pending = len(self.initial) > 0
        self._pending: list[dict] | None = None

    # -- schedule ----------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return not self._initial_pending and all(self._done) and not self._pending

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "iterations": self.n_iter}

    def _next_run(self, skip: set[int]) -> int | None:
        for step in range(len(self.runs)):
            r = (self._cursor + step) % len(self.runs)
            if not self._done[r] and r not in skip:
                return r
        return None

    def _max_asks(self, r: int) -> int:
        if self._population[r] is None and self._enumerable[r]:
            return self._candidate_count(r)
        return self.population_size

    def _candidate_count(self, r: int) -> int:
        k = self.runs[r][0]
        if self.space.options.family != "hybrid":
            return 1
        return stirling2(self.n_groups, k)

    # -- ask / tell ----------------------------------------------------------------------------
    def _ask(self) -> np.ndarray:
        if self._initial_pending:
            self._pending = []
            return self.initial.copy()
        entries: list[dict] = []
        size = 0
        served: set[int] = set()
        while size < self.population_size:
            r = self._next_run(served)
            if r is None or (size and self._max_asks(r) > self.population_size - size):
                break
            self._cursor = (r + 1) % len(self.runs)
            entry = self._prepare(r)
            if len(entry["genomes"]) == 0:
                self._finish(entry)  # nothing new to evaluate: the generation is complete
                continue
            served.add(r)
            entry["offset"] = size
            size += len(entry["genomes"])
            entries.append(entry)
        self._pending = entries
        if not entries:
            return np.zeros((0, self.space.n_genes), dtype=np.int64)
        return np.concatenate([e["genomes"] for e in entries])

    def _tell(self, genomes: np.ndarray, F: np.ndarray, G: np.ndarray, n_asked: int) -> None:
        if self._initial_pending:
            self._initial_pending = False
            self._pending = None
            return
        n = len(genomes)
        feasible = (G <= 0).all(axis=1)
        told = np.where(feasible, F[:, 0], INFEASIBLE)
        for entry in self._pending or []:
            asked = entry["rows"] >= 0  # the others' costs are known
            rows = np.where(asked, entry["rows"] + entry["offset"], -1)
            cost = entry["cost"].copy()
            reached = asked & (rows < n)
            cost[reached] = told[rows[reached]]
            keep = ~asked | reached  # candidates whose row was cut off are dropped
            entry["labels"], entry["cost"] = entry["labels"][keep], cost[keep]
            self._finish(entry)
        self._pending = None

    # -- one generation of one run -------------------------------------------------------------
    def _prepare(self, r: int) -> dict:
        """Run ``r``'s next generation: candidate labels, their known costs (NaN until
        told), each one's row among the genomes to ask (-1 if its cost is known)."""
        k, batch_index = self.runs[r]
        initial = self._population[r] is None
        if initial:
            labels = self._initial_labels(r)
        else:
            labels = self._children(r)
        labels, _ = relabel_by_first_use(labels) if len(labels) else (labels, None)
        known: dict[bytes, float] = {}
        if not initial:
            for row, c in zip(self._population[r], self._cost[r]):
                known.setdefault(row.tobytes(), float(c))
        cost = np.full(len(labels), np.nan)
        rows = np.full(len(labels), -1, dtype=np.int64)
        uses_all = (labels.max(axis=1, initial=-1) + 1 == k) if len(labels) else np.zeros(0, bool)
        new_index: dict[bytes, int] = {}
        to_ask: list[int] = []
        for i, row in enumerate(labels):
            key = row.tobytes()
            if not uses_all[i]:
                cost[i] = INFEASIBLE
            elif key in known:
                cost[i] = known[key]
            elif key in new_index:
                rows[i] = new_index[key]
            else:
                new_index[key] = len(to_ask)
                rows[i] = len(to_ask)
                to_ask.append(i)
        batch = int(self.space.batch_values[batch_index])
        asked = np.zeros((0, self.space.n_genes), dtype=np.int64)
        if to_ask:
            assignment = labels[to_ask][:, self.space.group_of_node]
            designs, buildable = self.configurator.designs(
                assignment, np.full(len(to_ask), batch), n_slots=self.space.n_slots
            )
            # assignments whose accelerators find no configuration cost INFEASIBLE unasked
            position = np.where(buildable, np.cumsum(buildable) - 1, -1)
            pending = rows >= 0
            cost[pending & ~buildable[np.maximum(rows, 0)]] = INFEASIBLE
            rows = np.where(pending, position[np.maximum(rows, 0)], -1)
            asked = self.space.encode(designs.take(np.flatnonzero(buildable)))
        return {"run": r, "initial": initial, "labels": labels, "cost": cost, "rows": rows,
                "genomes": asked}

    def _finish(self, entry: dict) -> None:
        """Complete run ``entry['run']``'s generation with every candidate's cost."""
        r = entry["run"]
        labels, cost = entry["labels"], entry["cost"]
        if entry["initial"]:
            if len(labels) == 0:
                return  # nothing was told: the run starts again next time
            order = np.argsort(cost, kind="stable")[: self.population_size]
            self._population[r], self._cost[r] = labels[order], cost[order]
            if self._enumerable[r]:
                self._done[r] = True
            return
        self._population[r], self._cost[r] = select_survivors(
            self._population[r], self._cost[r], labels, cost, self.population_size
        )
        self._iterations[r] += 1
        if self._iterations[r] >= self.n_iter:
            self._done[r] = True

    def _initial_labels(self, r: int) -> np.ndarray:
        k = self.runs[r][0]
        family = self.space.options.family
        if family == "sequential":
            return np.zeros((1, self.n_groups), dtype=np.int64)
        if family == "spatial":
            return np.arange(self.n_groups, dtype=np.int64)[None, :]
        if self._enumerable[r]:
            return restricted_growth_strings(self.n_groups, k)
        found = np.zeros((0, self.n_groups), dtype=np.int64)
        for _ in range(_REJECTION_ROUNDS):  # uniform assignments, redrawn until all k are used
            draw = self._rng.integers(0, k, size=(2 * self.population_size, self.n_groups))
            uses_all = np.array([len(np.unique(row)) == k for row in draw])
            found = np.concatenate([found, draw[uses_all]])[: self.population_size]
            if len(found) == self.population_size:
                return found
        # a rare surjection: open the k accelerators on k random groups, the rest random
        missing = self.population_size - len(found)
        labels = self._rng.integers(0, k, size=(missing, self.n_groups))
        for row in labels:
            row[self._rng.permutation(self.n_groups)[:k]] = np.arange(k)
        return np.concatenate([found, labels])

    def _children(self, r: int) -> np.ndarray:
        k = self.runs[r][0]
        parents, cost = self._population[r], self._cost[r]
        n_child = self.population_size
        pairs = (n_child + 1) // 2
        chosen = self._rng.choice(len(parents), size=(pairs, 2), p=roulette_probabilities(cost))
        x0, x1 = parents[chosen[:, 0]], parents[chosen[:, 1]]
        alpha = self._rng.random((pairs, self.n_groups)) < 0.5
        children = np.concatenate([np.where(alpha, x0, x1), np.where(alpha, x1, x0)])[:n_child]
        flagged = self._rng.random(children.shape) < MUTATE_RATIO
        step = np.where(self._rng.random(children.shape) < 0.5, -1, 1)
        return np.where(flagged, (children + step) % k, children)

    # -- checkpoints -----------------------------------------------------------------------------
    def _state(self) -> Any:
        return {
            "rng": self._rng.bit_generator.state,
            "population": [None if p is None else p.tolist() for p in self._population],
            "cost": [None if c is None else plain_floats(c) for c in self._cost],
            "iterations": list(self._iterations),
            "done": list(self._done),
            "cursor": self._cursor,
            "initial_pending": self._initial_pending,
        }

    def _load_state(self, state: Any) -> None:
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = state["rng"]
        self._population = [
            None if p is None else np.array(p, dtype=np.int64).reshape(-1, self.n_groups)
            for p in state["population"]
        ]
        self._cost = [None if c is None else float_array(c, (-1,)) for c in state["cost"]]
        self._iterations = [int(i) for i in state["iterations"]]
        self._done = [bool(d) for d in state["done"]]
        self._cursor = int(state["cursor"])
        self._initial_pending = bool(state["initial_pending"])
        self._pending = None
