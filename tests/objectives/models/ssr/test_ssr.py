"""The ``ssr`` cost model against MODEL.md's reference layer and hand arithmetic.

Section numbers refer to ``model/ssr-estimator.md``.  Every expected value is worked out
in a comment from the equations, never read back from the code.
"""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.models.lockstep.buffers import partition_factors
from ssropt.objectives.models.ssr.accelerator import (
    broadcast_and_columns,
    broadcast_factor,
    initiation_interval,
    kernel_cycles,
    ram_banks,
)
from ssropt.objectives.models.ssr.accelerator import ssr_layer_cycles as layer_cycles
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.graph import gemm_chain
from ssropt.objectives.workloads.zoo import build_model

NODES = ("q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2")
ROLE = {"lhs": 0, "rhs": 1, "rhs_t": 2}
#: 224*224*3 B over "4 GB/s" (GB = 2^30): the per-image DDR input time, seconds
T_INPUT = 150528 / 4294967296
#: AIE cycles at 1 GHz scaled by the 230/250 MHz PL clock: seconds per cycle
CYCLE_S = 1e-9 / 0.92


@pytest.fixture(scope="module")
def platform():
    return load_platform("vck190")


@pytest.fixture(scope="module")
def int8(platform):
    return platform.dtype("int8")


@pytest.fixture(scope="module")
def deit():
    return build_model("deit-t", tokens=192, embed_and_head=False)


@pytest.fixture(scope="module")
def deit_model(deit, platform):
    return CostModel(deit, platform, "int8")


def ssr_batch(batch, assignment, accelerators) -> DesignBatch:
    """A DesignBatch from per-design lists of (a, b, c, dup, h1, w1, w2)."""
    width = max(len(accs) for accs in accelerators)
    params = np.zeros((len(batch), width, 7), dtype=np.int64)
    for d, accs in enumerate(accelerators):
        params[d, : len(accs)] = accs
    return DesignBatch("ssr", np.array(batch), np.array(assignment, dtype=np.int64), params)


# -- the reference layer (spec 6.3, 6.5) ---------------------------------------------------
def test_reference_layer_kernel_ii_3_and_t_comp_411(platform, int8):
    # w1 = 48 -> II = 3; T_comp = 30 + (ceil(16*48*16/128) + 3) * (ceil(32/16)*ceil(32/16) - 1)
    #                            + 80 + b = 30 + 99*3 + 80 + 4 = 411
    assert initiation_interval(np.array(48), int8.ssr) == 3
    assert (
        kernel_cycles(np.array(32), np.array(48), np.array(32), np.array(4), platform, int8) == 411
    )


def test_reference_layer_q_takes_3831_5_ns(platform, int8):
    # rd = ceil(192/(1*32)) * ceil(192/(4*48)) * ceil(192/(6*32)) = 6 * 1 * 1 = 6
    # cycles = 250 + 6*411 + 67*5 + 18*(4+1) + max(32*48/4, 48*32/4) = 3525
    args = [np.array(v) for v in (192, 192, 192, 1, 1, 4, 6, 1, 32, 48, 32)]
    cycles = layer_cycles(*args, platform, int8)
    assert cycles == 250 + 6 * 411 + 67 * (6 - 1) + 18 * (4 + 1) + 384 == 3525
    assert cycles * CYCLE_S * 1e9 == pytest.approx(3831.5, rel=1e-3)
    # one more row tile (M = 193 -> rd = 7) costs one more T_aie and one more switch
    args[0] = np.array(193)
    assert layer_cycles(*args, platform, int8) == 3525 + 411 + 67


def test_reference_layer_inside_a_design(deit_model):
    design = ssr_batch([1], [[0] * 8], [[(1, 4, 6, 1, 32, 48, 32)]])
    result = deit_model.evaluate(design)
    assert result.node_cycles[0, NODES.index("q")] == 3525
    assert result.node_time_s[0, NODES.index("q")] * 1e9 == pytest.approx(3831.5, rel=1e-3)


@pytest.mark.parametrize(
    ("w1", "ii"), [(16, 5), (17, 4), (32, 4), (33, 3), (48, 3), (49, 2), (64, 2), (96, 2)]
)
def test_initiation_interval_steps_down_with_w1(int8, w1, ii):
    assert initiation_interval(np.array(w1), int8.ssr) == ii


