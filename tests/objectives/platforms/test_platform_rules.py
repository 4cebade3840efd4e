"""The rules of platform TOMLs: every shipped file keeps them, each rule names the key it
refuses, and a new field is covered by the defaults of its type."""

from __future__ import annotations

import pytest

from ssropt.objectives.platforms import PLATFORM_DIR, PlatformError, known_platforms, load_platform
from ssropt.objectives.platforms.rules import (
    DEFAULT_FLOAT,
    DEFAULT_INT,
    check_consistency,
    field_rule,
)


def variant(tmp_path, name: str, old: str, new: str):
    text = (PLATFORM_DIR / f"{name}.toml").read_text()
    assert old in text, old
    path = tmp_path / f"{name}-{abs(hash(new))}.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("name", known_platforms())
def test_every_shipped_platform_keeps_the_rules(name):
    load_platform(name)


@pytest.mark.parametrize(
    ("name", "old", "new", "needle"),
    [
        ("vck190", "clock_hz = 1.0e9", "clock_hz = 0", "key 'aie.clock_hz' must be a positive number"),
        ("vck190", "clock_hz = 1.0e9", "clock_hz = nan", "key 'aie.clock_hz' must be a finite number"),
        ("vck190", "clock_hz = 1.0e9", "clock_hz = 1e12", "must be at most 1e+11 (100 GHz)"),
        ("vck190", "bytes = 1\n", "bytes = 0\n", "key 'dtype.int8.bytes' must be a positive integer"),
        ("vck190", "columns = 50                # [DS957]", "columns = 0",
         "key 'aie.columns' must be a positive integer"),
        ("vck190", "h1_choices = [16, 32, 48, 64]", "h1_choices = []",
         "key 'dtype.int8.ssr.h1_choices' must be a non-empty list"),
        ("vck190", "h1_choices = [16, 32, 48, 64]", "h1_choices = [32, 16]", "strictly ascending"),
        ("vck190", "array_dim_max = 24", "array_dim_max = 100000000", "at most 4,096"),
        ("vck190", "ii_values = [5, 4, 3]", "ii_values = [5, 4]",
         "ii_w1_limits and dtype.int8.ssr.ii_values must have the same number of entries"),
        ("vck190", "aie = 364", "aie = 401", "budget.aie (401) must not exceed physical.aie (400)"),
        ("vck190", "plio_width_bits = 128", "plio_width_bits = 16",
         "8 * dtype.fp32.bytes (32) must not exceed pl.plio_width_bits (16)"),
        ("vck190", "pi = 8\npk = 64", "pi = 128\npk = 64",
         "dtype.int8.charm.pi (128) must not exceed dtype.int8.charm.h1 (64)"),
        ("stratix10nx", "efficiency = 0.7", "efficiency = 0", "must be in (0, 1]"),
        ("stratix10nx", "dsp = 3960                     # estimate:", "dsp = 4000 # estimate:",
         "fpga.budget.dsp (4000) must not exceed fpga.physical.dsp (3960)"),
        ("t4", "memory_bandwidth_bytes_per_s = 320.0e9", "memory_bandwidth_bytes_per_s = 0.0",
         "must be a positive number"),
        ("t4", "tdp_w = 70.0", "tdp_w = 0.0", "key 'gpu.tdp_w' must be a positive number"),
        ("t4", "compute_efficiency = 0.5", "compute_efficiency = 1.5", "must be in (0, 1]"),
        ("t4", 'family = "gpu"', "family = []", "key 'family' must be one of"),
    ],
)
def test_a_broken_rule_names_the_file_and_key(tmp_path, name, old, new, needle):
    path = variant(tmp_path, name, old, new)
    with pytest.raises(PlatformError) as info:
        load_platform(path)
    assert str(info.value).startswith(str(path))
    assert needle in str(info.value)


def test_zero_is_allowed_where_it_means_something():
    assert field_rule("fpga.physical.uram", int).check(0, "k") == 0  # no URAM on the device
    assert field_rule("power.uram_w", float).check(0.0, "k") == 0.0
    assert field_rule("ssr.kernel_prologue_cycles", int).check(0, "k") == 0
    with pytest.raises(Exception, match="positive"):
        field_rule("fpga.power.static_w", float).check(0.0, "k")


def test_a_new_field_is_covered_by_the_default_of_its_type():
    assert field_rule("newtable.some_count", int) is DEFAULT_INT
    assert field_rule("newtable.some_rate", float) is DEFAULT_FLOAT
    with pytest.raises(Exception, match="positive"):
        DEFAULT_FLOAT.check(0.0, "newtable.some_rate")
    with pytest.raises(Exception, match="finite"):
        DEFAULT_FLOAT.check(float("inf"), "newtable.some_rate")


def test_consistency_rules_skip_tables_a_file_lacks():
    assert check_consistency({"family": "gpu", "gpu": {}, "dtype": {"int8": {"bytes": 1}}}) is None
    assert "budget.bram (2) must not exceed physical.bram (1)" == check_consistency(
        {"physical": {"bram": 1}, "budget": {"bram": 2}})
