"""The power and energy model: calibration points, monotonicity, hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssropt.errors import SsroptError
from ssropt.objectives.energy import (
    baseline_power_w,
    energy_j_per_image,
    energy_per_op_from_measurement,
    power_w,
)
from ssropt.objectives.platforms import PlatformError

# DAC'23 on-board VCK190 GEMM: (dtype, AIEs, achieved ops/s, board power W).
DAC23_INT8 = ("int8", 192, 28.150e12, 60.96)
DAC23_FP32 = ("fp32", 384, 3.745e12, 58.34)


def calibration_pl_usage(platform) -> dict[str, float]:
    """PL usage assumed for both DAC'23 designs: the platform's CHARM budget."""
    charm = platform.charm
    return {
        "bram": float(charm.bram),
        "uram": float(charm.uram),
        "plio": float(charm.plio_in + charm.plio_out),
    }


def _point_power(platform, point) -> float:
    dtype, aie, ops, _ = point
    usage = calibration_pl_usage(platform)
    watts = power_w(
        platform,
        dtype,
        aie=np.array([aie], float),
        ops_per_s=np.array([ops]),
        bram=np.array([usage["bram"]]),
        uram=np.array([usage["uram"]]),
        plio=np.array([usage["plio"]]),
    )
    assert watts.shape == (1,)
    return float(watts[0])


def test_calibration_pl_usage_is_the_charm_budget(vck190):
    assert calibration_pl_usage(vck190) == {"bram": 867.0, "uram": 420.0, "plio": 180.0}


@pytest.mark.parametrize("point", [DAC23_INT8, DAC23_FP32], ids=["int8", "fp32"])
def test_dac23_calibration_point_reproduced_within_one_percent(vck190, point):
    assert _point_power(vck190, point) == pytest.approx(point[3], rel=0.01)


@pytest.mark.parametrize("point", [DAC23_INT8, DAC23_FP32], ids=["int8", "fp32"])
def test_toml_energy_per_op_is_the_documented_derivation(vck190, point):
    dtype, aie, ops, measured = point
    derived = energy_per_op_from_measurement(
        vck190.power, measured, aie=aie, ops_per_s=ops, **calibration_pl_usage(vck190)
    )
    stored = getattr(vck190.power, f"dynamic_j_per_op_{dtype}")
    assert stored == pytest.approx(derived, rel=1e-3)


def test_int16_energy_is_the_geometric_mean_of_int8_and_fp32(vck190):
    p = vck190.power
    expected = math.sqrt(p.dynamic_j_per_op_int8 * p.dynamic_j_per_op_fp32)
    assert p.dynamic_j_per_op_int16 == pytest.approx(expected, rel=1e-3)


def test_constants_are_physically_sensible(vck190):
    p = vck190.power
    assert 0 < p.aie_active_w < 1 and 0 < p.static_w < 60
    assert 0 < p.bram_w < p.uram_w < 0.1 and 0 < p.plio_w < 0.1
    # wider operands cost more energy per operation
    assert 0 < p.dynamic_j_per_op_int8 < p.dynamic_j_per_op_int16 < p.dynamic_j_per_op_fp32


@pytest.mark.parametrize("dtype", ["int8", "int16", "fp32"])
def test_power_grows_monotonically_with_aie_count(vck190, dtype):
    aie = np.arange(0, 401, 25, dtype=float)
    n = aie.size
    watts = power_w(
        vck190,
        dtype,
        aie=aie,
        ops_per_s=np.full(n, 1e12),
        bram=np.full(n, 100.0),
        uram=np.full(n, 50.0),
        plio=np.full(n, 40.0),
    )
    assert watts.shape == (n,)
    assert np.all(np.diff(watts) > 0)


@pytest.mark.parametrize("dtype", ["int8", "int16", "fp32"])
def test_power_grows_monotonically_with_ops_per_s(vck190, dtype):
    ops = np.linspace(0.0, 40e12, 17)
    n = ops.size
    watts = power_w(
        vck190,
        dtype,
        aie=np.full(n, 192.0),
        ops_per_s=ops,
        bram=np.full(n, 100.0),
        uram=np.full(n, 50.0),
        plio=np.full(n, 40.0),
    )
    assert np.all(np.diff(watts) > 0)


def test_energy_per_image_is_power_times_latency_over_batch():
    # by hand: 50 W * 2 ms / 4 images = 25 mJ; 60 W * 1 ms / 1 = 60 mJ; 40 W * 3 ms / 6 = 20 mJ
    energy = energy_j_per_image(
        np.array([50.0, 60.0, 40.0]), np.array([2e-3, 1e-3, 3e-3]), np.array([4, 1, 6])
    )
    np.testing.assert_allclose(energy, [0.025, 0.060, 0.020], rtol=1e-12)


def test_zero_ops_gives_static_plus_active_power_only(vck190):
    watts = power_w(
        vck190,
        "int8",
        aie=np.array([0.0, 100.0, 364.0]),
        ops_per_s=np.zeros(3),
        bram=np.zeros(3),
        uram=np.zeros(3),
        plio=np.zeros(3),
    )
    # by hand from the TOML: 9.61 W static + 0.0406 W per AIE
    np.testing.assert_allclose(watts, [9.61, 9.61 + 4.06, 9.61 + 14.7784], rtol=1e-12)


def test_zero_ops_power_does_not_depend_on_dtype(vck190):
    kwargs = {
        "aie": np.array([64.0]),
        "ops_per_s": np.zeros(1),
        "bram": np.array([10.0]),
        "uram": np.array([5.0]),
        "plio": np.array([8.0]),
    }
    by_dtype = [power_w(vck190, d, **kwargs)[0] for d in ("int8", "int16", "fp32")]
    assert by_dtype == pytest.approx([by_dtype[0]] * 3)
    assert by_dtype[0] == pytest.approx(
        float(baseline_power_w(vck190.power, aie=64, bram=10, uram=5, plio=8))
    )


def test_pl_terms_are_per_block(vck190):
    zeros = np.zeros(2)
    watts = power_w(
        vck190,
        "int8",
        aie=zeros,
        ops_per_s=zeros,
        bram=np.array([0.0, 100.0]),
        uram=np.array([0.0, 10.0]),
        plio=np.array([0.0, 20.0]),
    )
    # by hand: 100 * 2.47 mW + 10 * 7.0 mW + 20 * 0.88 mW = 0.3346 W
    assert watts[1] - watts[0] == pytest.approx(0.3346, rel=1e-9)


def test_nan_throughput_gives_nan_power(vck190):
    ones = np.ones(2)
    watts = power_w(
        vck190, "fp32", aie=ones, ops_per_s=np.array([np.nan, 1e9]), bram=ones, uram=ones, plio=ones
    )
    assert np.isnan(watts[0]) and np.isfinite(watts[1])


def test_unknown_dtype_is_a_platform_error(vck190):
    zeros = np.zeros(1)
    with pytest.raises(PlatformError, match="bf16.*known dtypes are fp32, int16, int8"):
        power_w(vck190, "bf16", aie=zeros, ops_per_s=zeros, bram=zeros, uram=zeros, plio=zeros)


def test_negative_inputs_are_rejected(vck190):
    zeros = np.zeros(1)
    with pytest.raises(SsroptError, match="aie must be >= 0"):
        power_w(vck190, "int8", aie=-zeros - 1, ops_per_s=zeros, bram=zeros, uram=zeros, plio=zeros)
    with pytest.raises(SsroptError, match="batch must be positive"):
        energy_j_per_image(np.ones(1), np.ones(1), np.zeros(1))


def test_calibration_below_baseline_is_rejected(vck190):
    with pytest.raises(SsroptError, match="below the model's baseline"):
        energy_per_op_from_measurement(
            vck190.power, 5.0, aie=10, ops_per_s=1e12, bram=0, uram=0, plio=0
        )
