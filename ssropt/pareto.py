"""Pareto fronts and quality indicators over objective arrays (numpy + moocore).

All functions take plain arrays, so they work the same on a study's trials, a pymoo
population or a benchmark result, and none of them loops over points in Python.

Conventions:

* ``F`` is an ``(n_points, n_objectives)`` array, every objective **minimised** (negate an
  objective to maximise it).
* A latency–throughput front is an ``(n_points, 2)`` array of ``(latency, throughput)``
  rows: latency minimised, throughput maximised.
* Rows containing NaN are never on a front; ``inf`` is a legal (worst) value.

Example:
    >>> F = np.array([[1.0, 4.0], [2.0, 2.0], [3.0, 3.0], [4.0, 1.0]])
    >>> pareto_mask(F)
    array([ True,  True, False,  True])
    >>> hypervolume(F, reference=[5.0, 5.0])
    11.0
"""

from __future__ import annotations

import moocore
import numpy as np
from numpy.typing import ArrayLike

from ssropt.errors import SsroptError

__all__ = [
    "ParetoInputError",
    "best_throughput_at_latency",
    "dominates_or_equals_at_every_latency",
    "hypervolume",
    "igd_plus",
    "latency_reduction_at_throughput",
    "latency_throughput_front",
    "lowest_latency_at_throughput",
    "nondominated_indices",
    "pareto_mask",
    "throughput_gain_at_latency",
]


class ParetoInputError(SsroptError):
    """An objective array has the wrong shape or contents."""


def _objectives(F: ArrayLike, name: str = "F") -> np.ndarray:
    array = np.asarray(F, dtype=float)
    if array.ndim != 2:
        raise ParetoInputError(f"{name} must be 2-D (n_points, n_objectives), got {array.shape}")
    return array


