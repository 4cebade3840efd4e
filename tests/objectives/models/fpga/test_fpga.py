"""The ``fpga`` template (SSR estimator spec section 8) against hand-computed designs.

Most tests use a tiny platform file with round constants (written to a temporary
directory), so every expected number below is computed by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.models.fpga import array_values, cascade_values, compute_blocks
from ssropt.objectives.models.fpga import fpga_layer_cycles as layer_cycles
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.graph import gemm_chain

TINY_FPGA = """\
name = "tiny-fpga"
description = "round numbers for hand computation"
family = "fpga"

[fpga]
compute_block = "DSP"
clock_hz = 250.0e6
lane_width_bits = 64
lane_width_max_bits = 512
output_width_bits = 32
array_dim_max = 32
array_dim_factors = [2, 3]
input_bytes_per_image = 1000
input_bandwidth_bytes_per_s = 1.0e9
ram_type_lhs = 1
ram_type_rhs = 1
bram_width_bits = 72
bram_depth = 512
uram_width_bits = 72
uram_depth = 4096
uram_weight = 8

[fpga.physical]
dsp = 1000
bram = 1000
uram = 100

[fpga.budget]
dsp = 1000
bram = 1000
uram = 100

[fpga.power]
static_w = 10.0
dsp_w = 0.01
bram_w = 0.001
uram_w = 0.005
dynamic_j_per_op_int8 = 1.0e-12
dynamic_j_per_op_fp32 = 4.0e-12

[dtype.int8]
bytes = 1

[dtype.int8.fpga]
macs_per_block = 2
blocks_per_mac = 1

[dtype.fp32]
bytes = 4