@pytest.mark.parametrize(
    ("h1", "w1", "w2", "b", "expected"),
    [
        # II 2: 30 + (ceil(16*96*16/128) + 2) * (4*4 - 1) + 80 + 1 = 30 + 194*15 + 81
        (64, 96, 64, 1, 3021),
        # compute 30 + 194*(4*1 - 1) + 81 = 693 < LHS window 64*96/4 = 1536
        (64, 96, 16, 1, 1536),
        # one micro-tile: 30 + 0 + 80 + 2 = 112 < windows 16*32/4 = 32*16/4 = 128
        (16, 32, 16, 2, 128),
    ],
)
def test_kernel_cycles_by_hand(platform, int8, h1, w1, w2, b, expected):
    got = kernel_cycles(np.array(h1), np.array(w1), np.array(w2), np.array(b), platform, int8)
    assert got == expected


@pytest.mark.parametrize(("dup", "factor"), [(1, 3), (2, 2), (3, 1)])
def test_attention_heads_divide_over_dup(platform, int8, dup, factor):
    # attn_qk 192x64x192, 3 heads, on a,b,c = 2,2,2, h1,w1,w2 = 48,32,48:
    # rd = ceil(192/96) * ceil(64/64) * ceil(192/96) = 4; II(32) = 4;
    # T_comp = 30 + (64 + 4) * (3*3 - 1) + 80 + 2 = 656 > windows 384
    # one = 250 + 4*656 + 67*3 + 18*3 + 384 = 3513; time x ceil(3/dup)
    args = [np.array(v) for v in (192, 64, 192, 3, 2, 2, 2, dup, 48, 32, 48)]
    assert layer_cycles(*args, platform, int8) == 3513 * factor


# -- broadcast, columns, PLIO (spec 6.2 rules 5 and 7) --------------------------------------
@pytest.mark.parametrize(
    ("abc", "a_bro", "c_bro", "columns"),
    [
        # c = 6 > 4: height 6; b = 4 > 2 -> cap 4, largest divisor of a=1 -> 1;
        # columns ceil(6/6) * 4
        ((1, 4, 6), 6, 1, 4),
        # c = 4: height 8, b > 2 -> cap 8 -> min(8, a=4) -> 4; columns ceil(16/8) * 4
        ((4, 4, 4), 4, 4, 8),
        # c = 2: height 8, b <= 2 -> cap a -> 6; columns ceil(12/8) * 2 = 4
        ((6, 2, 2), 2, 6, 4),
        # c = 3: height 6, b = 8 > 5 -> cap 4 -> largest divisor of 6 <= 4 is 3;
        # columns 18/6 * 8
        ((6, 8, 3), 3, 3, 24),
        # c = 12 > 8 swaps roles: C_BRO = a = 2; (A_BRO, height) = broadC(12, 1, 2) ->
        # cap a=12 (b <= 2), height 8; columns ceil(24/8) * 1
        ((2, 1, 12), 12, 2, 3),
        # c = 6, b = 16 > 12 -> cap 1; columns 48/6 * 16
        ((8, 16, 6), 6, 1, 128),
        # c = 1: height 8, b = 3 > 2 -> cap 32 -> min(32, 5) -> 5; columns ceil(5/8) * 3
        ((5, 3, 1), 1, 5, 3),
    ],
)
def test_broadcast_factors_and_columns_by_hand(abc, a_bro, c_bro, columns):
    a, b, c = (np.array([v]) for v in abc)
    got = broadcast_and_columns(a, b, c)
    assert [int(v[0]) for v in got] == [a_bro, c_bro, columns]


def test_broadcast_factor_caps_by_cascade_length():
    # c > 4: caps 1 / 3 / 4 / a for b > 12 / > 5 / > 2 / else; a = 12
    a = np.full(4, 12)
    factor, height = broadcast_factor(a, np.array([13, 6, 3, 2]), np.full(4, 6))
    assert factor.tolist() == [1, 3, 4, 12]
    assert height.tolist() == [6] * 4


@pytest.mark.parametrize(
    ("abc", "plio_in", "plio_out"),
    [
        # not hardened: in = a*b*ceil(c/A_BRO) + c*b*ceil(a/C_BRO); out = a*c
        ((1, 4, 6), 4 * 1 + 24 * 1, 6),
        ((4, 4, 4), 16 * 1 + 16 * 1, 16),
        ((6, 8, 3), 48 * 1 + 24 * 2, 18),
        ((2, 1, 12), 2 * 1 + 12 * 1, 24),
        ((6, 2, 2), 12 * 1 + 4 * 1, 12),
    ],
)
def test_plio_of_streaming_accelerator_by_hand(platform, abc, plio_in, plio_out):
    # 64x3072x3072: each AIE's weight slice (3072/b) x (3072/c) B is far over 30 KiB for
    # every shape here (at most b*c = 24 AIEs share it), so the weights stream
    workload = gemm_chain([("l0", 64, 3072, 3072, 1)])
    model = CostModel(workload, platform, "int8")
    result = model.evaluate(ssr_batch([1], [[0]], [[(*abc, 1, 32, 32, 32)]]))
    assert result.accelerators["hardened"][0, 0] == 0
    assert result.accelerators["plio_in"][0, 0] == plio_in
    assert result.accelerators["plio_out"][0, 0] == plio_out
    assert result.accelerators["aie"][0, 0] == abc[0] * abc[1] * abc[2]


def test_dup_multiplies_plio_and_aie(deit_model):
    # attention accelerator a,b,c = 2,2,2 dup 3, streaming its activation RHS:
    # A_BRO = 2, C_BRO = 2 (c = 2, b <= 2 -> cap a); in = (4*1 + 4*1)*3 = 24, out = 4*3
    design = ssr_batch(
        [1], [[0, 0, 0, 1, 1, 0, 0, 0]], [[(1, 4, 6, 1, 32, 48, 32), (2, 2, 2, 3, 48, 32, 48)]]
    )
    acc = deit_model.evaluate(design).accelerators
    assert acc["aie"][0].tolist() == [24, 24]
    assert acc["plio_in"][0, 1] == 24
    assert acc["plio_out"][0, 1] == 12


# -- RAM banks (spec 6.6, buff_count_0) -------------------------------------------------------
@pytest.mark.parametrize(
    ("lanes", "depth", "ram_type", "bram", "uram"),
    [
        # r = 1: 72-bit x 512 BRAMs, ceil(128/72) = 2 per lane; URAM 2 per lane, 4096 deep
        (4, 1000, 1, 4 * 2 * 2, 4 * 2 * 1),
        (4, 512, 1, 4 * 2 * 1, 4 * 2 * 1),
        (4, 513, 1, 4 * 2 * 2, 4 * 2 * 1),
        # r = 2: 36-bit x 1024 BRAMs, ceil(128/36) = 4 per lane
        (3, 1025, 2, 3 * 4 * 2, 3 * 2 * 1),
        # fractional depth (a buffer split over banks) rounds up
        (2, 512.5, 1, 2 * 2 * 2, 2 * 2 * 1),
        (5, 4097, 1, 5 * 2 * 9, 5 * 2 * 2),
        (5, 0, 1, 0, 0),
    ],
)
def test_ram_banks_by_hand(platform, lanes, depth, ram_type, bram, uram):
    got_bram, got_uram = ram_banks(np.array(lanes), np.array(depth), ram_type, platform)
    assert (int(got_bram), int(got_uram)) == (bram, uram)


def test_sequential_design_ram_by_hand(deit_model):
    # a,b,c = 1,4,6, h1,w1,w2 = 32,48,32, everything on one accelerator, batch 1.
    # Partition (all self edges): aL = lcm(1,1)/1 = 1; bL = lcm(4, c=6)/4 = 3;
    #   bR = lcm(4, C=6, A=1)/4 = 3; cR = lcm(6, A=1, C=6)/6 = 1.
    # X = ceil(192/32) = 6, Y = ceil(768/192) = 4, Z = ceil(768/192) = 4.
    # LHS: lanes 1*4*3 = 12, depth 6*4*(32*48/16)/3 = 768 words -> 2*2 BRAM per lane
    #      = 48 per buffer; 3 live buffers (see test_schedule) -> 144 BRAM.
    # RHS: y_mha = ceil(192/192) = 1, z_mha = ceil(192/192) = 1; lanes 6*4*3 = 72,
    #      depth 96/3 = 32 -> 2 BRAM per lane = 144 BRAM (x1, not hardened).
    # Weights per (b, c) lane: 12 blocks x [4 * ceil(48*32/16) + ceil(48*128/16)
    #      + ceil(192*32/16)] = 12 * 1152 = 13824 words -> URAM 2*24*floor(13824/4096) =
    #      144, BRAM 2*24*ceil(1536/512) = 144.
    design = ssr_batch([1], [[0] * 8], [[(1, 4, 6, 1, 32, 48, 32)]])
    acc = deit_model.evaluate(design).accelerators
    assert [int(acc[k][0, 0]) for k in ("x", "y", "z")] == [6, 4, 4]
    assert acc["bram"][0, 0] == 144 + 144 + 144
    assert acc["uram"][0, 0] == 144
    assert acc["plio_in"][0, 0] == 28
    assert acc["columns"][0, 0] == 4
    assert acc["hardened"][0, 0] == 0


# -- partition factors (spec 6.6, fixed: all producers, transposed rule) ---------------------
def _deps(workload):
    return [
        (workload.index(d.src), workload.index(d.dst), ROLE[d.role.value])
        for d in workload.dependencies
    ]


def test_partition_factors_of_two_accelerator_design_by_hand(deit):
    # acc 0 (a,b,c = 2,4,3) runs q k v proj fc1 fc2; acc 1 (4,2,2) runs attn_qk attn_av.
    # acc 1:  q -> qk (LHS):       aL: lcm(4, A0=2) = 4 -> 1;  bL: lcm(2, C0=3) = 6
    #         k -> qk (RHS^T):     bR: lcm(2, C0=3) = 6;        cR: lcm(2, A0=2) = 2
    #         v -> av (RHS):       bR: lcm(6, A0=2) = 6 -> 3;   cR: lcm(2, C0=3) = 6 -> 3
    #         qk -> av (LHS self): aL: lcm(4, 4) = 4 -> 1;      bL: lcm(6, C1=2) = 6 -> 3
    # acc 0:  av -> proj (LHS):    aL: lcm(2, A1=4) = 4;        bL: lcm(4, C1=2) = 4
    #         proj/fc1/fc2 -> next (LHS self): aL lcm(4, 2) = 4 -> 2; bL lcm(4, 3) = 12 -> 3
    #         no RHS producers: bR = cR = 1
    a, b, c, dup = (np.array([v]) for v in ([2, 4], [4, 2], [3, 2], [1, 1]))
    assign = np.array([[0, 0, 0, 1, 1, 0, 0, 0]])
    part, dup_mismatch = partition_factors(a, b, c, dup, assign, _deps(deit))
    assert {k: v[0].tolist() for k, v in part.items()} == {
        "aL": [2, 1],
        "bL": [3, 3],
        "bR": [1, 3],
        "cR": [1, 3],
    }
    assert dup_mismatch.tolist() == [0]


def test_transposed_rhs_swaps_the_producer_dimensions():
    # producer a,c = 2,3 feeds consumer b,c = 2,2:
    #   transposed RHS: bR = lcm(2, C=3)/2 = 3, cR = lcm(2, A=2)/2 = 1
    #   plain RHS:      bR = lcm(2, A=2)/2 = 1, cR = lcm(2, C=3)/2 = 3
    a, b, c, dup = (np.array([v]) for v in ([2, 4], [4, 2], [3, 2], [1, 1]))
    assign = np.array([[0, 1]])
    transposed, _ = partition_factors(a, b, c, dup, assign, [(0, 1, ROLE["rhs_t"])])
    plain, _ = partition_factors(a, b, c, dup, assign, [(0, 1, ROLE["rhs"])])
    assert (transposed["bR"][0, 1], transposed["cR"][0, 1]) == (3, 1)
    assert (plain["bR"][0, 1], plain["cR"][0, 1]) == (1, 3)


def test_partition_factors_use_effective_producer_columns_under_dup():
    # producer c = 6, dup 1 feeds a dup-3 consumer: C' = 6*1/3 = 2 -> bL = lcm(2, 2)/2 = 1;
    # producer c = 2 feeds a dup-3 consumer: 2 is not divisible by 3 -> one mismatch
    a, b, c = (np.array([v, v]) for v in ([1, 2], [1, 2], [6, 2]))
    c[1, 0] = 2
    dup = np.array([[1, 3], [1, 3]])
    assign = np.array([[0, 1], [0, 1]])
    part, dup_mismatch = partition_factors(a, b, c, dup, assign, [(0, 1, ROLE["lhs"])])
    assert part["bL"][0, 1] == 1
    assert dup_mismatch.tolist() == [0, 1]


