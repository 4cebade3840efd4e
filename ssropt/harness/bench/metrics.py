"""What the strategy benchmark measures: the reference front, hypervolume curves, targets.

* **Reference front**: the non-dominated union (exact dominance, :func:`pareto_mask` on
  ``[latency, -throughput]``) of the exact front of an enumerated space (when there is
  one), the points of a stored reference file (when given) and every run's final front.
  With an enumerated space the union adds nothing the enumeration missed (a run point
  may only tie an enumerated one); it is taken all the same so that no run point ever
  dominates a reference point.
* **Hypervolume** of a front in minimisation form ``[latency, -throughput]`` against ONE
  reference point ``[1.1 x the worst latency of every front taken (the runs' and the
  reference's), 0]`` (as in :func:`ssropt.harness.compare.analysis.common_reference`), reported as a fraction of the reference
  front's hypervolume: at most 1, since the reference front weakly dominates every run
  point.
* **Targets**: the evaluations and wall seconds at the first generation whose fraction
  reaches 95 % and 99 % (``None`` when never).
* **IGD+** of a run's final front to the reference front, with both objectives
  normalised (latency / the reference point's latency, throughput / the reference
  front's best throughput) so that neither unit dominates the distance.

Example:
    >>> reference = build_reference_front([], exact=np.array([[1.0, 10.0], [2.0, 30.0]]))
    >>> reference.hv_reference.round(9).tolist(), round(reference.hypervolume, 9)
    ([2.2, 0.0], 16.0)
    >>> hv_fractions([np.array([[1.0, 10.0]]), reference.points], reference).round(9).tolist()
    [0.75, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssropt.harness.bench.run import BenchPlan, RunTrace, enumerate_front
from ssropt.harness.compare.analysis import REFERENCE_LATENCY_FACTOR, front_hypervolume
from ssropt.pareto import igd_plus, pareto_mask

TARGETS = (0.95, 0.99)


@dataclass(frozen=True)
class ReferenceFront:
    """The reference front ``(n, 2)`` (by latency), who found each point, and its volume."""

    points: np.ndarray
    found_by: tuple[str, ...]
    exact: bool
    hv_reference: np.ndarray  # [latency, -throughput] reference point
    hypervolume: float


@dataclass(frozen=True)
class RunMetrics:
    """One run's curve and figures against the reference front."""

    trace: RunTrace
    hv_fraction: np.ndarray  # (n_generations,), non-decreasing
    evaluations_to: dict[float, int | None]
    seconds_to: dict[float, float | None]
    igd_plus: float

    @property
    def final_fraction(self) -> float:
        return float(self.hv_fraction[-1]) if len(self.hv_fraction) else 0.0

    @property
    def front_points(self) -> int:
        return len(self.trace.front)


@dataclass(frozen=True)
class Spread:
    """Median, minimum and maximum over runs; ``missing`` runs count as +inf (never)."""

    median: float
    low: float
    high: float
    missing: int
    n: int


def build_reference_front(
    traces: list[RunTrace],
    exact: np.ndarray | None = None,
    stored: np.ndarray | None = None,
    stored_label: str = "reference file",
) -> ReferenceFront:
    """The non-dominated union of ``exact``, ``stored`` and the runs' final fronts.

    Identical points are credited to the first source in that order (then strategy by
    strategy, seed by seed).
    """
    parts, labels = [], []
    for points, label in ((exact, "exhaustive"), (stored, stored_label)):
        if points is not None and len(points):
            parts.append(np.asarray(points, dtype=float).reshape(-1, 2))
            labels += [label] * len(parts[-1])
    for trace in traces:
        parts.append(trace.front)
        labels += [trace.run.label] * len(trace.front)
    union = np.vstack(parts) if parts else np.empty((0, 2))
    keep = np.flatnonzero(pareto_mask(np.column_stack([union[:, 0], -union[:, 1]])))
    keep = keep[np.argsort(union[keep, 0], kind="stable")]
    points = union[keep]
    # the worst latency of every front taken, so that each run's points all count
    fronts = [points] + [trace.front for trace in traces]
    worst = max((float(f[:, 0].max()) for f in fronts if len(f)), default=0.0)
    hv_reference = np.array([REFERENCE_LATENCY_FACTOR * worst, 0.0])
    return ReferenceFront(
        points=points,
        found_by=tuple(labels[i] for i in keep),
        exact=exact is not None,
        hv_reference=hv_reference,
        hypervolume=front_hypervolume(points, hv_reference),
    )


