"""Design files and ``ssropt evaluate`` for the ``fpga`` and ``gpu-roofline`` cost models."""

from __future__ import annotations

import json

import pytest

from ssropt.cli import main
from ssropt.objectives.design_file import DesignError, design_to_spec, parse_design

NODES = ("q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2")
NX_DESIGN = {
    "workload": {"model": "deit-t", "tokens": 192, "blocks": 12, "embed_and_head": False},
    "platform": "stratix10nx",
    "batch": 6,
    "accelerators": [{"a": 4, "b": 16, "c": 6}, {"a": 6, "b": 8, "c": 6, "dup": 3}],
    "assignment": {"q": 0, "k": 0, "v": 0, "attn_qk": 1, "attn_av": 1, "proj": 0, "fc1": 0, "fc2": 0},
}


def test_cost_model_defaults_to_the_platforms_own():
    parsed = parse_design(NX_DESIGN)
    assert parsed.cost_model == "fpga"
    assert parsed.designs.params.tolist() == [[[4, 16, 6, 1, 0], [6, 8, 6, 3, 0]]]  # dup 1, stream 0 by default
    spec = design_to_spec(parsed.workload, parsed.platform, parsed.dtype, parsed.designs)
    assert spec["cost_model"] == "fpga" and spec["accelerators"][0] == {"a": 4, "b": 16, "c": 6, "dup": 1, "stream": 0}


def test_ssropt_evaluate_json_on_a_stratix10nx_design(tmp_path, capsys):
    path = tmp_path / "nx.json"
    path.write_text(json.dumps(NX_DESIGN))
    assert main(["evaluate", str(path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["cost_model"] == "fpga"
    assert record["feasible"] is True
    assert set(record["resources"]) == {"dsp", "bram", "uram"}
    # 4*16*6 = 384 and 6*8*6*3 = 864 PEs over 30-MAC tensor blocks: 13 + 29 blocks
    assert [acc["dsp"] for acc in record["accelerators"]] == [13, 29]
    assert record["resources"]["dsp"] == 42
    # q on acc 0: ceil(192/4) * ceil(192/16) * ceil(192/6) = 48 * 12 * 32 = 18432 cycles
    assert record["nodes"][0]["cycles"] == 18432
    assert record["nodes"][0]["time_s"] == pytest.approx(18432 / 300e6)
    assert record["steps"] > 0 and record["power_w"] > 0
    assert main(["evaluate", str(path)]) == 0  # the text report too
    assert "dsp" in capsys.readouterr().out


def test_a_gpu_design_needs_no_accelerators(tmp_path, capsys):
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps({"workload": {"model": "deit-t"}, "platform": "t4", "batch": 2}))
    assert main(["evaluate", str(path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["cost_model"] == "gpu-roofline" and record["power_w"] == 70.0
    assert record["resources"] == {"gpus": 1} and record["steps"] is None
    with pytest.raises(DesignError, match="exactly one accelerator"):
        parse_design({"workload": {"model": "deit-t"}, "platform": "t4", "batch": 1,
                      "accelerators": [{}, {}], "assignment": {}})


def test_a_design_for_a_model_the_platform_cannot_run_is_one_line_error(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**NX_DESIGN, "cost_model": "ssr"}))
    assert main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cannot run cost model 'ssr'" in err and err.count("\n") == 1
