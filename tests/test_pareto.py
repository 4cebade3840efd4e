"""ssropt.pareto: fronts, indicators and front comparisons on hand-built point sets."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.pareto import (
    ParetoInputError,
    dominates_or_equals_at_every_latency,
    hypervolume,
    igd_plus,
    latency_throughput_front,
    nondominated_indices,
    pareto_mask,
    throughput_gain_at_latency,
)


def brute_force_mask(F: np.ndarray) -> np.ndarray:
    """Reference: non-dominated and not a later copy of an earlier identical row."""
    keep = np.ones(len(F), dtype=bool)
    for i, point in enumerate(F):
        dominated = np.any(np.all(F <= point, axis=1) & np.any(F < point, axis=1))
        duplicate_of_earlier = np.any(np.all(F[:i] == point, axis=1))
        keep[i] = not dominated and not duplicate_of_earlier
    return keep


def test_pareto_mask_on_a_hand_built_2d_set() -> None:
    F = np.array(
        [
            [1.0, 5.0],  # front
            [2.0, 3.0],  # front
            [3.0, 3.0],  # dominated by (2, 3): equal in one objective, worse in the other
            [4.0, 1.0],  # front
            [5.0, 5.0],  # dominated by everything
            [2.5, 2.0],  # front
        ]
    )
    assert pareto_mask(F).tolist() == [True, True, False, True, False, True]


def test_pareto_mask_keeps_only_the_first_of_identical_rows() -> None:
    F = np.array([[2.0, 2.0], [1.0, 3.0], [2.0, 2.0], [1.0, 3.0], [3.0, 3.0]])
    assert pareto_mask(F).tolist() == [True, True, False, False, False]


def test_pareto_mask_3d_and_edge_cases() -> None:
    F = np.array([[1, 2, 3], [2, 1, 3], [3, 3, 1], [2, 2, 3], [1, 2, 3]], dtype=float)
    assert pareto_mask(F).tolist() == [True, True, True, False, False]
    assert pareto_mask(np.empty((0, 2))).tolist() == []
    assert pareto_mask([[1.0, 1.0]]).tolist() == [True]
    assert pareto_mask([[np.nan, 0.0], [1.0, 1.0]]).tolist() == [False, True]
    assert pareto_mask([[1.0, np.inf], [2.0, 1.0]]).tolist() == [True, True]
    with pytest.raises(ParetoInputError, match="2-D"):
        pareto_mask([1.0, 2.0])


@pytest.mark.parametrize("m", [2, 3, 4])
def test_pareto_mask_matches_brute_force_on_random_integer_points(m: int) -> None:
    rng = np.random.default_rng(m)
    F = rng.integers(0, 6, size=(300, m)).astype(float)  # many ties and duplicates
    np.testing.assert_array_equal(pareto_mask(F), brute_force_mask(F))


def test_latency_throughput_front_sorted_by_latency_among_feasible() -> None:
    latency = np.array([4.0, 1.0, 2.0, 3.0, 2.0, 0.5, 5.0])
    throughput = np.array([40.0, 10.0, 20.0, 15.0, 20.0, 99.0, 50.0])
    feasible = np.array([True, True, True, True, True, False, True])
    # index 5 would dominate everything but is infeasible; 4 duplicates 2; 3 is dominated by 2.
    front = latency_throughput_front(latency, throughput, feasible)
    assert front.tolist() == [1, 2, 0, 6]
    assert np.all(np.diff(latency[front]) > 0) and np.all(np.diff(throughput[front]) > 0)
    assert latency_throughput_front(latency, throughput).tolist() == [5]
    assert latency_throughput_front([], []).tolist() == []
    assert latency_throughput_front([1.0], [1.0], [False]).tolist() == []
    with pytest.raises(ParetoInputError):
        latency_throughput_front([1.0, 2.0], [1.0])


def test_hypervolume_of_a_hand_computed_2d_staircase() -> None:
    # Staircase against (10, 10): x-strips [1,3) × 4, [3,6) × 7, [6,10) × 9 (heights 10 - y).
    F = np.array([[1.0, 6.0], [3.0, 3.0], [6.0, 1.0]])
    assert hypervolume(F, [10.0, 10.0]) == pytest.approx(2 * 4 + 3 * 7 + 4 * 9)
    # Dominated and duplicate points add nothing; points beyond the reference count zero.
    extra = np.vstack([F, [[4.0, 4.0], [3.0, 3.0], [11.0, 0.0], [10.0, 2.0]]])
    assert hypervolume(extra, [10.0, 10.0]) == pytest.approx(65.0)
    assert hypervolume(np.empty((0, 2)), [1.0, 1.0]) == 0.0


def test_hypervolume_3d_box_and_union() -> None:
    assert hypervolume([[0.0, 0.0, 0.0]], [2.0, 3.0, 4.0]) == pytest.approx(24.0)
    # Boxes [0,2]x[1,3]x[1,3] (8) and [1,2]x[0,3]x[0,3] (9) overlap in [1,2]x[1,3]x[1,3] (4).
    assert hypervolume([[0, 1, 1], [1, 0, 0]], [2, 3, 3]) == pytest.approx(8 + 9 - 4)
    with pytest.raises(ParetoInputError, match="coordinates"):
        hypervolume([[0.0, 0.0]], [1.0, 1.0, 1.0])


def test_igd_plus_zero_on_the_reference_and_hand_computed_offset() -> None:
    reference = np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]])
    assert igd_plus(reference, reference) == 0.0
    assert igd_plus([[0.0, 0.0]], reference) == 0.0  # dominates every reference point
    # Shifted by +1 in objective 1: every reference point is 1 away in the IGD+ sense.
    assert igd_plus(reference + [1.0, 0.0], reference) == pytest.approx(1.0)
    assert igd_plus(np.empty((0, 2)), reference) == float("inf")


def test_front_dominance_on_hand_built_fronts() -> None:
    hybrid = np.array([[1.0, 10.0], [2.0, 30.0], [4.0, 50.0]])
    sequential = np.array([[1.0, 10.0], [3.0, 25.0]])  # matched or beaten at each latency
    spatial = np.array([[3.0, 40.0]])  # hybrid at latency <= 3 only reaches 30
    assert dominates_or_equals_at_every_latency(hybrid, sequential)
    assert not dominates_or_equals_at_every_latency(sequential, hybrid)
    assert not dominates_or_equals_at_every_latency(hybrid, spatial)
    assert dominates_or_equals_at_every_latency(hybrid, hybrid)
    assert dominates_or_equals_at_every_latency(hybrid, np.empty((0, 2)))
    assert not dominates_or_equals_at_every_latency(np.empty((0, 2)), sequential)
    # b's fastest point is faster than anything in a: no point of a covers it.
    assert not dominates_or_equals_at_every_latency(hybrid, [[0.5, 1.0]])
    # rtol lets a be slightly slower / lower.
    assert dominates_or_equals_at_every_latency([[1.01, 9.9]], [[1.0, 10.0]], rtol=0.02)
    assert not dominates_or_equals_at_every_latency([[1.01, 9.9]], [[1.0, 10.0]])


def test_throughput_gain_at_latency_ceilings() -> None:
    hybrid = np.array([[1.0, 10.0], [2.0, 30.0], [4.0, 50.0]])
    sequential = np.array([[1.0, 10.0], [3.0, 25.0]])
    ceilings = np.array([0.5, 1.0, 2.5, 3.0, 10.0])
    gain = throughput_gain_at_latency(hybrid, sequential, ceilings)
    np.testing.assert_allclose(gain, [np.nan, 1.0, 3.0, 30 / 25, 50 / 25])
    # a has no point within the ceiling but b does: gain 0.
    assert throughput_gain_at_latency([[2.0, 5.0]], [[1.0, 5.0]], [1.0]).tolist() == [0.0]
    assert throughput_gain_at_latency(hybrid, sequential, [[1.0, 3.0]]).shape == (1, 2)
    with pytest.raises(ParetoInputError, match="front_b"):
        throughput_gain_at_latency(hybrid, [1.0, 2.0, 3.0], [1.0])


def test_throughputs_equal_to_twelve_digits_do_not_make_a_second_front_point():
    # one sequential design at batch 1 and batch 5: same throughput up to float noise
    latency = [0.000321155, 0.0016057756991179092]
    throughput = [7807336981676.069, 7807336981676.071]
    assert latency_throughput_front(latency, throughput).tolist() == [0]
    # a real difference in the 11th digit still counts
    assert latency_throughput_front(latency, [7807336981676.0, 7807336981776.0]).tolist() == [0, 1]


@pytest.mark.parametrize("seed", range(5))
def test_nondominated_indices_in_3d_match_brute_force_sorted_by_each_objective(seed) -> None:
    rng = np.random.default_rng(seed)
    F = rng.integers(0, 6, size=(80, 3)).astype(float)
    feasible = rng.random(80) < 0.8
    got = nondominated_indices(F, feasible)
    candidates = np.flatnonzero(feasible)
    want = candidates[brute_force_mask(F[candidates])]
    assert sorted(got.tolist()) == sorted(want.tolist())
    rows = [tuple(F[i]) for i in got]
    assert rows == sorted(rows)
