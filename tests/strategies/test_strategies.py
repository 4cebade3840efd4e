"""Search strategies: protocol, determinism, exact resume, exhaustive enumeration, fronts."""

from __future__ import annotations

import importlib.util
import json

import moocore
import numpy as np
import pytest

from ssropt.errors import SsroptError
from ssropt.objectives.models import CostModel
from ssropt.objectives.workloads.zoo import build_model
from ssropt.spaces import Space, SpaceOptions, group_preset
from ssropt.spaces.optuna_adapter import genome_distributions, genome_params, params_genome
from ssropt.strategies import (
    STRATEGIES,
    Exhaustive,
    available_strategies,
    make_strategy,
    space_size,
)

NARROW = {"h1": (32,), "w1": (48,), "w2": (32,)}
POPULATION = 16
SEARCHERS = [name for name in available_strategies() if name != "exhaustive"]
# ssr-ea searches assignments only: on the one-accelerator space below it evaluates one
# configured design per batch size and is finished; tests/strategies/test_ssr_ea.py covers it
LONG_RUNNING = [name for name in available_strategies() if name != "ssr-ea"]


@pytest.fixture(scope="module")
def space(block_model):
    """1,152 sequential designs (one encoder block, narrowed parameter values)."""
    values = {**NARROW, "a": (1, 2, 4, 6), "c": (1, 2, 3, 4, 6, 8)}
    return Space(block_model, SpaceOptions(family="sequential", batch_sizes=(1, 2), values=values))


@pytest.fixture(scope="module")
def spatial_space(block_model):
    """6,144 spatial designs whose front has six points (one per batch size)."""
    values = {**NARROW, "a": (2, 4), "b": (2, 4), "c": (4,), "dup": (1,)}
    options = SpaceOptions(
        family="spatial",
        batch_sizes=(1, 2, 3, 4, 5, 6),
        values=values,
        groups=group_preset("attention"),
    )
    return Space(block_model, options)


def run(strategy, space, generations=None, budget=None, truncate=None):
    """The outside loop: ask -> evaluate -> tell; ``truncate`` maps generation -> rows told."""
    asks, evaluations, evaluated = [], [], 0
    while not strategy.finished:
        if generations is not None and len(asks) >= generations:
            break
        if budget is not None and evaluated >= budget:
            break
        genomes = strategy.ask()
        asks.append(genomes)
        keep = len(genomes) if budget is None else min(len(genomes), budget - evaluated)
        if truncate is not None and len(asks) - 1 in truncate:
            keep = truncate[len(asks) - 1]
        result = space.evaluate(genomes[:keep])
        strategy.tell(result.genomes, result.F, result.G)
        evaluations.append(result)
        evaluated += keep
    return asks, evaluations


def feasible_front(evaluations) -> np.ndarray:
    """Distinct objective vectors of the feasible non-dominated designs."""
    F = np.concatenate([e.F for e in evaluations])
    feasible = np.concatenate([e.feasible for e in evaluations])
    F = F[feasible]
    return np.unique(F[moocore.is_nondominated(F)], axis=0)


def all_genomes(space) -> np.ndarray:
    radices = tuple(int(r) for r in space.upper - space.lower + 1)
    return space.lower + np.stack(np.unravel_index(np.arange(np.prod(radices)), radices), axis=1)


# -- the interface -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", LONG_RUNNING)
def test_strategy_asks_in_bound_genomes_and_never_loses_its_best(name, space):
    strategy = make_strategy(name, space, seed=3, population_size=POPULATION)
    asks, evaluations = run(strategy, space, generations=4)
    assert strategy.generation == 4
    best_latency, best_throughput = [], []
    for genomes, result in zip(asks, evaluations):
        assert genomes.dtype == np.int64 and genomes.shape[1] == space.n_genes
        assert 0 < len(genomes) <= POPULATION
        assert ((genomes >= space.lower) & (genomes <= space.upper)).all()
        F = result.F[result.feasible]
        best_latency.append(min([*best_latency[-1:], *F[:, 0]], default=np.inf))
        best_throughput.append(min([*best_throughput[-1:], *F[:, 1]], default=np.inf))
    assert np.isfinite(best_latency[-1]) and np.isfinite(best_throughput[-1])
    assert all(np.diff(best_latency) <= 0) and all(np.diff(best_throughput) <= 0)


