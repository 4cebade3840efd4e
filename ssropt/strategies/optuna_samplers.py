"""Optuna samplers as batched strategies: ``optuna-nsga2``, ``tpe``, ``random``, ``qmc``, ``gp``.

Each strategy keeps a private in-memory Optuna study (two objectives: latency minimised,
throughput maximised) that only its sampler reads; the outside loop owns the study of
record.  A generation is ``population_size`` trials asked one after the other, each
suggesting the genome gene by gene (:func:`ssropt.spaces.optuna_adapter.suggest_genome`).

Constraints reach the samplers through ``trial.set_constraint`` before ``study.tell``,
which is what Optuna 5's samplers read (``FrozenTrial.constraints``).  NSGA-II (constraint
domination) and TPE (infeasible trials go to the "bad" group, ordered by violation) read
only two things: whether every value is ``<= 0`` and the sum of the positive values.  So
these strategies set one constraint, ``violation = sum(max(G, 0))``, which tells them
exactly the same at a fraction of the bookkeeping (Optuna re-parses every constraint of
every trial on every suggestion).  GP models each constraint separately and gets them
all, by name.  Random and QMC ignore constraints.  Seeds (``initial``) are enqueued
trials of the first generation.

Repair is Baldwinian here: a trial keeps the parameters the sampler suggested and is told
the objectives of the repaired design (Optuna cannot change a trial's parameters).

Checkpoint: the told history in compact arrays (asked genomes, values, constraints, trial
states and the samplers' own trial attributes such as the NSGA-II generation), the
study's system attributes (NSGA-II parent caches, QMC counters) and the pickled sampler
(its random state).  Loading rebuilds the private study trial by trial with the same
trial ids, so the restored strategy asks exactly what the uninterrupted one would.

Example:
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.models import CostModel
    >>> from ssropt.spaces import Space, SpaceOptions
    >>> space = Space(CostModel(build_model("deit-t", tokens=192, embed_and_head=False),
    ...                         load_platform("vck190"), "int8"),
    ...               SpaceOptions(family="sequential", batch_sizes=(1, 2)))
    >>> strategy = OptunaRandom(space, seed=0, population_size=8)
    >>> result = space.evaluate(strategy.ask())
    >>> strategy.tell(result.genomes, result.F, result.G)
    >>> len(strategy.state_dict()) > 0
    True
"""

from __future__ import annotations

import contextlib
import importlib.util
import pickle
import warnings
from abc import abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import optuna
from optuna.samplers import BaseSampler
from optuna.storages import InMemoryStorage
from optuna.trial import TrialState, create_trial

from ssropt.errors import SsroptError
from ssropt.spaces.optuna_adapter import genome_distributions, genome_params, suggest_genome
from ssropt.spaces.space import DIRECTIONS, Space
from ssropt.strategies.base import Strategy, constraint_names

#: trial system attributes that are not history: constraints are kept as arrays, and the
#: relative parameters TPE/GP share for *running* trials are never read once complete
_CONSTRAINT_PREFIX = "constraints"
_TRANSIENT_PREFIXES = ("tpe:relative_params", "gp:relative_params")

HAS_TORCH = importlib.util.find_spec("torch") is not None


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Silence Optuna's per-trial INFO logging (and experimental warnings) in a block."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)


