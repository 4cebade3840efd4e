"""The command line's contract, as a helper of the tests in ``tests/cli``.

Every invocation either succeeds (status 0) or reports bad input as exactly one line on
stderr -- ``error: ...`` or ``ssropt COMMAND: error: ...`` -- with status 2, nothing on
stdout, no traceback, no numpy RuntimeWarning, and nothing written.  :func:`run_cli` runs
``ssropt.cli.main`` in this process (fast enough for property-based tests) under a
time limit; :func:`check_contract` asserts the contract; :func:`snapshot` records a
directory so a test can assert that a refused command wrote nothing.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import signal
import time
import warnings
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from ssropt.cli import main

#: a small valid design file (DeiT-T, two blocks, one accelerator) the tests vary
NODES = ("q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2")
DESIGN = {
    "workload": {"model": "deit-t", "tokens": 192, "blocks": 2, "embed_and_head": False},
    "platform": "vck190", "batch": 2,
    "accelerators": [{"a": 2, "b": 4, "c": 6, "h1": 32, "w1": 48, "w2": 32}],
    "assignment": dict.fromkeys(NODES, 0),
}

#: how long one command may take before the test calls it a hang
TIME_LIMIT_S = 60
ERROR_LINE = re.compile(r"^(error: |ssropt( [a-z-]+)?: error: )\S")


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so that no ``except Exception`` hides it."""


@dataclass
class Result:
    code: int
    out: str
    err: str
    warnings: list[str]
    seconds: float


def run_cli(argv: list[str], time_limit_s: float = TIME_LIMIT_S) -> Result:
    """``ssropt ARGV`` in this process: status, stdout, stderr, warnings raised, seconds."""
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    stderr = io.StringIO()

    def on_alarm(signum, frame):
        raise Hang(f"ssropt {' '.join(argv)[:300]} took more than {time_limit_s} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit_s)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught, redirect_stdout(stdout), \
                redirect_stderr(stderr):
            warnings.simplefilter("always")
            code = main([str(a) for a in argv])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    seconds = time.perf_counter() - start
    stdout.flush()
    out = stdout.buffer.getvalue().decode("utf-8", errors="replace")
    shown = [f"{w.category.__name__}: {w.message}" for w in caught
             if issubclass(w.category, RuntimeWarning)]  # numpy: overflow, division by zero
    return Result(code, out, stderr.getvalue(), shown, seconds)


def check_contract(result: Result, argv: list[str] | None = None) -> bool:
    """Assert the contract; True when the command succeeded (status 0)."""
    where = f"ssropt {' '.join(map(str, argv or []))[:400]}"
    assert "Traceback" not in result.err, f"{where}: traceback\n{result.err}"
    assert not result.warnings, f"{where}: warnings {result.warnings}"
    if result.code == 0:
        return True
    assert result.code == 2, f"{where}: status {result.code}\n{result.err}"
    assert result.out == "", f"{where}: stdout on error: {result.out[:200]!r}"
    lines = result.err.splitlines()
    assert len(lines) == 1 and result.err.endswith("\n"), f"{where}: stderr is not one line: {result.err!r}"
    assert ERROR_LINE.match(lines[0]), f"{where}: not an error line: {lines[0]!r}"
    assert "internal error" not in lines[0], f"{where}: {lines[0]}"
    return False


def strict_json(text: str):
    """JSON without NaN or Infinity (which Python's json would accept)."""

    def refuse(constant: str):
        raise AssertionError(f"non-finite number {constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def check_record(record: dict) -> None:
    """An ``evaluate --json`` record of a valid design: finite, positive objectives."""
    assert math.isfinite(record["latency_s"]) and record["latency_s"] > 0, record["latency_s"]
    assert math.isfinite(record["throughput_ops_per_s"]) and record["throughput_ops_per_s"] > 0
    assert record["batch"] >= 1 and record["nodes"]


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``directory``: relative path -> (size, modification time)."""
    found = {}
    for root, _, files in os.walk(directory):
        for name in files:
            path = Path(root) / name
            info = path.lstat()
            found[str(path.relative_to(directory))] = (info.st_size, info.st_mtime_ns)
    return found
