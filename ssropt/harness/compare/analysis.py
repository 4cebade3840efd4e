"""Hybrid vs sequential-only vs spatial-only: run the three families and compare fronts.

The three families of one workload are searched with the same batch sizes, seed and
budget, each as its own study (so ``ssropt front`` reads each); a family whose space
holds at most ``exhaustive_limit`` distinct designs is enumerated (an exact front),
a larger one is searched with ``nsga2``.  The fronts are then compared three ways:

* **throughput at latency ceilings**: for each ceiling the best throughput of each
  family among its front points with latency ``<=`` the ceiling, and the hybrid's gain
  (hybrid / baseline).  The ceilings are the union of the three fronts' latencies: a
  family's best throughput only changes at one of its own front latencies, so this
  ladder lists every step of every curve and nothing between two rungs differs.
* **latency at throughput floors**: for each floor the lowest latency of each family
  among its points with throughput ``>=`` the floor, and the hybrid's latency reduction
  (baseline latency / hybrid latency, > 1 when the hybrid is faster).  The floors are
  the union of the fronts' throughputs, for the same reason.
* **hypervolume** of each front in minimisation form ``[latency, -throughput]`` against
  ONE reference point common to the three fronts: ``[1.1 x the worst front latency of
  all families, 0]``.  Every front point strictly dominates it, so every point counts;
  the unit is s x ops/s = ops.

Example:
    >>> fronts = {"sequential": [[1.0, 10.0]], "spatial": [[3.0, 40.0]],
    ...           "hybrid": [[1.0, 10.0], [2.0, 30.0]]}
    >>> result = compare_fronts(fronts)
    >>> result.ceilings.tolist(), result.throughput_gain["sequential"].tolist()
    ([1.0, 2.0, 3.0], [1.0, 3.0, 3.0])
    >>> result.reference.tolist(), round(result.hypervolume["hybrid"], 9)
    ([3.3000000000000003, 0.0], 49.0)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ssropt.engine.study import StudyConfig, StudyError
from ssropt.outputs.front import front_rows
from ssropt.pareto import (
    best_throughput_at_latency,
    dominates_or_equals_at_every_latency,
    hypervolume,
    latency_reduction_at_throughput,
    lowest_latency_at_throughput,
    throughput_gain_at_latency,
)

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

FAMILIES = ("sequential", "spatial", "hybrid")
BASELINES = ("sequential", "spatial")
CANDIDATE = "hybrid"
DEFAULT_BUDGET = 20_000
DEFAULT_EXHAUSTIVE_LIMIT = 200_000
REFERENCE_LATENCY_FACTOR = 1.1


@dataclass(frozen=True)
class FamilyPlan:
    """One family's study: its name, settings (strategy and budget chosen) and size."""

    family: str
    study_name: str
    config: StudyConfig
    space_size: int

    @property
    def configurator(self) -> str:
        return self.config.space.get("configurator", "none")

    @property
    def label(self) -> str:
        """``family`` or ``family (ssr-configured)``."""
        return self.family if self.configurator == "none" else f"{self.family} ({self.configurator}-configured)"


@dataclass(frozen=True)
class FamilyResult:
    """A searched family: its plan, front rows (``front.front_rows``), work done."""

    plan: FamilyPlan
    rows: list[dict]
    evaluated: int
    seconds: float

    @property
    def front(self) -> np.ndarray:
        return front_array(self.rows)


@dataclass(frozen=True)
class Comparison:
    """The three comparisons of the module docstring; arrays follow their ladder.

    ``best_throughput[family]`` and ``throughput_gain[baseline]`` are ``(n_ceilings,)``;
    ``lowest_latency[family]`` and ``latency_reduction[baseline]`` are ``(n_floors,)``;
    ``dominates[baseline]`` says whether the hybrid front weakly dominates it.
    """

    fronts: dict[str, np.ndarray]
    ceilings: np.ndarray
    best_throughput: dict[str, np.ndarray]
    throughput_gain: dict[str, np.ndarray]
    floors: np.ndarray
    lowest_latency: dict[str, np.ndarray]
    latency_reduction: dict[str, np.ndarray]
    reference: np.ndarray
    hypervolume: dict[str, float]
    dominates: dict[str, bool]


