"""The validation layer: field specs, the limits of workloads and designs, the derived
bounds, safe input files -- and that the README's error table lists every limit."""

from __future__ import annotations

import copy
import json
import math
import os
import re
from pathlib import Path

import pytest

from ssropt.errors import SsroptError
from ssropt.objectives.design_file import DesignError, parse_design
from ssropt.objectives.files import MAX_INPUT_BYTES, parse_structured, read_text
from ssropt.objectives.validation import (
    LIMITS,
    MAX_JOBS,
    MAX_LAYERS,
    MAX_OPS_PER_IMAGE,
    Float,
    Int,
    Seq,
    Text,
    show,
)
from ssropt.objectives.workloads import build_model
from ssropt.objectives.workloads.graph import WorkloadError, gemm_chain
from ssropt.objectives.workloads.spec import workload_from_spec

README = Path(__file__).resolve().parents[2] / "README.md"
NODES = ("q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2")
DESIGN = {
    "workload": {"model": "deit-t", "tokens": 192, "blocks": 1, "embed_and_head": False},
    "platform": "vck190", "batch": 1,
    "accelerators": [{"a": 2, "b": 4, "c": 6, "h1": 32, "w1": 48, "w2": 32}],
    "assignment": dict.fromkeys(NODES, 0),
}


# -- field specs ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -1, 1.0, "3", True, None, [3], float("nan")])
def test_an_int_spec_refuses_what_is_not_a_positive_integer(value):
    with pytest.raises(SsroptError, match="k must be a positive integer"):
        Int(1, 10).check(value, "k")


def test_an_int_spec_names_its_limit_and_why():
    assert Int(1, 10).check(10, "k") == 10
    with pytest.raises(SsroptError, match=r"^k must be at most 10 \(a reason\), got 11$"):
        Int(1, 10, "a reason").check(11, "k")
    with pytest.raises(SsroptError, match="got 1e\\+18"):
        Int(1, 10).check(10**18, "k")
    with pytest.raises(SsroptError, match="an integer of 3322 bits"):
        Int(1, 10).check(10**1000, "k")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 10**400])
def test_a_float_spec_refuses_non_finite_numbers(value):
    with pytest.raises(SsroptError, match="must be a finite number"):
        Float(0.0, 1e9).check(value, "x")


def test_a_float_spec_with_an_open_lower_bound_refuses_it():
    spec = Float(0.0, 1.0, low_open=True, interval=True)
    assert spec.check(1, "f") == 1.0
    for value in (0, 0.0, -0.5, 1.5):
        with pytest.raises(SsroptError, match=r"must be in \(0, 1\]"):
            spec.check(value, "f")


def test_a_seq_spec_checks_length_items_and_order():
    spec = Seq(Int(1, 100), min_len=1, max_len=3, ascending=True)
    assert spec.check([1, 5], "t") == (1, 5)
    with pytest.raises(SsroptError, match="non-empty list"):
        spec.check([], "t")
    with pytest.raises(SsroptError, match="at most 3 entries"):
        spec.check([1, 2, 3, 4], "t")
    with pytest.raises(SsroptError, match=r"t\[1\] must be at most 100"):
        spec.check([1, 500], "t")
    with pytest.raises(SsroptError, match="strictly ascending"):
        spec.check([5, 5], "t")


def test_text_and_show_keep_messages_short():
    with pytest.raises(SsroptError, match="at most 128 characters"):
        Text().check("x" * 1000, "name")
    assert len(show("x" * 10_000)) <= 60
    assert show({"a": 1}) == "a dict of 1 items"
    assert show(10**5000).startswith("an integer of")


# -- the limits of workloads and designs -----------------------------------------------------
def at(design: dict, **changes) -> dict:
    out = copy.deepcopy(design)
    for key, value in changes.items():
        if key in ("tokens", "blocks"):
            out["workload"][key] = value
        elif key in ("a", "h1"):
            out["accelerators"][0][key] = value
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("key", "name"),
    [("batch", "batch"), ("blocks", "blocks"), ("tokens", "tokens"), ("a", "parameter"),
     ("h1", "parameter")],
)
def test_a_design_at_a_limit_is_accepted_and_one_above_it_refused(key, name):
    limit = LIMITS[name].high
    if key == "blocks":  # a deep model needs a small batch to stay within the jobs bound
        parse_design(at(DESIGN, blocks=limit))
    else:
        parse_design(at(DESIGN, **{key: limit}))
    with pytest.raises(SsroptError, match=f"must be at most {limit:,}"):
        parse_design(at(DESIGN, **{key: limit + 1}))