class OptunaStrategy(Strategy):
    """Batched ask/tell over a private in-memory study driven by one Optuna sampler."""

    #: set one summed ``violation`` constraint instead of every constraint by name
    aggregate_constraints: ClassVar[bool] = True

    def __init__(
        self,
        space: Space,
        seed: int,
        population_size: int = 100,
        initial: np.ndarray | None = None,
    ) -> None:
        super().__init__(space, seed, population_size, initial)
        self._space_constraints = constraint_names(space)
        self._constraint_names = (
            ["violation"] if self.aggregate_constraints else self._space_constraints
        )
        self._distributions = genome_distributions(space)
        with _quiet_optuna():
            self._study = self._new_study(self._make_sampler())
        self._pending: list[optuna.Trial] = []
        self._pending_genomes = np.zeros((0, space.n_genes), dtype=np.int64)
        self._history: dict[str, list] = {
            "genomes": [],
            "values": [],
            "constraints": [],
            "complete": [],
            "extra": [],
        }

    @abstractmethod
    def _make_sampler(self) -> BaseSampler:
        """A fresh sampler seeded with ``self.seed``."""

    @staticmethod
    def _new_study(sampler: BaseSampler) -> optuna.Study:
        return optuna.create_study(
            storage=InMemoryStorage(), sampler=sampler, directions=list(DIRECTIONS)
        )

    # -- ask / tell --------------------------------------------------------------------------
    def _ask(self) -> np.ndarray:
        study, space = self._study, self.space
        with _quiet_optuna():
            if self.generation == 0 and len(self._history["genomes"]) == 0:
                for genome in self.initial:
                    study.enqueue_trial(genome_params(space, genome))
            self._pending = []
            genomes = []
            for _ in range(self.population_size):
                trial = study.ask()
                genomes.append(suggest_genome(trial, space))
                self._pending.append(trial)
        self._pending_genomes = np.array(genomes, dtype=np.int64).reshape(-1, space.n_genes)
        return self._pending_genomes

    def _tell(self, genomes: np.ndarray, F: np.ndarray, G: np.ndarray, n_asked: int) -> None:
        n, names = len(genomes), self._constraint_names
        if G.shape[1] != len(self._space_constraints):
            raise SsroptError(
                f"{self.name} expects {len(self._space_constraints)} constraints, told {G.shape[1]}"
            )
        if self.aggregate_constraints:
            G = np.maximum(G, 0.0).sum(axis=1, keepdims=True)
        values = np.column_stack([F[:, 0], -F[:, 1]])  # latency, throughput
        study = self._study
        with _quiet_optuna():
            for trial, row_values, row_constraints in zip(self._pending, values, G):
                for name, value in zip(names, row_constraints):
                    trial.set_constraint(name, float(value))
                study.tell(trial, row_values.tolist())
            for trial in self._pending[n:]:  # asked but cut off by the loop's budget
                study.tell(trial, state=TrialState.FAIL)
        told = study.get_trials(deepcopy=False)
        history = self._history
        history["genomes"].append(self._pending_genomes)
        history["values"].append(np.vstack([values, np.full((n_asked - n, 2), np.nan)]))
        history["constraints"].append(np.vstack([G, np.full((n_asked - n, G.shape[1]), np.nan)]))
        history["complete"].append(np.arange(n_asked) < n)
        history["extra"].extend(
            _extra_attrs(told[trial.number].system_attrs) for trial in self._pending
        )
        self._pending = []

    # -- checkpoints -------------------------------------------------------------------------
    def _state(self) -> Any:
        history = self._history
        d = self.space.n_genes
        return {
            "sampler": pickle.dumps(self._study.sampler, protocol=pickle.HIGHEST_PROTOCOL),
            "study_system_attrs": dict(
                self._study._storage.get_study_system_attrs(self._study._study_id)
            ),
            "genomes": _concat(history["genomes"], (0, d), np.int64).astype(
                _genome_dtype(self.space)
            ),
            "values": _concat(history["values"], (0, 2), float),
            "constraints": _concat(history["constraints"], (0, len(self._constraint_names)), float),
            "complete": _concat(history["complete"], (0,), bool),
            "extra": list(history["extra"]),
        }

    def _load_state(self, state: Any) -> None:
        sampler = pickle.loads(state["sampler"])
        genomes = state["genomes"].astype(np.int64)
        names = self._constraint_names
        trials = []
        for genome, values, constraints, complete, extra in zip(
            genomes, state["values"], state["constraints"], state["complete"], state["extra"]
        ):
            attrs = dict(extra)
            if complete:
                attrs.update(
                    {f"{_CONSTRAINT_PREFIX}:{k}": float(v) for k, v in zip(names, constraints)}
                )
            trials.append(
                create_trial(
                    state=TrialState.COMPLETE if complete else TrialState.FAIL,
                    params=genome_params(self.space, genome),
                    distributions=self._distributions,
                    values=values.tolist() if complete else None,
                    system_attrs=attrs,
                )
            )
        with _quiet_optuna():
            study = self._new_study(sampler)
            study.add_trials(trials)
            for key, value in state["study_system_attrs"].items():
                study._storage.set_study_system_attr(study._study_id, key, value)
        self._study = study
        self._pending = []
        n = len(genomes)
        self._history = {
            "genomes": [genomes] if n else [],
            "values": [state["values"]] if n else [],
            "constraints": [state["constraints"]] if n else [],
            "complete": [state["complete"]] if n else [],
            "extra": list(state["extra"]),
        }


