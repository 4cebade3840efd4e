"""The work of a batch of ``charm`` designs (``objectives/models/charm/traffic.py``), by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.workloads.graph import gemm_chain


def test_one_gemm_on_one_aie_by_hand(vck190):
    """128^3 INT8 on a, b, c = 1 and x, y, z = 1 (64^3 kernel): 2 x 2 x 2 PL tiles, batch 2."""
    model = CostModel(gemm_chain([("g", 128, 128, 128, 1)]), vck190, "int8", "charm")
    design = DesignBatch("charm", np.array([2]), np.zeros((1, 1), dtype=np.int64),
                         np.array([[[1, 1, 1, 1, 1, 1, 0, 0]]]))
    work = model.activity(design)
    tiles, window = 8, 64 * 64  # L = R = O = 4096 B per tile
    per_image = {
        "aie": 1 / 2,  # the array, once (not per image)
        "macs": 128**3,
        # core loads MACs * (1/PI + 1/PJ) = 1/8 + 1/4; DMA: L and R windows per call, O per tile
        "local_memory_bytes": 128**3 * 0.375 + tiles * (2 * window) + tiles * window,
        # packed INT8 (PACK 2/2): A_BRO = C_BRO = 1 on a 1 x 1 x 1 array
        "plio_bytes": tiles * 3 * window,
        # loads L + R per tile, stores O per (x, z) tile: 8 * 8192 + 4 * 4096
        "ddr_bytes": tiles * 2 * window + 4 * window,
    }
    for name, value in per_image.items():
        assert float(getattr(work, name)[0]) == pytest.approx(2 * value), name
    # PL buffers: writes = DDR loads + PLIO out; reads = PLIO in + DDR stores + the partial
    # sums of the split K re-read (8 - 4 tiles); CHARM places them all in BRAM or URAM
    buffers = (tiles * 2 * window + tiles * window) + (tiles * 2 * window + 4 * window + 4 * window)
    assert float(work.bram_bytes[0] + work.uram_bytes[0]) == pytest.approx(2 * buffers)


def test_evaluation_carries_the_terms(vck190):
    model = CostModel(gemm_chain([("g", 128, 128, 128, 1)]), vck190, "int8", "charm")
    design = DesignBatch("charm", np.array([1]), np.zeros((1, 1), dtype=np.int64),
                         np.array([[[1, 1, 1, 1, 1, 1, 0, 0]]]))
    result = model.evaluate(design)
    ddr = result.power_terms["ddr"][0]
    assert ddr == pytest.approx(vck190.power.ddr_j_per_byte * (8 * 8192 + 4 * 4096) / result.latency_s[0])
    assert sum(result.power_terms.values())[0] == pytest.approx(result.power_w[0])
