"""Property: every design file, workload and platform TOML -- valid or damaged -- gives a
valid result or one ``error:`` line with status 2, within a time limit, writing nothing.

Random mutations of valid design files (``ssr``, ``charm``, ``fpga``, ``gpu-roofline``
designs and a Hugging Face ``config.json`` workload) and of the shipped platform TOMLs:
values replaced by wrong types, non-finite and extreme numbers, keys removed or added,
then the file's bytes garbled, truncated or written in another encoding.  Each case runs
``ssropt evaluate FILE --json`` in this process (``cli_contract.run_cli``).

The example counts are bounded for CI (about 10 s of CPU on the 2-core development
machine); ``SSROPT_FUZZ_EXAMPLES=2000 python -m pytest tests/cli/test_fuzz_inputs.py``
runs a longer, randomised sweep.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from cli_contract import check_contract, check_record, run_cli, snapshot, strict_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssropt.objectives.platforms import PLATFORM_DIR

NODES = ("q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2")
BLOCK = {"model": "deit-t", "tokens": 192, "blocks": 2, "embed_and_head": False}
SEEDS = {
    "ssr": {
        "workload": BLOCK, "platform": "vck190", "dtype": "int8", "cost_model": "ssr", "batch": 3,
        "accelerators": [{"a": 1, "b": 4, "c": 6, "dup": 1, "h1": 32, "w1": 48, "w2": 32},
                         {"a": 2, "b": 2, "c": 2, "dup": 3, "h1": 48, "w1": 32, "w2": 48}],
        "assignment": {n: (1 if n.startswith("attn") else 0) for n in NODES},
    },
    "charm": {
        "workload": {"gemms": [{"name": "l0", "M": 192, "K": 192, "N": 576, "count": 1},
                               {"name": "l1", "M": 192, "K": 64, "N": 192, "count": 3}]},
        "platform": "vck190", "dtype": "int8", "cost_model": "charm", "batch": 1,
        "accelerators": [{"a": 3, "b": 4, "c": 4, "x": 1, "y": 1, "z": 1}],
        "assignment": {"l0": 0, "l1": 0},
    },
    "fpga": {
        "workload": BLOCK, "platform": "stratix10nx", "batch": 2,
        "accelerators": [{"a": 4, "b": 16, "c": 6}, {"a": 6, "b": 8, "c": 6, "dup": 3}],
        "assignment": {n: (1 if n.startswith("attn") else 0) for n in NODES},
    },
    "gpu": {"workload": {"model": "bert-base", "blocks": 2}, "platform": "t4", "batch": 4},
    "hf": {
        "workload": {"hf_config": "config.json", "tokens": 64, "blocks": 2, "embed_and_head": False},
        "platform": "t4", "batch": 2,
    },
}  # fmt: skip
HF_CONFIG = {"model_type": "vit", "hidden_size": 192, "num_attention_heads": 3,
             "intermediate_size": 768, "num_hidden_layers": 12, "image_size": 224,
             "patch_size": 16, "num_channels": 3, "num_labels": 10}
PLATFORM_OF = {"ssr": "vck190", "charm": "vck190", "fpga": "stratix10nx", "gpu": "t4", "hf": "t4"}

#: values a hostile user puts anywhere
HOSTILE = [
    0, -1, 1, 2, 3, 7, 16, 96, 1023, 1024, 1025, 4096, 4097, 65536, 131072, 131073, 2**31,
    2**53, 2**63, 10**18, 10**400, -(10**30), 0.0, -0.0, 0.5, 1.0, 1e-300, 1e308,
    float("nan"), float("inf"), float("-inf"), True, False, None, "", "x", "deit-t",
    "vck190", "int8", "charm", "gemms", "\x00", "\u00e9\u4e2d", "a" * 5000, [], [1], [[]], {},
    {"a": 1}, [[[[[[[[1]]]]]]]],
]
#: TOML values a hostile user puts into a platform file
HOSTILE_TOML = [
    "0", "-1", "1", "3", "nan", "inf", "-inf", "0.0", "1e308", "1e-300", "0.5", "2.0",
    "2147483648", "9223372036854775807", "99999999999999999999999", '"x"', '""', "[]",
    "[0]", "[1, 2]", "[5000]", "[2, 1]", "true", "{}", "1979-05-27",
]
#: TOML values that are valid but unusual: the models must cope
UNUSUAL_TOML = [
    "1", "2", "7", "8", "64", "1024", "4096", "65536", "1.0e3", "1.0e11", "0.001", "0.999",
    "[1]", "[4096]", "[1, 4096]", "[8, 16, 24]",
]
#: integers within the limits, for edits that keep a design valid but unusual
UNUSUAL = [1, 2, 3, 5, 7, 8, 16, 63, 64, 96, 97, 128, 255, 1000, 1024, 4096, 65536, 131072]
EXAMPLES = int(os.environ.get("SSROPT_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=EXAMPLES or 100,
    deadline=None,
    derandomize=not EXAMPLES,  # CI: the same examples every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
_counter = itertools.count()


# -- mutations --------------------------------------------------------------------------
def paths(tree, prefix=()):
    """Every (container path, key) of a JSON tree, containers first."""
    yield prefix
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from paths(value, (*prefix, i))


def at(tree, path):
    for key in path:
        tree = tree[key]
    return tree


@st.composite
def mutated(draw, tree):
    """``tree`` after one to three random edits: a value replaced, a key removed, a key
    added, a list emptied or lengthened."""
    tree = copy.deepcopy(tree)
    for _ in range(draw(st.integers(1, 3))):
        every = [p for p in paths(tree) if p]
        if not every:
            break
        path = draw(st.sampled_from(every))
        parent, key = at(tree, path[:-1]), path[-1]
        edit = draw(st.sampled_from(["replace", "replace", "number", "number", "remove", "add", "grow"]))
        if edit == "number" and isinstance(parent[key], int) and not isinstance(parent[key], bool):
            parent[key] = draw(st.one_of(st.sampled_from(UNUSUAL), st.integers(1, 2**17)))
        elif edit == "replace":
            parent[key] = copy.deepcopy(draw(st.one_of(
                st.sampled_from(HOSTILE), st.integers(), st.floats(), st.text(max_size=8))))
        elif edit == "remove":
            del parent[key]
        elif edit == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "a", "blocks", "batch", "M", "x", "stream"]))] = (
                copy.deepcopy(draw(st.sampled_from(HOSTILE))))
        elif edit == "grow" and isinstance(parent[key], list):
            parent[key] = parent[key] * draw(st.sampled_from([0, 2, 40]))
    return tree


ENCODINGS = ["utf-8"] * 14 + ["flip", "cut", "utf-16", "latin-1", "nul", "bom", "huge"]


@st.composite
def encoding(draw) -> tuple[str, float, int]:
    """How a file's text becomes bytes: usually UTF-8, sometimes garbled at a place (a
    fraction of the length), cut, in another encoding, or with an integer too long."""
    return draw(st.sampled_from(ENCODINGS)), draw(st.floats(0, 1)), draw(st.integers(0, 255))


def encode(text: str, how: tuple[str, float, int]) -> bytes:
    kind, where, byte = how
    data = text.encode("utf-8")
    i = int(where * max(len(data) - 1, 0))
    if kind == "flip" and data:
        data = data[:i] + bytes([byte]) + data[i + 1:]
    elif kind == "cut":
        data = data[:i]
    elif kind == "utf-16":
        data = text.encode("utf-16")
    elif kind == "latin-1":
        data = text.replace('"', '"\u00e9', 1).encode("latin-1", errors="replace")
    elif kind == "nul":
        data = data.replace(b",", b"\x00,", 1)
    elif kind == "bom":
        data = b"\xef\xbb\xbf" + data
    elif kind == "huge":  # an integer of 5000 digits: more than Python converts by default
        data = re.sub(rb"\b\d+\b", b"9" * 5000, data, count=1)
    return data


PLATFORM_EDITS = ["value"] * 6 + ["drop", "twice", "unknown"]


@st.composite
def platform_edits(draw, name: str) -> list[tuple[int, str, str]]:
    """One to three edits of the value lines of a shipped platform TOML: (line, edit,
    new value)."""
    lines = (PLATFORM_DIR / f"{name}.toml").read_text().splitlines()
    values = [i for i, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]
    values.sort(key=lambda i: '"' in lines[i])  # numbers first: hypothesis favours early entries
    value = st.one_of(st.sampled_from(HOSTILE_TOML), st.sampled_from(UNUSUAL_TOML))
    return [(draw(st.sampled_from(values)), draw(st.sampled_from(PLATFORM_EDITS)), draw(value))
            for _ in range(draw(st.integers(1, 3)))]


def damaged_platform(name: str, edits: list[tuple[int, str, str]]) -> str:
    lines = (PLATFORM_DIR / f"{name}.toml").read_text().splitlines()
    for i, edit, value in edits:
        key = lines[i].split("=", 1)[0].rstrip()
        if edit == "value":
            lines[i] = f"{key} = {value}"
        elif edit == "drop":
            lines[i] = ""
        elif edit == "twice":
            lines[i] = f"{lines[i]}\n{lines[i]}"
        else:
            lines[i] = f"{lines[i]}\nbogus_{key.strip()} = 1"
    return "\n".join(lines) + "\n"


# -- the property -----------------------------------------------------------------------
def evaluate_in_fresh_dir(files: dict[str, bytes], design_name: str) -> None:
    """Write ``files`` into a new directory, run ``ssropt evaluate`` on the design there
    and check the contract; the directory must be unchanged afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=f"fuzz{next(_counter)}-"))
    try:
        for name, data in files.items():
            (folder / name).write_bytes(data)
        before = snapshot(folder)
        argv = ["evaluate", str(folder / design_name), "--json"]
        result = run_cli(argv)
        if check_contract(result, argv):
            check_record(strict_json(result.out))
        assert snapshot(folder) == before, "evaluate wrote or changed files"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def dumps(tree) -> str:
    return json.dumps(tree)  # NaN and Infinity as JavaScript literals, which json reads


