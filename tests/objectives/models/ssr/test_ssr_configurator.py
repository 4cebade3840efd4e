"""The SSR-style configurator: shares, budgets, and the per-accelerator choice by brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssropt.errors import SsroptError
from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.models.ssr.configurator import (
    SPLIT_RESOURCES,
    TIME_BAND,
    SsrConfigurator,
    ssr_share,
)
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.platforms.versal import SHARED_BUDGETS as BUDGET_CONSTRAINTS
from ssropt.objectives.workloads.zoo import build_model
from ssropt.spaces import Space, SpaceOptions
from ssropt.spaces.configured import configurator_for, configure_genomes

BUDGET = np.array([364, 156, 117, 867, 420])  # vck190: AIE, PLIO in/out, BRAM, URAM


@pytest.fixture(scope="module")
def configurator(block_model):
    return SsrConfigurator(block_model)


def test_share_rule_by_hand():
    # ops ratio for AIE and PLIO, buffer ratio for RAM; +15 where a share is <= 15
    share = ssr_share(BUDGET, 1 / 14, 1 / 6, last=False, bdot=False)
    # 364/14 = 26; 156/14 = 11.14 -> 26.14; 117/14 = 8.36 -> 23.36; 867/6 = 144.5; 420/6 = 70
    assert share.tolist() == [26, 26, 23, 144, 70]
    # a Bdot accelerator gets PLIO floors 25 / 20 instead of the +15
    bdot = ssr_share(BUDGET, 0.05, 0.02, last=False, bdot=True)
    assert bdot.tolist() == [18, 25, 20, 17, 8]  # 18.2, 7.8 -> 25, 5.85 -> 20, 17.34, 8.4
    # the last accelerator gets everything left; no share exceeds what is left
    assert ssr_share([10, 3, 0, 5.5, 2], 0.1, 0.1, last=True, bdot=False).tolist() == [10, 3, 0, 5, 2]
    assert ssr_share([10, 3, 0, 50, 2], 0.1, 0.1, last=False, bdot=False).tolist() == [10, 3, 0, 20, 2]


def test_two_accelerator_split_by_hand(block_model, configurator):
    # q alone, then the rest.  Work: q, k, v, proj and each attention product are
    # 192*192*192 MACs; fc1 and fc2 four times that: q has 1 of 14 units.  Buffers from the
    # schedule at batch 1: acc 0 one LHS buffer; acc 1 three LHS and two RHS buffers.
    assignment = np.array([0, 1, 1, 1, 1, 1, 1, 1])
    summary = block_model.scheduler.summary(1, assignment)
    assert summary.lhs_buffers.tolist() == [1, 3] and summary.rhs_buffers.tolist() == [0, 2]
    result = configurator.configure(assignment, 1)
    assert result.feasible
    assert result.shares[0].tolist() == [26, 26, 23, 144, 70]  # as in test_share_rule_by_hand
    # the last accelerator receives the budget minus what the first actually uses
    assert result.shares[1].tolist() == (BUDGET - result.used[0]).tolist()
    assert (result.used <= result.shares).all()
    a, b, c, dup = result.params[0, :4]
    assert result.used[0, 0] == a * b * c * dup and dup == 1
    assert c % 3 == 0 or 3 % c == 0  # q's accelerator: heads % c == 0 or c % heads == 0


def test_configured_designs_respect_every_budget(block_model, configurator):
    space = Space(block_model, SpaceOptions(family="hybrid", batch_sizes=(1, 3, 6)))
    genomes = space.sample(60, np.random.default_rng(7))
    designs = space.decode(genomes)
    configs = configurator.configure_many(designs.assignment, designs.batch)
    assert sum(cfg.feasible for cfg in configs) >= 40
    for cfg in configs:
        if cfg.feasible:
            assert (cfg.used <= cfg.shares).all()
            assert (cfg.used.sum(axis=0) <= BUDGET).all()
    configured, feasible = configure_genomes(space, genomes)
    assert ((configured >= space.lower) & (configured <= space.upper)).all()
    result = space.evaluate(configured[feasible])
    budget_columns = [result.constraint_names.index(n) for n in (*BUDGET_CONSTRAINTS, "columns")]
    assert (result.G[:, budget_columns] <= 0).all()  # as configured, or after repair
    # the configurator's resource count is the model's for nearly every design
    model = block_model.evaluate(configurator.designs(designs.assignment[feasible], designs.batch[feasible])[0])
    totals = model.resources()
    used = np.array([cfg.used.sum(axis=0) for cfg in configs if cfg.feasible])
    for i, name in enumerate(SPLIT_RESOURCES[:3]):
        np.testing.assert_array_equal(totals[name], used[:, i])


def test_configured_params_round_trip_through_the_space(block_model):
    space = Space(block_model, SpaceOptions(family="hybrid", batch_sizes=(2,)))
    genome = space.sample(1, np.random.default_rng(3))
    configured, feasible = configure_genomes(space, genome)
    assert feasible.all()
    design = space.decode(configured)
    cfg = configurator_for(space).configure(space.decode(genome).assignment[0], 2)
    np.testing.assert_array_equal(design.params[0, : len(cfg.params)], cfg.params)
    np.testing.assert_array_equal(design.assignment[0], cfg.assignment)
    assert configurator_for(space) is configurator_for(space)  # tables built once


def test_single_accelerator_choice_is_the_brute_force_best(vck190):
    """One accelerator holding a reduced workload: the choice equals the spec's selection
    rule applied to every candidate of the grid, each evaluated by the cost model."""
    model = CostModel(build_model("deit-t", tokens=64, blocks=1, embed_and_head=False), vck190, "int8")
    values = {"a": tuple(range(1, 9)), "b": (1, 2, 4, 8), "c": tuple(range(1, 9)), "dup": (1, 3)}
    configurator = SsrConfigurator(model, {k: np.array(v) for k, v in values.items()})
    choice = configurator.configure(np.zeros(8, dtype=np.int64), 2)
    assert choice.feasible

    # every candidate in SSR's loop order: c, b, a, dup, h1, w1, w2
    grid = np.stack(np.meshgrid(
        values["c"], values["b"], values["a"], values["dup"], (16, 32, 48, 64),
        (32, 48, 64, 80, 96), (16, 32, 48, 64), indexing="ij"), axis=-1).reshape(-1, 7)
    params = grid[:, [2, 1, 0, 3, 4, 5, 6]]  # a, b, c, dup, h1, w1, w2
    n = len(params)
    designs = DesignBatch("ssr", np.full(n, 2), np.zeros((n, 8), dtype=np.int64), params[:, None, :])
    result = model.evaluate(designs)
    _, G = result.constraint_matrix()
    c = params[:, 2]
    feasible = (G <= 0).all(axis=1) & ((3 % c == 0) | (c % 3 == 0))  # the Q/K/V c rule
    copies = model.workload.copies_array
    time_ns = (result.node_cycles * copies).sum(axis=1) / 0.92  # AIE cycles at 1 GHz, PL 230/250
    ram = result.accelerators["bram"][:, 0] + 8 * result.accelerators["uram"][:, 0]
    best = time_ns[feasible].min()
    band = np.flatnonzero(feasible & (time_ns <= math.floor(TIME_BAND * best)))
    pick = band[np.lexsort((band, time_ns[band], ram[band]))[0]]
    np.testing.assert_array_equal(choice.params[0], params[pick])
    assert choice.time_ns[0] == pytest.approx(time_ns[pick], rel=1e-12)
    assert choice.used[0, 3] == result.accelerators["bram"][pick, 0]
    assert choice.used[0, 4] == result.accelerators["uram"][pick, 0]


def test_other_cost_models_are_refused(vck190):
    model = CostModel(build_model("deit-t", tokens=192, blocks=1, embed_and_head=False), vck190, "int8", "charm")
    with pytest.raises(SsroptError, match="needs the 'ssr' cost model"):
        SsrConfigurator(model)


def test_bad_assignment_shape_is_refused(configurator):
    with pytest.raises(SsroptError, match=r"expected \(n, 8\)"):
        configurator.configure_many(np.zeros((1, 5), dtype=np.int64), np.array([1]))


def test_a_large_batch_widens_a_ram_share_instead_of_giving_up():
    """DeiT-T spatial at batch 6: the patch embedding's buffers outgrow its SSR share of
    RAM (SSR would give up on the assignment); the configurator widens that share and
    configures every accelerator, and the pipeline's throughput grows with the batch."""
    from ssropt.spaces.configured import configurator_for

    model = CostModel(build_model("deit-t"), load_platform("vck190"), "int8")
    space = Space(model, SpaceOptions(family="spatial", batch_sizes=(1, 6), configurator="ssr"))
    assignment = space.decode(np.zeros((1, space.n_genes), dtype=np.int64)).assignment[0]
    configuration = configurator_for(space).configure(assignment, 6)
    assert configuration.feasible
    assert (configuration.used <= configuration.shares).all()
    result = space.evaluate(np.array([[0], [1]]))
    assert result.feasible.all()
    assert -result.F[1, 1] > 2 * -result.F[0, 1]  # batch 6 vs batch 1 throughput


@pytest.mark.parametrize("name", ["deit-t", "deit-t-160"])
def test_native_tiles_configure_designs_the_model_accepts(name):
    # tiles = "native": the configurator picks among the native tiles, and what it calls
    # feasible the model accepts (no kernel_tile or aie_memory violation, every budget kept;
    # bank-partition alignment is SSR's rule's own outcome, as with its lists, and repaired)
    from ssropt.objectives.models.ssr.tiles import with_tiles

    platform = with_tiles(load_platform("vck190"), "native")
    workload = build_model(name, blocks=1, embed_and_head=False)
    model = CostModel(workload, platform, "int8", "ssr")
    configurator = SsrConfigurator(model)
    rng = np.random.default_rng(11)
    n, J = 200, workload.n_nodes
    k = rng.integers(1, J + 1, n)
    assignment = (rng.random((n, J)) * k[:, None]).astype(np.int64)
    designs, feasible = configurator.designs(assignment, rng.integers(1, 9, n))
    assert feasible.sum() >= n // 2
    result = model.evaluate(designs.take(np.flatnonzero(feasible)))
    assert "kernel_tile" in result.violations  # the native rule is in force
    for name in ("kernel_tile", "aie_memory", *BUDGET_CONSTRAINTS, "columns"):
        assert (np.asarray(result.violations[name]) <= 0).all(), name
    native = {tuple(t) for t in model.values()["h1"][:, None].tolist()}  # the h1 table is native
    assert native and set(designs.params[feasible][:, :, 4].ravel().tolist()) - {0} <= {
        v[0] for v in native}


def _random_hybrid_designs(n: int, seed: int):
    """A fresh DeiT-T model (embedding and head, 12 blocks) and ``n`` random hybrid
    assignments and batch sizes (1-8) of it."""
    model = CostModel(build_model("deit-t", tokens=192, blocks=12, embed_and_head=True),
                      load_platform("vck190"), "int8")
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=tuple(range(1, 9))))
    genomes = space.sample(n, np.random.default_rng(seed))
    return model, genomes[:, 1 : 1 + space.n_label_genes][:, space.group_of_node], space.batch_values[genomes[:, 0]]


def test_threads_sharing_one_configurator_and_model_get_what_one_thread_gets():
    """Two threads configure and price designs of one workload at once: the configurator
    (cached per workload, so shared) and the model's schedule cache grow under the
    model's lock, and every answer is what one thread alone computes."""
    import threading

    model, assignments, batches = _random_hybrid_designs(800, seed=5)
    alone_model, _, _ = _random_hybrid_designs(0, seed=5)
    shared, alone = SsrConfigurator(model), SsrConfigurator(alone_model)
    want = alone.configure_arrays(assignments, batches)
    want_latency = alone_model.evaluate(alone.designs(assignments, batches)[0]).latency_s
    got: dict[int, list] = {}
    errors: list[BaseException] = []

    def work(part: int) -> None:
        try:
            rows = range(part * 400, part * 400 + 400, 40)
            got[part] = [(shared.configure_arrays(assignments[i : i + 40], batches[i : i + 40]).params,
                          model.evaluate(shared.designs(assignments[i : i + 40], batches[i : i + 40])[0]).latency_s)
                         for i in rows]
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(part,)) for part in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for j, (params, latency) in enumerate(got[0] + got[1]):
        rows = slice(40 * j, 40 * j + 40)
        assert np.array_equal(params, want.params[rows, : params.shape[1]])
        assert np.array_equal(latency, want_latency[rows])


@pytest.mark.parametrize("kept", [None, 40])  # the selector's memory as it is; forgetting often
def test_answers_remembered_across_calls_are_the_answers(monkeypatch, kept):
    """The selector remembers answers by query key across calls: configuring designs in
    many small calls (and again) gives what one call of a fresh configurator gives."""
    from ssropt.objectives.models.lockstep.configurator import selection

    if kept is not None:
        monkeypatch.setattr(selection, "ANSWERS_KEPT", kept)
    model, assignments, batches = _random_hybrid_designs(240, seed=9)
    want = SsrConfigurator(model).configure_arrays(assignments, batches)
    chunked = SsrConfigurator(model)
    for _ in range(2):  # the second time every answer is remembered (or forgotten again)
        parts = [chunked.configure_arrays(assignments[i : i + 30], batches[i : i + 30]) for i in range(0, 240, 30)]
        for name in ("params", "shares", "used", "time_ns"):
            full = getattr(want, name)
            got = [getattr(p, name) for p in parts]  # each chunk as wide as its widest design
            padded = [np.pad(g, [(0, 0), (0, full.shape[1] - g.shape[1])] + [(0, 0)] * (g.ndim - 2),
                             constant_values=np.nan if name == "time_ns" else 0) for g in got]
            assert np.array_equal(np.concatenate(padded), full, equal_nan=name == "time_ns"), name
        assert np.array_equal(np.concatenate([p.feasible for p in parts]), want.feasible)
    assert chunked.selector._answers or kept is not None


def test_identical_queries_found_by_hash_and_by_bytes_alike(monkeypatch):
    """Identical searches are found by a row hash, checked against the rows themselves: with
    every hash equal (all collide) the configurations are those of the hashed path, and
    the distinct keys are the distinct rows."""
    from ssropt.objectives.models.lockstep.configurator import context

    model, assignments, batches = _random_hybrid_designs(120, seed=4)
    want = SsrConfigurator(model).configure_arrays(assignments, batches)
    seen = []
    real_keys = context.Queries.keys

    def recorded(queries):
        keys, first, inverse = real_keys(queries)
        seen.append((len(keys), len(set(keys)), queries.n, first, inverse))
        return keys, first, inverse

    monkeypatch.setattr(context, "_row_hashes", lambda rows: np.zeros(len(rows), dtype=np.uint64))
    monkeypatch.setattr(context.Queries, "keys", recorded)
    got = SsrConfigurator(model).configure_arrays(assignments, batches)
    for name in ("params", "shares", "used", "feasible"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    assert np.array_equal(got.time_ns, want.time_ns, equal_nan=True)
    assert seen and all(n == distinct for n, distinct, *_ in seen)  # one key per distinct row
    assert any(n < total for n, _, total, *_ in seen)  # and duplicates were found
