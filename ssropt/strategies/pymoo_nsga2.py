"""``nsga2``: pymoo's NSGA-II driven through ask/tell over integer genomes.

Integer-aware operators: the first generation is the ``initial`` genomes followed by
uniform random integers; offspring come from SBX crossover and polynomial mutation in
float space, rounded back to integers (``RoundingRepair``), with duplicates removed.
Constraints reach pymoo as ``G`` (``<= 0`` feasible); pymoo's survival and tournament use
constraint domination (feasible first, then the smaller summed violation).

The space's repair is Lamarckian here: the population stores the repaired genomes that
were evaluated, so offspring are bred from buildable designs.

The checkpoint is plain JSON data: the population (each individual's genome, objectives,
constraints, violation, what pymoo marked evaluated and its ranking data -- non-dominated
rank and crowding, which tournament selection reads -- and the generation it was bred
in), the algorithm's random generator (``random_state.bit_generator.state``), its
iteration and evaluation counters and whether mating was exhausted.  Loading builds the
algorithm as a new strategy does (same operators, survival and ``setup``) and puts that
state back, so the next ask equals the uninterrupted run's.  The operators and the
survival (:class:`~ssropt.strategies.batch_niches.BatchNicheSurvival`) keep no state of
their own between generations.

Example:
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.models import CostModel
    >>> from ssropt.spaces import Space, SpaceOptions
    >>> space = Space(CostModel(build_model("deit-t", tokens=192, embed_and_head=False),
    ...                         load_platform("vck190"), "int8"),
    ...               SpaceOptions(family="sequential", batch_sizes=(1, 2)))
    >>> strategy = PymooNsga2(space, seed=0, population_size=20)
    >>> genomes = strategy.ask()
    >>> result = space.evaluate(genomes)
    >>> strategy.tell(result.genomes, result.F, result.G)
    >>> strategy.generation
    1
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.individual import Individual
from pymoo.core.population import Population
from pymoo.core.problem import Problem
from pymoo.core.sampling import Sampling
from pymoo.core.termination import NoTermination
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair

from ssropt.errors import SsroptError
from ssropt.spaces.genes import sample_genomes
from ssropt.spaces.space import Space
from ssropt.strategies.base import Strategy, constraint_names, float_array, plain_floats
from ssropt.strategies.batch_niches import BatchNicheSurvival

#: distribution indices of SBX and PM: small values spread offspring over integer domains
CROSSOVER_ETA = 3.0
MUTATION_ETA = 3.0
#: genes mutated per child on average; pymoo's default (one) let the hybrid search
#: converge too early on DeiT-T (measured: see README, "Search")
MUTATED_GENES = 3.0
#: constraint violation told for a genome that repeats a design already in the population
DUPLICATE_VIOLATION = 1e30


class GenomeProblem(Problem):
    """Bounds and sizes of a space's genomes; evaluation happens outside pymoo."""

    def __init__(
        self, lower: np.ndarray, upper: np.ndarray, n_constraints: int, n_objectives: int = 2
    ) -> None:
        super().__init__(
            n_var=len(lower),
            n_obj=n_objectives,
            n_ieq_constr=n_constraints,
            xl=np.asarray(lower, dtype=float),
            xu=np.asarray(upper, dtype=float),
            vtype=int,
        )

    def _evaluate(self, X, out, *args, **kwargs):
        raise SsroptError("nsga2 genomes are evaluated by the outside loop (ask/tell)")


class SeededIntegerSampling(Sampling):
    """The given genomes first, then random genomes up to ``n_samples``, spread
    uniformly over the accelerator count (:func:`ssropt.spaces.genes.sample_genomes`)."""

    def __init__(self, initial: np.ndarray, label_genes: slice, min_count: int) -> None:
        super().__init__()
        self.initial = np.asarray(initial, dtype=np.int64)
        self.label_genes = label_genes
        self.min_count = min_count

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        seeds = self.initial[:n_samples]
        lower, upper = (bound.astype(np.int64) for bound in problem.bounds())
        rest = sample_genomes(
            lower, upper, self.label_genes, self.min_count, n_samples - len(seeds), random_state
        )
        return np.concatenate([seeds, rest.astype(np.int64)])