# -- re-layout overhead (spec 3.3) --------------------------------------------------------------
def test_relayout_is_zero_when_partitions_are_lcm_derived(deit_model):
    designs = ssr_batch(
        [1, 6, 3, 2],
        [[0] * 8, [0, 0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 2, 2, 2], list(range(8))],
        [
            [(1, 4, 6, 1, 32, 48, 32)],
            [(2, 4, 3, 1, 32, 32, 32), (4, 2, 2, 1, 32, 32, 32)],
            [(4, 3, 6, 1, 48, 32, 32), (6, 2, 2, 3, 32, 32, 32), (6, 3, 6, 1, 32, 64, 32)],
            [(3, 2, 2, 1, 64, 48, 48), (4, 2, 2, 1, 48, 48, 32), (3, 1, 4, 1, 32, 64, 48),
             (3, 2, 4, 1, 32, 32, 48), (3, 3, 4, 1, 32, 32, 16), (3, 4, 6, 1, 32, 48, 32),
             (6, 3, 4, 1, 32, 64, 32), (6, 4, 4, 1, 32, 64, 48)],
        ],
    )  # fmt: skip
    result = deit_model.evaluate(designs)
    assert result.relayout_s.tolist() == [0.0] * 4


def test_relayout_rule_by_hand_when_factors_mismatch(deit_model):
    # acc 0 (2,4,3, h1 = w2 = 32) -> acc 1 (4,2,2) with every partition factor 1.
    # acc 0 holds q..fc2 except attention: X = ceil(192/64) = 3, Z = ceil(768/96) = 8.
    # T_full = ceil((1000/230) * (32*2*3) * (32*3*8) / 16) = ceil(40069.57) = 40070 ns.
    # q -> qk (LHS): m1 = 4*1 % 2 = 0 (no), m2 = 2*1 % 3 != 0 (yes) -> floor(T_full / A=2)
    # k -> qk (RHS^T): m1 = c 2*1 % A 2 = 0, m2 = b 2*1 % C 3 != 0 -> floor(T_full / 2)
    # v -> av (RHS): m1 = b 2*1 % A 2 = 0, m2 = c 2*1 % C 3 != 0 -> floor(T_full / 2)
    # qk -> av (self): A = C = 2 divide 4 and 2 -> 0
    # av -> proj (LHS into acc 0): m1 = 2 % 4 != 0, m2 = 4 % 2 = 0 -> floor(T_full' / C=2)
    #   with acc 1's X = ceil(192/128) = 2, Z = ceil(192/64) = 3:
    #   T_full' = ceil((1000/230) * (32*4*2) * (32*2*3) / 16) = ceil(13356.52) = 13357
    ssr = deit_model  # the CostModel is the SsrModel itself
    a, b, c, dup = (np.array([v]) for v in ([2, 4], [4, 2], [3, 2], [1, 1]))
    h1 = w2 = np.array([[32, 32]])
    x, z = np.array([[3, 2]]), np.array([[8, 3]])
    ones = np.ones((1, 2), dtype=np.int64)
    part = {"aL": ones, "bL": ones, "bR": ones, "cR": ones}
    assign = np.array([[0, 0, 0, 1, 1, 0, 0, 0]])
    costs = ssr._relayout(a, c, dup, h1, w2, x, z, b, part, assign)
    by_edge = {(NODES[s], NODES[d]): float(cost[0]) for (s, d, *_), cost in zip(ssr.deps, costs)}
    assert by_edge[("q", "attn_qk")] == 20035
    assert by_edge[("k", "attn_qk")] == 20035
    assert by_edge[("v", "attn_av")] == 20035
    assert by_edge[("attn_qk", "attn_av")] == 0
    assert by_edge[("attn_av", "proj")] == 13357 // 2


# -- DDR input (spec 3.3) ------------------------------------------------------------------------
def test_input_time_is_35_048_us_per_image_for_sequential(deit_model):
    # one accelerator runs one job per step, so layer 0 of each image is alone in its
    # step and its input time adds in full, once per image
    assert T_INPUT * 1e6 == pytest.approx(35.048, abs=5e-4)
    design = ssr_batch([1, 3, 6], [[0] * 8] * 3, [[(1, 4, 6, 1, 32, 48, 32)]] * 3)
    result = deit_model.evaluate(design)
    assert result.input_s == pytest.approx(np.array([1, 3, 6]) * T_INPUT, rel=1e-9)
    assert result.relayout_s.tolist() == [0.0] * 3


