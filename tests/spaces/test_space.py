"""Search spaces: encoding, symmetry removal, repair, constraints, impossible options."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.zoo import build_model
from ssropt.spaces import (
    ObjectiveError,
    Space,
    SpaceError,
    SpaceOptions,
    group_preset,
    parse_batch_sizes,
)


@pytest.fixture(scope="module")
def model():
    workload = build_model("deit-t", tokens=192, blocks=2, embed_and_head=False)
    return CostModel(workload, load_platform("vck190"), "int8")


def random_genomes(space, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(space.lower, space.upper + 1, size=(n, space.n_genes))


def test_batch_sizes_parse_ranges_and_lists():
    assert parse_batch_sizes("1-4") == (1, 2, 3, 4)
    assert parse_batch_sizes("6,1,3") == (1, 3, 6)
    assert parse_batch_sizes("1-2,8") == (1, 2, 8)
    for bad in ("0", "3-1", "a", "", "1,-2"):
        with pytest.raises(SpaceError):
            parse_batch_sizes(bad)


def test_family_shapes(model):
    seq = Space(model, SpaceOptions(family="sequential", batch_sizes=(1, 2)))
    spa = Space(model, SpaceOptions(family="spatial", batch_sizes=(1,)))
    hyb = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1,), max_accelerators=3))
    assert (seq.decode(random_genomes(seq, 50)).assignment == 0).all()
    spatial = spa.decode(random_genomes(spa, 50)).assignment
    assert (spatial == np.arange(8)).all()
    hybrid = hyb.decode(random_genomes(hyb, 200)).assignment
    assert hybrid.max() <= 2
    # genes: batch + per slot 7 parameters (+ 8 labels for hybrid)
    assert seq.n_genes == 1 + 7
    assert spa.n_genes == 1 + 8 * 7
    assert hyb.n_genes == 1 + 8 + 3 * 7


def test_relabelled_genomes_decode_to_the_same_design(model):
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1, 2), max_accelerators=3))
    g = random_genomes(space, 1, seed=3)[0].copy()
    g[1:9] = [2, 2, 2, 0, 0, 1, 1, 1]  # first used label is 2, then 0, then 1
    params = g[9:].reshape(3, 7).copy()
    h = g.copy()
    h[1:9] = [0, 0, 0, 1, 1, 2, 2, 2]
    h[9:] = params[[2, 0, 1]].ravel()  # move each slot's parameters with its label
    both = space.decode(np.stack([g, h]))
    assert (both.assignment[0] == both.assignment[1]).all()
    assert (both.params[0] == both.params[1]).all()
    assert both.assignment[0].tolist() == [0, 0, 0, 1, 1, 2, 2, 2]


def test_encode_decode_round_trip(model):
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1, 3, 6)))
    designs = space.decode(random_genomes(space, 300))
    again = space.decode(space.encode(designs))
    assert (again.assignment == designs.assignment).all()
    assert (again.params == designs.params).all()
    assert (again.batch == designs.batch).all()


def test_groups_keep_nodes_together(model):
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1,), groups=group_preset("qkv")))
    assignment = space.decode(random_genomes(space, 300)).assignment
    assert (assignment[:, 0] == assignment[:, 1]).all() and (assignment[:, 1] == assignment[:, 2]).all()
    assert space.n_label_genes == 6


def test_repaired_designs_follow_every_shape_rule(model):
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1, 6)))
    result = space.evaluate(random_genomes(space, 2000, seed=7))
    d = result.designs
    used = d.params[:, :, 0] > 0
    a, b, c, dup = (d.params[:, :, i] for i in range(4))
    assert ((a * c <= 48) | ~used).all()
    assert (~((a > 8) & (c > 8))).all()
    assert (~((b > 8) & (b % 4 != 0))).all()
    assert (result.evaluation.accelerators["columns"] <= 50).all()
    # dup only on accelerators holding nothing but attention products
    on = d.assignment[:, None, :] == np.arange(d.max_accelerators)[None, :, None]
    weight_nodes = np.array([True, True, True, False, False, True, True, True])
    has_weights = (on & weight_nodes).any(axis=2)
    assert (dup[has_weights] == 1).all()


def test_feasible_designs_respect_every_budget(model):
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1, 6)))
    result = space.evaluate(random_genomes(space, 3000, seed=11))
    assert result.feasible.any()
    totals = result.evaluation.resources()
    budget = model.platform.budget
    ok = result.feasible
    for name in ("aie", "plio_in", "plio_out", "bram", "uram"):
        assert (totals[name][ok] <= getattr(budget, name)).all(), name
    assert (result.G[ok] <= 0).all()


def test_repair_brings_most_designs_within_the_aie_budget(model):
    repaired = Space(model, SpaceOptions(family="spatial", batch_sizes=(1,)))
    raw = Space(model, SpaceOptions(family="spatial", batch_sizes=(1,), repair=False))
    genomes = random_genomes(repaired, 500, seed=5)
    over_raw = (raw.evaluate(genomes).evaluation.violations["aie"] > 0).mean()
    over_repaired = (repaired.evaluate(genomes).evaluation.violations["aie"] > 0).mean()
    assert over_raw > 0.9
    assert over_repaired < 0.1


def test_latency_ceiling_and_min_accelerators_are_constraints(model):
    space = Space(
        model,
        SpaceOptions(family="hybrid", batch_sizes=(1,), latency_ceiling_s=1e-3, min_accelerators=2),
    )
    result = space.evaluate(random_genomes(space, 200))
    names = result.constraint_names
    lat = result.G[:, names.index("latency_ceiling_s")]
    assert np.allclose(lat, result.evaluation.latency_s - 1e-3)
    n_acc = (result.evaluation.accelerators["aie"] > 0).sum(axis=1)
    assert np.array_equal(result.G[:, names.index("min_accelerators")], 2 - n_acc)


def test_power_cap_is_a_constraint_the_front_obeys(model):
    free = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1, 6)))
    genomes = random_genomes(free, 300)
    power = free.evaluate(genomes).evaluation.power_w
    cap = float(np.median(power))  # half the designs above it
    capped = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1, 6), power_cap_w=cap))
    result = capped.evaluate(genomes)
    g = result.G[:, result.constraint_names.index("power_cap_w")]
    assert np.allclose(g, result.evaluation.power_w - cap)
    assert (g > 0).any() and (g <= 0).any()
    feasible = (result.G <= 0).all(axis=1)
    assert (result.evaluation.power_w[feasible] <= cap).all()
    # the cap changes nothing else: the uncapped constraints are the same
    base = free.evaluate(genomes)
    assert np.array_equal(np.delete(result.G, result.constraint_names.index("power_cap_w"), axis=1), base.G)
    static = float(base.evaluation.power_terms["static"][0])
    with pytest.raises(SpaceError, match="impossible power cap"):
        Space(model, SpaceOptions(family="hybrid", power_cap_w=static * 0.99)).check_feasible()
    Space(model, SpaceOptions(family="hybrid", power_cap_w=static * 1.5)).check_feasible()
    with pytest.raises(SpaceError, match="power cap"):
        SpaceOptions(power_cap_w=0.0)


def test_energy_objective_adds_a_third_column_and_changes_nothing_else(model):
    two = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1, 6)))
    three = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1, 6),
                                      objectives=("latency", "throughput", "energy")))
    genomes = random_genomes(two, 200)
    base, result = two.evaluate(genomes), three.evaluate(genomes)
    assert base.F.shape == (200, 2) and result.F.shape == (200, 3)
    assert np.array_equal(result.F[:, :2], base.F)
    assert np.array_equal(result.F[:, 0], result.evaluation.latency_s)
    assert np.array_equal(result.F[:, 1], -result.evaluation.throughput_ops_per_s)
    assert np.array_equal(result.F[:, 2], result.evaluation.energy_j_per_image)
    assert np.array_equal(result.G, base.G) and np.array_equal(result.genomes, base.genomes)
    assert three.objectives.directions == ("minimize", "maximize", "minimize")


def test_objectives_are_a_stored_space_option_two_by_default():
    options = SpaceOptions(objectives=("latency", "throughput", "energy"))
    assert SpaceOptions.from_dict(options.to_dict()) == options
    older = {k: v for k, v in SpaceOptions().to_dict().items() if k != "objectives"}
    assert SpaceOptions.from_dict(older).objectives == ("latency", "throughput")
    for wrong in (("energy",), ("throughput", "latency"), ("latency", "throughput", "power")):
        with pytest.raises(ObjectiveError, match="unknown objectives"):
            SpaceOptions(objectives=wrong)


def test_impossible_options_are_refused(model):
    with pytest.raises(SpaceError, match="impossible latency ceiling"):
        Space(model, SpaceOptions(family="hybrid", latency_ceiling_s=1e-6)).check_feasible()
    with pytest.raises(SpaceError, match="accelerator"):
        Space(model, SpaceOptions(family="hybrid", min_accelerators=9))
    tiny = dataclasses.replace(
        model.platform, budget=dataclasses.replace(model.platform.budget, aie=0)
    )
    tiny_model = CostModel(model.workload, tiny, "int8")
    with pytest.raises(SpaceError, match="impossible budget"):
        Space(tiny_model, SpaceOptions(family="spatial")).check_feasible()
    with pytest.raises(SpaceError, match="unknown space"):
        SpaceOptions(family="diagonal")
    with pytest.raises(SpaceError, match="unknown parameter"):
        Space(model, SpaceOptions(values={"q": (1,)}))


def test_narrowed_values_shrink_the_space(model):
    full = Space(model, SpaceOptions(family="sequential", batch_sizes=(1, 2)))
    small = Space(
        model,
        SpaceOptions(family="sequential", batch_sizes=(1, 2), values={"h1": (32,), "w1": (48,), "w2": (32,)}),
    )
    assert full.size() == small.size() * 4 * 5 * 4
    designs = small.decode(random_genomes(small, 100))
    assert (designs.params[:, 0, 4:] == [32, 48, 32]).all()
