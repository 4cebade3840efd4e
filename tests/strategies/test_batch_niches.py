"""The batch-niche survival of nsga2 keeps every batch size's own front."""

from __future__ import annotations

import numpy as np
from pymoo.core.population import Population
from pymoo.core.problem import Problem

from ssropt.strategies.batch_niches import BatchNicheSurvival, round_robin


def test_round_robin_interleaves_and_keeps_each_order():
    assert round_robin([np.array([1, 2]), np.array([3, 4, 5])]).tolist() == [1, 3, 2, 4, 5]
    assert round_robin([]).tolist() == []


def test_each_batch_keeps_its_best_even_when_another_batch_dominates_it():
    # genes: [batch, x]; batch 0's designs dominate every batch-1 design
    X = np.array([[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1]], dtype=float)
    F = np.array([[1, -10], [2, -20], [3, -30], [4, -40], [5, -5], [9, -1]], dtype=float)
    pop = Population.new("X", X, "F", F, "G", np.zeros((6, 1)), "CV", np.zeros((6, 1)))
    for ind in pop:
        ind.evaluated.update(("F", "G", "H"))
    problem = Problem(n_var=2, n_obj=2, n_ieq_constr=1, xl=0, xu=3)
    kept = BatchNicheSurvival().do(problem, pop, n_survive=3, random_state=np.random.default_rng(0))
    batches = kept.get("X")[:, 0].tolist()
    assert sorted(batches) == [0, 0, 1]  # plain NSGA-II would keep three batch-0 designs
    assert [5.0, -5.0] in kept.get("F").tolist()  # batch 1's non-dominated design


def test_infeasible_designs_come_after_every_feasible_one():
    X = np.array([[0, 0], [1, 0], [1, 1]], dtype=float)
    F = np.array([[1, -10], [2, -5], [0.5, -50]], dtype=float)
    CV = np.array([[0.0], [0.0], [3.0]])
    pop = Population.new("X", X, "F", F, "G", CV, "CV", CV)
    for ind in pop:
        ind.evaluated.update(("F", "G", "H"))
    problem = Problem(n_var=2, n_obj=2, n_ieq_constr=1, xl=0, xu=1)
    kept = BatchNicheSurvival().do(problem, pop, n_survive=2, random_state=np.random.default_rng(0))
    assert kept.get("CV").ravel().tolist() == [0.0, 0.0]
