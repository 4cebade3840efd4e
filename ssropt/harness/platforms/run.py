"""One workload on several platforms: the best hybrid front of each, side by side.

Each platform's hybrid space (accelerators configured the SSR way on the ``ssr`` model,
as ``ssropt run`` does by default; for a GPU roofline platform: its only design variable,
the batch) is searched as its own study with the same batch sizes, seed and budget -- exactly
as ``ssropt compare`` searches one family (enumerated when the space is small, else
``nsga2``).  Platforms are then compared the way the SSR paper compares them: for each
batch size, the design of highest throughput at that batch on each platform, its
throughput and its energy efficiency (images/s per W); each platform's ratio to a
baseline platform at batch 1, 3 and 6 (those of them searched) and the mean ratio over
every batch size searched.

Example:
    >>> best = {"gpu": {1: (100.0, 2.0), 2: (150.0, 2.5)}, "fpga": {1: (300.0, 8.0), 2: (300.0, 10.0)}}
    >>> ratios = batch_ratios(best, "gpu", [1, 2])
    >>> ratios["fpga"]["throughput"], ratios["fpga"]["efficiency"]
    ([3.0, 2.0], [4.0, 4.0])
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

from ssropt.engine.study import StudyConfig
from ssropt.harness.compare.run import FamilyPlan, plan_family
from ssropt.outputs.front import feasible_trials, front_genomes, front_rows

logger = logging.getLogger(__name__)

#: the batch sizes the SSR paper reports ratios at (those searched are shown)
REPORTED_BATCHES = (1, 3, 6)


@dataclass(frozen=True)
class PlatformResult:
    """One platform's searched hybrid front and its best design per batch size.

    ``best[b] = (throughput_ops_per_s, images_per_s_per_w)`` of the feasible design of
    highest throughput at batch ``b`` (absent when no design at ``b`` is feasible);
    ``rows`` are the front rows of :func:`ssropt.outputs.front.front_rows`.
    """

    plan: FamilyPlan
    platform: str
    description: str
    rows: list[dict]
    best: dict[int, tuple[float, float]]
    evaluated: int
    seconds: float
    genomes: dict[int, list[int]] = field(default_factory=dict)  # front trial -> genome


def plan_platforms(
    base: StudyConfig, platforms: list[str], study_prefix: str, exhaustive_limit: int
) -> list[FamilyPlan]:
    """One validated hybrid-space plan per platform, each with its default cost model."""
    from ssropt.objectives.platforms import default_cost_model, load_platform
    from ssropt.spaces.configured import default_configurator

    plans = []
    for name in platforms:
        platform = load_platform(name)
        cost_model = default_cost_model(platform)
        config = replace(base, platform=name, cost_model=cost_model)
        configurator = default_configurator(cost_model, "hybrid")  # as `ssropt run` by default
        plans.append(
            plan_family(config, "hybrid", f"{study_prefix}-{platform.name}", exhaustive_limit, configurator)
        )
    return plans


def efficiency(trial) -> float:
    """Images/s per W of a trial (NaN without a power figure)."""
    stored = trial.user_attrs.get("images_per_s_per_w")
    if stored is not None:
        return float(stored)
    power = trial.user_attrs.get("power_w")
    images = trial.user_attrs.get("images_per_s")
    if not power or images is None:
        return math.nan
    return float(images) / float(power)


def best_per_batch(study, batch_sizes: list[int]) -> dict[int, tuple[float, float]]:
    """Batch -> (throughput, images/s/W) of the highest-throughput feasible design."""
    best = {}
    for b in batch_sizes:
        trials = feasible_trials(study, batch=b)
        if trials:
            top = max(trials, key=lambda t: (t.values[1], -t.number))
            best[b] = (float(top.values[1]), efficiency(top))
    return best


def run_platforms(storage, plans: list[FamilyPlan], *, n_jobs: int = 1, progress: bool = False):
    """Create and run each platform's study; a :class:`PlatformResult` each."""
    from ssropt.harness.compare.run import run_plan
    from ssropt.objectives.platforms import load_platform

    def collect(plan, study, evaluated, seconds):
        rows = front_rows(study)
        batches = [int(b) for b in plan.config.space["batch_sizes"]]
        platform = load_platform(plan.config.platform)
        return PlatformResult(
            plan, platform.name, platform.description, rows, best_per_batch(study, batches),
            evaluated, seconds, front_genomes(study),
        )

    return run_plan(storage, plans, collect, n_jobs=n_jobs, progress=progress)


def batch_ratios(
    best: dict[str, dict[int, tuple[float, float]]], baseline: str, batch_sizes: list[int]
) -> dict[str, dict[str, list[float]]]:
    """Per platform, its throughput and efficiency ratios to ``baseline`` per batch size.

    NaN where either platform has no feasible design at that batch.
    """
    out = {}
    for name, per_batch in best.items():
        thr, eff = [], []
        for b in batch_sizes:
            mine, theirs = per_batch.get(b), best[baseline].get(b)
            if mine is None or theirs is None:
                thr.append(math.nan)
                eff.append(math.nan)
                continue
            thr.append(mine[0] / theirs[0] if theirs[0] > 0 else math.nan)
            eff.append(mine[1] / theirs[1] if theirs[1] > 0 else math.nan)
        out[name] = {"throughput": thr, "efficiency": eff}
    return out


def mean_finite(values: list[float]) -> float:
    """Arithmetic mean of the finite values (NaN when none)."""
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan
