"""Properties of the ``ssr`` cost model over random designs of the hybrid space.

Designs are random genomes of ``Space(..., family="hybrid", batch_sizes=(1, 2, 3, 6))``
over DeiT-T with 2 blocks (block-only, 192 tokens), decoded to DesignBatch.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.models.lockstep.buffers import ceil_div, partition_factors
from ssropt.objectives.models.ssr.accelerator import broadcast_and_columns
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.zoo import build_model
from ssropt.spaces.options import SpaceOptions
from ssropt.spaces.space import Space

BLOCKS = 2
T_INPUT = 150528 / 4294967296  # 224*224*3 B at 4 GiB/s
#: one image's chain through a block: q -> attn_qk -> attn_av -> proj -> fc1 -> fc2
CHAIN = ("q", "attn_qk", "attn_av", "proj", "fc1", "fc2")
ROLE = {"lhs": 0, "rhs": 1, "rhs_t": 2}
PROPERTY = settings(deadline=None, max_examples=50)


@cache
def workload():
    return build_model("deit-t", tokens=192, blocks=BLOCKS, embed_and_head=False)


def new_model(platform=None) -> CostModel:
    return CostModel(workload(), platform or load_platform("vck190"), "int8")


@cache
def space() -> Space:
    return Space(new_model(), SpaceOptions(family="hybrid", batch_sizes=(1, 2, 3, 6)))


def genome():
    sp = space()
    return st.tuples(*(st.integers(int(lo), int(hi)) for lo, hi in zip(sp.lower, sp.upper)))


def populations(max_size=6):
    return st.lists(genome(), min_size=1, max_size=max_size).map(lambda g: np.array(g))


def assert_same_evaluation(x, y):
    for f in dataclasses.fields(x):
        a, b = getattr(x, f.name), getattr(y, f.name)
        if isinstance(a, dict):
            assert a.keys() == b.keys(), f.name
            for k in a:
                np.testing.assert_array_equal(a[k], b[k], err_msg=f"{f.name}[{k}]")
        else:
            np.testing.assert_array_equal(a, b, err_msg=f.name)


@PROPERTY
@given(populations())
def test_evaluation_is_deterministic(genomes):
    designs = space().decode(genomes)
    model = new_model()
    first = model.evaluate(designs)
    again = model.evaluate(designs)  # schedule now cached
    fresh = new_model().evaluate(designs)  # a new model, empty cache
    assert_same_evaluation(first, again)
    assert_same_evaluation(first, fresh)


@PROPERTY
@given(populations())
def test_vectorised_evaluation_equals_one_at_a_time(genomes):
    designs = space().decode(genomes)
    model = new_model()
    together = model.evaluate(designs)
    for i in range(designs.n_designs):
        alone = new_model().evaluate(designs.take(slice(i, i + 1)))
        for f in dataclasses.fields(together):
            whole = getattr(together, f.name)
            part = getattr(alone, f.name)
            if isinstance(whole, dict):
                for k in whole:
                    np.testing.assert_array_equal(whole[k][i : i + 1], part[k], err_msg=k)
            else:
                np.testing.assert_array_equal(whole[i : i + 1], part, err_msg=f.name)


@PROPERTY
@given(populations())
def test_latency_is_at_least_one_images_chain(genomes):
    # the chain's jobs run in distinct steps, each step lasting at least as long as the
    # job; q of block 0 of image 0 also pays the DDR input in its step
    designs = space().decode(genomes)
    result = new_model().evaluate(designs)
    names = workload().names
    chain = [names.index(n) for n in CHAIN]
    bound = BLOCKS * result.node_time_s[:, chain].sum(axis=1) + T_INPUT
    assert (result.latency_s >= bound * (1 - 1e-12)).all()
    # the input time of an image hides partly behind slower jobs of its step, never more
    # than fully: 0 <= input_s <= batch * T_input
    assert (result.input_s >= -1e-15).all()
    assert (result.input_s <= designs.batch * T_INPUT * (1 + 1e-9)).all()


@PROPERTY
@given(populations())
def test_throughput_times_latency_is_batch_ops(genomes):
    designs = space().decode(genomes)
    result = new_model().evaluate(designs)
    ops = workload().ops_per_image
    product = result.throughput_ops_per_s * result.latency_s
    np.testing.assert_allclose(product, designs.batch * ops, rtol=1e-9)
    np.testing.assert_allclose(result.images_per_s * result.latency_s, designs.batch, rtol=1e-9)


def _larger_platform():
    p = load_platform("vck190")
    bigger = dataclasses.replace(
        p.budget, aie=10_000, plio_in=10_000, plio_out=10_000, bram=100_000, uram=100_000,
        columns=1_000,
    )  # fmt: skip
    return dataclasses.replace(p, budget=bigger)


@PROPERTY
@given(populations())
def test_more_budget_never_changes_time(genomes):
    designs = space().decode(genomes)
    base = new_model().evaluate(designs)
    big = new_model(_larger_platform()).evaluate(designs)
    np.testing.assert_array_equal(base.latency_s, big.latency_s)
    np.testing.assert_array_equal(base.compute_s, big.compute_s)
    np.testing.assert_array_equal(base.node_cycles, big.node_cycles)
    for k in base.accelerators:
        if k in ("bram", "uram"):
            continue  # a tight BRAM budget moves buffers to URAM: placement, not time
        np.testing.assert_array_equal(base.accelerators[k], big.accelerators[k])
    # what fits the small budget fits the large one
    assert (big.feasible | ~base.feasible).all()


@PROPERTY
@given(populations())
def test_an_unused_accelerator_slot_never_changes_anything(genomes):
    designs = space().decode(genomes)
    padded = DesignBatch(
        designs.cost_model,
        designs.batch,
        designs.assignment,
        np.pad(designs.params, ((0, 0), (0, 1), (0, 0))),
    )
    base = new_model().evaluate(designs)
    extra = new_model().evaluate(padded)
    np.testing.assert_array_equal(base.latency_s, extra.latency_s)
    np.testing.assert_array_equal(base.steps, extra.steps)
    np.testing.assert_array_equal(base.feasible, extra.feasible)
    for k in base.accelerators:
        np.testing.assert_array_equal(base.accelerators[k], extra.accelerators[k][:, :-1])
        assert (extra.accelerators[k][:, -1] == 0).all()
    for k in base.violations:
        np.testing.assert_array_equal(base.violations[k], extra.violations[k], err_msg=k)


def assert_feasible_designs_respect_every_budget(evaluated):
    """Recompute every rule from the designs and the returned accelerator arrays."""
    sp = space()
    platform = sp.model.platform
    budget = platform.budget
    designs, acc = evaluated.designs, evaluated.evaluation.accelerators
    ok = evaluated.feasible
    w = workload()
    act = np.array([n.activation_rhs for n in w.nodes])
    heads = max(n.repeat for n in w.nodes)
    deps = [(w.index(d.src), w.index(d.dst), ROLE[d.role.value]) for d in w.dependencies]
    for i in np.flatnonzero(ok):
        assign = designs.assignment[i]
        n_acc = int(assign.max()) + 1
        a, b, c, dup, h1, w1, w2 = (designs.params[i, :n_acc, p] for p in range(7))
        hardened = acc["hardened"][i, :n_acc]
        # totals against the budgets
        assert acc["aie"][i].sum() <= budget.aie == 364
        assert acc["plio_in"][i].sum() <= budget.plio_in == 156
        assert acc["plio_out"][i].sum() <= budget.plio_out == 117
        assert acc["bram"][i].sum() <= budget.bram == 867
        assert acc["uram"][i].sum() <= budget.uram == 420
        # the returned figures are the design's
        assert (acc["aie"][i, :n_acc] == a * b * c * dup).all()
        a_bro, c_bro, columns = broadcast_and_columns(a, b, c)
        assert (acc["columns"][i, :n_acc] == columns).all()
        plio_in = (a * b * ceil_div(c, a_bro) + (1 - hardened) * c * b * ceil_div(a, c_bro)) * dup
        assert (acc["plio_in"][i, :n_acc] == plio_in).all()
        assert (acc["plio_out"][i, :n_acc] == a * c * dup).all()
        # per-accelerator rules
        assert (columns <= 50).all()
        assert (a * c <= 48).all()
        assert (np.minimum(a, c) <= 8).all()
        assert (np.maximum(np.maximum(a, b), c) <= 24).all()
        assert ((b <= 8) | (b % 4 == 0)).all()
        assert (heads % dup == 0).all()
        for k in range(n_acc):
            nodes = assign == k
            assert nodes.any()  # every accelerator runs a node
            if dup[k] > 1:
                assert act[nodes].all()  # dup only on attention-only accelerators
        local = 2 * (h1 * w1 + w1 * w2)
        assert ((hardened == 1) | (local <= 30720)).all()
        part, mismatch = partition_factors(a[None], b[None], c[None], dup[None], assign[None], deps)
        assert max(int(v.max()) for v in part.values()) <= 8
        assert int((part["aL"] * part["bL"] * part["bR"] * part["cR"]).max()) <= 24
        assert mismatch[0] == 0


@settings(deadline=None, max_examples=25)
@given(populations(max_size=40))
def test_feasible_designs_respect_every_budget(genomes):
    assert_feasible_designs_respect_every_budget(space().evaluate(genomes))


def test_many_random_feasible_designs_respect_every_budget():
    rng = np.random.default_rng(2024)
    sp = space()
    evaluated = sp.evaluate(rng.integers(sp.lower, sp.upper + 1, size=(3000, sp.n_genes)))
    assert evaluated.feasible.sum() >= 50  # the check below is not vacuous
    assert_feasible_designs_respect_every_budget(evaluated)


@pytest.mark.parametrize("batch", [1, 6])
def test_relabelling_accelerators_never_changes_the_evaluation(batch):
    rng = np.random.default_rng(batch)
    sp = space()
    designs = sp.decode(rng.integers(sp.lower, sp.upper + 1, size=(200, sp.n_genes)))
    designs = DesignBatch(
        "ssr", np.full(designs.n_designs, batch), designs.assignment, designs.params
    )
    base = new_model().evaluate(designs)
    # reverse the labels of the used accelerators, moving their parameters along
    n_acc = designs.n_accelerators
    width = designs.max_accelerators
    new_label = np.where(
        np.arange(width)[None, :] < n_acc[:, None],
        n_acc[:, None] - 1 - np.arange(width),
        np.arange(width),
    )
    assignment = np.take_along_axis(new_label, designs.assignment, axis=1)
    params = np.zeros_like(designs.params)
    np.put_along_axis(params, new_label[:, :, None], designs.params, axis=1)
    relabelled = new_model().evaluate(DesignBatch("ssr", designs.batch, assignment, params))
    np.testing.assert_array_equal(base.latency_s, relabelled.latency_s)
    np.testing.assert_array_equal(base.steps, relabelled.steps)
    np.testing.assert_array_equal(base.feasible, relabelled.feasible)
    for k in base.accelerators:
        np.testing.assert_array_equal(
            np.sort(base.accelerators[k], axis=1),
            np.sort(relabelled.accelerators[k], axis=1),
            err_msg=k,
        )