def front_array(rows: list[dict]) -> np.ndarray:
    """``(n, 2)`` ``(latency_s, throughput_ops_per_s)`` rows of front rows."""
    return np.array(
        [[r["latency_s"], r["throughput_ops_per_s"]] for r in rows], dtype=float
    ).reshape(-1, 2)


def latency_ceilings(fronts: dict[str, np.ndarray]) -> np.ndarray:
    """The union of the fronts' latencies, ascending (see the module docstring)."""
    return np.unique(np.concatenate([np.asarray(f)[:, 0] for f in fronts.values()] + [[]]))


def throughput_floors(fronts: dict[str, np.ndarray]) -> np.ndarray:
    """The union of the fronts' throughputs, ascending."""
    return np.unique(np.concatenate([np.asarray(f)[:, 1] for f in fronts.values()] + [[]]))


def common_reference(fronts: dict[str, np.ndarray]) -> np.ndarray:
    """``[1.1 x worst latency of all fronts, 0]`` in ``[latency, -throughput]`` form."""
    latencies = np.concatenate([np.asarray(f)[:, 0] for f in fronts.values()] + [[]])
    worst = float(latencies.max()) if latencies.size else 0.0
    return np.array([REFERENCE_LATENCY_FACTOR * worst, 0.0])


def front_hypervolume(front: ArrayLike, reference: ArrayLike) -> float:
    """Hypervolume of a ``(n, 2)`` latency-throughput front in minimisation form."""
    points = np.asarray(front, dtype=float).reshape(-1, 2)
    return hypervolume(np.column_stack([points[:, 0], -points[:, 1]]), reference)


def compare_fronts(fronts: dict[str, ArrayLike]) -> Comparison:
    """Ladders, gains, reductions and hypervolumes of the families' fronts.

    Args:
        fronts: family -> ``(n, 2)`` ``(latency, throughput)`` front, with every family
            of :data:`FAMILIES`.
    """
    arrays = {f: np.asarray(fronts[f], dtype=float).reshape(-1, 2) for f in FAMILIES}
    ceilings, floors = latency_ceilings(arrays), throughput_floors(arrays)
    reference = common_reference(arrays)
    hybrid = arrays[CANDIDATE]
    return Comparison(
        fronts=arrays,
        ceilings=ceilings,
        best_throughput={f: best_throughput_at_latency(a, ceilings) for f, a in arrays.items()},
        throughput_gain={
            b: throughput_gain_at_latency(hybrid, arrays[b], ceilings) for b in BASELINES
        },
        floors=floors,
        lowest_latency={f: lowest_latency_at_throughput(a, floors) for f, a in arrays.items()},
        latency_reduction={
            b: latency_reduction_at_throughput(hybrid, arrays[b], floors) for b in BASELINES
        },
        reference=reference,
        hypervolume={f: front_hypervolume(a, reference) for f, a in arrays.items()},
        dominates={b: dominates_or_equals_at_every_latency(hybrid, arrays[b]) for b in BASELINES},
    )


def plan_family(
    base: StudyConfig,
    family: str,
    study_name: str,
    exhaustive_limit: int = DEFAULT_EXHAUSTIVE_LIMIT,
    configurator: str = "none",
) -> FamilyPlan:
    """A validated plan for one space family of ``base`` (nothing is written).

    ``base`` gives the workload, hardware, batch sizes (``base.space``), seed, budget and
    population; the family gets its own space (accelerator parameters chosen by
    ``configurator``), and ``exhaustive`` (budget = the space size) when its space holds
    at most ``exhaustive_limit`` designs, else ``nsga2`` with ``base.budget``.  A
    configured space is enumerated only when it also holds at most ``base.budget``
    designs: the configurator prices designs one at a time, not vectorised.
    """
    from ssropt.spaces import SpaceOptions
    from ssropt.strategies import make_strategy, space_size

    batch_sizes = tuple(base.space.get("batch_sizes", SpaceOptions().batch_sizes))
    options = SpaceOptions(family=family, batch_sizes=batch_sizes, configurator=configurator)
    config = replace(base, space=options.to_dict())
    space = config.build_space()  # validates workload, platform, dtype, cost model
    space.check_feasible()
    size = space_size(space)
    if configurator != "none" and base.budget is not None:
        exhaustive_limit = min(exhaustive_limit, base.budget)
    if size <= exhaustive_limit:
        config = replace(config, strategy="exhaustive", budget=size, time_limit_s=None)
    else:
        config = replace(config, strategy="nsga2")
    make_strategy(config.strategy, space, config.seed, config.population_size)
    return FamilyPlan(family, study_name, config, size)


