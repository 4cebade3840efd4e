"""The strategy interface: ask a generation of genomes, tell their objectives and constraints.

An outside loop owns evaluation and persistence::

    strategy = make_strategy("nsga2", space, seed=1)
    while not strategy.finished and evaluated < budget:
        genomes = strategy.ask()                       # (n, n_genes) int64, n <= population
        result = space.evaluate(genomes)               # repaired genomes, F, G
        strategy.tell(result.genomes, result.F, result.G)
        checkpoint = strategy.state_dict()             # plain JSON data; load_state() resumes exactly

:class:`Strategy` checks the protocol (one tell per ask, shapes, bounds) and wraps the
subclass state in a small envelope that names the strategy, its settings and the
space's genome layout, so a checkpoint is never restored into the wrong study.  The
space and the cost model are never part of a checkpoint: they are rebuilt from the
study's settings.

A checkpoint is plain data -- dicts, lists, strings, integers, finite floats, booleans
and None, exactly what ``json.loads(json.dumps(checkpoint, allow_nan=False))`` returns --
never a pickled library object: genomes, objective and constraint values, counters and
random-generator states (numpy's ``bit_generator.state``).  Library objects (pymoo's
algorithm, Optuna's samplers) are rebuilt from their constructor arguments and that
state, so a checkpoint written under one version of the dependencies restores under the
next.  Non-finite floats, which strict JSON lacks, are the strings ``"nan"``, ``"inf"``
and ``"-inf"`` (:func:`plain_floats`, :func:`float_array`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ssropt.errors import SsroptError
from ssropt.spaces.space import Space

#: 2: plain JSON data; format 1, written by older ssropt versions, was a pickle
STATE_FORMAT = 2


class Strategy(ABC):
    """Ask/tell search over the integer genomes of a :class:`Space`.

    Args:
        space: the search space (bounds, gene names, evaluation).
        seed: fixes every random choice of the strategy.
        population_size: genomes per generation (an ask returns at most this many).
        initial: ``(k, n_genes)`` genomes to include in the first generation
            (seeding with known designs), ``k <= population_size``.

    Attributes:
        generation: number of tells so far.
    """

    name: ClassVar[str]

    def __init__(
        self,
        space: Space,
        seed: int,
        population_size: int = 100,
        initial: np.ndarray | None = None,
    ) -> None:
        if isinstance(population_size, bool) or not isinstance(population_size, (int, np.integer)):
            raise SsroptError(f"population size must be an integer, got {population_size!r}")
        if population_size < 1:
            raise SsroptError(f"population size must be >= 1, got {population_size}")
        self.space = space
        self.seed = int(seed)
        self.population_size = int(population_size)
        self.initial = validate_genomes(space, initial, "initial genomes")
        if len(self.initial) > self.population_size:
            raise SsroptError(
                f"{len(self.initial)} initial genomes do not fit in the first generation "
                f"of {self.population_size} (raise the population size or seed fewer designs)"
            )
        self.generation = 0
        self._asked: int | None = None  # rows of the pending generation

    # -- protocol ------------------------------------------------------------------------
    def ask(self) -> np.ndarray:
        """``(n, n_genes)`` int64 genomes of the next generation (``n <= population_size``).

        ``n == 0`` only when the strategy has run out of new genomes (then ``finished``).
        """
        if self._asked is not None:
            raise SsroptError(
                f"strategy {self.name!r}: tell the pending generation before asking again"
            )
        genomes = np.asarray(self._ask(), dtype=np.int64).reshape(-1, self.space.n_genes)
        if len(genomes) > self.population_size:
            raise AssertionError(
                f"{self.name} asked {len(genomes)} > {self.population_size} genomes"
            )
        if ((genomes < self.space.lower) | (genomes > self.space.upper)).any():
            raise AssertionError(f"{self.name} asked genomes outside the space bounds")
        self._asked = len(genomes) or None  # an empty ask leaves nothing to tell
        return genomes

    def tell(self, genomes: np.ndarray, F: np.ndarray, G: np.ndarray) -> None:
        """Report the evaluated generation, in the order asked.

        Args:
            genomes: ``(n, n_genes)`` the *repaired* genomes that were evaluated; ``n`` may
                be smaller than the number asked (the loop truncates the last generation
                to its budget): the first ``n`` asked genomes were evaluated.
            F: ``(n, k)`` minimised objectives, one column per objective of the space
                (``[latency, -throughput]``, then energy when searched).
            G: ``(n, m)`` constraint values, ``<= 0`` feasible.
        """
        if self._asked is None:
            if len(genomes) == 0:
                return  # the answer to an empty ask
            raise SsroptError(f"strategy {self.name!r}: tell without a pending ask")
        genomes = np.asarray(genomes, dtype=np.int64)
        F = np.asarray(F, dtype=float)
        G = np.asarray(G, dtype=float)
        n = len(genomes)
        if genomes.ndim != 2 or genomes.shape[1] != self.space.n_genes:
            raise SsroptError(
                f"told genomes have shape {genomes.shape}, expected (n, {self.space.n_genes})"
            )
        if n > self._asked:
            raise SsroptError(f"told {n} genomes but only {self._asked} were asked")
        k = self.space.objectives.count
        if F.shape != (n, k) or G.ndim != 2 or G.shape[0] != n:
            raise SsroptError(
                f"told F {F.shape} and G {G.shape} do not match {n} genomes (want (n, {k}), (n, m))"
            )
        self._tell(genomes, F, G, self._asked)
        self._asked = None
        self.generation += 1

    @property
    def finished(self) -> bool:
        """True when the strategy has nothing left to ask (e.g. exhaustive enumeration done)."""
        return False

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The strategy's state after the last tell as plain JSON data (take it between
        generations); a detached copy: later asks and tells do not change it."""
        if self._asked is not None:
            raise SsroptError(
                f"strategy {self.name!r}: take checkpoints after tell, not between ask and tell"
            )
        envelope = {
            "format": STATE_FORMAT,
            "strategy": self.name,
            "settings": self._settings(),
            "generation": self.generation,
            "state": self._state(),
        }
        try:
            text = json.dumps(envelope, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise AssertionError(f"{self.name} state is not plain JSON data: {error}") from None
        return json.loads(text)

    def load_state(self, state: dict[str, Any] | str | bytes) -> None:
        """Restore a :meth:`state_dict` (or its JSON text); the next ask equals the
        uninterrupted run's.  Nothing is unpickled: a checkpoint is plain data."""
        if isinstance(state, (str, bytes)):
            try:
                state = json.loads(state)
            except (UnicodeDecodeError, ValueError):
                raise SsroptError(
                    f"strategy {self.name!r}: not a JSON checkpoint (checkpoints of format 1, "
                    "pickles written by an older ssropt, are not restored)"
                ) from None
        envelope = state
        if not isinstance(envelope, dict) or envelope.get("format") != STATE_FORMAT:
            found = envelope.get("format") if isinstance(envelope, dict) else None
            raise SsroptError(
                f"strategy {self.name!r}: not a checkpoint of format {STATE_FORMAT} (format {found})"
            )
        if envelope["strategy"] != self.name:
            raise SsroptError(
                f"checkpoint of strategy {envelope['strategy']!r} cannot resume strategy {self.name!r}"
            )
        saved, mine = envelope["settings"], self._settings()
        for key in mine:
            if saved.get(key) != mine[key]:
                raise SsroptError(
                    f"checkpoint of strategy {self.name!r} was taken with a different {key}: "
                    f"{_short(saved.get(key))} != {_short(mine[key])}"
                )
        self._load_state(envelope["state"])
        self.generation = int(envelope["generation"])
        self._asked = None

    def _settings(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "population_size": self.population_size,
            "gene_names": list(self.space.gene_names),
            "lower": self.space.lower.tolist(),
            "upper": self.space.upper.tolist(),
        }

    # -- for subclasses --------------------------------------------------------------------
    @abstractmethod
    def _ask(self) -> np.ndarray:
        """The next generation's genomes."""

    @abstractmethod
    def _tell(self, genomes: np.ndarray, F: np.ndarray, G: np.ndarray, n_asked: int) -> None:
        """Take the first ``len(genomes)`` results of the ``n_asked`` genomes asked."""

    @abstractmethod
    def _state(self) -> Any:
        """Plain JSON data (never the space, the cost model or a library object)."""

    @abstractmethod
    def _load_state(self, state: Any) -> None:
        """Restore :meth:`_state`."""


def validate_genomes(space: Space, genomes: np.ndarray | None, what: str) -> np.ndarray:
    """``(k, n_genes)`` int64 copy of ``genomes`` (empty for None); SsroptError if out of bounds."""
    if genomes is None:
        return np.zeros((0, space.n_genes), dtype=np.int64)
    array = np.asarray(genomes)
    if array.ndim == 1 and array.size == space.n_genes:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != space.n_genes:
        raise SsroptError(f"{what} have shape {array.shape}, expected (k, {space.n_genes})")
    if array.size and not np.all(np.equal(np.mod(array, 1), 0)):
        raise SsroptError(f"{what} must be integer genomes")
    array = array.astype(np.int64)
    outside = (array < space.lower) | (array > space.upper)
    if outside.any():
        row, gene = (int(i) for i in np.argwhere(outside)[0])
        raise SsroptError(
            f"{what}: gene {space.gene_names[gene]!r} of genome {row} is {array[row, gene]}, "
            f"outside {space.lower[gene]}..{space.upper[gene]}"
        )
    return array


def constraint_names(space: Space) -> list[str]:
    """Names of the space's constraints (their number is fixed for a space).

    Learnt by evaluating one design (the lower-bound genome).
    """
    return list(space.evaluate(space.lower[None, :]).constraint_names)


def plain_floats(values: Any) -> Any:
    """``values`` (a number or an array) as nested lists of Python floats, non-finite
    values as the strings ``"nan"``, ``"inf"``, ``"-inf"`` (strict JSON has no such numbers).

    >>> plain_floats(np.array([[1.5, np.inf], [np.nan, -np.inf]]))
    [[1.5, 'inf'], ['nan', '-inf']]
    """
    array = np.asarray(values, dtype=float)
    out = array.astype(object)
    out[np.isnan(array)] = "nan"
    out[array == np.inf] = "inf"
    out[array == -np.inf] = "-inf"
    return out.tolist()


def float_array(plain: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The float64 array of :func:`plain_floats` output (``shape`` for empty lists).

    >>> float_array([[1.5, 'inf'], ['nan', '-inf']]).tolist()
    [[1.5, inf], [nan, -inf]]
    """
    array = np.array(plain, dtype=object).astype(float)
    return array.reshape(shape) if shape is not None else array


def generation_seed(seed: int, generation: int) -> int:
    """A seed for generation ``generation`` of a run seeded with ``seed`` (for samplers
    rebuilt at every generation).

    >>> generation_seed(0, 1) == generation_seed(0, 1) != generation_seed(0, 2)
    True
    """
    return int(np.random.SeedSequence([seed, generation]).generate_state(1)[0])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
