"""A cost model is a type: a new one plugs in with one registry line and nothing else.

The toy model below ("roofline-per-node": every accelerator is ``lanes`` MAC lanes at
1 GHz, each node takes ``ceil(MACs / lanes)`` cycles, images run one after another) is
defined here, registered in one line, and then decoded, searched, evaluated from a design
object and run as a study by the unchanged spaces, strategies and engine.
"""

from __future__ import annotations

import numpy as np
import optuna
import pytest

import ssropt
from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.errors import SsroptError
from ssropt.objectives.design import DesignBatch
from ssropt.objectives.evaluation import Evaluation, budget_violations
from ssropt.objectives.models import CostModel, cost_model_names, model_class, register, unregister
from ssropt.objectives.workloads import build_model
from ssropt.outputs.front import front_rows
from ssropt.spaces import Space, SpaceOptions

CLOCK_HZ = 1e9
LANE_BUDGET = 256


class RooflinePerNode(CostModel):
    """Toy: one parameter, one resource, no platform table."""

    name = "roofline-per-node"
    param_names = ("lanes",)

    def values(self) -> dict[str, np.ndarray]:
        return {"lanes": np.array([16, 32, 64, 128])}

    def resource_budgets(self) -> dict[str, float]:
        return {"lanes": LANE_BUDGET}

    def _evaluate(self, designs: DesignBatch, detail: bool) -> Evaluation:
        shapes = self.workload.shape_arrays()
        macs = shapes["m"] * shapes["k"] * shapes["n"] * shapes["repeat"]
        lanes = np.take_along_axis(designs.param("lanes"), designs.assignment, axis=1)
        cycles = -(-macs // lanes)
        node_time = cycles / CLOCK_HZ
        batch = designs.batch.astype(float)
        latency = batch * (node_time * shapes["copies"]).sum(axis=1)
        n = designs.n_designs
        accelerators = {"lanes": designs.param("lanes").astype(np.int64)}
        return Evaluation(
            latency_s=latency, compute_s=latency, relayout_s=np.zeros(n), input_s=np.zeros(n),
            throughput_ops_per_s=batch * self.workload.ops_per_image / latency,
            images_per_s=batch / latency, energy_j_per_image=latency / batch, power_w=np.ones(n),
            steps=np.full(n, -1), node_cycles=cycles, node_time_s=node_time,
            accelerators=accelerators, violations=budget_violations(accelerators, {"lanes": LANE_BUDGET}),
        ).with_resources(("lanes",))


@pytest.fixture(autouse=True)
def toy_registered():
    register(RooflinePerNode)  # the one line a new cost model needs
    yield
    unregister(RooflinePerNode.name)


@pytest.fixture(scope="module")
def deit_block():
    return build_model("deit-t", tokens=64, blocks=1, embed_and_head=False)


def test_the_toy_is_registered_and_costmodel_builds_it(deit_block, vck190):
    assert cost_model_names()[-1] == "roofline-per-node"
    assert model_class("roofline-per-node") is RooflinePerNode
    model = CostModel(deit_block, vck190, "int8", "roofline-per-node")
    assert type(model) is RooflinePerNode and model.cost_model == "roofline-per-node"
    assert model.configurator() is None and model.scheduler is None


def test_a_space_decodes_searches_and_evaluates_the_toy(deit_block, vck190):
    model = CostModel(deit_block, vck190, "int8", "roofline-per-node")
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=(1, 2)))
    assert space.gene_names[:2] == ["batch", "acc_of_q"] and space.gene_names[-1].endswith("_lanes")
    genomes = space.sample(50, np.random.default_rng(0))
    result = space.evaluate(genomes)
    assert result.F.shape == (50, 2) and np.isfinite(result.F).all()
    assert set(result.constraint_names) == {"lanes"}
    # a one-accelerator design by hand: every node on 128 lanes, batch 2
    one = DesignBatch("roofline-per-node", np.array([2]), np.zeros((1, 8), dtype=np.int64),
                      np.array([[[128]]]))
    shapes = deit_block.shape_arrays()
    cycles = -(-(shapes["m"] * shapes["k"] * shapes["n"] * shapes["repeat"]) // 128)
    expected = 2 * float((cycles * shapes["copies"]).sum()) / CLOCK_HZ
    assert model.evaluate(one).latency_s[0] == pytest.approx(expected)
    np.testing.assert_array_equal(space.decode(space.encode(one)).params[:, :1], one.params)


def test_a_design_object_of_the_toy_evaluates(deit_block):
    record = ssropt.evaluate({
        "workload": {"model": "deit-t", "tokens": 64, "blocks": 1, "embed_and_head": False},
        "platform": "vck190", "cost_model": "roofline-per-node", "batch": 1,
        "accelerators": [{"lanes": 64}, {"lanes": 32}],
        "assignment": {n: int(n.startswith("attn")) for n in deit_block.names},
    })
    assert record["cost_model"] == "roofline-per-node" and record["feasible"]
    assert record["resources"] == {"lanes": 96} and record["steps"] is None


def test_a_study_of_the_toy_runs_to_a_front():
    config = StudyConfig(
        workload={"model": "deit-t", "tokens": 64, "blocks": 1, "embed_and_head": False},
        platform="vck190", cost_model="roofline-per-node",
        space=SpaceOptions(batch_sizes=(1, 2)).to_dict(), budget=60, population_size=20,
    )
    study = create_ssropt_study(optuna.storages.InMemoryStorage(), "toy", config)
    summary = run_study(study, config, progress=False)
    assert summary.evaluated == 60 and summary.finished
    rows = front_rows(study)
    assert rows and all(r["latency_s"] > 0 for r in rows)


def test_names_are_unique_and_unknown_ones_are_refused():
    class Impostor(RooflinePerNode):
        pass

    with pytest.raises(SsroptError, match="registered already"):
        register(Impostor)
    unregister(RooflinePerNode.name)
    with pytest.raises(SsroptError, match="unknown cost model 'roofline-per-node': known cost models are ssr, charm, fpga, gpu-roofline"):
        model_class("roofline-per-node")
