"""Strategy benchmark: every strategy x seed on one space with one budget, with progress curves.

Each run (a strategy and a seed ``0 .. n_seeds - 1``) is an ordinary ssropt study run
by :func:`ssropt.engine.runner.run_study` (in its own in-memory storage unless a storage is
given).  Its ``on_generation`` callback keeps the run's feasible latency-throughput front
so far and records, after every generation, the evaluations, wall seconds and model
seconds so far and that front (:class:`RunTrace`).  Hypervolumes are computed only
afterwards (:mod:`ssropt.harness.bench.metrics`), against one reference point common to every
run.

When the space holds at most ``exhaustive_limit`` distinct designs
(:func:`ssropt.strategies.space_size`), :func:`enumerate_front` evaluates every one of
them through the same evaluation path and the reference front is exact.

Example:
    >>> from ssropt.spaces import SpaceOptions
    >>> base = StudyConfig(workload={"model": "deit-t", "tokens": 16, "blocks": 1,
    ...                              "embed_and_head": False}, platform="vck190",
    ...                    space=SpaceOptions(batch_sizes=(1, 2)).to_dict(), budget=60,
    ...                    population_size=20)
    >>> plan = plan_bench(base, ("nsga2", "random"), n_seeds=2)
    >>> [(r.strategy, r.seed) for r in plan.runs]
    [('nsga2', 0), ('nsga2', 1), ('random', 0), ('random', 1)]
    >>> traces = run_bench(plan)
    >>> [t.evaluations[-1] for t in traces]
    [60, 60, 60, 60]
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import optuna

from ssropt.engine.study import StudyConfig
from ssropt.errors import SsroptError
from ssropt.harness.report import check_names_free
from ssropt.objectives.files import read_text
from ssropt.pareto import latency_throughput_front

logger = logging.getLogger(__name__)

DEFAULT_BUDGET = 2000
DEFAULT_SEEDS = 5
ENUMERATION_CHUNK = 20_000
REFERENCE_COLUMNS = ("latency_s", "throughput_ops_per_s")


class BenchError(SsroptError):
    """A benchmark setting is invalid."""


@dataclass(frozen=True)
class BenchRun:
    """One run of the benchmark: a strategy, a seed, its study name and settings."""

    strategy: str
    seed: int
    study_name: str
    config: StudyConfig

    @property
    def label(self) -> str:
        return f"{self.strategy} seed {self.seed}"


@dataclass(frozen=True)
class BenchPlan:
    """The validated benchmark: shared settings, the runs, the reference-front sources."""

    base: StudyConfig
    strategies: tuple[str, ...]
    seeds: tuple[int, ...]
    runs: tuple[BenchRun, ...]
    space_size: int
    exhaustive_limit: int
    reference_file: str | None = None
    reference_points: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))

    @property
    def enumerable(self) -> bool:
        """Whether the reference front is exact (the space is enumerated)."""
        return self.space_size <= self.exhaustive_limit


@dataclass
class RunTrace:
    """What one run recorded, one entry per stored generation (all lists equally long)."""

    run: BenchRun
    evaluations: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    model_seconds: list[float] = field(default_factory=list)
    fronts: list[np.ndarray] = field(default_factory=list)  # (k, 2) front so far
    wall_seconds: float = 0.0  # the run loop's wall time (RunSummary.seconds)
    model_total: float = 0.0  # the model's share of it
    front_genomes: np.ndarray | None = None  # genomes of the final front's designs

    @property
    def evaluated(self) -> int:
        return self.evaluations[-1] if self.evaluations else 0

    @property
    def front(self) -> np.ndarray:
        """The run's final feasible front, ``(k, 2)`` (latency, throughput) by latency."""
        return self.fronts[-1] if self.fronts else np.empty((0, 2))


class FrontKeeper:
    """A running latency-throughput front of the feasible points seen so far, and the
    genomes of its designs (when given)."""

    def __init__(self) -> None:
        self.front = np.empty((0, 2))
        self.genomes: np.ndarray | None = None  # (k, n_genes), aligned with ``front``

    def add(self, latency: np.ndarray, throughput: np.ndarray, feasible: np.ndarray,
            genomes: np.ndarray | None = None) -> np.ndarray:
        """Merge one population's points; the front so far (the same array if unchanged)."""
        keep = np.asarray(feasible, dtype=bool) & np.isfinite(latency) & np.isfinite(throughput)
        if keep.any():
            points = np.vstack([self.front, np.column_stack([latency[keep], throughput[keep]])])
            chosen = latency_throughput_front(points[:, 0], points[:, 1])
            front = points[chosen]
            if genomes is not None:
                new = np.asarray(genomes)[keep]
                known = self.genomes if self.genomes is not None else new[:0]
                self.genomes = np.vstack([known, new])[chosen]
            if not np.array_equal(front, self.front):
                self.front = front
        return self.front


