"""Hybrid vs sequential-only vs spatial-only: how the families' fronts compare.

The families are searched by :mod:`.run`; their fronts are compared three ways:

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

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ssropt.pareto import (
    best_throughput_at_latency,
    dominates_or_equals_at_every_latency,
    hypervolume,
    latency_reduction_at_throughput,
    lowest_latency_at_throughput,
    throughput_gain_at_latency,
)

FAMILIES = ("sequential", "spatial", "hybrid")
BASELINES = ("sequential", "spatial")
CANDIDATE = "hybrid"
REFERENCE_LATENCY_FACTOR = 1.1


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