# -- hardening (spec 6.2 step 2) ------------------------------------------------------------------
def _single(platform, gemms, accs, assignment):
    model = CostModel(gemm_chain(gemms), platform, "int8")
    return model.evaluate(ssr_batch([1], [assignment], [accs])).accelerators


def test_small_weights_are_hardened(platform):
    # 64x64x64 on 1x1x1 with 32x32x32 tiles: resident K-pad*N-pad = 64*64 = 4096 B,
    # 2 LHS tiles 2*32*32 = 2048 B -> 6144 <= 30720: hardened.  No RHS PLIO (in = 1*1*1),
    # no weight storage; LHS: X = Y = 2, depth 2*2*64 = 256 words -> 2 BRAM, 1 buffer.
    acc = _single(platform, [("l0", 64, 64, 64, 1)], [(1, 1, 1, 1, 32, 32, 32)], [0])
    assert acc["hardened"][0, 0] == 1
    assert acc["plio_in"][0, 0] == 1
    assert acc["bram"][0, 0] == 2
    assert acc["uram"][0, 0] == 0


@pytest.mark.parametrize(("h1", "hardened"), [(32, 1), (48, 0)])
def test_hardening_limit_is_inclusive(platform, h1, hardened):
    # 64x224x128: resident 224*128 = 28672 B; 2*h1*32 = 2048 (h1 32) -> exactly 30720,
    # hardened; 3072 (h1 48) -> 31744 > 30720, streamed: RHS PLIO + 1 and weights
    # ceil(224*128/16) = 1792 words -> 2 * ceil(1792/512) = 8 BRAM
    acc = _single(platform, [("l0", 64, 224, 128, 1)], [(1, 1, 1, 1, h1, 32, 32)], [0])
    assert acc["hardened"][0, 0] == hardened
    assert acc["plio_in"][0, 0] == (1 if hardened else 2)
    if not hardened:
        # LHS: X = ceil(64/48) = 2, Y = 7, depth 2*7*96 = 1344 -> 2*3 = 6 BRAM
        assert acc["bram"][0, 0] == 6 + 8


@pytest.mark.parametrize(("n1", "hardened"), [(96, [1]), (97, [0])])
def test_hardening_counts_every_layer_on_the_accelerator(platform, n1, hardened):
    # l0 64x128x128 -> 16384 B; l1 64x128xN1: N1 = 96 -> 12288 B, total 28672 + 2048 =
    # 30720 -> hardened; N1 = 97 pads to 128 -> 16384 B, 34816 > 30720 -> streamed
    gemms = [("l0", 64, 128, 128, 1), ("l1", 64, 128, n1, 1)]
    acc = _single(platform, gemms, [(1, 1, 1, 1, 32, 32, 32)], [0, 0])
    assert acc["hardened"][0].tolist() == hardened
    # on two accelerators each one fits on its own
    acc = _single(platform, gemms, [(1, 1, 1, 1, 32, 32, 32)] * 2, [0, 1])
    assert acc["hardened"][0].tolist() == [1, 1]


def test_accelerator_with_activation_rhs_is_never_hardened(deit_model):
    # attn_qk/attn_av alone on a 1x1x1 accelerator: no weights at all, still streamed
    design = ssr_batch(
        [1], [[0, 0, 0, 1, 1, 0, 0, 0]], [[(1, 4, 6, 1, 32, 48, 32), (1, 1, 1, 1, 32, 32, 32)]]
    )
    assert deit_model.evaluate(design).accelerators["hardened"][0].tolist() == [0, 0]