def test_gemm_sizes_counts_and_list_length_have_limits():
    gemm = {"name": "g", "M": 64, "K": 64, "N": 64, "count": 1}
    for key, name in (("M", "dimension"), ("K", "dimension"), ("N", "dimension"), ("count", "repeat")):
        bad = dict(gemm, **{key: LIMITS[name].high + 1})
        with pytest.raises(WorkloadError, match=f"gemms\\[0\\].{key} must be at most"):
            workload_from_spec({"gemms": [bad]})
    many = [dict(gemm, name=f"g{i}") for i in range(LIMITS["nodes"].high + 1)]
    with pytest.raises(WorkloadError, match="at most 256"):
        workload_from_spec({"gemms": many})


def test_the_work_of_one_image_is_bounded():
    big = LIMITS["dimension"].high
    with pytest.raises(WorkloadError, match="operations per image: at most 2\\^50"):
        gemm_chain([("g", big, big, big, 1)])
    ok = gemm_chain([("g", 1024, 1024, 1024, 1)])
    assert ok.ops_per_image < MAX_OPS_PER_IMAGE
    assert MAX_OPS_PER_IMAGE * LIMITS["batch"].high < 2**63  # int64 stays exact


def test_the_jobs_of_one_schedule_are_bounded():
    deep = at(DESIGN, blocks=1024, batch=64)  # 64 x 8,192 layers > MAX_JOBS
    with pytest.raises(DesignError, match=f"at most {MAX_JOBS:,} per schedule"):
        parse_design(deep)
    # every zoo model at the largest batch fits
    for model in ("deit-b", "vit-l16", "bert-large"):
        assert build_model(model).n_layers * LIMITS["batch"].high <= MAX_JOBS
    assert LIMITS["blocks"].high * LIMITS["nodes"].high >= MAX_LAYERS


def test_a_hf_config_with_huge_dimensions_is_refused(tmp_path):
    config = {"hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 10**9,
              "num_hidden_layers": 12}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(WorkloadError, match="'intermediate_size' must be at most 131,072"):
        workload_from_spec({"hf_config": str(path)})
    path.write_text(json.dumps(dict(config, intermediate_size=3072, image_size=2**17, patch_size=1)))
    with pytest.raises(WorkloadError, match="at most 131,072"):  # 2^34 patch tokens
        workload_from_spec({"hf_config": str(path)})


# -- input files ---------------------------------------------------------------------------
def test_input_files_are_checked_before_they_are_opened(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(SsroptError, match="it is a FIFO \\(named pipe\\), not a regular file"):
        read_text(fifo, "design file")
    with pytest.raises(SsroptError, match="it is a directory"):
        read_text(tmp_path, "design file")
    with pytest.raises(SsroptError, match="not a valid path"):
        read_text(f"{tmp_path}/a\x00b", "design file")
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(MAX_INPUT_BYTES + 1)
    with pytest.raises(SsroptError, match="at most 16,777,216"):
        read_text(big, "design file")


def test_structured_text_errors_are_one_line():
    for text, needle in (("{", "not valid JSON"), ("[" * 100_000, "nested too deeply"),
                         ('{"a": ' + "1" * 5000 + "}", "not valid JSON")):
        with pytest.raises(SsroptError, match=needle) as info:
            parse_structured(text, "x.json")
        assert "\n" not in str(info.value)
    assert math.isnan(parse_structured('{"a": NaN}', "x.json")["a"])  # refused by the field specs


# -- documentation -------------------------------------------------------------------------
def test_the_readme_lists_every_limit():
    from ssropt.cli.args import OPTION_LIMITS
    from ssropt.objectives.files import MAX_INPUT_BYTES

    text = README.read_text()
    errors = text[text.index("## Errors"):text.index("## Layout")]
    for name, spec in LIMITS.items():
        assert re.search(rf"\b{spec.high:,}\b", errors), f"limit {name} ({spec.high:,}) not in the README"
    for option in OPTION_LIMITS:
        assert f"`{option}`" in errors, f"{option} not in the README's error table"
    for number in (MAX_JOBS, MAX_LAYERS, MAX_INPUT_BYTES):
        assert f"{number:,}" in errors
    for error in ("OutputError", "WorkloadError", "PlatformError", "DesignError", "UsageError"):
        assert f"`{error}`" in errors
