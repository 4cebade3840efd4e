"""The Versal power model: calibration on the DAC'23 points, the terms, their properties."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssropt.errors import SsroptError
from ssropt.objectives.calibration import DAC23_POINTS, fit_vck190_mac_energy, point_power_terms
from ssropt.objectives.design import DesignBatch
from ssropt.objectives.energy import (
    TERMS,
    Activity,
    energy_j_per_image,
    fit_mac_energy,
    power_terms,
    total_power_w,
)
from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import PlatformError, load_platform
from ssropt.objectives.workloads.graph import gemm_chain
from ssropt.objectives.workloads.zoo import build_model

PROPERTY = settings(deadline=None, max_examples=40)
VCK190 = load_platform("vck190")


def activity(**quantities) -> Activity:
    base = Activity.zeros(1)
    return base.replace(**{k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in quantities.items()})


# -- calibration ------------------------------------------------------------------------------
@pytest.mark.parametrize("point", DAC23_POINTS, ids=lambda p: p.dtype)
def test_dac23_point_reproduced_within_five_percent(vck190, point):
    watts = float(total_power_w(point_power_terms(vck190, point))[0])
    assert watts == pytest.approx(point.watts, rel=0.05)
    assert watts == pytest.approx(point.watts, rel=1e-3)  # the fit itself (TOML rounding)


def test_toml_energy_per_mac_is_the_documented_fit(vck190):
    fitted = fit_vck190_mac_energy(vck190)
    for dtype in ("int8", "int16", "fp32"):
        assert getattr(vck190.power, f"mac_j_{dtype}") == pytest.approx(fitted[dtype], rel=1e-3)
    assert fitted["int16"] == pytest.approx(math.sqrt(fitted["int8"] * fitted["fp32"]))


def test_vck5000_reuses_the_die_constants(vck190):
    vck5000 = load_platform("vck5000")
    for name in ("mac_j_int8", "mac_j_int16", "mac_j_fp32", "local_memory_j_per_byte", "ddr_j_per_byte"):
        assert getattr(vck5000.power, name) == getattr(vck190.power, name)
    # the clocked-tile term scales with the (estimated) 1.25 GHz AIE clock
    assert vck5000.power.tile_w == pytest.approx(vck190.power.tile_w * 1.25, rel=1e-3)


def test_dac23_points_pay_for_their_ddr_traffic(vck190):
    for point in DAC23_POINTS:
        terms = point_power_terms(vck190, point)
        # both designs stream ~13.5 GB/s from DDR: ~2.2 W at 160 pJ/B
        assert 1.5 < float(terms["ddr"][0]) < 3.0
        assert all(float(v[0]) >= 0 for v in terms.values())


def test_constants_are_physically_sensible(vck190):
    p = vck190.power
    assert 0 < p.tile_w < 0.1 and 0 < p.static_w < 60
    assert 0 < p.mac_j_int8 < p.mac_j_int16 < p.mac_j_fp32 < 1e-10
    # on-chip bytes are cheaper than off-chip ones; a larger SRAM costs more per access
    assert 0 < p.plio_j_per_byte < p.bram_j_per_byte < p.uram_j_per_byte < p.ddr_j_per_byte
    assert 0 < p.local_memory_j_per_byte < p.ddr_j_per_byte


def test_a_point_below_the_sourced_terms_is_rejected(vck190):
    idle = activity(aie=100.0, macs=1e9)
    with pytest.raises(SsroptError, match="at or below the model's sourced terms"):
        fit_mac_energy(vck190.power, [("int8", idle, 1e-3, 5.0)])


# -- the terms --------------------------------------------------------------------------------
def test_terms_by_hand(vck190):
    p = vck190.power
    work = activity(aie=100, macs=2e9, local_memory_bytes=1e9, bram_bytes=3e8, uram_bytes=2e8,
                    plio_bytes=5e8, ddr_bytes=1e8)
    terms = power_terms(p, "int8", work, np.array([1e-3]))
    assert list(terms) == list(TERMS)
    expected = {
        "static": 9.61,
        "tiles": 100 * 0.02994,
        "compute": p.mac_j_int8 * 2e12,
        "local_memory": 2.47e-12 * 1e12,
        "bram": 1.20e-12 * 3e11,
        "uram": 2.40e-12 * 2e11,
        "plio": 0.24e-12 * 5e11,
        "ddr": 160e-12 * 1e11,
    }
    assert {k: float(v[0]) for k, v in terms.items()} == pytest.approx(expected, rel=1e-9)


def test_no_work_is_static_plus_clocked_tiles_whatever_the_dtype(vck190):
    idle = Activity.zeros(3).replace(aie=np.array([0.0, 100.0, 364.0]))
    for dtype in ("int8", "int16", "fp32"):
        watts = total_power_w(power_terms(vck190.power, dtype, idle, np.full(3, 1e-3)))
        np.testing.assert_allclose(watts, [9.61, 9.61 + 2.994, 9.61 + 364 * 0.02994], rtol=1e-12)


def test_energy_per_image_is_power_times_latency_over_batch():
    # by hand: 50 W * 2 ms / 4 images = 25 mJ; 60 W * 1 ms / 1 = 60 mJ; 40 W * 3 ms / 6 = 20 mJ
    energy = energy_j_per_image(np.array([50.0, 60.0, 40.0]), np.array([2e-3, 1e-3, 3e-3]), np.array([4, 1, 6]))
    np.testing.assert_allclose(energy, [0.025, 0.060, 0.020], rtol=1e-12)


def test_nan_latency_gives_nan_power(vck190):
    terms = power_terms(vck190.power, "fp32", Activity.zeros(2).replace(macs=np.ones(2)), np.array([np.nan, 1.0]))
    watts = total_power_w(terms)
    assert np.isnan(watts[0]) and np.isfinite(watts[1])


def test_unknown_dtype_is_a_platform_error(vck190):
    with pytest.raises(PlatformError, match="bf16.*known dtypes are fp32, int16, int8"):
        power_terms(vck190.power, "bf16", Activity.zeros(1), np.ones(1))


def test_bad_inputs_are_rejected(vck190):
    with pytest.raises(SsroptError, match="ddr_bytes must be >= 0"):
        activity(ddr_bytes=-1.0)
    with pytest.raises(SsroptError, match="latency must be > 0"):
        power_terms(vck190.power, "int8", Activity.zeros(1), np.zeros(1))
    with pytest.raises(SsroptError, match="batch must be positive"):
        energy_j_per_image(np.ones(1), np.ones(1), np.zeros(1))


quantity = st.floats(0, 1e13, allow_nan=False)


@PROPERTY
@given(st.fixed_dictionaries({f.name: quantity for f in dataclasses.fields(Activity)}),
       st.floats(1e-6, 1.0), st.floats(1.0, 1e12), st.sampled_from(["int8", "int16", "fp32"]))
def test_more_ddr_traffic_at_the_same_compute_never_costs_less_energy(work, latency, extra, dtype):
    base = activity(**work)
    more = base.replace(ddr_bytes=base.ddr_bytes + extra)
    energy = [energy_j_per_image(total_power_w(power_terms(VCK190.power, dtype, w, [latency])), [latency], [1])
              for w in (base, more)]
    assert energy[1][0] >= energy[0][0]


@PROPERTY
@given(st.fixed_dictionaries({f.name: quantity for f in dataclasses.fields(Activity)}), st.floats(1e-6, 1.0))
def test_every_term_is_non_negative_and_grows_with_its_quantity(work, latency):
    base = activity(**work)
    terms = power_terms(VCK190.power, "int8", base, [latency])
    assert all(float(v[0]) >= 0 for v in terms.values())
    term_of = {"aie": "tiles", "macs": "compute", "local_memory_bytes": "local_memory",
               "bram_bytes": "bram", "uram_bytes": "uram", "plio_bytes": "plio", "ddr_bytes": "ddr"}
    for name, term in term_of.items():
        grown = power_terms(VCK190.power, "int8", base.replace(**{name: getattr(base, name) * 2 + 1}), [latency])
        assert float(grown[term][0]) > float(terms[term][0])
        assert float(total_power_w(grown)[0]) >= float(total_power_w(terms)[0])


# -- the cost models carry their terms ---------------------------------------------------------
def _random_designs(model, values, draw_ints, n_acc_max, n):
    """``n`` random designs of ``model``: assignments and parameters from ``values``."""
    rng = np.random.default_rng(draw_ints)
    n_nodes = model.workload.n_nodes
    k = rng.integers(1, n_acc_max + 1, size=n)
    assign = np.stack([rng.permutation(np.r_[np.arange(kk), rng.integers(0, kk, n_nodes - kk)]) for kk in k])
    params = np.stack([np.stack([rng.choice(values[name], size=n_acc_max) for name in model.param_names], axis=1)
                       for _ in range(n)])
    return DesignBatch(model.cost_model, rng.integers(1, 7, size=n), assign, params)


@PROPERTY
@given(st.integers(0, 2**31), st.sampled_from(["ssr", "charm"]))
def test_power_terms_sum_to_the_power_of_random_versal_designs(seed, cost_model):
    model = CostModel(build_model("deit-t", tokens=192, blocks=2, embed_and_head=False), VCK190, "int8", cost_model)
    values = model.values()
    if cost_model == "ssr":
        values = {**values, "a": np.arange(1, 7), "b": np.arange(1, 7), "c": np.arange(1, 7)}
    designs = _random_designs(model, values, seed, 4, 8)
    result = model.evaluate(designs)
    assert list(result.power_terms) == list(TERMS)
    total = sum(result.power_terms.values())
    np.testing.assert_allclose(total, result.power_w, rtol=1e-12)
    assert all((v >= 0).all() for v in result.power_terms.values())
    np.testing.assert_allclose(result.energy_j_per_image, result.power_w * result.latency_s / designs.batch)


def test_charm_tilings_with_more_ddr_traffic_cost_more_at_equal_time(vck190):
    """The DAC'23 INT8 array on one GEMM, 12 PL tilings (x, z): equal MACs; priced at one
    common time, total power never falls as the DDR bytes grow."""
    model = CostModel(gemm_chain([("gemm", 6144, 6144, 6144, 1)]), vck190, "int8", "charm")
    grid = np.array([[[8, 4, 6, x, 1, z, 0, 0]] for x in (1, 2, 4) for z in (1, 2, 4, 8)])
    designs = DesignBatch("charm", np.ones(len(grid), dtype=np.int64), np.zeros((len(grid), 1), dtype=np.int64), grid)
    work = model.activity(designs)
    assert np.all(work.macs == work.macs[0])
    watts = total_power_w(power_terms(vck190.power, "int8", work, np.full(len(grid), 1e-2)))
    order = np.argsort(work.ddr_bytes, kind="stable")
    assert work.ddr_bytes.max() > 2 * work.ddr_bytes.min()
    assert np.all(np.diff(watts[order]) >= -1e-12)


def test_power_terms_survive_concatenate_and_replace(vck190):
    model = CostModel(gemm_chain([("g", 128, 128, 128, 1)]), vck190, "int8", "charm")
    designs = DesignBatch("charm", np.array([1, 2]), np.zeros((2, 1), dtype=np.int64),
                          np.array([[[1, 1, 1, 1, 1, 1, 0, 0]], [[2, 1, 1, 1, 1, 1, 0, 0]]]))
    whole = model.evaluate(designs)
    parts = [model.evaluate(designs.take(slice(i, i + 1))) for i in (0, 1)]
    joined = type(whole).concatenate(parts)
    swapped = whole.replaced(np.array([0]), parts[1])
    for name in TERMS:
        np.testing.assert_array_equal(joined.power_terms[name], whole.power_terms[name])
        assert swapped.power_terms[name][0] == whole.power_terms[name][1]
