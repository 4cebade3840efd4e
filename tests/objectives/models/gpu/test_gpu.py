"""The ``gpu-roofline`` comparison model against hand-computed kernel times."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.graph import (
    Dependency,
    MatmulNode,
    NonlinearOp,
    Workload,
    gemm_chain,
)

TINY_GPU = """\
name = "tiny-gpu"
description = "round numbers for hand computation"
family = "gpu"

[gpu]
memory_bandwidth_bytes_per_s = 100.0e9
compute_efficiency = 0.5
launch_overhead_s = 5.0e-6
tdp_w = 100.0
power_fraction_of_tdp = 0.8

[dtype.int8]
bytes = 1

[dtype.int8.gpu]
peak_ops_per_s = 100.0e12
"""

LAUNCH = 5e-6
ROOF_OPS = 100e12 * 0.5
BANDWIDTH = 100e9


@pytest.fixture()
def gpu(tmp_path):
    path = tmp_path / "tiny-gpu.toml"
    path.write_text(TINY_GPU)
    return load_platform(path)


def one_device(batches, n_nodes):
    n = len(batches)
    return DesignBatch("gpu-roofline", np.array(batches), np.zeros((n, n_nodes), dtype=np.int64),
                       np.zeros((n, 1, 0), dtype=np.int64))


def test_compute_and_memory_bound_kernels_and_launch_overhead(gpu):
    # l0: 1024^3 at batch 1: ops 2*2^30 = 2.147e9 -> 42.95 us at 50 TOPS effective;
    #     bytes 3 * 2^20 = 3.15 MB -> 31.5 us at 100 GB/s: compute bound.
    # l1: 1 x 1024 x 1024: ops 2^21 -> 0.04 us; bytes 1024 + 2^20 + 1024 -> 10.5 us: memory bound.
    workload = gemm_chain([("l0", 1024, 1024, 1024, 1), ("l1", 1, 1024, 1024, 1)])
    model = CostModel(workload, gpu, "int8")
    assert model.cost_model == "gpu-roofline"
    result = model.evaluate(one_device([1, 2], 2))
    l0_b1 = 2 * 1024**3 / ROOF_OPS + LAUNCH
    l1_b1 = (1024 + 1024**2 + 1024) / BANDWIDTH + LAUNCH
    # batch 2: l0 ops double (85.9 us) and still beat 5 MB / 100 GB/s = 52.4 us;
    # l1 reads the weights once: 2*1024 + 2^20 + 2*1024 bytes
    l0_b2 = 2 * 2 * 1024**3 / ROOF_OPS + LAUNCH
    l1_b2 = (2 * 1024 + 1024**2 + 2 * 1024) / BANDWIDTH + LAUNCH
    np.testing.assert_allclose(result.node_time_s, [[l0_b1, l1_b1], [l0_b2, l1_b2]])
    np.testing.assert_allclose(result.latency_s, [l0_b1 + l1_b1, l0_b2 + l1_b2])
    ops = 2 * (1024**3 + 1024**2)
    np.testing.assert_allclose(result.throughput_ops_per_s, np.array([1, 2]) * ops / result.latency_s)
    # power = 0.8 x TDP while busy; energy per image = P * latency / batch
    np.testing.assert_allclose(result.power_w, [80.0, 80.0])
    np.testing.assert_allclose(result.energy_j_per_image, 80.0 * result.latency_s / np.array([1, 2]))
    assert result.feasible.all()
    assert result.steps.tolist() == [-1, -1]


def test_attention_products_and_nonlinear_kernels_are_memory_traffic(gpu):
    # q: 4 x 8 x 8 weights; qk: 4 x 8 x 4 activation x activation, 2 heads, 2 blocks;
    # a softmax (4 x 4 x 2 heads) after qk and an add (4 x 8) after q, per block.
    nodes = (
        MatmulNode("q", 4, 8, 8),
        MatmulNode("qk", 4, 8, 4, repeat=2, activation_rhs=True),
    )
    deps = (Dependency("q", "qk"),)
    nonlinear = (
        NonlinearOp("softmax", "softmax", 4, 4, 2, after="qk"),
        NonlinearOp("residual", "add", 4, 8, 1, after="q"),
    )
    workload = Workload("tiny", nodes, deps, blocks=2, nonlinear=nonlinear)
    result = CostModel(workload, gpu, "int8").evaluate(one_device([3], 2))
    # every kernel is memory bound here (a few hundred ops against 5 us launches)
    q = (3 * 4 * 8 + 8 * 8 + 3 * 4 * 8) / BANDWIDTH + LAUNCH  # weights read once per kernel
    qk = 3 * (4 * 8 + 8 * 4 + 4 * 4) * 2 / BANDWIDTH + LAUNCH  # both operands per image and head
    softmax = (1 + 1) * 3 * (4 * 4 * 2) / BANDWIDTH + LAUNCH  # read + write
    residual = (2 + 1) * 3 * (4 * 8) / BANDWIDTH + LAUNCH  # two inputs + write
    np.testing.assert_allclose(result.node_time_s[0], [q, qk])
    assert result.latency_s[0] == pytest.approx(2 * (q + qk + softmax + residual))


def test_shipped_gpus_use_their_published_figures():
    a10g, t4 = load_platform("a10g"), load_platform("t4")
    assert a10g.gpu.memory_bandwidth_bytes_per_s == 600e9 and a10g.gpu.tdp_w == 150
    assert t4.gpu.memory_bandwidth_bytes_per_s == 320e9 and t4.gpu.tdp_w == 70
    assert t4.dtype("int8").gpu.peak_ops_per_s == 130e12