def _front(front: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(front, dtype=float)
    if array.size == 0:
        return np.empty((0, 2))
    if array.ndim != 2 or array.shape[1] != 2:
        raise ParetoInputError(
            f"{name} must be (n_points, 2) (latency, throughput), got {array.shape}"
        )
    if np.isnan(array).any():
        raise ParetoInputError(f"{name} contains NaN")
    return array


def pareto_mask(F: ArrayLike) -> np.ndarray:
    """Which points are non-dominated (all objectives minimised).

    A point is dominated when another point is ``<=`` in every objective and ``<`` in at
    least one. Identical rows do not dominate each other, but only the **first** occurrence
    of a non-dominated row is kept (``True``), so a front never lists the same point twice.
    Rows containing NaN are ``False``.

    Args:
        F: ``(n_points, n_objectives)`` objective values.

    Returns:
        ``(n_points,)`` boolean mask.

    Example:
        >>> pareto_mask([[1, 2], [2, 1], [1, 2], [2, 2]])
        array([ True,  True, False, False])
    """
    F = _objectives(F)
    mask = np.zeros(len(F), dtype=bool)
    valid = ~np.isnan(F).any(axis=1)
    if valid.any():
        mask[valid] = moocore.is_nondominated(F[valid], keep_weakly=False)
    return mask


def latency_throughput_front(
    latency: ArrayLike, throughput: ArrayLike, feasible: ArrayLike | None = None
) -> np.ndarray:
    """Indices of the latency-vs-throughput Pareto front, sorted by latency ascending.

    Latency is minimised and throughput maximised; only ``feasible`` points compete (all
    points when ``None``). Along the returned indices latency and throughput both strictly
    increase. Values are compared at 12 significant digits; duplicates keep their first
    index (see :func:`pareto_mask`).

    Args:
        latency: ``(n,)`` latencies.
        throughput: ``(n,)`` throughputs.
        feasible: optional ``(n,)`` boolean mask.

    Returns:
        ``(k,)`` int indices into the inputs.

    Example:
        >>> latency_throughput_front([3.0, 1.0, 2.0, 2.5], [30.0, 10.0, 5.0, 30.0])
        array([1, 3])
    """
    latency = np.asarray(latency, dtype=float).ravel()
    throughput = np.asarray(throughput, dtype=float).ravel()
    if latency.shape != throughput.shape:
        raise ParetoInputError(
            f"latency {latency.shape} and throughput {throughput.shape} differ in length"
        )
    if feasible is not None:
        feasible = np.asarray(feasible, dtype=bool).ravel()
        if feasible.shape != latency.shape:
            raise ParetoInputError(f"feasible {feasible.shape} and latency {latency.shape} differ")
    return nondominated_indices(np.column_stack([latency, -throughput]), feasible)


def nondominated_indices(F: ArrayLike, feasible: ArrayLike | None = None) -> np.ndarray:
    """Indices of the non-dominated points of ``F`` (every objective minimised, any number
    of objectives), sorted by the first objective, then the next, ...

    Only ``feasible`` points compete (all points when ``None``). Values are compared at 12
    significant digits: the same design at another batch size can differ from itself in
    the last bits of its throughput, which must not make it a front point. Duplicates keep
    their first index (see :func:`pareto_mask`).

    Args:
        F: ``(n, k)`` minimised objective values.
        feasible: optional ``(n,)`` boolean mask.

    Returns:
        ``(m,)`` int indices into ``F``.

    Example:
        >>> nondominated_indices([[2, 1, 5], [1, 2, 5], [1, 2, 6], [2, 2, 1]]).tolist()
        [1, 0, 3]
    """
    F = _objectives(F)
    candidates = np.arange(len(F))
    if feasible is not None:
        candidates = candidates[np.asarray(feasible, dtype=bool).ravel()]
    front = candidates[pareto_mask(_significant(F[candidates]))]
    return front[np.lexsort(F[front].T[::-1])]


def _significant(values: np.ndarray, digits: int = 12) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (zeros and non-finite kept)."""
    finite = np.isfinite(values) & (values != 0)
    scale = np.ones_like(values)
    scale[finite] = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(values[finite]))))
    return np.where(finite, np.round(values * scale) / scale, values)


def hypervolume(F: ArrayLike, reference: ArrayLike) -> float:
    """Hypervolume dominated by ``F`` (minimisation) and bounded by ``reference``.

    Points that do not strictly dominate ``reference`` contribute nothing; an empty ``F``
    gives 0. Computed by ``moocore.hypervolume``.

    Args:
        F: ``(n_points, n_objectives)`` objective values.
        reference: ``(n_objectives,)`` reference point (worse than every point of interest).

    Example:
        >>> hypervolume([[1.0, 3.0], [2.0, 1.0]], reference=[4.0, 4.0])
        7.0
    """
    F = _objectives(F)
    reference = np.asarray(reference, dtype=float).ravel()
    if reference.shape != (F.shape[1],):
        raise ParetoInputError(
            f"reference has {reference.size} coordinates, F has {F.shape[1]} objectives"
        )
    F = F[~np.isnan(F).any(axis=1)]
    if len(F) == 0:
        return 0.0
    return float(moocore.hypervolume(F, ref=reference))


def igd_plus(F: ArrayLike, reference_front: ArrayLike) -> float:
    """IGD+ distance from ``reference_front`` to ``F`` (minimisation; lower is better).

    0 when ``F`` weakly dominates every reference point; ``inf`` for an empty ``F``.
    Computed by ``moocore.igd_plus``.

    Args:
        F: ``(n_points, n_objectives)`` approximation set.
        reference_front: ``(n_reference, n_objectives)`` reference (e.g. best known) front.

    Example:
        >>> igd_plus([[1.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]])
        0.0
    """
    F = _objectives(F)
    reference_front = _objectives(reference_front, "reference_front")
    if reference_front.shape[1] != F.shape[1]:
        raise ParetoInputError(
            f"reference_front has {reference_front.shape[1]} objectives, F has {F.shape[1]}"
        )
    F = F[~np.isnan(F).any(axis=1)]
    if len(F) == 0:
        return float("inf")
    return float(moocore.igd_plus(F, ref=reference_front))


def _best_throughput(front: np.ndarray, ceilings: np.ndarray) -> np.ndarray:
    """Best throughput of ``front`` with latency ``<= ceiling`` per ceiling; NaN if none."""
    best = np.full(ceilings.shape, np.nan)
    if len(front) == 0:
        return best
    order = np.argsort(front[:, 0], kind="stable")
    latency = front[order, 0]
    running_best = np.maximum.accumulate(front[order, 1])
    count = np.searchsorted(latency, ceilings, side="right")  # points with latency <= ceiling
    has_any = count > 0
    best[has_any] = running_best[count[has_any] - 1]
    return best


def _lowest_latency(front: np.ndarray, floors: np.ndarray) -> np.ndarray:
    """Lowest latency of ``front`` with throughput ``>= floor`` per floor; NaN if none."""
    lowest = np.full(floors.shape, np.nan)
    if len(front) == 0:
        return lowest
    order = np.argsort(-front[:, 1], kind="stable")  # throughput descending
    throughput = -front[order, 1]  # ascending, for searchsorted
    running_lowest = np.minimum.accumulate(front[order, 0])
    count = np.searchsorted(throughput, -floors, side="right")  # points with throughput >= floor
    has_any = count > 0
    lowest[has_any] = running_lowest[count[has_any] - 1]
    return lowest


def best_throughput_at_latency(front: ArrayLike, ceilings: ArrayLike) -> np.ndarray:
    """Best throughput of ``front`` among its points with latency ``<=`` each ceiling.

    Args:
        front: ``(n, 2)`` array of ``(latency, throughput)`` rows (any point set).
        ceilings: latency budgets, any shape.

    Returns:
        Array of ``ceilings``' shape; NaN where no point is within the ceiling.

    Example:
        >>> best_throughput_at_latency([[1.0, 10.0], [2.0, 40.0]], [0.5, 1.5, 2.0])
        array([nan, 10., 40.])
    """
    points = _front(front, "front")
    ceilings = np.asarray(ceilings, dtype=float)
    return _best_throughput(points, ceilings.ravel()).reshape(ceilings.shape)


def lowest_latency_at_throughput(front: ArrayLike, floors: ArrayLike) -> np.ndarray:
    """Lowest latency of ``front`` among its points with throughput ``>=`` each floor.

    Args:
        front: ``(n, 2)`` array of ``(latency, throughput)`` rows (any point set).
        floors: throughput floors, any shape.

    Returns:
        Array of ``floors``' shape; NaN where no point reaches the floor.

    Example:
        >>> lowest_latency_at_throughput([[1.0, 10.0], [2.0, 40.0]], [5.0, 10.0, 20.0, 50.0])
        array([ 1.,  1.,  2., nan])
    """
    points = _front(front, "front")
    floors = np.asarray(floors, dtype=float)
    return _lowest_latency(points, floors.ravel()).reshape(floors.shape)


def dominates_or_equals_at_every_latency(
    front_a: ArrayLike, front_b: ArrayLike, *, rtol: float = 0.0
) -> bool:
    """Whether front ``a`` weakly dominates every point of front ``b``.

    True when for every ``(latency, throughput)`` point of ``b`` some point of ``a`` has
    latency ``<=`` and throughput ``>=`` it, i.e. at every latency budget ``a`` offers at
    least ``b``'s best throughput. An empty ``b`` is dominated by anything.

    Args:
        front_a, front_b: ``(n, 2)`` arrays of ``(latency, throughput)`` rows (any point
            sets; they need not be fronts).
        rtol: relative slack: ``a`` may be up to ``rtol`` slower and lower in throughput.

    Example:
        >>> hybrid = [[1.0, 10.0], [2.0, 30.0]]
        >>> sequential = [[1.0, 10.0], [3.0, 25.0]]
        >>> dominates_or_equals_at_every_latency(hybrid, sequential)
        True
        >>> dominates_or_equals_at_every_latency(sequential, hybrid)
        False
    """
    a, b = _front(front_a, "front_a"), _front(front_b, "front_b")
    if len(b) == 0:
        return True
    best = _best_throughput(a, b[:, 0] * (1.0 + rtol))
    return bool(np.all(best >= b[:, 1] * (1.0 - rtol)))  # NaN (no point of a) compares False


def throughput_gain_at_latency(
    front_a: ArrayLike, front_b: ArrayLike, ceilings: ArrayLike
) -> np.ndarray:
    """Best throughput of ``a`` under each latency ceiling, divided by that of ``b``.

    Args:
        front_a, front_b: ``(n, 2)`` arrays of ``(latency, throughput)`` rows.
        ceilings: latency budgets, any shape.

    Returns:
        Array of ``ceilings``' shape: the ratio; NaN where ``b`` has no point within the
        ceiling; 0 where only ``b`` has one.

    Example:
        >>> throughput_gain_at_latency([[1.0, 20.0]], [[1.0, 10.0], [2.0, 40.0]], [0.5, 1, 2])
        array([nan, 2. , 0.5])
    """
    a, b = _front(front_a, "front_a"), _front(front_b, "front_b")
    ceilings = np.asarray(ceilings, dtype=float)
    best_a = np.nan_to_num(_best_throughput(a, ceilings.ravel()), nan=0.0)
    best_b = _best_throughput(b, ceilings.ravel())
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = best_a / best_b
    return gain.reshape(ceilings.shape)


def latency_reduction_at_throughput(
    front_a: ArrayLike, front_b: ArrayLike, floors: ArrayLike
) -> np.ndarray:
    """Lowest latency of ``b`` reaching each throughput floor, divided by that of ``a``.

    The mirror of :func:`throughput_gain_at_latency`: a value above 1 means ``a`` reaches
    the floor that many times sooner than ``b``.

    Args:
        front_a, front_b: ``(n, 2)`` arrays of ``(latency, throughput)`` rows.
        floors: throughput floors, any shape.

    Returns:
        Array of ``floors``' shape: the ratio; NaN where ``b`` reaches no floor; 0 where
        only ``b`` reaches it.

    Example:
        >>> latency_reduction_at_throughput([[1.0, 20.0]], [[2.0, 10.0], [4.0, 40.0]], [5, 20, 40])
        array([2., 4., 0.])
    """
    a, b = _front(front_a, "front_a"), _front(front_b, "front_b")
    floors = np.asarray(floors, dtype=float)
    lowest_a = np.nan_to_num(_lowest_latency(a, floors.ravel()), nan=np.inf)
    lowest_b = _lowest_latency(b, floors.ravel())
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = lowest_b / lowest_a
    return reduction.reshape(floors.shape)
