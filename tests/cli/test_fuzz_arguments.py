"""Property: random command lines of ``ssropt evaluate``, ``run`` and ``front`` succeed or
give one ``error:`` line with status 2, within a time limit, writing nothing when refused.

Each example builds an argument list from every option of the command with values a
hostile user might give (numbers out of range, non-finite, not numbers; paths that are
missing, directories, FIFOs, devices, read-only or of an unknown extension; ``-``),
runs it in this process (``cli_contract.run_cli``) inside a fresh directory, and checks
the contract.  Successful ``run`` commands are kept cheap: every budget or time limit
the generator offers is small.  Example counts are bounded for CI (about 25 s of CPU);
``SSROPT_FUZZ_EXAMPLES=500`` runs a longer, randomised sweep.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from cli_contract import DESIGN, check_contract, check_record, run_cli, snapshot, strict_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CHARM = {
    "workload": {"gemms": [{"name": "l0", "M": 64, "K": 64, "N": 64}]}, "platform": "vck190",
    "cost_model": "charm", "batch": 1, "accelerators": [{"a": 2, "b": 2, "c": 2, "x": 1, "y": 1, "z": 1}],
    "assignment": {"l0": 0},
}
EXAMPLES = int(os.environ.get("SSROPT_FUZZ_EXAMPLES", "0"))


def fuzz(examples: int):
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        derandomize=not EXAMPLES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )


# -- the values ---------------------------------------------------------------------------
BAD_NUMBERS = ["0", "-1", "x", "", "nan", "inf", "1e3", "1.5", "0x10", "99999999999999999999",
               "9" * 5000, " ", "\x00", "\u0663"]
BAD_FLOATS = ["0", "-1", "x", "", "nan", "inf", "-inf", "1e400", "1e308", "\x00"]
#: files and destinations; {tmp} is the example's directory
PATHS = [
    "{tmp}/design.json", "{tmp}/charm.json", "{tmp}/missing.json", "{tmp}", "{tmp}/fifo",
    "{tmp}/devnull", "{tmp}/latin1.json", "{tmp}/huge.json", "{tmp}/list.json", "{tmp}/sub",
    "/dev/null", "/dev/full", "-", "", "{tmp}/a\x00b.json", "{tmp}/missing/x.json",
]
OUTPUTS = [
    "{tmp}/out.csv", "{tmp}/out.json", "{tmp}/out.png", "{tmp}/out.svg", "{tmp}/out.xyz",
    "{tmp}/out", "{tmp}/missing/out.png", "{tmp}/sub", "{tmp}/sub.csv", "{tmp}/fifo",
    "{tmp}/devnull", "/dev/full", "/proc/out.png", "-", "", "{tmp}/ro/out.json",
]
STORAGES = ["{tmp}/s.log", "{tmp}/study.log", "{tmp}/fifo", "{tmp}/devnull", "{tmp}/sub",
            "{tmp}/design.json", "sqlite:///{tmp}/s.db", "sqlite:///{tmp}/fifo",
            "foo://x", "{tmp}/missing/s.log", "", "\x00"]


#: an option: (words, good values, bad values); no values for a flag, words ``()`` for a
#: positional argument
Option = tuple[tuple[str, ...], list[str], list[str]]


@st.composite
def command(draw, options: list[Option], required: tuple[int, ...] = ()) -> list[str]:
    """A command line of some of ``options`` (those at ``required`` indices always), each
    with a good value, then none, one or two of them given a bad value instead; in a
    random order, now and then with a stray word."""
    chosen = [i for i in range(len(options)) if i in required or draw(st.booleans())]
    bad = set(draw(st.lists(st.sampled_from(chosen), max_size=2))) if chosen else set()
    parts = []
    for i in chosen:
        words, good, wrong = options[i]
        if not good and not wrong:
            parts.append(list(words))
            continue
        value = draw(st.sampled_from(wrong if i in bad and wrong else good))
        parts.append([*words, value])
    flat = list(itertools.chain.from_iterable(draw(st.permutations(parts))))
    if draw(st.integers(0, 19)) == 0:
        flat.insert(draw(st.integers(0, len(flat))), draw(st.sampled_from(
            ["--bogus", "-x", "--", "extra", "--budget", "--storage"])))
    return flat


EVALUATE = command([
    ((), ["{tmp}/design.json", "{tmp}/charm.json"], PATHS),
    (("--json",), [], []),
    (("--gantt",), ["{tmp}/out.png", "{tmp}/out.svg", "{tmp}/out.pdf", "-"], OUTPUTS),
], required=(0,))
RUN = command([
    (("--model",), ["deit-t"], ["bert-base", "deit-x", "", "DEIT-T"]),
    (("--tokens",), ["16", "64"], ["131073", *BAD_NUMBERS]),
    (("--blocks",), ["1", "2"], ["1025", *BAD_NUMBERS]),
    (("--no-embed-head",), [], []),
    (("--platform",), ["vck190", "t4", "stratix10nx"],
     ["nope", "{tmp}/design.json", "{tmp}/fifo", "{tmp}/sub", "/dev/null", "{tmp}/latin1.json"]),
    (("--dtype",), ["int8"], ["fp32", "int4", ""]),
    (("--cost-model",), ["ssr", "charm"], ["fpga", "gpu-roofline", "nope"]),
    (("--space",), ["hybrid", "sequential", "spatial"], ["nope", ""]),
    (("--configurator",), ["none", "auto"], ["ssr", "nope"]),
    (("--batch",), ["1", "1-2", "2,3"], ["0", "1-1025", "1-1000000000000", "3-1", "a", "", "-5"]),
    (("--min-accelerators",), ["1", "2"], ["9", "257", *BAD_NUMBERS]),
    (("--max-accelerators",), ["3", "10"], ["1", "257", *BAD_NUMBERS]),
    (("--latency-ceiling",), ["1", "1e6"], ["1e-9", "1e7", *BAD_FLOATS]),
    (("--group",), ["none", "qkv", "attention"], ["nope"]),
    (("--strategy",), ["nsga2", "random", "tpe"], ["exhaustive", "nope"]),
    (("--budget",), ["1", "5", "20"], ["1000000001", *BAD_NUMBERS]),
    (("--population",), ["1", "10"], ["100001", *BAD_NUMBERS]),
    (("--seed",), ["0", "7"], ["4294967296", *BAD_NUMBERS]),
    (("--seed-design",), ["{tmp}/design.json"], PATHS),
    (("--chunk-size",), ["1", "10"], ["100001", *BAD_NUMBERS]),
    (("--n-jobs",), ["1"], ["1025", *BAD_NUMBERS]),
    (("--study-name",), ["a", "b"], ["", "x" * 300]),
    (("--storage",), ["{tmp}/s.log", "sqlite:///{tmp}/s.db"], STORAGES),
    (("--quiet",), [], []),
    (("--power-cap",), ["40", "1e5"], ["1", "1e6", *BAD_FLOATS]),
    (("--objectives",), ["latency,throughput", "latency,throughput,energy"],
     ["energy", "latency", "", "throughput,latency", "latency,throughput,power", "x" * 300]),
], required=(0, 15, 22, 23))  # always a (small) budget: the default 2000 is not cheap
FRONT = command([
    (("--study-name",), ["small"], ["nope", "", "x" * 300]),
    (("--storage",), ["{tmp}/study.log"], STORAGES),
    (("--csv",), ["{tmp}/out.csv", "-"], OUTPUTS),
    (("--json",), ["{tmp}/out.json", "-"], OUTPUTS),
    (("--plot",), ["{tmp}/out.png", "{tmp}/out.svg"], OUTPUTS),
    (("--batch",), ["1", "2", "99"], ["1025", *BAD_NUMBERS]),
], required=(0, 1))


# -- the directory each example runs in ----------------------------------------------------
@pytest.fixture(scope="module")
def small_study(tmp_path_factory) -> Path:
    """A journal file holding study 'small' (a few designs at batch 1 and 2)."""
    storage = tmp_path_factory.mktemp("study") / "study.log"
    argv = ["run", "--model", "deit-t", "--blocks", "1", "--no-embed-head", "--batch", "1-2",
            "--space", "sequential", "--budget", "20", "--population", "10", "--storage",
            str(storage), "--study-name", "small", "--quiet"]
    result = run_cli(argv)
    assert result.code == 0, result.err
    return storage


def workspace(study: Path | None = None) -> Path:
    """A fresh directory with the files the paths name."""
    tmp = Path(tempfile.mkdtemp(prefix="fuzzargs-"))
    (tmp / "design.json").write_text(json.dumps(DESIGN))
    (tmp / "charm.json").write_text(json.dumps(CHARM))
    (tmp / "latin1.json").write_bytes(b'{"workload": "\xe9"}')
    (tmp / "huge.json").write_text('{"batch": ' + "9" * 5000 + "}")
    (tmp / "list.json").write_text("[1, 2]")
    (tmp / "sub").mkdir()
    (tmp / "sub.csv").mkdir()
    (tmp / "ro").mkdir(mode=0o555)
    os.mkfifo(tmp / "fifo")
    os.symlink("/dev/null", tmp / "devnull")
    if study is not None:
        shutil.copy(study, tmp / "study.log")
    return tmp


def run_in_workspace(words: list[str], study: Path | None = None):
    tmp = workspace(study)
    try:
        argv = [w.replace("{tmp}", str(tmp)) for w in words]
        before = snapshot(tmp)
        result = run_cli(argv)
        ok = check_contract(result, argv)
        after = snapshot(tmp)
        if not ok:
            assert after == before, f"refused, yet files changed: {sorted(set(after) ^ set(before))}"
        else:
            changed = {name for name in after if before.get(name) != after[name]}
            assert not {n for n in changed if n.startswith(".") or ".tmp" in n}, changed
        return ok, result, tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- the properties ------------------------------------------------------------------------
@fuzz(80)
@given(words=EVALUATE)
def test_evaluate_command_lines_keep_the_contract(words):
    ok, result, _ = run_in_workspace(["evaluate", *words])
    if ok and "--json" in words and "-" not in words:
        check_record(strict_json(result.out))


@fuzz(50)
@given(words=RUN)
def test_run_command_lines_keep_the_contract(words):
    run_in_workspace(["run", *words])


@fuzz(60)
@given(words=FRONT)
def test_front_command_lines_keep_the_contract(small_study, words):
    ok, result, _ = run_in_workspace(["front", *words], small_study)
    destinations = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--csv", "--json", "--plot")]
    if ok and "--json" in words and words[words.index("--json") + 1] == "-":
        assert isinstance(strict_json(result.out), list)
    if ok:
        assert all(d for d in destinations)
