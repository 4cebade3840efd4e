"""Search spaces over the ``fpga`` template and the ``gpu-roofline`` comparison model."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.zoo import build_model
from ssropt.spaces import Space, SpaceError, SpaceOptions

BLOCK = ("q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2")


def fpga_model(platform: str = "stratix10nx") -> CostModel:
    workload = build_model("deit-t", tokens=192, embed_and_head=False)
    return CostModel(workload, load_platform(platform), "int8")


def test_fpga_value_tables_come_from_the_platform():
    space = Space(fpga_model(), SpaceOptions(family="hybrid", batch_sizes=(1, 6)))
    assert space.param_names == ("a", "b", "c", "dup", "stream")
    assert space.values["b"].tolist() == [8, 16, 32, 64]
    assert space.values["a"].tolist()[:6] == [2, 3, 4, 6, 8, 9] and space.values["a"].max() == 32
    assert space.values["dup"].tolist() == [1, 3]  # divisors of DeiT-T's 3 heads
    assert space.values["stream"].tolist() == [0, 1]  # the NX has HBM2 ([fpga.memory])
    assert space.n_slots == 8 and space.n_genes == 1 + 8 + 8 * 5


def test_fpga_decode_encode_round_trip_and_every_decoded_value_is_allowed():
    space = Space(fpga_model(), SpaceOptions(family="hybrid", batch_sizes=(1, 2, 6)))
    genomes = space.sample(300, np.random.default_rng(1))
    designs = space.decode(genomes)
    used = designs.params[:, :, 0] > 0
    for p, name in enumerate(space.param_names):
        assert np.isin(designs.params[:, :, p][used], space.values[name]).all(), name
    again = space.decode(space.encode(designs))
    np.testing.assert_array_equal(again.params, designs.params)
    np.testing.assert_array_equal(again.assignment, designs.assignment)


def test_fpga_repair_keeps_dup_on_attention_only_and_shrinks_into_the_budget():
    space = Space(fpga_model("u250"), SpaceOptions(family="spatial", batch_sizes=(6,)))
    largest = space.upper[None, :].copy()  # every parameter at its largest value
    result = space.evaluate(largest)
    designs = result.designs
    names = list(space.model.workload.names)
    attention = [names.index("attn_qk"), names.index("attn_av")]
    dup = designs.params[0, :, 3]
    assert (dup[[i for i in range(8) if i not in attention]] == 1).all()
    assert (dup[attention] == 3).all()  # only attention products keep dup > 1
    # shrinking snapped every a, c, b to its table and brought the compute blocks in budget
    for p, name in enumerate(space.param_names):
        assert np.isin(designs.params[0, :, p], space.values[name]).all()
    raw = space.model.evaluate(space.decode(largest))
    assert raw.violations["dsp"][0] > 0
    assert result.evaluation.violations["dsp"][0] <= 0


def test_gpu_spaces_collapse_to_the_batch_gene():
    workload = build_model("deit-t", tokens=192)
    model = CostModel(workload, load_platform("a10g"), "int8")
    fronts = []
    for family in ("hybrid", "sequential", "spatial"):
        space = Space(model, SpaceOptions(family=family, batch_sizes=(1, 2, 4)))
        assert (space.n_genes, space.n_slots, space.param_names) == (1, 1, ())
        result = space.evaluate(np.array([[0], [1], [2]]))
        assert result.designs.params.shape == (3, 1, 0)
        assert (result.designs.assignment == 0).all()
        assert result.feasible.all()
        np.testing.assert_array_equal(space.encode(result.designs), [[0], [1], [2]])
        fronts.append(result.F)
    np.testing.assert_array_equal(fronts[0], fronts[1])
    np.testing.assert_array_equal(fronts[0], fronts[2])
    with pytest.raises(SpaceError, match="at least 2 accelerators"):
        Space(model, SpaceOptions(family="hybrid", min_accelerators=2))


def test_fpga_design_batches_evaluate_through_the_space_constraints():
    space = Space(fpga_model(), SpaceOptions(family="sequential", batch_sizes=(1,), min_accelerators=1))
    design = DesignBatch("fpga", np.array([1]), np.zeros((1, 8), dtype=np.int64), np.array([[[8, 16, 6, 1]]]))
    names, G = space.constraints(space.model.evaluate(design))
    assert set(names) >= {"dsp", "bram", "uram", "array_b", "array_factor", "dup"}
    assert (G <= 0).all()
