"""The ``charm`` cost model against CHARM's published reference numbers and hand arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models.charm import charm_layer_cycles as layer_cycles
from ssropt.objectives.models.charm import evaluate_charm, kernel_cycles, resources
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.graph import gemm_chain

DEIT_T_BLOCK = [  # (M, K, N, count) of one DeiT-T block, CHARM's test_cdac.py "new" model
    (192, 192, 576, 1),
    (192, 64, 192, 3),
    (192, 192, 64, 3),
    (192, 192, 192, 1),
    (192, 192, 768, 1),
    (192, 768, 192, 1),
]
DEIT_T_CYCLES = [33630, 54087, 54087, 18029, 33630, 31421]


@pytest.fixture(scope="module")
def platform():
    return load_platform("vck190")


@pytest.fixture(scope="module")
def deit_block():
    return gemm_chain([(f"l{i}", *g) for i, g in enumerate(DEIT_T_BLOCK)], name="deit-t-block")


def charm_batch(batch, assignment, accelerators):
    """A DesignBatch from per-design lists of (a, b, c, x, y, z, pack_in, pack_out)."""
    width = max(len(accs) for accs in accelerators)
    params = np.zeros((len(batch), width, 8), dtype=np.int64)
    for d, accs in enumerate(accelerators):
        params[d, : len(accs)] = accs
    return DesignBatch("charm", np.array(batch), np.array(assignment), params)


def test_fp32_kernel_takes_4392_cycles(platform):
    # (8*8*2/8 + 1) * (32/8)*(32/8)*(32/2) + 40
    assert kernel_cycles(platform.dtype("fp32").charm) == 4392
    assert kernel_cycles(platform.dtype("int8").charm) == (16 + 4) * 8 * 1 * 16 + 40


def test_deit_t_block_int8_reproduces_charm_cycles(platform, deit_block):
    ones = np.ones((1, deit_block.n_nodes), dtype=np.int64)
    cycles = layer_cycles(
        deit_block,
        platform,
        "int8",
        3 * ones,
        4 * ones,
        4 * ones,
        ones,
        ones,
        ones,
        0 * ones,
        0 * ones,
    )
    assert cycles.tolist() == [DEIT_T_CYCLES]
    assert int(cycles.sum()) == 224_884


def test_default_packing_is_the_packed_kernel_even_for_48_aies(platform, deit_block):
    ones = np.ones((1, deit_block.n_nodes), dtype=np.int64)
    shape = (3 * ones, 4 * ones, 4 * ones, ones, ones, ones)
    default = layer_cycles(deit_block, platform, "int8", *shape, 0 * ones, 0 * ones)
    packed = layer_cycles(deit_block, platform, "int8", *shape, 2 * ones, 2 * ones)
    unpacked = layer_cycles(deit_block, platform, "int8", *shape, ones, ones)
    assert (default == packed).all()
    assert unpacked.sum() < packed.sum()  # PACK 1/1 shortens fill/drain: not CHARM's numbers


def test_evaluate_reference_design(platform, deit_block):
    designs = charm_batch([1, 4], [[0] * 6] * 2, [[(3, 4, 4, 1, 1, 1, 0, 0)]] * 2)
    ev = evaluate_charm(deit_block, platform, "int8", designs)
    assert ev.node_cycles.tolist() == [DEIT_T_CYCLES] * 2
    assert ev.latency_s == pytest.approx([224_884e-9, 4 * 224_884e-9])
    assert ev.feasible.all()
    assert (ev.steps == -1).all()
    assert np.isnan(ev.energy_j_per_image).all()


def test_resources_of_packed_int8_design_by_hand(platform):
    # INT8, a,b,c = 3,4,4, x=y=z=1, PACK 2/2 (packed kernel).
    # Broadcast: A_BRO = c/2 = 2; a = 3 is odd and a % 3 == 0, so C_BRO = 3; height min(c,8) = 4.
    # PLIO in  = a*(b/2)*(c/A_BRO) + c*(b/2)*(a/C_BRO) = 3*2*2 + 4*2*1 = 20; out = a*(c/2) = 6.
    # Columns  = ceil(a*c / height) * b = ceil(12/4) * 4 = 12.
    # Buffers (T2P BRAM 36 x 1024, URAM 72 x 4096, double buffered), words per AIE tile:
    #   L 64*64 B / 8 B-per-64-bit-word = 512, R 4096/16 = 256, O 4096/8 = 512.
    #   L: lanes a*ceil(b/2) = 6, partition 4, ceil(64/36) = 2 wide, ceil(1*1*512*2/4/1024) = 1
    #      deep -> 48 BRAM per copy (URAM: 6*4*1*1 = 24).
    #   R: lanes c*ceil(b/2) = 8, partition 2, ceil(128/36) = 4, depth 1 -> 64 (URAM 8*2*2 = 32).
    #   O: lanes a*ceil(c/2) = 6, partition 8, 2, depth 1 -> 96 (URAM 6*8*1 = 48).
    #   All in BRAM: 2*(48+64+96) = 416 < any mix scored BRAM + 8 URAM (e.g. L in URAM: 320+8*48).
    res = resources(platform, "int8", 3, 4, 4, 1, 1, 1, 0, 0)
    assert (int(res.aie), int(res.plio_in), int(res.plio_out), int(res.columns)) == (48, 20, 6, 12)
    assert (int(res.bram), int(res.uram), int(res.buffer_placement)) == (416, 0, 0)
    assert int(res.shape_excess) == 0


def test_resources_of_unpacked_int8_design_by_hand(platform):
    # INT8, a,b,c = 2,2,2, x,y,z = 2,1,3, PACK 1/1 (unpacked kernel).
    # A_BRO = c = 2; broadC_factor(2, 2, 2): c = 2 -> height 8, b <= 2 -> C_BRO = a = 2.
    # PLIO in = 2*2*(2/2) + 2*2*(2/2) = 8; out = a*c = 4; columns = ceil(4/8) * b = 2.
    # L: lanes a*b = 4, part 4, width 2, depth ceil(2*1*512/4/1024) = 1 -> 32
    # R: lanes c*b = 4, part 2, width 4, depth ceil(1*3*256/2/1024) = 1 -> 32
    # O: lanes a*c = 4, part 8, width 2, depth ceil(2*3*512/8/1024) = 1 -> 64
    # BRAM = 2 * (32 + 32 + 64) = 256, no URAM.
    res = resources(platform, "int8", 2, 2, 2, 2, 1, 3, 1, 1)
    assert (int(res.plio_in), int(res.plio_out), int(res.columns)) == (8, 4, 2)
    assert (int(res.bram), int(res.uram)) == (256, 0)


def test_buffers_move_to_uram_when_bram_budget_is_exceeded(platform):
    # INT8, a,b,c = 3,4,4, x,y,z = 2,4,4, PACK 2/2; per copy (x2 for double buffering):
    #   L: 2*4*512*2/4 = 2048 words per partition -> BRAM 6*4*2*2 = 96, URAM 6*4*1*1 = 24
    #   R: 4*4*256*2/2 = 4096 words -> BRAM 8*2*4*4 = 256, URAM 8*2*2*1 = 32
    #   O: 2*4*512*2/8 = 1024 words -> BRAM 6*8*2*1 = 96, URAM 6*8*1*1 = 48
    # All BRAM: 2*(96+256+96) = 896 > 867.  R in URAM: BRAM 384, URAM 64, score 896;
    # L in URAM scores 704 + 8*48 = 1088, O in URAM 704 + 8*96 = 1472.  So BUFF_SEL = 0b010.
    res = resources(platform, "int8", 3, 4, 4, 2, 4, 4, 0, 0)
    assert (int(res.bram), int(res.uram), int(res.buffer_placement)) == (384, 64, 0b010)


def test_throughput_times_latency_is_batch_ops(platform, deit_block):
    designs = charm_batch(
        [1, 3, 8],
        [[0] * 6, [0, 1, 1, 0, 0, 0], [0, 1, 1, 2, 0, 2]],
        [
            [(3, 4, 4, 1, 1, 1, 0, 0)],
            [(4, 4, 4, 1, 1, 2, 0, 0), (2, 2, 2, 1, 1, 1, 1, 1)],
            [(3, 4, 4, 2, 1, 1, 0, 0), (1, 2, 2, 1, 1, 1, 0, 0), (2, 2, 4, 1, 1, 1, 2, 2)],
        ],
    )
    ev = evaluate_charm(deit_block, platform, "int8", designs)
    assert ev.throughput_ops_per_s * ev.latency_s == pytest.approx(
        designs.batch * deit_block.ops_per_image
    )
    assert ev.images_per_s * ev.latency_s == pytest.approx(designs.batch)


def test_accelerators_stream_images_and_share_ddr(platform, deit_block):
    accs = [(4, 4, 4, 1, 1, 2, 0, 0), (2, 2, 2, 1, 1, 1, 1, 1)]
    assignment = [0, 1, 1, 0, 0, 0]
    ev = evaluate_charm(deit_block, platform, "int8", charm_batch([5], [assignment], [accs]))
    on_node = [np.array([[accs[k][i] for k in assignment]]) for i in range(8)]
    cycles = layer_cycles(deit_block, platform, "int8", *on_node, ddr_share=0.5)
    assert (ev.node_cycles == cycles).all()
    times = [cycles[0, np.array(assignment) == k].sum() / platform.aie.clock_hz for k in (0, 1)]
    assert ev.latency_s[0] == pytest.approx(sum(times) + 4 * max(times))


def test_violations_flag_gaps_shapes_and_budgets(platform, deit_block):
    designs = charm_batch(
        [1, 1, 1],
        [[0, 0, 0, 2, 2, 2], [0] * 6, [0] * 6],
        [
            [(3, 4, 4, 1, 1, 1, 0, 0)] * 3,  # accelerator 1 has no node
            [(3, 3, 4, 1, 1, 1, 0, 0)],  # b = 3 is not a multiple of PACK_IN = 2
            [(12, 4, 8, 1, 1, 1, 0, 0)],
        ],  # 384 AIEs > 364, 12*8/8*4 = 48 columns is fine
    )
    ev = evaluate_charm(deit_block, platform, "int8", designs)
    assert ev.violations["unused_accelerator"].tolist() == [1, 0, 0]
    assert ev.violations["array_shape"].tolist() == [0, 1, 0]
    assert ev.violations["aie"][2] == 384 - 364
    assert ev.violations["columns"][2] <= 0
    assert ev.feasible.tolist() == [False, False, False]


def test_vectorised_evaluation_matches_each_design_alone(platform, deit_block):
    batch = [2, 1, 6, 3]
    assignment = [[0] * 6, [0, 1, 1, 0, 1, 1], [2, 1, 1, 0, 0, 2], [1, 0, 0, 1, 1, 1]]
    accelerators = [
        [(3, 4, 4, 1, 1, 1, 0, 0)],
        [(4, 2, 4, 2, 1, 3, 0, 0), (2, 2, 2, 1, 1, 1, 1, 1)],
        [(3, 4, 4, 1, 2, 1, 0, 0), (1, 4, 2, 1, 1, 1, 0, 0), (2, 8, 2, 2, 2, 2, 1, 1)],
        [(6, 4, 2, 1, 1, 1, 2, 2), (2, 6, 4, 3, 1, 2, 0, 0)],
    ]
    together = evaluate_charm(
        deit_block, platform, "int8", charm_batch(batch, assignment, accelerators)
    )
    for d in range(len(batch)):
        alone = evaluate_charm(
            deit_block,
            platform,
            "int8",
            charm_batch([batch[d]], [assignment[d]], [accelerators[d]]),
        )
        for name in ("latency_s", "throughput_ops_per_s", "images_per_s", "node_cycles"):
            assert getattr(together, name)[d] == pytest.approx(getattr(alone, name)[0])
        width = len(accelerators[d])
        for name, value in alone.accelerators.items():
            assert together.accelerators[name][d, :width].tolist() == value[0].tolist()
            assert not together.accelerators[name][d, width:].any()
        for name, value in alone.violations.items():
            assert together.violations[name][d] == value[0]


def test_non_positive_array_dimension_is_rejected(platform, deit_block):
    with pytest.raises(ValueError, match="accelerator 0: b must be >= 1"):
        evaluate_charm(
            deit_block, platform, "int8", charm_batch([1], [[0] * 6], [[(3, 0, 4, 1, 1, 1, 0, 0)]])
        )
