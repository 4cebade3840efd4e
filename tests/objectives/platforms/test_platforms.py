"""Every shipped platform loads, has a default cost model and a feasible DeiT-T design;
malformed platform files name the file and the missing or bad key."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import (
    PLATFORM_DIR,
    PlatformError,
    default_cost_model,
    known_platforms,
    load_platform,
)
from ssropt.objectives.workloads.zoo import build_model
from ssropt.spaces import Space, SpaceOptions

SHIPPED = {
    "vck190": "ssr",
    "vck5000": "ssr",
    "stratix10nx": "fpga",
    "zcu102": "fpga",
    "u250": "fpga",
    "a10g": "gpu-roofline",
    "t4": "gpu-roofline",
}


def test_every_shipped_platform_loads_with_its_family_default():
    assert set(SHIPPED) <= set(known_platforms())
    for name, model in SHIPPED.items():
        platform = load_platform(name)
        assert default_cost_model(platform) == model == platform.default_cost_model


def test_published_device_counts():
    nx, zcu, u250, vck5000 = (load_platform(n) for n in ("stratix10nx", "zcu102", "u250", "vck5000"))
    assert (nx.fpga.physical.dsp, nx.fpga.physical.bram, nx.fpga.physical.uram) == (3960, 6847, 0)
    # 3,960 tensor blocks x 30 INT8 MACs x 2 ops x 600 MHz = Intel's 143 INT8 TOPS
    assert 3960 * nx.dtype("int8").fpga.macs_per_block * 2 * 600e6 == pytest.approx(143e12, rel=0.01)
    assert (zcu.fpga.physical.dsp, zcu.fpga.physical.bram, zcu.fpga.physical.uram) == (2520, 912, 0)
    assert (u250.fpga.physical.dsp, u250.fpga.physical.bram, u250.fpga.physical.uram) == (12288, 2688, 1280)
    assert (vck5000.physical.aie, vck5000.physical.bram, vck5000.physical.uram) == (400, 967, 463)


def feasible_designs(platform_name: str, **workload_options):
    workload = build_model("deit-t", tokens=192, **workload_options)
    model = CostModel(workload, load_platform(platform_name), "int8")
    space = Space(model, SpaceOptions(family="sequential", batch_sizes=(1, 6)))
    result = space.evaluate(space.sample(200, np.random.default_rng(0)))
    return result


@pytest.mark.parametrize("name", ["vck190", "vck5000", "stratix10nx", "u250", "zcu102", "a10g", "t4"])
def test_sampled_and_repaired_deit_t_designs_include_a_feasible_one(name):
    result = feasible_designs(name)
    assert result.feasible.any()
    assert np.isfinite(result.evaluation.latency_s[result.feasible]).all()
    assert (result.evaluation.power_w[result.feasible] > 0).all()


def test_zcu102_holds_deit_t_only_by_streaming_weights(tmp_path):
    # DeiT-T's INT8 weights (~5.7 MB) exceed the XCZU9EG's 912 BRAM36 (4.1 MB): without an
    # [fpga.memory] table every full DeiT-T design busts the BRAM budget ...
    on_chip = write_variant(tmp_path, "zcu102", drop="fpga.memory")
    full = feasible_designs(str(on_chip))
    bram = full.constraint_names.index("bram")
    assert not full.feasible.any() and (full.G[:, bram] > 0).all()
    # ... while four encoder blocks (~1.9 MB) fit
    assert feasible_designs(str(on_chip), blocks=4).feasible.any()
    # with the PS DDR4, feasible designs exist and each streams the weights of at least one
    # accelerator, and holds less than the BRAM's capacity of weights on chip
    result = feasible_designs("zcu102")
    acc = result.evaluation.accelerators
    ok = result.feasible
    assert ok.any()
    assert (result.designs.params[ok, :, 4].max(axis=1) == 1).all()
    assert (acc["weight_bytes"][ok].sum(axis=1) < 912 * 36 * 1024 / 8).all()
    # every weight is either held or streamed, exactly once per image
    workload = build_model("deit-t", tokens=192)
    weights = sum(n.k * n.n * n.repeat * workload.copies(n) for n in workload.nodes if not n.activation_rhs)
    assert weights > 5e6
    np.testing.assert_array_equal((acc["weight_bytes"] + acc["streamed_bytes"]).sum(axis=1), weights)


# -- malformed files -----------------------------------------------------------------------
def write_variant(tmp_path, name: str, drop: str = "", replace: tuple[str, str] | None = None):
    text = (PLATFORM_DIR / f"{name}.toml").read_text()
    if drop:
        start = text.index(f"[{drop}]")
        end = text.find("\n[", start + 1)
        text = text[:start] + (text[end + 1 :] if end >= 0 else "")
    if replace:
        text = text.replace(*replace)
    path = tmp_path / f"{name}-variant.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "drop", "key"),
    [
        ("vck190", "ssr", "'ssr'"),
        ("vck190", "dtype.int8.ssr", "'dtype.int8.ssr'"),
        ("stratix10nx", "fpga.budget", "'fpga.budget'"),
        ("stratix10nx", "dtype.int8.fpga", "'dtype.int8.fpga'"),
        ("a10g", "gpu", "'gpu'"),
    ],
)
def test_a_missing_section_names_the_file_and_key(tmp_path, name, drop, key):
    path = write_variant(tmp_path, name, drop=drop)
    with pytest.raises(PlatformError, match=f"{path.name}.*missing key {key}"):
        load_platform(path)


def test_bad_family_unknown_key_and_mistyped_value_are_named(tmp_path):
    bad_family = write_variant(tmp_path, "zcu102", replace=('family = "fpga"', 'family = "asic"'))
    with pytest.raises(PlatformError, match="key 'family' must be one of versal, fpga, gpu"):
        load_platform(bad_family)
    unknown = write_variant(tmp_path, "t4", replace=("tdp_w = 70.0", "tdp_w = 70.0\nwatts = 1"))
    with pytest.raises(PlatformError, match="unknown key 'gpu.watts'"):
        load_platform(unknown)
    mistyped = write_variant(tmp_path, "u250", replace=("dsp = 12288", 'dsp = "many"'))
    with pytest.raises(PlatformError, match="key 'fpga.physical.dsp' must be a positive integer, got 'many'"):
        load_platform(mistyped)


def test_a_cost_model_the_platform_cannot_run_is_refused():
    workload = build_model("deit-t", tokens=192)
    with pytest.raises(PlatformError, match="a10g.*cannot run cost model 'fpga'.*no \\[fpga\\] table"):
        CostModel(workload, load_platform("a10g"), "int8", "fpga")
    with pytest.raises(PlatformError, match="unknown dtype 'fp32' for platform stratix10nx"):
        CostModel(workload, load_platform("stratix10nx"), "fp32")