def _extra_attrs(system_attrs: dict[str, Any]) -> dict[str, Any]:
    """A trial's system attributes worth keeping (e.g. ``NSGAIISampler:generation``)."""
    return {
        key: value
        for key, value in system_attrs.items()
        if not key.startswith(_CONSTRAINT_PREFIX) and not key.startswith(_TRANSIENT_PREFIXES)
    }


def _concat(parts: list[np.ndarray], empty_shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(empty_shape, dtype=dtype)


def _genome_dtype(space: Space) -> np.dtype:
    return np.min_scalar_type(int(space.upper.max()))


# -- the samplers --------------------------------------------------------------------------
class OptunaNsga2(OptunaStrategy):
    """Optuna's NSGA-II (uniform crossover, uniform mutation); generation = population."""

    name = "optuna-nsga2"

    def __init__(
        self, space: Space, seed: int, population_size: int = 100, initial: np.ndarray | None = None
    ) -> None:
        if population_size < 2:
            raise SsroptError(
                f"optuna-nsga2 needs a population of at least 2, got {population_size}"
            )
        super().__init__(space, seed, population_size, initial)

    def _make_sampler(self) -> BaseSampler:
        return optuna.samplers.NSGAIISampler(population_size=self.population_size, seed=self.seed)


class OptunaTpe(OptunaStrategy):
    """Multivariate multi-objective TPE; the first generation is random (startup trials).

    Without constant liar: the trials of one generation are drawn from the same model
    (asked together, told together), which keeps the per-trial cost low.
    """

    name = "tpe"

    def _make_sampler(self) -> BaseSampler:
        return optuna.samplers.TPESampler(
            seed=self.seed,
            multivariate=True,
            n_startup_trials=self.population_size,
            constant_liar=False,
        )


class OptunaRandom(OptunaStrategy):
    """Uniform random genomes (Optuna's RandomSampler)."""

    name = "random"

    def _make_sampler(self) -> BaseSampler:
        return optuna.samplers.RandomSampler(seed=self.seed)


class OptunaQmc(OptunaStrategy):
    """A scrambled Sobol sequence (Optuna's QMCSampler) seeded by ``seed``."""

    name = "qmc"

    def _make_sampler(self) -> BaseSampler:
        return optuna.samplers.QMCSampler(
            qmc_type="sobol", scramble=True, seed=self.seed, warn_independent_sampling=False
        )


class OptunaGp(OptunaStrategy):
    """Gaussian-process Bayesian optimisation (Optuna's GPSampler; needs torch)."""

    name = "gp"
    aggregate_constraints = False

    def __init__(
        self, space: Space, seed: int, population_size: int = 100, initial: np.ndarray | None = None
    ) -> None:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise SsroptError(torch_missing_message()) from None
        super().__init__(space, seed, population_size, initial)

    def _make_sampler(self) -> BaseSampler:
        return optuna.samplers.GPSampler(
            seed=self.seed, n_startup_trials=self.population_size, deterministic_objective=True
        )


def torch_missing_message() -> str:
    return (
        "strategy 'gp' needs the optional dependency torch (pip install torch); "
        "the other strategies work without it"
    )
