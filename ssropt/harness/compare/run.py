"""Running a family comparison: one study per family (and configurator), its fronts.

The three families of one workload are searched with the same batch sizes, seed and
budget, each as its own study (so ``ssropt front`` reads each); a family whose space
holds at most ``exhaustive_limit`` distinct designs is enumerated (an exact front), a
larger one is searched with ``nsga2``.  :func:`plan_family` and :func:`run_plan` also
serve the platform comparison (:mod:`ssropt.harness.platforms`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from ssropt.engine.study import StudyConfig
from ssropt.harness.compare.analysis import FAMILIES, front_array
from ssropt.harness.report import check_names_free
from ssropt.outputs.front import front_genomes, front_rows

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

DEFAULT_BUDGET = 20_000
DEFAULT_EXHAUSTIVE_LIMIT = 200_000


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
    """A searched family: its plan, front rows (``front.front_rows``), work done, and the
    genomes of its front's trials (for the report's schedules)."""

    plan: FamilyPlan
    rows: list[dict]
    evaluated: int
    seconds: float
    genomes: dict[int, list[int]] = field(default_factory=dict)  # front trial -> genome

    @property
    def front(self) -> np.ndarray:
        return front_array(self.rows)


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
    at most ``exhaustive_limit`` designs (an exact front, configured spaces included),
    else ``nsga2`` with ``base.budget``.
    """
    from ssropt.spaces import SpaceOptions
    from ssropt.strategies import make_strategy, space_size
    from ssropt.strategies.exhaustive import CHUNK as EXHAUSTIVE_CHUNK

    batch_sizes = tuple(base.space.get("batch_sizes", SpaceOptions().batch_sizes))
    options = SpaceOptions(family=family, batch_sizes=batch_sizes, configurator=configurator)
    config = replace(base, space=options.to_dict())
    space = config.build_space()  # validates workload, platform, dtype, cost model
    space.check_feasible()
    size = space_size(space)
    if size <= exhaustive_limit:
        config = replace(config, strategy="exhaustive", budget=size, time_limit_s=None,
                         population_size=max(config.population_size, EXHAUSTIVE_CHUNK))
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


def run_plan(storage: optuna.storages.BaseStorage, plans: list[FamilyPlan], collect, *,
             n_jobs: int = 1, progress: bool = False) -> list:
    """Create and run each plan's study in ``storage`` (every name checked free first);
    ``collect(plan, study, evaluated, seconds)`` makes each plan's result."""
    from ssropt.engine.runner import run_study
    from ssropt.engine.study import create_ssropt_study

    check_names_free(storage, [plan.study_name for plan in plans])
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
        return FamilyResult(plan, front_rows(study), evaluated, seconds, front_genomes(study))

    return run_plan(storage, plans, collect, n_jobs=n_jobs, progress=progress)
