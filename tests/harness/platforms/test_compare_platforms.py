"""``ssropt compare-platforms``: ratios, baseline choice, bad input, and the report files."""

from __future__ import annotations

import csv
import json
import math
from types import SimpleNamespace

import pytest

from ssropt.cli import main
from ssropt.cli.compare_platforms import choose_baseline, parse_platform_list
from ssropt.errors import SsroptError
from ssropt.harness.platforms.run import batch_ratios, mean_finite
from ssropt.pareto import pareto_mask

TINY = ["--model", "deit-t", "--blocks", "1", "--tokens", "16", "--no-embed-head"]


def test_batch_ratios_divide_by_the_baseline_at_each_batch():
    best = {
        "gpu": {1: (100.0, 2.0), 3: (200.0, 4.0)},
        "fpga": {1: (300.0, 8.0), 3: (500.0, 6.0)},
        "other": {3: (50.0, 1.0)},
    }
    ratios = batch_ratios(best, "gpu", [1, 3])
    assert ratios["gpu"] == {"throughput": [1.0, 1.0], "efficiency": [1.0, 1.0]}
    assert ratios["fpga"] == {"throughput": [3.0, 2.5], "efficiency": [4.0, 1.5]}
    assert math.isnan(ratios["other"]["throughput"][0])
    assert ratios["other"]["throughput"][1] == 0.25
    assert mean_finite(ratios["fpga"]["throughput"]) == 2.75
    assert mean_finite(ratios["other"]["efficiency"]) == 0.25
    assert math.isnan(mean_finite([math.nan]))


def test_baseline_is_the_first_gpu_unless_named():
    platforms = [SimpleNamespace(name="vck190", family="versal"),
                 SimpleNamespace(name="a10g", family="gpu"),
                 SimpleNamespace(name="t4", family="gpu")]
    assert choose_baseline(platforms, None) == "a10g"
    assert choose_baseline(platforms[:1], None) == "vck190"
    assert choose_baseline(platforms, "vck190") == "vck190"
    with pytest.raises(SsroptError, match="not one of the compared platforms"):
        choose_baseline(platforms, "u250")


@pytest.mark.parametrize("text", ["", "vck190,", ",a10g", "vck190,vck190"])
def test_bad_platform_lists_are_refused(text):
    with pytest.raises(SsroptError):
        parse_platform_list(text)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--platforms", "vck190,nosuchchip"], "unknown platform 'nosuchchip'"),
        (["--platforms", "vck190,vck190"], "listed twice"),
        (["--platforms", "vck190", "--baseline", "a10g"], "--baseline 'a10g'"),
        (["--platforms", "vck190", "--budget", "0"], "--budget"),
        (["--platforms", "vck190", "--batch", "0-3"], "batch"),
        (["--platforms", "vck190", "--dtype", "int4"], "int4"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    code = main(["compare-platforms", *TINY, *extra, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.slow
def test_report_files_are_consistent(tmp_path, capsys, chromium_page):
    out = tmp_path / "out"
    platforms = "vck190,stratix10nx,a10g"
    code = main(
        ["compare-platforms", *TINY, "--platforms", platforms, "--batch", "1,3", "--budget", "200",
         "--population", "20", "--out", str(out), "--quiet"]
    )
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        "fronts.csv", "fronts.json", "fronts.png", "report.html", "summary.md"
    ]
    rows = json.loads((out / "fronts.json").read_text())
    with open(out / "fronts.csv") as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)
    by_platform: dict[str, list] = {}
    for row in rows:
        by_platform.setdefault(row["platform"], []).append(row)
        assert row["batch"] in (1, 3)
        assert row["images_per_s_per_w"] == pytest.approx(row["images_per_s"] / row["power_w"])
    assert set(by_platform) == set(platforms.split(","))
    for points in by_platform.values():  # each platform's front is non-dominated
        F = [[r["latency_s"], -r["throughput_ops_per_s"]] for r in points]
        assert pareto_mask(F).all()
    summary = (out / "summary.md").read_text()
    from chromium import report_problems  # fronts, efficiencies, a vck190 design's schedule

    assert report_problems(chromium_page, out / "report.html", min_plots=3) == []
    assert "## Ratios to a10g" in summary
    a10g_row = next(line for line in summary.splitlines() if line.startswith("| a10g | 1.00x"))
    assert a10g_row.count("1.00x") == 6  # the baseline's own ratios: 1 at b1, b3, mean (x2)
