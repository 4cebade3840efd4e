"""``exhaustive``: every distinct design of a small space, once, in chunks of a population.

Designs are numbered ``0 .. space_size - 1`` and a chunk of numbers is turned into a
genome matrix with vectorised mixed-radix arithmetic, so enumeration costs nothing next
to evaluation and the state is one integer (the next number to ask).

Spaces without accelerator labels (``sequential``, ``spatial``) are plain mixed-radix
counters over all genes.  ``hybrid`` genomes carry one accelerator label per node group,
and many genomes decode to the same design (labels are renamed in order of first use,
unused accelerators are ignored).  Only canonical genomes are enumerated: the label
vector is a restricted-growth string (the first group on accelerator 0, each group on an
accelerator already used or on the next new one, at most ``n_slots`` accelerators), and
only the parameter genes of the accelerators in use vary (unused slots stay 0).  Opening
a new accelerator multiplies the count by ``P``, the number of parameter combinations of
one accelerator, so with ``C(r, m)`` the designs completing ``r`` remaining groups when
``m`` accelerators are open::

    C(0, m) = 1
    C(r, m) = m * C(r-1, m) + [m < n_slots] * P * C(r-1, m+1)
    space_size = n_batch * C(n_groups, 0)

and a design number is unranked group by group (existing accelerator first, then a new
one with its parameter combination).

Example:
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.models import CostModel
    >>> from ssropt.spaces import Space, SpaceOptions
    >>> space = Space(CostModel(build_model("deit-t", tokens=192, embed_and_head=False),
    ...                         load_platform("vck190"), "int8"),
    ...               SpaceOptions(family="sequential", batch_sizes=(1, 2),
    ...                            values={"a": (4,), "b": (4,), "c": (6,), "dup": (1,)}))
    >>> space_size(space)
    160
    >>> strategy = Exhaustive(space, seed=0, population_size=100)
    >>> [len(strategy.ask()), strategy.finished]
    [100, False]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ssropt.errors import SsroptError
from ssropt.spaces.space import Space
from ssropt.strategies.base import Strategy

DEFAULT_LIMIT = 5_000_000
#: designs per generation an enumeration run uses unless told otherwise: it has no
#: population, and every generation costs a storage round trip and a configurator call
CHUNK = 2_000
_CAP = 2**62  # counts of unreachable enumeration states are capped to stay in int64


def _completion_counts(space: Space) -> list[list[int]]:
    """``C[r][m]`` of the module docstring as exact Python integers."""
    n_groups, n_slots = space.n_label_genes, space.n_slots
    per_slot = _param_combinations(space)
    counts = [[1] * (n_slots + 1)]
    for _ in range(n_groups):
        prev = counts[-1]
        counts.append(
            [
                m * prev[m] + (per_slot * prev[m + 1] if m < n_slots else 0)
                for m in range(n_slots + 1)
            ]
        )
    return counts


def _param_radices(space: Space) -> np.ndarray:
    """Number of values of each parameter gene of one accelerator slot."""
    start = space.param_start
    return (
        space.upper[start : start + space.n_param_genes]
        - space.lower[start : start + space.n_param_genes]
        + 1
    )


def _param_combinations(space: Space) -> int:
    return math.prod(int(r) for r in _param_radices(space))


def space_size(space: Space) -> int:
    """Number of distinct designs of ``space`` (canonical genomes, before repair)."""
    if space.n_label_genes == 0:
        return space.size()
    n_batch = int(space.upper[0] - space.lower[0] + 1)
    return n_batch * _completion_counts(space)[space.n_label_genes][0]


def _mixed_radix(numbers: np.ndarray, radices: np.ndarray) -> np.ndarray:
    """``(n, len(radices))`` digits of ``numbers``, the last digit varying fastest."""
    digits = np.empty((len(numbers), len(radices)), dtype=np.int64)
    rest = numbers.copy()
    for k in range(len(radices) - 1, -1, -1):
        digits[:, k] = rest % radices[k]
        rest //= radices[k]
    return digits


class Exhaustive(Strategy):
    """Enumerates every distinct design once; refuses spaces larger than ``limit``.

    ``initial`` genomes are accepted and ignored: every design is evaluated anyway.
    """

    name = "exhaustive"

    def __init__(
        self,
        space: Space,
        seed: int,
        population_size: int = 100,
        initial: np.ndarray | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        super().__init__(space, seed, population_size, initial)
        self.size = space_size(space)
        self.limit = int(limit)
        if self.size > min(self.limit, _CAP):
            raise SsroptError(
                f"the {space.options.family} space has {self.size:,} distinct designs, more than "
                f"the exhaustive limit of {self.limit:,}: narrow it (fewer batch sizes or "
                f"parameter values, groups, fewer accelerators) or use a search strategy"
            )
        self.position = 0  # the next design number to ask (advanced by tell)
        if space.n_label_genes:
            counts = _completion_counts(space)
            self._counts = np.array([[min(c, _CAP) for c in row] for row in counts], dtype=np.int64)
            self._radices = _param_radices(space).astype(np.int64)
        self._end = 0

    @property
    def finished(self) -> bool:
        return (self._end if self._asked is not None else self.position) >= self.size

    def _ask(self) -> np.ndarray:
        self._end = min(self.position + self.population_size, self.size)
        return self.genomes(np.arange(self.position, self._end, dtype=np.int64))

    def _tell(self, genomes: np.ndarray, F: np.ndarray, G: np.ndarray, n_asked: int) -> None:
        self.position += len(genomes)  # a truncated tail is asked again next time

    def genomes(self, numbers: np.ndarray) -> np.ndarray:
        """``(n, n_genes)`` canonical genomes of design numbers ``0 <= number < size``."""
        space = self.space
        numbers = np.asarray(numbers, dtype=np.int64)
        if space.n_label_genes == 0:
            radices = (space.upper - space.lower + 1).astype(np.int64)
            return space.lower + _mixed_radix(numbers, radices)
        n_batch = int(space.upper[0] - space.lower[0] + 1)
        genomes = np.zeros((len(numbers), space.n_genes), dtype=np.int64)
        genomes[:, 0] = space.lower[0] + numbers % n_batch
        rest = numbers // n_batch
        n_groups, n_params, counts = space.n_label_genes, space.n_param_genes, self._counts
        open_slots = np.zeros(len(numbers), dtype=np.int64)
        combos = np.zeros((len(numbers), space.n_slots), dtype=np.int64)
        rows = np.arange(len(numbers))
        for group in range(n_groups):
            after = counts[n_groups - group - 1]  # completions of the remaining groups
            per_existing = after[open_slots]
            existing = open_slots * per_existing
            reuse = rest < existing
            safe = np.maximum(per_existing, 1)
            label = np.where(reuse, rest // safe, open_slots)
            new = ~reuse
            per_new = np.maximum(after[np.minimum(open_slots + 1, space.n_slots)], 1)
            beyond = rest - existing
            combos[rows[new], open_slots[new]] = (beyond // per_new)[new]
            rest = np.where(reuse, rest % safe, beyond % per_new)
            genomes[:, 1 + group] = label
            open_slots = open_slots + new
        for slot in range(space.n_slots):
            used = slot < open_slots
            start = space.param_start + slot * n_params
            digits = _mixed_radix(combos[:, slot], self._radices)
            genomes[:, start : start + n_params] = np.where(
                used[:, None], space.lower[start : start + n_params] + digits, 0
            )
        return genomes

    def _state(self) -> Any:
        return {"position": self.position}

    def _load_state(self, state: Any) -> None:
        self.position = int(state["position"])
        self._end = self.position
