"""``ssr-ea``: the SSR estimator's EA per (accelerators, batch), with the intended selection."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

from ssropt.cli import main
from ssropt.errors import SsroptError
from ssropt.objectives.models import CostModel
from ssropt.spaces import Space, SpaceOptions
from ssropt.storage import open_storage
from ssropt.strategies import make_strategy
from ssropt.strategies.ssr_ea import (
    INFEASIBLE,
    restricted_growth_strings,
    roulette_probabilities,
    select_survivors,
    stirling2,
)

POPULATION = 12


@pytest.fixture(scope="module")
def hybrid(block_model):
    return Space(block_model, SpaceOptions(family="hybrid", batch_sizes=(1, 2)))


def run(strategy, space, generations, truncate=None):
    asks = []
    while not strategy.finished and len(asks) < generations:
        genomes = strategy.ask()
        asks.append(genomes)
        keep = (truncate or {}).get(len(asks) - 1, len(genomes))
        result = space.evaluate(genomes[:keep])
        strategy.tell(result.genomes, result.F, result.G)
    return asks


# -- the EA's parts -------------------------------------------------------------------------------
def test_survivors_are_the_best_of_parents_and_children():
    parents = np.array([[0, 0], [0, 1], [0, 1]])
    parent_cost = np.array([3e-4, 5e-4, 9e-4])
    children = np.array([[1, 0], [1, 1], [0, 0]])
    child_cost = np.array([1e-4, INFEASIBLE, 4e-4])
    survivors, cost = select_survivors(parents, parent_cost, children, child_cost, 3)
    assert cost.tolist() == [1e-4, 3e-4, 4e-4]
    assert survivors.tolist() == [[1, 0], [0, 0], [0, 0]]
    # the public code's quirk would have kept the parents: normalised in place they cost
    # about 1, far below any child's raw cost, so survival must compare raw costs
    normalised = parent_cost / parent_cost.mean()
    _, quirk = select_survivors(parents, normalised, children, child_cost * 1e9, 3)
    assert sorted(quirk.tolist()) == sorted(normalised.tolist())


def test_roulette_normalises_a_copy():
    cost = np.array([1.0, 2.0, 3.0])
    p = roulette_probabilities(cost)
    assert cost.tolist() == [1.0, 2.0, 3.0]
    expected = np.exp(-np.array([0.5, 1.0, 1.5]))
    np.testing.assert_allclose(p, expected / expected.sum())
    assert roulette_probabilities(np.full(4, INFEASIBLE)).tolist() == [0.25] * 4


def test_assignment_counts():
    assert [stirling2(8, k) for k in range(1, 9)] == [1, 127, 966, 1701, 1050, 266, 28, 1]
    strings = restricted_growth_strings(5, 3)
    assert len(strings) == stirling2(5, 3) == 25
    assert (strings[:, 0] == 0).all() and (strings.max(axis=1) == 2).all()
    assert len(np.unique(strings, axis=0)) == 25


# -- the strategy -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_runs_cover_every_accelerator_count_and_batch(hybrid):
    strategy = make_strategy("ssr-ea", hybrid, seed=0, population_size=POPULATION)
    assert strategy.runs == [(k, b) for k in range(1, 9) for b in (0, 1)]
    # k = 1, 7 and 8 have at most 12 assignments: enumerated in one generation
    assert [k for (k, _), e in zip(strategy.runs, strategy._enumerable) if e] == [1, 1, 8, 8]
    asks = run(strategy, hybrid, generations=30)
    labels = np.concatenate(asks)[:, hybrid.label_genes]
    counts = labels.max(axis=1) + 1
    assert set(counts.tolist()) == set(range(1, 9))  # every count reached within two cycles
    for genomes in asks:
        assert len(genomes) <= POPULATION


def test_same_seed_same_asks_and_other_seed_differs(hybrid):
    first = run(make_strategy("ssr-ea", hybrid, seed=4, population_size=POPULATION), hybrid, 6)
    again = run(make_strategy("ssr-ea", hybrid, seed=4, population_size=POPULATION), hybrid, 6)
    other = run(make_strategy("ssr-ea", hybrid, seed=5, population_size=POPULATION), hybrid, 6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.parametrize("stop", [2, 5])
def test_checkpoint_resumes_the_same_sequence(hybrid, stop):
    truncate = {3: 4}  # one generation cut short, as the loop does at the budget
    uninterrupted = run(make_strategy("ssr-ea", hybrid, seed=1, population_size=POPULATION), hybrid,
                        stop + 4, truncate)
    before = make_strategy("ssr-ea", hybrid, seed=1, population_size=POPULATION)
    run(before, hybrid, stop, truncate)
    restored = make_strategy("ssr-ea", hybrid, seed=1, population_size=POPULATION)
    restored.load_state(before.state_dict())
    resumed = run(restored, hybrid, 4, {g - stop: n for g, n in truncate.items() if g >= stop})
    for a, b in zip(uninterrupted[stop:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_population_improves_and_never_loses_its_best(hybrid):
    strategy = make_strategy("ssr-ea", hybrid, seed=2, population_size=POPULATION)
    run(strategy, hybrid, generations=40)
    for r, (k, _) in enumerate(strategy.runs):
        cost = strategy._cost[r]
        if cost is None:
            continue
        assert (np.diff(cost) >= 0).all()  # survivors sorted by cost
        assert ((strategy._population[r].max(axis=1) + 1 == k) | (cost == INFEASIBLE)).all()
    iterated = [r for r, it in enumerate(strategy._iterations) if it > 0]
    assert iterated, "some pair ran an iteration"


def test_sequential_and_spatial_spaces_evaluate_one_assignment_per_batch(block_model):
    for family, count in (("sequential", 1), ("spatial", 8)):
        space = Space(block_model, SpaceOptions(family=family, batch_sizes=(1, 2, 3)))
        strategy = make_strategy("ssr-ea", space, seed=0, population_size=POPULATION)
        asks = run(strategy, space, generations=5)
        assert strategy.finished and len(asks) == 1 and len(asks[0]) == 3
        designs = space.decode(asks[0])
        assert designs.batch.tolist() == [1, 2, 3]
        assert (designs.n_accelerators == count).all()
        assert space.evaluate(asks[0]).feasible.all()


def test_seed_designs_lead_and_charm_is_refused(block_model, hybrid):
    initial = hybrid.sample(2, np.random.default_rng(0))
    strategy = make_strategy("ssr-ea", hybrid, seed=0, population_size=POPULATION, initial=initial)
    np.testing.assert_array_equal(strategy.ask(), initial)
    charm = CostModel(block_model.workload, block_model.platform, "int8", "charm")
    with pytest.raises(SsroptError, match="'ssr' cost model"):
        make_strategy("ssr-ea", Space(charm, SpaceOptions(family="hybrid", batch_sizes=(1,))), seed=0)


def test_cli_run_with_ssr_ea(tmp_path, capsys):
    storage = tmp_path / "studies.log"
    argv = ["run", "--model", "deit-t", "--tokens", "192", "--blocks", "2", "--no-embed-head",
            "--batch", "1,6", "--strategy", "ssr-ea", "--population", "20", "--budget", "60",
            "--seed", "3", "--storage", str(storage), "--study-name", "ea"]
    assert main(argv) == 0, capsys.readouterr().err
    study = optuna.load_study(study_name="ea", storage=open_storage(str(storage)))
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 60
    assert study.user_attrs["ssropt:strategy"] == "ssr-ea"
    assert sum(all(v <= 0 for v in (t.constraints or {}).values()) for t in trials) >= 50
    out = tmp_path / "front.json"
    assert main(["front", "--storage", str(storage), "--study-name", "ea", "--json", str(out)]) == 0
    assert json.loads(out.read_text())