def configurators_of(base: StudyConfig) -> tuple[str, ...]:
    """The ways a family's accelerators are configured in a comparison: searched as genes,
    and also by the cost model's own configurator where it has one."""
    from ssropt.spaces.configured import NO_CONFIGURATOR, default_configurator

    own = default_configurator(base.cost_model, "hybrid")
    return (NO_CONFIGURATOR,) if own == NO_CONFIGURATOR else (NO_CONFIGURATOR, own)


def plan_families(
    base: StudyConfig, study_prefix: str, exhaustive_limit: int = DEFAULT_EXHAUSTIVE_LIMIT
) -> list[FamilyPlan]:
    """Validated plans (:func:`plan_family`) for every family of :data:`FAMILIES`, each
    once per configurator of :func:`configurators_of`: a family's front is the union of
    its studies' fronts, so each family is compared at its best."""
    plans = []
    for family in FAMILIES:
        for configurator in configurators_of(base):
            suffix = "" if configurator == "none" else f"-{configurator}"
            name = f"{study_prefix}-{family}{suffix}"
            plans.append(plan_family(base, family, name, exhaustive_limit, configurator))
    return plans


def family_fronts(results: list[FamilyResult]) -> dict[str, np.ndarray]:
    """Family -> the non-dominated union of its studies' fronts, ``(n, 2)``."""
    from ssropt.pareto import latency_throughput_front

    fronts = {}
    for family in FAMILIES:
        points = [r.front for r in results if r.plan.family == family]
        union = np.concatenate(points + [np.zeros((0, 2))])
        keep = latency_throughput_front(union[:, 0], union[:, 1]) if len(union) else []
        fronts[family] = union[np.asarray(keep, dtype=int)].reshape(-1, 2)
    return fronts


def check_names_free(storage: optuna.storages.BaseStorage, plans: list[FamilyPlan]) -> None:
    """StudyError when a planned study name already exists in ``storage``."""
    import optuna

    existing = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    taken = [p.study_name for p in plans if p.study_name in existing]
    if taken:
        raise StudyError(
            f"studies {', '.join(map(repr, taken))} already exist in this storage: pick another "
            "--study-prefix or --storage"
        )


def run_plan(storage: optuna.storages.BaseStorage, plans: list[FamilyPlan], collect, *,
             n_jobs: int = 1, progress: bool = False) -> list:
    """Create and run each plan's study in ``storage`` (every name checked free first);
    ``collect(plan, study, evaluated, seconds)`` makes each plan's result."""
    from ssropt.engine.runner import run_study
    from ssropt.engine.study import create_ssropt_study

    check_names_free(storage, plans)
    results = []
    for plan in plans:
        study = create_ssropt_study(storage, plan.study_name, plan.config)
        start = time.perf_counter()
        summary = run_study(study, plan.config, n_jobs=n_jobs, progress=progress)
        seconds = time.perf_counter() - start
        logger.info("%s: %d designs in %.1f s", plan.study_name, summary.evaluated, seconds)
        results.append(collect(plan, study, summary.evaluated, seconds))
    return results


def run_families(
    storage: optuna.storages.BaseStorage,
    plans: list[FamilyPlan],
    *,
    n_jobs: int = 1,
    progress: bool = False,
) -> list[FamilyResult]:
    """Create and run each plan's study in ``storage``; the front rows of each."""

    def collect(plan, study, evaluated, seconds):
        return FamilyResult(plan, front_rows(study), evaluated, seconds)

    return run_plan(storage, plans, collect, n_jobs=n_jobs, progress=progress)