class PymooNsga2(Strategy):
    """NSGA-II (pymoo) with integer SBX/PM, duplicate elimination and constraint domination."""

    name = "nsga2"

    def __init__(
        self,
        space: Space,
        seed: int,
        population_size: int = 100,
        initial: np.ndarray | None = None,
    ) -> None:
        super().__init__(space, seed, population_size, initial)
        if self.population_size < 2:
            raise SsroptError(f"nsga2 needs a population of at least 2, got {self.population_size}")
        self._problem = GenomeProblem(
            space.lower, space.upper, len(constraint_names(space)), space.objectives.count
        )
        self._algorithm = self._new_algorithm()
        self._infills: Population | None = None
        self._exhausted = False

    def _new_algorithm(self) -> NSGA2:
        """pymoo's NSGA-II with this strategy's operators, set up with its seed."""
        space = self.space
        algorithm = NSGA2(
            pop_size=self.population_size,
            sampling=SeededIntegerSampling(
                self.initial, space.label_genes, space.options.min_accelerators
            ),
            crossover=SBX(prob=0.9, eta=CROSSOVER_ETA, vtype=float, repair=RoundingRepair()),
            mutation=PM(
                prob=1.0,
                prob_var=min(1.0, MUTATED_GENES / space.n_genes),
                eta=MUTATION_ETA,
                vtype=float,
                repair=RoundingRepair(),
            ),
            eliminate_duplicates=True,
            **({"survival": BatchNicheSurvival()} if len(space.batch_values) > 1 else {}),
        )
        return algorithm.setup(
            self._problem, termination=NoTermination(), seed=self.seed, verbose=False
        )

    @property
    def finished(self) -> bool:
        """True once mating could not produce a single new (unique) genome."""
        return self._exhausted

    def _ask(self) -> np.ndarray:
        infills = self._algorithm.ask()
        if infills is None or len(infills) == 0:
            # pymoo found no unique offspring in its mating attempts: the space is used up
            self._algorithm.termination.force_termination = False
            self._exhausted = True
            self._infills = Population.empty()
            return np.zeros((0, self.space.n_genes), dtype=np.int64)
        self._exhausted = False
        self._infills = infills
        return np.rint(infills.get("X").astype(float)).astype(np.int64)

    def _tell(self, genomes: np.ndarray, F: np.ndarray, G: np.ndarray, n_asked: int) -> None:
        n = len(genomes)
        if n == 0:
            self._infills = None
            return
        if G.shape[1] != self._problem.n_ieq_constr:
            raise SsroptError(
                f"nsga2 was set up for {self._problem.n_ieq_constr} constraints, told {G.shape[1]}"
            )
        infills = self._infills[:n]
        cv = np.maximum(G, 0.0).sum(axis=1, keepdims=True)  # pymoo's default violation
        cv[self._repeats(genomes)] = DUPLICATE_VIOLATION
        infills.set("X", genomes, "F", F, "G", G, "CV", cv)
        for individual in infills:
            individual.evaluated.update(("F", "G", "H"))
        self._algorithm.tell(infills=infills)
        self._infills = None

    def _repeats(self, genomes: np.ndarray) -> np.ndarray:
        """Indices of told genomes that repeat the population or an earlier one told.

        Repair maps many genomes onto one design, so offspring that pymoo saw as new often
        repeat a design already in the population; left alone, such copies crowd out
        every other design within a few dozen generations.  They are told as infeasible
        (violation ``DUPLICATE_VIOLATION``) so survival keeps one copy of each design.
        """
        population = self._algorithm.pop
        seen = set()
        if population is not None and len(population):
            seen = {np.rint(x).astype(np.int64).tobytes() for x in population.get("X")}
        repeats = []
        for i, genome in enumerate(np.asarray(genomes, dtype=np.int64)):
            key = genome.tobytes()
            if key in seen:
                repeats.append(i)
            seen.add(key)
        return np.array(repeats, dtype=np.int64)

    def _state(self) -> Any:
        algorithm = self._algorithm
        return {
            "initialized": bool(algorithm.is_initialized),
            "n_iter": algorithm.n_iter,
            "n_eval": algorithm.evaluator.n_eval,
            "random_state": algorithm.random_state.bit_generator.state,
            "population": None if algorithm.pop is None else _plain_population(algorithm.pop),
            "exhausted": self._exhausted,
        }

    def _load_state(self, state: Any) -> None:
        algorithm = self._new_algorithm()
        algorithm.random_state.bit_generator.state = state["random_state"]
        algorithm.evaluator.n_eval = int(state["n_eval"])
        if state["initialized"]:
            algorithm.start_time = time.time()
            algorithm.is_initialized = True
            algorithm.n_iter = int(state["n_iter"])
            algorithm.pop = _population(state["population"], self.space.n_genes)
            algorithm._set_optimum()  # what pymoo sets after each tell (results only)
        self._algorithm = algorithm
        self._exhausted = bool(state["exhausted"])
        self._infills = None


#: what an individual holds besides its ``data``: values pymoo reads (``FEAS`` follows ``CV``)
_VALUES = ("F", "G", "H", "CV")


def _plain_population(population: Population) -> dict[str, Any]:
    """A population as plain data: genomes, values, evaluated keys and data per individual."""
    X = [np.asarray(individual.X) for individual in population]
    dtypes = {x.dtype.str for x in X}
    if len(dtypes) > 1:
        raise AssertionError(f"nsga2 population genomes of several dtypes: {sorted(dtypes)}")
    return {
        "X_dtype": dtypes.pop() if dtypes else "<i8",
        "X": [x.tolist() for x in X],
        **{key: [plain_floats(individual.get(key)) for individual in population] for key in _VALUES},
        "evaluated": [sorted(individual.evaluated) for individual in population],
        "data": [
            {key: _plain_scalar(key, value) for key, value in individual.data.items()}
            for individual in population
        ],
    }


def _population(plain: dict[str, Any], n_genes: int) -> Population:
    """The population of :func:`_plain_population`."""
    individuals = []
    for i, x in enumerate(plain["X"]):
        individual = Individual()
        individual.X = np.array(x, dtype=np.dtype(plain["X_dtype"])).reshape(n_genes)
        for key in _VALUES:
            individual.set(key, float_array(plain[key][i], (-1,)))
        individual.evaluated = set(plain["evaluated"][i])
        individual.data = {
            key: float(value) if isinstance(value, str) else value
            for key, value in plain["data"][i].items()
        }
        individuals.append(individual)
    return Population.create(*individuals)


def _plain_scalar(key: str, value: Any) -> Any:
    """An individual's data value (rank, crowding, generation) as plain data."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return plain_floats(value)
    raise AssertionError(f"nsga2 individual data {key!r} of type {type(value).__name__}")