@pytest.mark.parametrize("name", [n for n in SEARCHERS if n in LONG_RUNNING])
def test_same_seed_gives_identical_asks(name, space):
    first, _ = run(
        make_strategy(name, space, seed=11, population_size=POPULATION), space, generations=3
    )
    again, _ = run(
        make_strategy(name, space, seed=11, population_size=POPULATION), space, generations=3
    )
    other, _ = run(
        make_strategy(name, space, seed=12, population_size=POPULATION), space, generations=3
    )
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.parametrize("name", LONG_RUNNING)
@pytest.mark.parametrize("stop", [1, 3])
def test_restored_checkpoint_continues_exactly(name, stop, space):
    # generation 1 is told only half its genomes, as when the loop cuts a generation short
    truncate = {1: POPULATION // 2}
    initial = np.array([[1, 2, 6, 1, 0, 0, 0, 0]])
    uninterrupted, _ = run(
        make_strategy(name, space, seed=5, population_size=POPULATION, initial=initial),
        space,
        generations=stop + 3,
        truncate=truncate,
    )
    before = make_strategy(name, space, seed=5, population_size=POPULATION, initial=initial)
    run(before, space, generations=stop, truncate=truncate)
    checkpoint = before.state_dict()
    assert isinstance(checkpoint, dict)
    assert json.loads(json.dumps(checkpoint, allow_nan=False)) == checkpoint

    restored = make_strategy(name, space, seed=5, population_size=POPULATION, initial=initial)
    restored.load_state(checkpoint)
    assert restored.generation == stop
    later = {g - stop: n for g, n in truncate.items() if g >= stop}
    resumed, _ = run(restored, space, generations=3, truncate=later)
    assert len(resumed) == len(uninterrupted) - stop
    for a, b in zip(uninterrupted[stop:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", SEARCHERS)
def test_initial_genomes_lead_the_first_ask(name, space):
    initial = np.array(
        [[1, 2, 6, 1, 0, 0, 0, 0], [0, 3, 8, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0, 0]]
    )
    strategy = make_strategy(name, space, seed=0, population_size=POPULATION, initial=initial)
    first = strategy.ask()
    np.testing.assert_array_equal(first[: len(initial)], initial)


@pytest.mark.parametrize("name", ["optuna-nsga2", "tpe"])
def test_optuna_samplers_see_feasibility(name, space):
    strategy = make_strategy(name, space, seed=2, population_size=POPULATION)
    _, evaluations = run(strategy, space, generations=2)
    trials = strategy._study.get_trials(deepcopy=False)
    seen = [all(v <= 0 for v in t.constraints.values()) and len(t.constraints) > 0 for t in trials]
    feasible = np.concatenate([e.feasible for e in evaluations])
    np.testing.assert_array_equal(seen, feasible)
    assert 0 < feasible.sum() < len(feasible)  # the check means something


# -- protocol and input errors -----------------------------------------------------------------
def test_protocol_misuse_is_refused(space):
    strategy = make_strategy("nsga2", space, seed=0, population_size=POPULATION)
    with pytest.raises(SsroptError, match="without a pending ask"):
        strategy.tell(np.zeros((1, space.n_genes)), np.zeros((1, 2)), np.zeros((1, 3)))
    genomes = strategy.ask()
    with pytest.raises(SsroptError, match="before asking again"):
        strategy.ask()
    with pytest.raises(SsroptError, match="checkpoints after tell"):
        strategy.state_dict()
    result = space.evaluate(genomes)
    with pytest.raises(SsroptError, match="only"):
        strategy.tell(
            np.vstack([result.genomes, result.genomes]),
            np.vstack([result.F] * 2),
            np.vstack([result.G] * 2),
        )
    strategy.tell(result.genomes, result.F, result.G)
    checkpoint = strategy.state_dict()
    with pytest.raises(SsroptError, match="cannot resume strategy 'random'"):
        make_strategy("random", space, seed=0, population_size=POPULATION).load_state(checkpoint)
    with pytest.raises(SsroptError, match="different seed"):
        make_strategy("nsga2", space, seed=1, population_size=POPULATION).load_state(checkpoint)


def test_checkpoint_of_another_space_is_refused(space, spatial_space):
    strategy = make_strategy("exhaustive", space, seed=0, population_size=POPULATION)
    run(strategy, space, generations=1)
    with pytest.raises(SsroptError, match="different gene_names"):
        make_strategy("exhaustive", spatial_space, seed=0, population_size=POPULATION).load_state(
            strategy.state_dict()
        )


def test_unknown_strategy_names_the_known_ones(space):
    with pytest.raises(
        SsroptError, match=r"unknown strategy 'annealing': known strategies are nsga2, "
    ):
        make_strategy("annealing", space, seed=0)
    assert set(available_strategies()) == set(STRATEGIES)
    assert {"nsga2", "optuna-nsga2", "tpe", "random", "qmc", "exhaustive"} <= set(STRATEGIES)


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_gp_without_torch_names_the_missing_dependency(space):
    assert "gp" not in available_strategies()
    with pytest.raises(SsroptError, match="strategy 'gp' needs the optional dependency torch"):
        make_strategy("gp", space, seed=0)


def test_bad_initial_genomes_are_refused(space):
    outside = np.zeros((1, space.n_genes), dtype=np.int64)
    outside[0, 1] = space.upper[1] + 1
    with pytest.raises(SsroptError, match="gene 'acc0_a' of genome 0 is 4, outside 0..3"):
        make_strategy("nsga2", space, seed=0, initial=outside)
    with pytest.raises(SsroptError, match="3 initial genomes do not fit"):
        make_strategy("tpe", space, seed=0, population_size=2, initial=np.zeros((3, space.n_genes)))


def test_optuna_adapter_round_trips_genomes(space):
    genome = space.upper.copy()
    params = genome_params(space, genome)
    assert list(params) == space.gene_names
    np.testing.assert_array_equal(params_genome(space, params), genome)
    assert all(d.high == hi for d, hi in zip(genome_distributions(space).values(), space.upper))


# -- exhaustive ----------------------------------------------------------------------------------
def test_exhaustive_enumerates_every_design_once_and_finds_the_true_front(space):
    strategy = Exhaustive(space, seed=0, population_size=100)
    asks, evaluations = run(strategy, space)
    assert strategy.finished and space_size(space) == 1152
    enumerated = np.concatenate(asks)
    assert len(enumerated) == len(np.unique(enumerated, axis=0)) == space_size(space)
    np.testing.assert_array_equal(np.unique(enumerated, axis=0), all_genomes(space))
    truth = feasible_front([space.evaluate(all_genomes(space))])
    np.testing.assert_array_equal(feasible_front(evaluations), truth)


def _design_keys(space, genomes) -> np.ndarray:
    designs = space.decode(genomes)
    n = designs.n_designs
    return np.concatenate(
        [designs.batch[:, None], designs.assignment, designs.params.reshape(n, -1)], axis=1
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("groups", "max_accelerators", "batch_sizes", "a_values"),
    [
        ("attention", 3, (1,), (2, 4)),
        ("attention", None, (1, 2), (2, 4)),
        ("none", 2, (1,), (2, 4)),
        ("qkv", None, (1,), (4,)),
    ],
)
def test_exhaustive_hybrid_enumerates_each_design_once(
    block_model, groups, max_accelerators, batch_sizes, a_values
):
    values = {**NARROW, "a": a_values, "b": (4,), "c": (4,), "dup": (1,)}
    options = SpaceOptions(
        family="hybrid",
        batch_sizes=batch_sizes,
        values=values,
        groups=group_preset(groups),
        max_accelerators=max_accelerators,
    )
    space = Space(block_model, options)
    strategy = Exhaustive(space, seed=0, population_size=64)
    asks = []
    while not strategy.finished:
        asks.append(strategy.ask())
        strategy.tell(asks[-1], np.zeros((len(asks[-1]), 2)), np.zeros((len(asks[-1]), 1)))
    enumerated = np.concatenate(asks)
    keys = _design_keys(space, enumerated)
    distinct = np.unique(_design_keys(space, all_genomes(space)), axis=0)  # brute force
    assert len(enumerated) == space_size(space) == len(distinct) < space.size()
    np.testing.assert_array_equal(np.unique(keys, axis=0), distinct)
    labels = enumerated[:, 1 : 1 + space.n_label_genes]
    assert (labels[:, 0] == 0).all()
    running_max = np.maximum.accumulate(labels, axis=1)
    assert (labels[:, 1:] <= running_max[:, :-1] + 1).all()


def test_exhaustive_refuses_spaces_above_its_limit(vck190, space):
    with pytest.raises(
        SsroptError, match=r"1,152 distinct designs, more than the exhaustive limit of 1,000"
    ):
        Exhaustive(space, seed=0, limit=1000)
    model = CostModel(build_model("deit-t", tokens=192, embed_and_head=False), vck190, "int8")
    hybrid = Space(model, SpaceOptions(family="hybrid", batch_sizes=tuple(range(1, 9))))
    assert space_size(hybrid) > 10**40
    with pytest.raises(SsroptError, match="limit of 5,000,000"):
        make_strategy("exhaustive", hybrid, seed=0)


# -- search quality ------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["space", "spatial_space"])
def test_nsga2_reaches_the_exhaustive_front(fixture, request):
    target = request.getfixturevalue(fixture)
    _, everything = run(Exhaustive(target, seed=0, population_size=2000), target)
    truth = feasible_front(everything)
    _, evaluations = run(
        make_strategy("nsga2", target, seed=0, population_size=100), target, budget=3000
    )
    found = feasible_front(evaluations)
    assert len(truth) >= (1 if fixture == "space" else 6)
    for point in truth:
        assert np.isclose(found, point, rtol=1e-12, atol=0).all(axis=1).any(), point


@pytest.mark.parametrize("name", SEARCHERS)
def test_searchers_run_and_resume_on_a_hybrid_space(name, block_model):
    space = Space(block_model, SpaceOptions(family="hybrid", batch_sizes=(1, 2)))
    uninterrupted, _ = run(
        make_strategy(name, space, seed=0, population_size=12), space, generations=3
    )
    strategy = make_strategy(name, space, seed=0, population_size=12)
    run(strategy, space, generations=2)
    restored = make_strategy(name, space, seed=0, population_size=12)
    restored.load_state(strategy.state_dict())
    resumed, _ = run(restored, space, generations=1)
    np.testing.assert_array_equal(resumed[0], uninterrupted[2])