# -- latency of a sequential design (spec 3.2) ----------------------------------------------------
def test_sequential_latency_is_node_time_sum_times_blocks_plus_input(deit_model):
    # a,b,c = 1,4,6, h1,w1,w2 = 32,48,32 (see the reference layer):
    #   q, k, v, proj:    rd 6                -> 3525 cycles
    #   attn_qk 3 heads:  rd 6*1*1 = 6        -> 3 * 3525 = 10575
    #   attn_av 3 heads:  rd 6*1*ceil(64/192) -> 3 * 3525 = 10575
    #   fc1: rd 6*1*4 = 24, fc2: rd 6*4*1 = 24 -> 250 + 24*411 + 67*23 + 90 + 384 = 12129
    # latency = 12 * sum(cycles) / 0.92 ns + one image's input, in 96 steps
    design = ssr_batch([1, 3], [[0] * 8] * 2, [[(1, 4, 6, 1, 32, 48, 32)]] * 2)
    result = deit_model.evaluate(design)
    cycles = [3525, 3525, 3525, 10575, 10575, 3525, 12129, 12129]
    assert result.node_cycles[0].tolist() == cycles
    assert result.node_time_s[0] == pytest.approx(np.array(cycles) * CYCLE_S, rel=1e-12)
    per_image = 12 * sum(cycles) * CYCLE_S + T_INPUT
    assert result.steps.tolist() == [96, 288]
    assert result.latency_s == pytest.approx([per_image, 3 * per_image], rel=1e-12)
    assert result.compute_s[0] == pytest.approx(12 * sum(cycles) * CYCLE_S, rel=1e-12)
    assert result.latency_s[0] == pytest.approx(811.2388e-6, rel=1e-6)


def test_step_time_is_the_slowest_job_of_the_step(deit_model):
    # One block, batch 1, q k v on acc 0 (1x4x6) and the rest on acc 1 (1x1x1); one
    # job per accelerator per step:
    #   acc 0: q@0, k@1, v@2; acc 1: qk@2 (needs k@1), av@3, proj@4, fc1@5, fc2@6.
    # Step 2 runs v and qk together and costs max(t_v, t_qk).
    workload = build_model("deit-t", tokens=192, blocks=1, embed_and_head=False)
    model = CostModel(workload, load_platform("vck190"), "int8")
    design = ssr_batch(
        [1], [[0, 0, 0, 1, 1, 1, 1, 1]], [[(1, 4, 6, 1, 32, 48, 32), (1, 1, 1, 1, 32, 48, 32)]]
    )
    result = model.evaluate(design)
    t = result.node_time_s[0]
    q, k, v, qk, av, proj, fc1, fc2 = range(8)
    expected = (t[q] + T_INPUT) + t[k] + max(t[v], t[qk]) + t[av] + t[proj] + t[fc1] + t[fc2]
    assert result.steps[0] == 7
    assert result.latency_s[0] == pytest.approx(expected, rel=1e-12)
    assert t[qk] > t[v]  # the max really picks the slower accelerator


# -- dup only on attention-only accelerators; cheapest placement that fits the budget -----------
def test_dup_needs_every_layer_on_the_accelerator_to_be_activation_x_activation(deit_model):
    # acc 1 runs v (a weight layer) next to attn_qk and attn_av with dup 3
    design = ssr_batch(
        [1], [[0, 0, 1, 1, 1, 0, 0, 0]], [[(4, 4, 6, 1, 32, 48, 32), (2, 2, 2, 3, 48, 32, 48)]]
    )
    result = deit_model.evaluate(design)
    assert result.violations["dup"][0] >= 1
    assert not result.feasible[0]


def test_buffer_placement_is_the_cheapest_feasible_one(deit_model):
    # Sequential a,b,c = 1,12,4, h1,w1,w2 = 48,48,64, batch 1; all partition factors 1
    # (lcm(12, 4) = 12, lcm(4, 1) = 4).  X = 4, Y = ceil(768/576) = 2, Z = 3.
    #   LHS: 12 lanes, depth 4*2*144 = 1152 -> 6 BRAM or 2 URAM per lane; 3 buffers
    #        -> 216 BRAM or 72 URAM
    #   RHS: 48 lanes, depth 1*1*192 -> 96 BRAM or 96 URAM
    #   weights: 12 * 576 = 6912 words per lane -> 96 URAM + 96*ceil(2816/512) = 576 BRAM
    # All in BRAM (the cheapest score, 888 + 8*96): BRAM 888 > 867.  LHS in URAM:
    # BRAM 672, URAM 168 (score 2016) fits and is the cheapest placement that fits
    # (RHS in URAM: 792/192, score 2328; both: 576/264, score 2688).
    design = ssr_batch([1], [[0] * 8], [[(1, 12, 4, 1, 48, 48, 64)]])
    result = deit_model.evaluate(design)
    assert result.accelerators["bram"][0, 0] == 672
    assert result.accelerators["uram"][0, 0] == 168
    assert result.feasible[0]
