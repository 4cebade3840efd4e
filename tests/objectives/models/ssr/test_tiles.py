"""Single-AIE tiles of the ``ssr`` model: SSR's lists (default) or the native ones."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.models.ssr.accelerator import kernel_cycles
from ssropt.objectives.models.ssr.tiles import (
    expressible,
    fits_local_memory,
    native_tiles,
    tile_values,
    with_tiles,
)
from ssropt.objectives.platforms import PlatformError, load_platform
from ssropt.objectives.workloads.zoo import build_model

SSR_LISTS = {"h1": [16, 32, 48, 64], "w1": [32, 48, 64, 80, 96], "w2": [16, 32, 48, 64]}


@pytest.fixture(scope="module")
def native():
    return with_tiles(load_platform("vck190"), "native")


def test_the_default_is_ssrs_lists(vck190, block_model):
    assert vck190.ssr.tiles == "ssr"
    assert {k: v.tolist() for k, v in tile_values(vck190, "int8").items()} == SSR_LISTS
    values = block_model.values()
    assert {k: values[k].tolist() for k in SSR_LISTS} == SSR_LISTS


def test_native_tiles_per_dtype(native):
    # every multiple of 8 within SSR's bounds (7 x 9 x 7 = 441) whose double-buffered
    # operands fit 30 KiB: all in INT8, fewer in INT16 and FP32
    sizes = {dtype: len(native_tiles(native, dtype)) for dtype in ("int8", "int16", "fp32")}
    assert sizes == {"int8": 441, "int16": 382, "fp32": 158}
    for dtype in sizes:
        tiles = native_tiles(native, dtype)
        assert (tiles % 8 == 0).all()
        assert fits_local_memory(*tiles.T, native.dtype(dtype).bytes, native.aie.local_memory_bytes).all()
        assert expressible(*tiles.T, native.dtype(dtype).ssr.native_mmul).all()
    assert tile_values(native, "int8")["w1"].tolist() == list(range(32, 97, 8))


def test_native_shapes_that_do_not_fit_aie_memory_are_rejected(native):
    fp32 = {tuple(t) for t in native_tiles(native, "fp32").tolist()}
    # 2 * (64*96 + 96*64) * 4 B = 98 KiB > 30 KiB; 2 * (32*48 + 48*32) * 4 = 24 KiB fits
    assert (64, 96, 64) not in fp32 and (32, 48, 32) in fp32
    model = CostModel(build_model("deit-t", tokens=192, blocks=1, embed_and_head=False), native, "fp32")
    designs = DesignBatch("ssr", np.array([1, 1]), np.zeros((2, 8), dtype=np.int64),
                          np.array([[[2, 4, 6, 1, 64, 96, 64]], [[2, 4, 6, 1, 32, 48, 32]]]))
    result = model.evaluate(designs)
    assert result.violations["aie_memory"].tolist() == [2 * (64 * 96 + 96 * 64) * 4 - 30720, 2 * (32 * 48 * 2) * 4 - 30720]
    assert result.violations["kernel_tile"].tolist() == [0, 0]


def test_native_configurations_never_break_the_memory_rule(native):
    model = CostModel(build_model("deit-t", tokens=192, blocks=1, embed_and_head=False), native, "fp32")
    configured = model.configurator().configure(np.array([0, 0, 0, 1, 1, 2, 2, 2]), batch=1)
    assert configured.feasible
    h1, w1, w2 = configured.params[:, 4], configured.params[:, 5], configured.params[:, 6]
    allowed = {tuple(t) for t in native_tiles(native, "fp32").tolist()}
    assert all((int(a), int(b), int(c)) in allowed for a, b, c in zip(h1, w1, w2))


def test_off_grid_tiles_are_flagged_in_native_mode(native):
    model = CostModel(build_model("deit-t", tokens=192, blocks=1, embed_and_head=False), native, "int8")
    designs = DesignBatch("ssr", np.array([1, 1]), np.zeros((2, 8), dtype=np.int64),
                          np.array([[[1, 4, 6, 1, 20, 48, 32]], [[1, 4, 6, 1, 40, 48, 32]]]))
    assert model.evaluate(designs).violations["kernel_tile"].tolist() == [1, 0]


def test_native_kernel_time_equals_ssrs_on_its_lists(vck190, native):
    h1, w1, w2 = np.meshgrid(*SSR_LISTS.values(), indexing="ij")
    for dtype in ("int8", "int16", "fp32"):
        for b in (1, 4, 16):
            ssr = kernel_cycles(h1, w1, w2, b, vck190, vck190.dtype(dtype))
            nat = kernel_cycles(h1, w1, w2, b, native, native.dtype(dtype))
            np.testing.assert_array_equal(ssr, nat)


def test_native_kernel_time_by_hand(native):
    # 40 x 48 x 32, b = 4, INT8: PI = 8 (16 does not divide 40), PJ = 16; a block takes
    # ceil(8*48*16/128) = 48 cycles + II(48) = 3; 5 * 2 = 10 blocks:
    # 30 + 51 * 9 + 80 + 4 = 573
    assert int(kernel_cycles(40, 48, 32, 4, native, native.dtype("int8"))) == 573
    # CHARM's measured +4 cycles per 16 on the 8-wide blocks: 48 -> 60; 30 + 63 * 9 + 84 = 681
    from dataclasses import replace

    stalled = replace(native, ssr=replace(native.ssr, narrow_block_stall_per_16=4.0))
    assert int(kernel_cycles(40, 48, 32, 4, stalled, stalled.dtype("int8"))) == 681


def test_ssr_list_designs_evaluate_identically_in_both_modes(vck190, native):
    workload = build_model("deit-t", tokens=192, blocks=2, embed_and_head=False)
    tiles = [[1, 4, 6, 1, 32, 48, 32], [2, 2, 2, 3, 48, 32, 48], [1, 6, 4, 1, 64, 96, 16]]
    designs = DesignBatch("ssr", np.array([1, 6]), np.array([[0, 0, 0, 1, 1, 2, 2, 2]] * 2), np.array([tiles] * 2))
    ssr = CostModel(workload, vck190, "int8").evaluate(designs)
    nat = CostModel(workload, native, "int8").evaluate(designs)
    for name in ("latency_s", "power_w", "energy_j_per_image"):
        np.testing.assert_array_equal(getattr(ssr, name), getattr(nat, name))
    assert "kernel_tile" not in ssr.violations


def test_with_tiles_tags_the_source_and_round_trips(vck190, native):
    assert native.source.endswith("vck190.toml#tiles=native")
    assert with_tiles(native, "ssr") == vck190
    with pytest.raises(PlatformError, match="tiles must be one of ssr, native"):
        with_tiles(vck190, "all")
    with pytest.raises(PlatformError, match="no \\[ssr\\] table"):
        with_tiles(load_platform("stratix10nx"), "native")


def test_unknown_tiles_mode_in_a_platform_file_is_refused(tmp_path, vck190):
    text = open(vck190.source).read().replace('tiles = "ssr"', 'tiles = "all"')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PlatformError, match="ssr.tiles' must be one of ssr, native"):
        CostModel(build_model("deit-t", tokens=192, blocks=1, embed_and_head=False), load_platform(path), "int8")
