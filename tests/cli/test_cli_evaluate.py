"""``ssropt evaluate DESIGN [--json]`` and ``ssropt.evaluate(dict)``.

Good design files give the documented record; every bad input gives exactly one line
on stderr starting with ``error:``, exit status 2 and no traceback.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ssropt
from ssropt.cli import main
from ssropt.objectives.platforms import PLATFORM_DIR

NODES = ("q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2")
SSR_DESIGN = {
    "workload": {"model": "deit-t", "tokens": 192, "blocks": 12, "embed_and_head": False},
    "platform": "vck190",
    "dtype": "int8",
    "cost_model": "ssr",
    "batch": 6,
    "accelerators": [
        {"a": 1, "b": 4, "c": 6, "dup": 1, "h1": 32, "w1": 48, "w2": 32},
        {"a": 2, "b": 2, "c": 2, "dup": 3, "h1": 48, "w1": 32, "w2": 48},
    ],
    "assignment": {"q": 0, "k": 0, "v": 0, "attn_qk": 1, "attn_av": 1,
                   "proj": 0, "fc1": 0, "fc2": 0},
}  # fmt: skip
CHARM_DESIGN = {
    "workload": {
        "gemms": [
            {"name": "l0", "M": 192, "K": 192, "N": 576, "count": 1},
            {"name": "l1", "M": 192, "K": 64, "N": 192, "count": 3},
        ]
    },
    "platform": "vck190",
    "dtype": "int8",
    "cost_model": "charm",
    "batch": 1,
    "accelerators": [{"a": 3, "b": 4, "c": 4, "x": 1, "y": 1, "z": 1}],
    "assignment": {"l0": 0, "l1": 0},
}
SSR_TOML = """\
platform = "vck190"
dtype = "int8"
batch = 1
assignment = { q = 0, k = 0, v = 0, attn_qk = 0, attn_av = 0, proj = 0, fc1 = 0, fc2 = 0 }

[workload]
model = "deit-t"
tokens = 192
embed_and_head = false

