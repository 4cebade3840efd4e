"""``nsga2``: pymoo's NSGA-II driven through ask/tell over integer genomes.

Integer-aware operators: the first generation is the ``initial`` genomes followed by
uniform random integers; offspring come from SBX crossover and polynomial mutation in
float space, rounded back to integers (``RoundingRepair``), with duplicates removed.
Constraints reach pymoo as ``G`` (``<= 0`` feasible); pymoo's survival and tournament use
constraint domination (feasible first, then the smaller summed violation).

The space's repair is Lamarckian here: the population stores the repaired genomes that
were evaluated, so offspring are bred from buildable designs.

The checkpoint is the pickled algorithm (populations, random generator, counters) with
its problem removed; the problem is a light bounds-only object rebuilt from the space.

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

import pickle
from typing import Any

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
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
from ssropt.strategies.base import Strategy, constraint_names
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

    def __init__(self, lower: np.ndarray, upper: np.ndarray, n_constraints: int) -> None:
        super().__init__(
            n_var=len(lower),
            n_obj=2,
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
        self._problem = GenomeProblem(space.lower, space.upper, len(constraint_names(space)))
        self._algorithm = NSGA2(
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
        self._algorithm.setup(
            self._problem, termination=NoTermination(), seed=self.seed, verbose=False
        )
        self._infills: Population | None = None
        self._exhausted = False

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
        problem, algorithm.problem = algorithm.problem, None
        try:
            blob = pickle.dumps(algorithm, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            algorithm.problem = problem
        return {"algorithm": blob, "exhausted": self._exhausted}

    def _load_state(self, state: Any) -> None:
        algorithm = pickle.loads(state["algorithm"])
        algorithm.problem = self._problem
        self._algorithm = algorithm
        self._exhausted = bool(state["exhausted"])
        self._infills = None
