"""The work of a batch of ``ssr`` designs (``objectives/models/ssr/traffic.py``), by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.workloads.graph import Dependency, MatmulNode, Role, Workload, gemm_chain
from ssropt.objectives.workloads.zoo import build_model

TILE = [1, 1, 1, 1, 32, 32, 32]  # one AIE, 32 x 32 x 32 tiles


def quantities(platform, result) -> dict[str, float]:
    """The batch's work recovered from the power terms (term * latency / constant)."""
    p, t = platform.power, float(result.latency_s[0])
    terms = {k: float(v[0]) for k, v in result.power_terms.items()}
    return {
        "aie": terms["tiles"] / p.tile_w,
        "macs": terms["compute"] * t / p.mac_j_int8,
        "local_memory": terms["local_memory"] * t / p.local_memory_j_per_byte,
        "bram": terms["bram"] * t / p.bram_j_per_byte,
        "uram": terms["uram"] * t / p.uram_j_per_byte,
        "plio": terms["plio"] * t / p.plio_j_per_byte,
        "ddr": terms["ddr"] * t / p.ddr_j_per_byte,
    }


def test_two_layer_chain_by_hand(vck190):
    """l0 -> l1 (64 x 64 x 64 each) on two one-AIE accelerators, batch 1; both hardened."""
    model = CostModel(gemm_chain([("l0", 64, 64, 64, 1), ("l1", 64, 64, 64, 1)]), vck190, "int8")
    result = model.evaluate(DesignBatch("ssr", np.array([1]), np.array([[0, 1]]), np.array([[TILE, TILE]])))
    assert result.accelerators["hardened"][0].tolist() == [1, 1]
    assert result.accelerators["uram"][0].sum() == 0
    # per layer: X = Y = Z = 2, rd = 8; MACs 8 * 32^3 = 64^3; core loads MACs * (1/4 + 1/8)
    # (the 4 x 8 accumulator block); DMA writes 8 LHS windows of 1024 B (weights resident);
    # PLIO in 8 * 1024, out X * Z * 32 * 32 = 4096
    macs = 64**3
    by_hand = {
        "aie": 2,
        "macs": 2 * macs,
        "local_memory": 2 * (macs * 0.375 + 8 * 1024),
        "plio": 2 * (8 * 1024 + 4096),
        # BRAM: the LHS reads (8 KiB per layer), l0's output written into l1's LHS buffer,
        # the 150,528 B image written into l0's
        "bram": 2 * 8192 + 4096 + 150528,
        "uram": 0,
        # DDR: the image in, l1's 64 x 64 result out
        "ddr": 150528 + 4096,
    }
    assert quantities(vck190, result) == pytest.approx(by_hand, rel=1e-9)


def _fan_out(consumer_role: Role) -> Workload:
    nodes = (
        MatmulNode("p", 64, 64, 64),
        MatmulNode("c1", 64, 64, 64),
        MatmulNode("c2", 64, 64, 64, activation_rhs=consumer_role != Role.LHS),
    )
    deps = (Dependency("p", "c1", Role.LHS), Dependency("p", "c2", consumer_role))
    return Workload("fan-out", nodes, deps)


def test_an_output_is_written_once_per_consumer_buffer(vck190):
    """p feeds c1 and c2 as LHS: one write when they share an accelerator, two when not."""
    model = CostModel(_fan_out(Role.LHS), vck190, "int8")
    params = np.array([[TILE, TILE, TILE]] * 2)
    designs = DesignBatch("ssr", np.array([1, 1]), np.array([[0, 1, 1], [0, 1, 2]]), params)
    result = model.evaluate(designs)
    buffers = [quantities(vck190, _row(result, i)) for i in (0, 1)]
    shared, apart = (b["bram"] + b["uram"] for b in buffers)
    # the same reads either way (same tiles); one more 4096 B output write apart
    assert apart - shared == pytest.approx(4096, rel=1e-9)


def test_shared_qkv_input_buffer_is_written_once(vck190):
    """DeiT-T, 2 blocks, everything on one accelerator: FC2 of block 0 feeds Q, K and V of
    block 1 through one shared LHS buffer, so spreading Q, K, V over three accelerators adds
    two writes of that output (and of the image, written into each first node's buffer)."""
    workload = build_model("deit-t", tokens=192, blocks=2, embed_and_head=False)
    model = CostModel(workload, vck190, "int8")
    tile = [1, 1, 1, 1, 32, 48, 32]  # too many weight tiles to harden on one AIE
    params = np.array([[tile] * 3] * 2)
    assign = np.array([[0, 0, 0, 0, 0, 0, 0, 0], [0, 1, 2, 0, 0, 0, 0, 0]])
    result = model.evaluate(DesignBatch("ssr", np.array([1, 1]), assign, params))
    assert result.accelerators["hardened"].sum() == 0
    together, spread = (quantities(vck190, _row(result, i)) for i in (0, 1))
    fc2_out = 6 * 6 * 32 * 32  # X Z h1 w2 of FC2's 192 x 192 output, unpadded
    extra = (spread["bram"] + spread["uram"]) - (together["bram"] + together["uram"])
    assert extra == pytest.approx(2 * fc2_out + 2 * 150528, rel=1e-9)


def _row(result, i):
    class Row:
        latency_s = result.latency_s[i : i + 1]
        power_terms = {k: v[i : i + 1] for k, v in result.power_terms.items()}

    return Row


def test_charm_pays_for_ddr_where_ssr_keeps_activations_on_chip(vck190):
    """The DeiT-T block on one accelerator of 48 AIEs: CHARM streams every operand through DDR."""
    workload = build_model("deit-t", tokens=192, blocks=12, embed_and_head=False)
    ssr = CostModel(workload, vck190, "int8").evaluate(
        DesignBatch("ssr", np.array([6]), np.zeros((1, 8), dtype=np.int64), np.array([[[2, 4, 6, 1, 32, 48, 32]]]))
    )
    charm = CostModel(workload, vck190, "int8", "charm").evaluate(
        DesignBatch("charm", np.array([6]), np.zeros((1, 8), dtype=np.int64), np.array([[[3, 4, 4, 1, 1, 1, 0, 0]]]))
    )
    ssr_ddr = quantities(vck190, ssr)["ddr"]
    charm_ddr = quantities(vck190, charm)["ddr"]
    assert ssr_ddr == pytest.approx(6 * (150528 + 192 * 192), rel=1e-9)
    assert charm_ddr > 20 * ssr_ddr