def parse_strategies(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``"nsga2,tpe"`` -> ``("nsga2", "tpe")``; unknown, repeated or no names -> BenchError."""
    from ssropt.strategies import available_strategies

    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    if not names:
        raise BenchError("no strategy given: list some, e.g. --strategies nsga2,tpe,random")
    known = available_strategies()
    for name in names:
        if name not in known:
            from ssropt.strategies import make_strategy

            make_strategy(name, None, 0)  # the precise message (gp without torch, unknown)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BenchError(f"strategy {repeated[0]!r} is listed twice")
    return tuple(names)


def default_strategies() -> tuple[str, ...]:
    """Every available strategy except ``exhaustive`` (and ``gp``, seconds per design)."""
    from ssropt.strategies import available_strategies

    return tuple(s for s in available_strategies() if s not in ("exhaustive", "gp"))


def read_reference_file(path: str | Path) -> np.ndarray:
    """``(k, 2)`` (latency, throughput) points of a CSV with REFERENCE_COLUMNS columns."""
    text = read_text(path, "--reference", BenchError)  # a regular UTF-8 file, bounded
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        missing = [c for c in REFERENCE_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise BenchError(
                f"--reference {str(path)!r} has no column {missing[0]!r} (it needs "
                f"{', '.join(REFERENCE_COLUMNS)}, like a reference_front.csv)"
            )
        rows = [(row[REFERENCE_COLUMNS[0]], row[REFERENCE_COLUMNS[1]]) for row in reader]
    except csv.Error as exc:
        raise BenchError(f"--reference {str(path)!r} is not a valid CSV file: {exc}") from None
    points = []
    for line, (latency, throughput) in enumerate(rows, start=2):
        try:
            point = (float(latency), float(throughput))
        except (TypeError, ValueError):
            raise BenchError(f"--reference {str(path)!r} line {line}: not a number") from None
        if not all(math.isfinite(v) and v > 0 for v in point):
            raise BenchError(
                f"--reference {str(path)!r} line {line}: latency and throughput must be "
                "positive and finite"
            )
        points.append(point)
    if not points:
        raise BenchError(f"--reference {str(path)!r} holds no point")
    return np.array(points, dtype=float)


def plan_bench(
    base: StudyConfig,
    strategies: str | tuple[str, ...] | list[str],
    n_seeds: int = DEFAULT_SEEDS,
    study_prefix: str = "bench",
    exhaustive_limit: int | None = None,
    reference_file: str | Path | None = None,
) -> BenchPlan:
    """Validate everything and plan the runs (nothing is run or written).

    ``base`` gives the workload, hardware, space, budget, time limit and population;
    every strategy gets seeds ``0 .. n_seeds - 1``.  Each strategy is built once on the
    space, so one that refuses it (``exhaustive`` on a large space) fails here.
    """
    from ssropt.strategies import make_strategy, space_size
    from ssropt.strategies.exhaustive import DEFAULT_LIMIT

    names = parse_strategies(strategies)
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds <= 0:
        raise BenchError(f"the number of seeds must be a positive integer, got {n_seeds!r}")
    if base.budget is not None and base.budget <= 0:
        raise BenchError(f"the budget must be a positive integer, got {base.budget!r}")
    if base.budget is None and base.time_limit_s is None:
        raise BenchError("give a budget or a time limit: a run must end")
    limit = DEFAULT_LIMIT if exhaustive_limit is None else int(exhaustive_limit)
    if limit < 0:
        raise BenchError(f"the exhaustive limit must be >= 0, got {limit}")
    space = base.build_space()  # validates workload, platform, dtype, cost model, space
    space.check_feasible()
    runs = []
    for name in names:
        config = replace(base, strategy=name)
        make_strategy(name, space, 0, config.population_size, config.initial_genomes(space))
        runs += [
            BenchRun(name, seed, f"{study_prefix}-{name}-seed{seed}", replace(config, seed=seed))
            for seed in range(n_seeds)
        ]
    points = np.empty((0, 2))
    if reference_file is not None:
        points = read_reference_file(reference_file)
    return BenchPlan(
        base=base,
        strategies=names,
        seeds=tuple(range(n_seeds)),
        runs=tuple(runs),
        space_size=space_size(space),
        exhaustive_limit=limit,
        reference_file=None if reference_file is None else str(reference_file),
        reference_points=points,
    )


def run_one(
    run: BenchRun,
    storage: optuna.storages.BaseStorage | None = None,
    *,
    n_jobs: int = 1,
    progress: bool = False,
) -> RunTrace:
    """Create the run's study (in a fresh in-memory storage when ``storage`` is None),
    run it and return its trace."""
    from ssropt.engine.runner import GenerationReport, run_study
    from ssropt.engine.study import create_ssropt_study

    storage = optuna.storages.InMemoryStorage() if storage is None else storage
    study = create_ssropt_study(storage, run.study_name, run.config)
    trace, keeper = RunTrace(run), FrontKeeper()

    def record(report: GenerationReport) -> None:
        ev = report.result.evaluation
        trace.fronts.append(keeper.add(ev.latency_s, ev.throughput_ops_per_s, report.result.feasible,
                                       report.result.genomes))
        trace.evaluations.append(report.evaluated)
        trace.seconds.append(report.seconds)
        trace.model_seconds.append(report.model_seconds)

    summary = run_study(
        study, run.config, n_jobs=n_jobs, progress=progress, on_generation=record
    )
    trace.wall_seconds, trace.model_total = summary.seconds, summary.model_seconds
    trace.front_genomes = keeper.genomes
    return trace


def run_bench(
    plan: BenchPlan,
    storage: optuna.storages.BaseStorage | None = None,
    *,
    n_jobs: int = 1,
    progress: bool = False,
    on_run: Callable[[RunTrace, int, int], None] | None = None,
) -> list[RunTrace]:
    """Run every planned run in order (strategy by strategy, seed by seed).

    ``storage`` keeps every run's study (names checked free first); ``None`` runs each
    in its own in-memory storage, dropped after the run.  ``on_run(trace, done, total)``
    is called after each run (progress lines).
    """
    if storage is not None:
        check_names_free(storage, [run.study_name for run in plan.runs], list_all=False)
    traces = []
    for k, run in enumerate(plan.runs, start=1):
        trace = run_one(run, storage, n_jobs=n_jobs, progress=progress)
        logger.info("%s: %d designs in %.1f s", run.label, trace.evaluated, trace.wall_seconds)
        traces.append(trace)
        if on_run is not None:
            on_run(trace, k, len(plan.runs))
    return traces


def enumerate_front(
    config: StudyConfig,
    limit: int | None = None,
    *,
    n_jobs: int = 1,
    progress: bool = False,
) -> tuple[np.ndarray, int]:
    """The exact feasible front of ``config``'s space and the number of designs evaluated.

    Every distinct design is evaluated once (the ``exhaustive`` strategy's enumeration, in
    chunks of :data:`ENUMERATION_CHUNK`) through the one evaluation path; nothing is
    stored.  A space larger than ``limit`` raises the strategy's SsroptError.
    """
    from tqdm import tqdm

    from ssropt.engine.parallel import PopulationEvaluator
    from ssropt.strategies import Exhaustive
    from ssropt.strategies.exhaustive import DEFAULT_LIMIT

    space = config.build_space()
    strategy = Exhaustive(
        space, seed=0, population_size=ENUMERATION_CHUNK,
        limit=DEFAULT_LIMIT if limit is None else limit,
    )
    evaluator = PopulationEvaluator(space, config, n_jobs=n_jobs)
    keeper, evaluated = FrontKeeper(), 0
    bar = tqdm(total=strategy.size, unit="design", desc="exact front", disable=not progress,
               leave=False)
    try:
        while not strategy.finished:
            genomes = strategy.ask()
            result = evaluator.evaluate(genomes)
            strategy.tell(result.genomes, result.F, result.G)
            ev = result.evaluation
            keeper.add(ev.latency_s, ev.throughput_ops_per_s, result.feasible)
            evaluated += len(genomes)
            bar.update(len(genomes))
    finally:
        bar.close()
        evaluator.close()
    return keeper.front, evaluated
