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

The sampler is rebuilt at every ask from its constructor arguments, seeded from
``(seed, generation)`` (:func:`ssropt.strategies.base.generation_seed`; QMC keeps
``seed`` for its scramble): Optuna keeps a sampler's random state private and does not
store it, so this is what makes a sampler's state a function of the generation and the
study.  The checkpoint is plain JSON data: the told history (asked genomes, values,
constraints, which trials were cut off, and the samplers' own trial attributes such as
the NSGA-II generation; lists that only grow, one row per asked trial, under
``"history"``, which a study stores incrementally: :mod:`ssropt.engine.checkpoint`) and
the private study's system attributes (NSGA-II parent caches, the QMC sample counter).  Loading rebuilds the private study trial by trial with
the same trial ids, so the restored strategy asks exactly what the uninterrupted one
would.

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
    >>> checkpoint = strategy.state_dict()
    >>> sorted(checkpoint["state"]), sorted(checkpoint["state"]["history"])
    (['history', 'study_attrs'], ['constraints', 'genomes', 'trial_attrs', 'values'])
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
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
from ssropt.spaces.space import Space
from ssropt.strategies.base import (
    Strategy,
    constraint_names,
    float_array,
    generation_seed,
    plain_floats,
)

#: trial system attributes that are not history: the relative parameters TPE/GP share for
#: *running* trials are never read once complete
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
        # the trial system attributes Optuna keeps the constraints in (learnt through the
        # public create_trial): they are checkpointed as values, not as attributes
        self._constraint_attrs = frozenset(
            create_trial(
                state=TrialState.RUNNING, constraints={k: 0.0 for k in self._constraint_names}
            ).system_attrs
        )
        self._distributions = genome_distributions(space)
        self._new_study()
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
    def _make_sampler(self, seed: int) -> BaseSampler:
        """A fresh sampler drawing its random numbers from ``seed``."""

    def _generation_sampler(self) -> BaseSampler:
        """The sampler of the next generation, built afresh from its constructor arguments.

        Optuna keeps a sampler's random state private and unsaved, so the sampler is
        rebuilt at every generation with a seed derived from ``(seed, generation)``:
        whatever it remembers is then a function of the generation and of the study
        (its trials and system attributes, which the checkpoint holds), and a restored
        strategy asks exactly what the uninterrupted one asks.
        """
        return self._make_sampler(generation_seed(self.seed, self.generation))

    def _new_study(self) -> None:
        """A new private study on an in-memory storage of its own (``self._memory``)."""
        storage = InMemoryStorage()
        with _quiet_optuna():
            study = optuna.create_study(
                storage=storage,
                sampler=self._generation_sampler(),
                directions=list(self.space.objectives.directions),
            )
        self._memory, self._study = storage, study
        self._memory_id = storage.get_study_id_from_name(study.study_name)

    # -- ask / tell --------------------------------------------------------------------------
    def _ask(self) -> np.ndarray:
        study, space = self._study, self.space
        with _quiet_optuna():
            study.sampler = self._generation_sampler()
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
        values = self.space.objectives.minimised(F)  # as measured: throughput maximised
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
        history["values"].append(np.vstack([values, np.full((n_asked - n, values.shape[1]), np.nan)]))
        history["constraints"].append(np.vstack([G, np.full((n_asked - n, G.shape[1]), np.nan)]))
        history["complete"].append(np.arange(n_asked) < n)
        history["extra"].extend(self._sampler_attrs(told[trial.number]) for trial in self._pending)
        self._pending = []

    def _sampler_attrs(self, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
        """A trial's system attributes worth keeping (e.g. ``NSGAIISampler:generation``):
        not its constraints (kept as values) nor the relative parameters TPE/GP share for
        *running* trials (never read once complete); as plain JSON data."""
        kept = {
            key: value
            for key, value in trial.system_attrs.items()
            if key not in self._constraint_attrs and not key.startswith(_TRANSIENT_PREFIXES)
        }
        return json.loads(json.dumps(kept, allow_nan=False))

    # -- checkpoints -------------------------------------------------------------------------
    def _state(self) -> Any:
        history = self._history
        complete = _concat(history["complete"], (0,), bool)
        values = _concat(history["values"], (0, self.space.objectives.count), float)
        constraints = _concat(history["constraints"], (0, len(self._constraint_names)), float)
        return {
            "history": {  # append-only: one row per asked trial
                "genomes": _concat(history["genomes"], (0, self.space.n_genes), np.int64).tolist(),
                "values": [plain_floats(v) if c else None for v, c in zip(values, complete)],
                "constraints": [
                    plain_floats(g) if c else None for g, c in zip(constraints, complete)
                ],
                "trial_attrs": list(history["extra"]),
            },
            "study_attrs": dict(self._memory.get_study_system_attrs(self._memory_id)),
        }

    def _load_state(self, state: Any) -> None:
        if "history" in state:  # else a checkpoint of an earlier ssropt: the lists inline
            state = {**state["history"], "study_attrs": state["study_attrs"]}
        space, names = self.space, self._constraint_names
        genomes = np.array(state["genomes"], dtype=np.int64).reshape(-1, space.n_genes)
        n = len(genomes)
        if not len(state["values"]) == len(state["constraints"]) == len(state["trial_attrs"]) == n:
            raise SsroptError(f"strategy {self.name!r}: inconsistent checkpoint (trial counts)")
        complete = np.array([v is not None for v in state["values"]], dtype=bool)
        n_objectives = self.space.objectives.count
        values = np.full((n, n_objectives), np.nan)
        constraints = np.full((n, len(names)), np.nan)
        trials = []
        for i, (genome, row_values, row_constraints, attrs) in enumerate(
            zip(genomes, state["values"], state["constraints"], state["trial_attrs"])
        ):
            if complete[i]:
                values[i] = float_array(row_values, (n_objectives,))
                constraints[i] = float_array(row_constraints, (len(names),))
            trials.append(
                create_trial(
                    state=TrialState.COMPLETE if complete[i] else TrialState.FAIL,
                    params=genome_params(space, genome),
                    distributions=self._distributions,
                    values=values[i].tolist() if complete[i] else None,
                    constraints=dict(zip(names, constraints[i].tolist())) if complete[i] else None,
                    system_attrs=dict(attrs),
                )
            )
        self._new_study()
        with _quiet_optuna():
            self._study.add_trials(trials)
        for key, value in state["study_attrs"].items():
            self._memory.set_study_system_attr(self._memory_id, key, value)
        self._pending = []
        self._history = {
            "genomes": [genomes] if n else [],
            "values": [values] if n else [],
            "constraints": [constraints] if n else [],
            "complete": [complete] if n else [],
            "extra": [dict(attrs) for attrs in state["trial_attrs"]],
        }


def _concat(parts: list[np.ndarray], empty_shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(empty_shape, dtype=dtype)


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

    def _make_sampler(self, seed: int) -> BaseSampler:
        return optuna.samplers.NSGAIISampler(population_size=self.population_size, seed=seed)


class OptunaTpe(OptunaStrategy):
    """Multivariate multi-objective TPE; the first generation is random (startup trials).

    Without constant liar: the trials of one generation are drawn from the same model
    (asked together, told together), which keeps the per-trial cost low.
    """

    name = "tpe"

    def _make_sampler(self, seed: int) -> BaseSampler:
        return optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            n_startup_trials=self.population_size,
            constant_liar=False,
        )


class OptunaRandom(OptunaStrategy):
    """Uniform random genomes (Optuna's RandomSampler)."""

    name = "random"

    def _make_sampler(self, seed: int) -> BaseSampler:
        return optuna.samplers.RandomSampler(seed=seed)


class OptunaQmc(OptunaStrategy):
    """A scrambled Sobol sequence (Optuna's QMCSampler) seeded by ``seed``.

    The scramble keeps the strategy's seed for the whole run (one sequence), and the
    sampler's position in it lives in the study's system attributes; only the random
    sampler behind it (genes sampled independently, e.g. before any trial completes)
    takes the generation's seed.
    """

    name = "qmc"

    def _make_sampler(self, seed: int) -> BaseSampler:
        return optuna.samplers.QMCSampler(
            qmc_type="sobol",
            scramble=True,
            seed=self.seed,
            independent_sampler=optuna.samplers.RandomSampler(seed=seed),
            warn_independent_sampling=False,
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

    def _make_sampler(self, seed: int) -> BaseSampler:
        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=self.population_size, deterministic_objective=True
        )


def torch_missing_message() -> str:
    return (
        "strategy 'gp' needs the optional dependency torch (pip install torch); "
        "the other strategies work without it"
    )