[[accelerators]]
a = 1
b = 4
c = 6
h1 = 32
w1 = 48
w2 = 32
"""
TOP_KEYS = {
    "feasible", "violations", "latency_s", "latency_breakdown", "throughput_ops_per_s",
    "images_per_s", "energy_j_per_image", "power_w", "steps", "nodes", "accelerators",
    "resources",
}  # fmt: skip
ACCELERATOR_KEYS = {
    "aie",
    "plio_in",
    "plio_out",
    "bram",
    "uram",
    "columns",
    "x",
    "y",
    "z",
    "hardened",
}


def write(tmp_path: Path, design, name="design.json") -> Path:
    path = tmp_path / name
    path.write_text(design if isinstance(design, str) else json.dumps(design))
    return path


def run_json(path, capsys) -> dict:
    assert main(["evaluate", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return json.loads(out)


# -- good designs ------------------------------------------------------------------------------
def test_json_record_has_every_documented_key(tmp_path, capsys):
    record = run_json(write(tmp_path, SSR_DESIGN), capsys)
    assert TOP_KEYS <= set(record)
    assert set(record["latency_breakdown"]) == {"compute_s", "relayout_s", "input_s"}
    assert record["feasible"] is True
    assert record["violations"] == {}
    assert isinstance(record["steps"], int) and record["steps"] > 0
    assert [n["name"] for n in record["nodes"]] == list(NODES)
    for node in record["nodes"]:
        assert set(node) >= {"name", "accelerator", "cycles", "time_s"}
        assert node["accelerator"] == SSR_DESIGN["assignment"][node["name"]]
    assert len(record["accelerators"]) == 2
    for acc in record["accelerators"]:
        assert set(acc) >= ACCELERATOR_KEYS
    assert record["accelerators"][1]["aie"] == 2 * 2 * 2 * 3
    assert set(record["resources"]) >= {"aie", "plio_in", "plio_out", "bram", "uram"}
    assert record["resources"]["aie"] == 24 + 24
    # the breakdown adds up and the objectives agree with each other
    br = record["latency_breakdown"]
    assert br["compute_s"] + br["relayout_s"] + br["input_s"] == pytest.approx(record["latency_s"])
    assert record["images_per_s"] == pytest.approx(6 / record["latency_s"])
    assert record["power_w"] > 0
    assert record["energy_j_per_image"] == pytest.approx(
        record["power_w"] * record["latency_s"] / 6, rel=1e-9
    )
    # the power model's terms, which add up to the power
    assert list(record["power_terms"]) == [
        "static", "tiles", "compute", "local_memory", "bram", "uram", "plio", "ddr"
    ]
    assert sum(record["power_terms"].values()) == pytest.approx(record["power_w"], rel=1e-12)
    assert record["power_terms"]["ddr"] > 0  # the image in, the result out


def test_reference_layer_time_in_the_record(tmp_path, capsys):
    record = run_json(write(tmp_path, SSR_DESIGN), capsys)
    q = record["nodes"][0]
    assert q["cycles"] == 3525
    assert q["time_s"] * 1e9 == pytest.approx(3831.5, rel=1e-3)


def test_tiles_option_prices_the_same_design_with_native_tiles(tmp_path, capsys):
    path = write(tmp_path, SSR_DESIGN)
    default = run_json(path, capsys)
    assert main(["evaluate", str(path), "--json", "--tiles", "native"]) == 0
    native = json.loads(capsys.readouterr().out)
    # SSR's tiles are native ones too (multiples of 16): the same design, the same numbers,
    # and the native rule's constraint reported
    assert native["latency_s"] == default["latency_s"]
    assert native["constraints"]["kernel_tile"] == 0 and "kernel_tile" not in default["constraints"]


def test_python_api_returns_the_same_dict_as_json(tmp_path, capsys):
    record = run_json(write(tmp_path, SSR_DESIGN), capsys)
    assert ssropt.evaluate(copy.deepcopy(SSR_DESIGN)) == record
    charm = run_json(write(tmp_path, CHARM_DESIGN, "charm.json"), capsys)
    assert ssropt.evaluate(copy.deepcopy(CHARM_DESIGN)) == charm


def test_human_output_has_accelerator_and_node_tables(tmp_path, capsys):
    assert main(["evaluate", str(write(tmp_path, SSR_DESIGN))]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert "feasible" in lines[0] and "latency" in lines[0]
    acc_head = next(line for line in lines if line.split()[:1] == ["acc"])
    for key in ("aie", "plio_in", "plio_out", "bram", "uram", "columns", "hardened"):
        assert key in acc_head.split()
    body = lines[lines.index(acc_head) + 2 :]
    assert body[0].split()[0] == "0" and body[1].split()[0] == "1"
    node_head = next(line for line in lines if line.split()[:1] == ["node"])
    start = lines.index(node_head) + 2
    rows = [line.split() for line in lines[start : start + len(NODES)]]
    assert [r[0] for r in rows] == list(NODES)
    assert [int(r[1]) for r in rows] == [SSR_DESIGN["assignment"][n] for n in NODES]
    assert rows[0][2] == "3525"


def test_charm_design_has_null_steps(tmp_path, capsys):
    path = write(tmp_path, CHARM_DESIGN, "charm.json")
    record = run_json(path, capsys)
    assert record["steps"] is None
    assert record["feasible"] in (True, False)
    # CHARM's DeiT-T reference cycles for these two GEMMs on 3,4,4 / 1,1,1
    assert [n["cycles"] for n in record["nodes"]] == [33630, 54087]
    assert main(["evaluate", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert "l0" in out and "l1" in out


def test_toml_design_file(tmp_path, capsys):
    record = run_json(write(tmp_path, SSR_TOML, "design.toml"), capsys)
    assert record["steps"] == 96
    assert record["nodes"][0]["cycles"] == 3525


def test_platform_toml_next_to_the_design(tmp_path, capsys):
    (tmp_path / "board.toml").write_text((PLATFORM_DIR / "vck190.toml").read_text())
    design = dict(SSR_DESIGN, platform="board.toml")
    assert run_json(write(tmp_path, design), capsys) == ssropt.evaluate(copy.deepcopy(SSR_DESIGN))


# -- bad inputs ----------------------------------------------------------------------------------
def modified(change):
    design = copy.deepcopy(SSR_DESIGN)
    change(design)
    return design


BAD_DESIGNS = {
    "unknown_model": (modified(lambda d: d["workload"].update(model="deit-x")), "deit-x"),
    "unknown_node": (modified(lambda d: d["assignment"].update(qq=0)), "qq"),
    "unknown_platform": (modified(lambda d: d.update(platform="vck9999")), "vck9999"),
    "unknown_dtype": (modified(lambda d: d.update(dtype="int4")), "int4"),
    "unknown_cost_model": (modified(lambda d: d.update(cost_model="gpu")), "gpu"),
    "missing_field": (modified(lambda d: d.pop("batch")), "batch"),
    "missing_param": (modified(lambda d: d["accelerators"][0].pop("h1")), "h1"),
    "missing_node": (modified(lambda d: d["assignment"].pop("fc2")), "fc2"),
    "extra_field": (modified(lambda d: d.update(colour="red")), "colour"),
    "extra_param": (modified(lambda d: d["accelerators"][1].update(e=1)), "'e'"),
    "a_zero": (modified(lambda d: d["accelerators"][0].update(a=0)), "accelerators[0].a"),
    "batch_zero": (modified(lambda d: d.update(batch=0)), "batch"),
    "batch_negative": (modified(lambda d: d.update(batch=-3)), "batch"),
    "batch_string": (modified(lambda d: d.update(batch="6")), "batch"),
    "batch_bool": (modified(lambda d: d.update(batch=True)), "batch"),
    "accelerator_without_node": (
        modified(lambda d: d["accelerators"].append(dict(d["accelerators"][0]))),
        "accelerator 2",
    ),
    "assignment_out_of_range": (modified(lambda d: d["assignment"].update(q=5)), "'q'"),
    "accelerators_empty": (modified(lambda d: d.update(accelerators=[])), "accelerators"),
    "workload_not_object": (modified(lambda d: d.update(workload="deit-t")), "workload"),
}


def assert_one_error_line(err: str, *needles: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, err)


@pytest.mark.parametrize("case", sorted(BAD_DESIGNS))
def test_bad_design_gives_one_error_line_and_status_2(tmp_path, capsys, case):
    design, needle = BAD_DESIGNS[case]
    path = write(tmp_path, design)
    assert main(["evaluate", str(path), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_error_line(err, needle)


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("bad.json", '{"workload": {"model": "deit-t"},', "JSON"),
        ("list.json", "[1, 2, 3]", "object"),
        ("bad.toml", 'platform = "vck190"\nbatch = \n', "TOML"),
    ],
)
def test_malformed_design_file(tmp_path, capsys, name, text, needle):
    path = write(tmp_path, text, name)
    assert main(["evaluate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_error_line(err, needle, name)


def test_nonexistent_design_file(tmp_path, capsys):
    path = tmp_path / "nowhere.json"
    assert main(["evaluate", str(path)]) == 2
    _, err = capsys.readouterr()
    assert_one_error_line(err, "nowhere.json")


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda t: t.replace("launch_cycles = 250", 'launch_cycles = "x"'), "ssr.launch_cycles"),
        (lambda t: t.replace("launch_cycles = 250\n", ""), "ssr.launch_cycles"),
        (lambda t: t.replace("[budget]", "[budget]\nbogus = 1"), "budget.bogus"),
        (lambda t: t.replace("bram = 867 ", "bram = -867 "), "budget.bram"),
    ],
    ids=["mistyped", "missing", "unknown", "negative"],
)
def test_malformed_platform_toml_names_the_key(tmp_path, capsys, edit, key):
    text = (PLATFORM_DIR / "vck190.toml").read_text()
    edited = edit(text)
    assert edited != text
    platform = tmp_path / "board.toml"
    platform.write_text(edited)
    design = dict(SSR_DESIGN, platform=str(platform))
    assert main(["evaluate", str(write(tmp_path, design))]) == 2
    _, err = capsys.readouterr()
    assert_one_error_line(err, key)


def test_unparsable_platform_toml(tmp_path, capsys):
    platform = tmp_path / "board.toml"
    platform.write_text("name = [\n")
    design = dict(SSR_DESIGN, platform=str(platform))
    assert main(["evaluate", str(write(tmp_path, design))]) == 2
    _, err = capsys.readouterr()
    assert_one_error_line(err, "board.toml", "TOML")


def test_missing_design_argument(capsys):
    assert main(["evaluate"]) == 2
    _, err = capsys.readouterr()
    # argparse refuses the arguments: the one line names the command
    assert err == "ssropt evaluate: error: the following arguments are required: design\n"


# -- through a real process: nothing but one line reaches stderr ---------------------------------
def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ssropt.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("case", ["unknown_model", "unknown_node", "batch_zero"])
def test_subprocess_bad_design_has_no_traceback(tmp_path, case):
    design, needle = BAD_DESIGNS[case]
    proc = run_cli("evaluate", str(write(tmp_path, design)), "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert_one_error_line(proc.stderr, needle)


def test_subprocess_malformed_json_and_missing_file(tmp_path):
    proc = run_cli("evaluate", str(write(tmp_path, "{oops", "bad.json")))
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr, "bad.json")
    proc = run_cli("evaluate", str(tmp_path / "missing.json"))
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr, "missing.json")


def test_subprocess_good_design_json(tmp_path):
    proc = run_cli("evaluate", str(write(tmp_path, SSR_DESIGN)), "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout) == ssropt.evaluate(copy.deepcopy(SSR_DESIGN))