[dtype.fp32.fpga]
macs_per_block = 1
blocks_per_mac = 5
"""


@pytest.fixture()
def tiny(tmp_path):
    path = tmp_path / "tiny-fpga.toml"
    path.write_text(TINY_FPGA)
    return load_platform(path)


def chain():
    return gemm_chain([("l0", 64, 64, 64, 1), ("l1", 64, 64, 32, 1)])


def designs(batch, params, assignment):
    return DesignBatch("fpga", np.array([batch]), np.array([assignment]), np.array([params]))


def test_layer_cycles_are_the_tiled_product():
    # ceil(192/8) * ceil(192/16) * ceil(64/6) * ceil(3/3) = 24 * 12 * 11 * 1 = 3168
    assert int(layer_cycles(192, 192, 64, 3, 8, 16, 6, 3)) == 3168
    # dup 2 over 3 heads: ceil(3/2) = 2 calls -> 6336
    assert int(layer_cycles(192, 192, 64, 3, 8, 16, 6, 2)) == 6336


def test_value_rules_follow_section_8(tiny):
    # a, c <= 32 and a multiple of 2 or 3; b a power of two of 64..512 bits of elements
    expected = [2, 3, 4, 6, 8, 9, 10, 12, 14, 15, 16, 18, 20, 21, 22, 24, 26, 27, 28, 30, 32]
    assert array_values(tiny.fpga).tolist() == expected
    assert cascade_values(tiny.fpga, 1).tolist() == [8, 16, 32, 64]  # INT8: 64/8 .. 512/8
    assert cascade_values(tiny.fpga, 4).tolist() == [2, 4, 8, 16]  # FP32: 64/32 .. 512/32


def test_compute_blocks_use_the_platform_mac_factors(tiny):
    # INT8, 2 MACs per block: 4*8*6 = 192 PEs -> 96 blocks; 2*16*4 = 128 -> 64
    assert compute_blocks([192, 128], 2, 1).tolist() == [96, 64]
    # FP32 on DSPs: 5 blocks per MAC (DSP_factor): 2*2*2 = 8 PEs -> 40 blocks
    k = tiny.dtype("fp32").fpga
    assert int(compute_blocks(8, k.macs_per_block, k.blocks_per_mac)) == 40
    # Stratix 10 NX tensor block: 30 INT8 MACs; 8*16*6 = 768 PEs -> ceil(768/30) = 26
    nx = load_platform("stratix10nx").dtype("int8").fpga
    assert int(compute_blocks(768, nx.macs_per_block, nx.blocks_per_mac)) == 26


def test_two_accelerator_chain_matches_hand_computation(tiny):
    """l0 (64x64x64) on acc0 = 4x8x6, l1 (64x64x32) on acc1 = 2x16x4, batch 2."""
    model = CostModel(chain(), tiny, "int8")
    assert model.cost_model == "fpga"  # the platform's default
    result = model.evaluate(designs(2, [[4, 8, 6, 1], [2, 16, 4, 1]], [0, 1]))
    # cycles: l0 = ceil(64/4)*ceil(64/8)*ceil(64/6) = 16*8*11 = 1408
    #         l1 = ceil(64/2)*ceil(64/16)*ceil(32/4) = 32*4*8 = 1024
    assert result.node_cycles[0].tolist() == [1408, 1024]
    np.testing.assert_allclose(result.node_time_s[0], [1408 / 250e6, 1024 / 250e6])
    # lock-step, batch 2: step 0 l0(img0); step 1 l0(img1) | l1(img0); step 2 l1(img1);
    # each l0 pays the 1000 B / 1e9 B/s = 1 us input; re-layout is 0 (lcm partitions)
    t0, t1, t_in = 1408 / 250e6, 1024 / 250e6, 1e-6
    assert int(result.steps[0]) == 3
    assert result.latency_s[0] == pytest.approx((t0 + t_in) + max(t0 + t_in, t1) + t1)
    assert result.compute_s[0] == pytest.approx(t0 + t0 + t1)
    assert result.input_s[0] == pytest.approx(2 * t_in)
    assert result.relayout_s[0] == pytest.approx(0.0)
    acc = result.accelerators
    assert acc["pe"][0].tolist() == [192, 128]
    assert acc["dsp"][0].tolist() == [96, 64]  # 2 MACs per block
    # buffer depths: acc0 x,y,z = 64/4, 64/8, ceil(64/6) = 16, 8, 11; acc1 = 32, 4, 8
    assert acc["x"][0].tolist() == [16, 32]
    assert acc["y"][0].tolist() == [8, 4]
    assert acc["z"][0].tolist() == [11, 8]
    # BRAM (BRAM36 512 x 72, 64-bit lanes -> 1 block wide; pack = 8 INT8 per word):
    #  acc0 LHS: lanes a * b/8 = 4, no producer (factors 1), depth 16*8 = 128 -> 1 deep,
    #            2 live LHS buffers (img0 and img1 overlap at step 1): 4 * 2 = 8
    #  acc0 weights: ceil(64/8)*ceil(64/6) = 88 words, lanes c * b/8 = 6 -> 6 BRAM
    #  acc1 LHS: producer acc0 (A=4, C=6): part_aL = lcm(2, 4)/2 = 2,
    #            part_bL = lcm(16/8, 6)/2 = 3; lanes 2*2*2*3 = 24, depth 32*4/6 -> 1 deep,
    #            2 live buffers: 48
    #  acc1 weights: ceil(64/16)*ceil(32/4) = 32 words, lanes 4*2 = 8 -> 8 BRAM
    assert acc["bram"][0].tolist() == [8 + 6, 48 + 8]
    assert acc["uram"][0].tolist() == [0, 0]  # 8 URAM (score 64) would cost more than 8 BRAM
    assert result.feasible[0]
    # power: 10 + 0.01 * 160 blocks + 0.001 * 70 BRAM + 1e-12 J/op * executed ops/s; l0 on
    # c = 6 executes 66 of N's 64 columns (padding is computed too); no [fpga.memory] table,
    # so the off-chip bytes cost nothing
    ops = 2 * (64 * 64 * 66 + 64 * 64 * 32) * 2
    watts = 10 + 0.01 * 160 + 0.001 * 70 + 1e-12 * ops / result.latency_s[0]
    assert result.power_w[0] == pytest.approx(watts)
    terms = {k: float(v[0]) for k, v in result.power_terms.items()}
    assert terms == pytest.approx({"static": 10, "tiles": 1.6, "compute": 1e-12 * ops / result.latency_s[0],
                                   "bram": 0.07, "uram": 0, "ddr": 0})
    assert result.energy_j_per_image[0] == pytest.approx(watts * result.latency_s[0] / 2)


def test_stratix10nx_m20k_buffers_and_tensor_blocks():
    """One 2x8x2 accelerator holding l0 = 64x64x64 on the Stratix 10 NX, batch 1."""
    nx = load_platform("stratix10nx")
    workload = gemm_chain([("l0", 64, 64, 64, 1)])
    result = CostModel(workload, nx, "int8").evaluate(designs(1, [[2, 8, 2, 1]], [0]))
    # 64-bit lanes in 512 x 40 M20K blocks: 2 blocks wide.
    # LHS: lanes 2 * 8/8 = 2, depth 32*8 = 256 words -> 1 deep, 1 live buffer: 2 * 2 = 4
    # weights: ceil(64/8)*ceil(64/2) = 256 words, lanes 2 -> 2 * 2 * ceil(256/512) = 4
    assert result.accelerators["bram"][0, 0] == 8
    assert result.accelerators["uram"][0, 0] == 0
    # 2*8*2 = 32 PEs over 30-MAC tensor blocks -> 2 blocks
    assert result.accelerators["dsp"][0, 0] == 2
    # 32 * 8 * 32 = 8192 cycles at 300 MHz + the 150528 B image at 4 GiB/s
    assert result.node_cycles[0, 0] == 8192
    assert result.latency_s[0] == pytest.approx(8192 / 300e6 + 150528 / 4294967296)


def test_rule_violations_are_counted(tiny):
    model = CostModel(chain(), tiny, "int8")
    # a = 5 is no multiple of 2 or 3; b = 12 is no power of two; c = 34 exceeds 32
    bad = model.evaluate(designs(1, [[5, 12, 34, 1]], [0, 0]))
    v = bad.violations
    assert v["array_factor"][0] == 1
    assert v["array_b"][0] == 1
    assert v["array_dim"][0] == 34 - 32
    # dup > 1 on an accelerator holding weight layers
    dup = model.evaluate(designs(1, [[4, 8, 6, 2]], [0, 0])).violations
    assert dup["dup"][0] == 1
    # 32*64*32 = 65536 PEs -> 32768 blocks, 31768 over the budget of 1000
    over = model.evaluate(designs(1, [[32, 64, 32, 1]], [0, 0]))
    assert over.violations["dsp"][0] == 32768 - 1000
    assert not over.feasible[0]


def test_charm_and_ssr_are_refused_on_an_fpga(tiny):
    from ssropt.objectives.platforms import PlatformError

    with pytest.raises(PlatformError, match="no \\[aie\\] table.*default cost model is 'fpga'"):
        CostModel(chain(), tiny, "int8", "ssr")


# -- weights streamed from off-chip memory ----------------------------------------------------
MEMORY = """
[fpga.memory]
kind = "DDR4"
bandwidth_bytes_per_s = 1.0e9
efficiency = 0.5
energy_j_per_byte = 1.0e-10
"""


@pytest.fixture()
def tiny_ddr(tmp_path):
    """The tiny platform with 500 MB/s of sustained off-chip bandwidth and no URAM."""
    text = TINY_FPGA.replace("uram = 100", "uram = 0").replace("[fpga.physical]", MEMORY + "\n[fpga.physical]")
    path = tmp_path / "tiny-ddr.toml"
    path.write_text(text)
    return load_platform(path)


def test_streamed_weights_share_the_bandwidth_and_bound_the_layer_time(tiny_ddr):
    model = CostModel(chain(), tiny_ddr, "int8")
    both = model.evaluate(designs(1, [[4, 8, 6, 1, 1], [2, 16, 4, 1, 1]], [0, 1]))
    # two streaming accelerators share 1e9 * 0.5 B/s: 2.5e8 B/s each.
    # l0: 64*64 = 4096 B / 2.5e8 = 16.384 us > its 1408 cycles / 250 MHz = 5.632 us
    # l1: 64*32 = 2048 B / 2.5e8 = 8.192 us > 1024 cycles = 4.096 us
    np.testing.assert_allclose(both.node_time_s[0], [16.384e-6, 8.192e-6])
    assert both.node_cycles[0].tolist() == [1408, 1024]  # compute unchanged
    # batch 1: l0 + 1 us input, then l1
    assert both.latency_s[0] == pytest.approx(16.384e-6 + 1e-6 + 8.192e-6)
    # only acc0 streams: it has the whole 5e8 B/s -> 8.192 us; l1 back to its 4.096 us
    one = model.evaluate(designs(1, [[4, 8, 6, 1, 1], [2, 16, 4, 1, 0]], [0, 1]))
    np.testing.assert_allclose(one.node_time_s[0], [8.192e-6, 4.096e-6])
    acc = one.accelerators
    assert acc["streamed_bytes"][0].tolist() == [4096, 0]
    assert acc["weight_bytes"][0].tolist() == [0, 2048]
    # power adds 1e-10 J per off-chip byte: 4096 B of streamed weights, the 1000 B input and
    # the 64 x 32 B result per image at 1 / latency images/s; l0 executes 64 x 64 x 66 MACs
    plain = model.evaluate(designs(1, [[4, 8, 6, 1, 0], [2, 16, 4, 1, 0]], [0, 1]))
    ops = 2 * (64 * 64 * 66 + 64 * 64 * 32)
    static = 10 + 0.01 * 160 + 0.001 * float(acc["bram"][0].sum())
    offchip = 4096 + 1000 + 64 * 32
    expected = static + 1e-12 * ops / one.latency_s[0] + 1e-10 * offchip / one.latency_s[0]
    assert one.power_w[0] == pytest.approx(expected)
    assert plain.accelerators["streamed_bytes"][0].sum() == 0


def test_a_streaming_accelerator_keeps_a_double_buffered_panel(tiny_ddr):
    """One 2x8x2 accelerator holding a 64x512x512 layer, no URAM on the platform."""
    model = CostModel(gemm_chain([("l0", 64, 512, 512, 1)]), tiny_ddr, "int8")
    held = model.evaluate(designs(1, [[2, 8, 2, 1, 0]], [0]))
    streamed = model.evaluate(designs(1, [[2, 8, 2, 1, 1]], [0]))
    # LHS: lanes 2 * 8/8 = 2, depth 32 * 64 = 2048 words -> 4 BRAM36 deep: 8 BRAM
    # weights on chip: ceil(512/8) * ceil(512/2) = 16384 words on c * b/8 = 2 lanes -> 2 * 32 = 64
    # streamed: a panel 2 * ceil(512/8) = 128 words deep on the same 2 lanes -> 2 * 1 = 2
    assert held.accelerators["bram"][0, 0] == 8 + 64
    assert streamed.accelerators["bram"][0, 0] == 8 + 2
    # 512*512 B at 5e8 B/s = 524.288 us against 32*64*256 = 524288 cycles = 2097.152 us
    assert streamed.node_time_s[0, 0] == pytest.approx(held.node_time_s[0, 0]) == pytest.approx(2097.152e-6)


def test_streaming_without_an_off_chip_memory_is_a_violation(tiny):
    result = CostModel(chain(), tiny, "int8").evaluate(designs(1, [[4, 8, 6, 1, 1]], [0, 0]))
    assert result.violations["stream_without_memory"][0] == 1
    assert not result.feasible[0]


def test_memory_efficiency_outside_zero_one_is_refused(tmp_path):
    from ssropt.objectives.platforms import PlatformError

    text = TINY_FPGA.replace("[fpga.physical]", MEMORY.replace("0.5", "1.5") + "\n[fpga.physical]")
    path = tmp_path / "bad-memory.toml"
    path.write_text(text)
    with pytest.raises(PlatformError, match="fpga.memory.efficiency' must be in \\(0, 1\\], got 1.5"):
        load_platform(path)