def hv_fractions(fronts: list[np.ndarray], reference: ReferenceFront) -> np.ndarray:
    """Hypervolume of each front / the reference front's (NaN when that is 0)."""
    if reference.hypervolume <= 0:
        return np.full(len(fronts), np.nan)
    volumes: dict[int, float] = {}  # a front unchanged between generations is one array
    values = []
    for front in fronts:
        if id(front) not in volumes:
            volumes[id(front)] = front_hypervolume(front, reference.hv_reference)
        values.append(volumes[id(front)] / reference.hypervolume)
    return np.array(values, dtype=float)


def normalised_igd_plus(front: np.ndarray, reference: ReferenceFront) -> float:
    """IGD+ of ``front`` to the reference front in normalised objectives (module doc)."""
    if len(reference.points) == 0:
        return float("nan")
    scale = np.array([reference.hv_reference[0], reference.points[:, 1].max()])

    def minimised(points: np.ndarray) -> np.ndarray:
        return np.column_stack([points[:, 0], -points[:, 1]]) / scale

    return igd_plus(minimised(front), minimised(reference.points))


def run_metrics(trace: RunTrace, reference: ReferenceFront) -> RunMetrics:
    """The hypervolume curve, the targets reached and the IGD+ of one run."""
    fractions = hv_fractions(trace.fronts, reference)
    evaluations_to: dict[float, int | None] = {}
    seconds_to: dict[float, float | None] = {}
    for target in TARGETS:
        reached = np.flatnonzero(fractions >= target)
        first = int(reached[0]) if reached.size else None
        evaluations_to[target] = None if first is None else trace.evaluations[first]
        seconds_to[target] = None if first is None else trace.seconds[first]
    return RunMetrics(trace, fractions, evaluations_to, seconds_to,
                      normalised_igd_plus(trace.front, reference))


def spread(values: list[float | None]) -> Spread:
    """Median and range of ``values`` over runs, ``None`` (never reached) as +inf."""
    array = np.array([np.inf if v is None else float(v) for v in values], dtype=float)
    if array.size == 0:
        return Spread(np.nan, np.nan, np.nan, 0, 0)
    return Spread(
        float(np.median(array)), float(array.min()), float(array.max()),
        sum(v is None for v in values), len(values),
    )


def step_band(
    curves: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Median, min and max over step curves ``(x, y)`` on the union of their x values.

    A curve holds its last value after its last x and is 0 before its first.
    """
    grid = np.unique(np.concatenate([np.asarray(x, dtype=float) for x, _ in curves] + [[]]))
    stacked = []
    for x, y in curves:
        index = np.searchsorted(np.asarray(x, dtype=float), grid, side="right") - 1
        values = np.where(index >= 0, np.asarray(y, dtype=float)[np.maximum(index, 0)], 0.0)
        stacked.append(values)
    table = np.vstack(stacked) if stacked else np.empty((0, 0))
    return grid, np.median(table, axis=0), table.min(axis=0), table.max(axis=0)


def plan_reference(
    plan: BenchPlan, traces: list[RunTrace], *, n_jobs: int = 1, progress: bool = False
) -> tuple[ReferenceFront, str]:
    """The reference front of a finished benchmark and one sentence on where it comes from.

    Exact when the plan's space is enumerable (:func:`ssropt.harness.bench.run.enumerate_front`),
    else the union of the runs' fronts and the plan's reference file.
    """
    exact, enumerated = None, 0
    if plan.enumerable:
        exact, enumerated = enumerate_front(
            plan.base, plan.exhaustive_limit, n_jobs=n_jobs, progress=progress
        )
    stored = plan.reference_points if len(plan.reference_points) else None
    reference = build_reference_front(traces, exact, stored, plan.reference_file or "")
    from_file = sum(who == plan.reference_file for who in reference.found_by) if stored is not None else 0
    file_text = (
        f" and the {len(plan.reference_points)} points of `{plan.reference_file}` "
        f"({from_file} of them kept)" if stored is not None else ""
    )
    if exact is not None:
        by_runs = sum(who not in ("exhaustive", plan.reference_file) for who in reference.found_by)
        text = (
            f"**Exact**: all {enumerated:,} distinct designs of the space were enumerated "
            f"(the `exhaustive` strategy's enumeration; limit {plan.exhaustive_limit:,} designs), "
            f"merged with the {len(traces)} runs' fronts{file_text}; {by_runs} of its points are "
            "credited to a run (ties with enumerated designs up to rounding)."
        )
    else:
        text = (
            f"**Not exact**: the space has {plan.space_size:.3g} distinct designs, more than the "
            f"exhaustive limit of {plan.exhaustive_limit:,}, so the reference is the "
            f"non-dominated union of the {len(traces)} runs' feasible fronts{file_text}."
        )
    return reference, text