@FUZZ
@given(data=st.data(), kind=st.sampled_from(sorted(SEEDS)))
def test_damaged_design_files_and_workloads_keep_the_contract(data, kind):
    design = data.draw(mutated(SEEDS[kind]), label="design")
    files = {"design.json": encode(dumps(design), data.draw(encoding(), label="encoding"))}
    if kind == "hf":
        hf = data.draw(mutated(HF_CONFIG), label="config.json")
        files["config.json"] = encode(dumps(hf), data.draw(encoding(), label="config encoding"))
    evaluate_in_fresh_dir(files, "design.json")


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["ssr", "charm", "fpga", "gpu"]))
def test_damaged_platform_files_keep_the_contract(data, kind):
    name = PLATFORM_OF[kind]
    text = damaged_platform(name, data.draw(platform_edits(name), label="edits (line, edit, value)"))
    design = dict(SEEDS[kind], platform="board.toml")
    files = {"board.toml": encode(text, data.draw(encoding(), label="encoding")),
             "design.json": dumps(design).encode()}
    evaluate_in_fresh_dir(files, "design.json")


def test_the_seed_designs_are_valid():
    """The mutations start from designs that evaluate."""
    for kind in SEEDS:
        files = {"design.json": json.dumps(SEEDS[kind]).encode()}
        if kind == "hf":
            files["config.json"] = json.dumps(HF_CONFIG).encode()
        folder = Path(tempfile.mkdtemp())
        try:
            for name, data in files.items():
                (folder / name).write_bytes(data)
            result = run_cli(["evaluate", str(folder / "design.json"), "--json"])
            assert result.code == 0, (kind, result.err)
            check_record(strict_json(result.out))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
