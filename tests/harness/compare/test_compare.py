"""``ssropt compare`` and :mod:`ssropt.harness.compare.analysis` on one DeiT-T block without embed/head.

The command writes every file; each family's front is non-dominated; hypervolumes are
non-negative and ordered by dominance; the gains and reductions in summary.md are the
ratios recomputed from fronts.json; a seed gives the same fronts twice; every bad input
is one ``error:`` line, exit status 2, and writes nothing.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
import pytest

from ssropt.cli import main
from ssropt.engine.study import StudyConfig
from ssropt.harness.compare.analysis import BASELINES, FAMILIES, compare_fronts, front_hypervolume
from ssropt.harness.compare.run import plan_families, plan_family
from ssropt.pareto import dominates_or_equals_at_every_latency, pareto_mask
from ssropt.spaces import SpaceOptions
from ssropt.storage import open_storage
from ssropt.strategies import space_size

optuna.logging.set_verbosity(optuna.logging.WARNING)

SMALL = (
    "--model",
    "deit-t",
    "--tokens",
    "192",
    "--blocks",
    "1",
    "--no-embed-head",
    "--batch",
    "1-8",
    "--budget",
    "600",
    "--population",
    "50",
    "--seed",
    "3",
    "--quiet",
)
FILES = {"fronts.png", "fronts.csv", "fronts.json", "summary.md", "report.html"}


def compare(tmp: Path, *extra: object) -> int:
    return main(
        [
            "compare",
            *SMALL,
            "--storage",
            str(tmp / "studies.log"),
            "--study-prefix",
            "cmp",
            "--out",
            str(tmp / "out"),
            *map(str, extra),
        ]
    )


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("compare")
    assert compare(tmp) == 0
    return tmp


def study_points(out: Path) -> dict[tuple[str, str], np.ndarray]:
    """(family, configurator) -> that study's front points, from fronts.json."""
    rows = json.loads((out / "fronts.json").read_text())
    keys = {(r["family"], r["configurator"]) for r in rows}
    return {
        key: np.array(
            [[r["latency_s"], r["throughput_ops_per_s"]] for r in rows
             if (r["family"], r["configurator"]) == key]
        ).reshape(-1, 2)
        for key in keys
    }


def front_points(out: Path) -> dict[str, np.ndarray]:
    """Family -> the non-dominated union of its studies' fronts."""
    points = study_points(out)
    fronts = {}
    for f in FAMILIES:
        union = np.concatenate([p for (fam, _), p in points.items() if fam == f])
        fronts[f] = union[pareto_mask(np.column_stack([union[:, 0], -union[:, 1]]))]
        fronts[f] = fronts[f][np.argsort(fronts[f][:, 0])]
    return fronts


def table(summary: str, heading: str) -> list[list[str]]:
    """The body cells of the Markdown table under ``## heading``."""
    section = summary.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[1:]]


def ratio(cell: str) -> float:
    return float("nan") if cell == "-" else float(cell.rstrip("x"))


@pytest.mark.slow
def test_compare_writes_every_file_and_one_study_per_family(done, capsys):
    out = done / "out"
    assert {p.name for p in out.iterdir()} == FILES
    assert (out / "fronts.png").read_bytes()[:4] == b"\x89PNG"
    storage = open_storage(str(done / "studies.log"), must_exist=True)
    names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    # each family searched with its parameters as genes and with the SSR configurator
    assert names == {f"cmp-{f}{c}" for f in FAMILIES for c in ("", "-ssr")}
    assert (
        main(["front", "--storage", str(done / "studies.log"), "--study-name", "cmp-hybrid"]) == 0
    )
    summary = (out / "summary.md").read_text()
    assert "ssropt compare --model deit-t" in summary and "--study-prefix cmp" in summary


@pytest.mark.slow
def test_report_html_renders_every_front_and_links_schedules(done, chromium_page):
    from chromium import report_problems

    out = done / "out"
    assert report_problems(chromium_page, out / "report.html", min_plots=2) == []
    names = chromium_page.evaluate(
        "document.getElementById('fig-1').data.filter(t => t.hovertext).map(t => t.name)")
    assert len(names) == 6  # every study's front (a family with and without the configurator)
    assert chromium_page.evaluate("document.querySelectorAll('#ssropt-gantt-pick option').length") > 0


@pytest.mark.slow
def test_csv_and_json_hold_the_same_points_and_each_family_is_non_dominated(done):
    out = done / "out"
    rows = json.loads((out / "fronts.json").read_text())
    with open(out / "fronts.csv") as fh:
        table_rows = list(csv.DictReader(fh))
    assert len(rows) == len(table_rows) > 0
    assert set(table_rows[0]) == {
        "family",
        "configurator",
        "trial",
        "latency_s",
        "throughput_ops_per_s",
        "images_per_s",
        "power_w",
        "energy_j_per_image",
        "images_per_s_per_w",
        "batch",
        "n_accelerators",
        "groups",
    }
    for row, line in zip(rows, table_rows):
        assert line["family"] == row["family"] and int(line["trial"]) == row["trial"]
        assert float(line["latency_s"]) == pytest.approx(row["latency_s"], rel=1e-12)
    for family, front in front_points(out).items():
        assert len(front) > 0, family
        for i in range(len(front)):
            others = np.delete(front, i, axis=0)
            dominated = (others[:, 0] <= front[i, 0]) & (others[:, 1] >= front[i, 1])
            assert not dominated.any(), (family, front[i])


@pytest.mark.slow
def test_hypervolumes_are_non_negative_and_ordered_by_dominance(done):
    fronts = front_points(done / "out")
    summary = (done / "out" / "summary.md").read_text()
    families = [
        line.strip("|").split("|") for line in summary.splitlines() if line.startswith("| ")
    ]
    printed = {
        (c[0].strip(), c[1].strip()): float(c[9]) for c in families if c[0].strip() in FAMILIES
    }
    comparison = compare_fronts(fronts)
    points = study_points(done / "out")
    assert set(printed) == set(points)
    for (family, configurator), front in points.items():
        own = front_hypervolume(front, comparison.reference)
        assert printed[family, configurator] == pytest.approx(own / 1e9, rel=1e-5)
        assert comparison.hypervolume[family] >= own * (1 - 1e-12)  # the union holds it
    for a in FAMILIES:
        for b in FAMILIES:
            if dominates_or_equals_at_every_latency(fronts[a], fronts[b]):
                assert comparison.hypervolume[a] >= comparison.hypervolume[b]
    reference = comparison.reference
    worst = max(f[:, 0].max() for f in fronts.values())
    assert reference.tolist() == pytest.approx([1.1 * worst, 0.0])


@pytest.mark.slow
def test_summary_gains_are_the_ratios_of_the_fronts_in_fronts_json(done):
    fronts = front_points(done / "out")
    summary = (done / "out" / "summary.md").read_text()
    ceilings = np.unique(np.concatenate([f[:, 0] for f in fronts.values()]))
    rows = table(summary, "Throughput at latency ceilings")
    assert len(rows) == len(ceilings)
    for row, ceiling in zip(rows, ceilings):
        assert float(row[0]) == pytest.approx(ceiling * 1e3, rel=1e-5)
        best = {}
        for f, front in fronts.items():
            within = front[front[:, 0] <= ceiling, 1]
            best[f] = within.max() if len(within) else np.nan
        for k, base in enumerate(BASELINES):
            expected = (0.0 if np.isnan(best["hybrid"]) else best["hybrid"]) / best[base]
            assert ratio(row[4 + k]) == pytest.approx(expected, abs=5e-5, nan_ok=True)
    floors = np.unique(np.concatenate([f[:, 1] for f in fronts.values()]))
    rows = table(summary, "Latency at throughput floors")
    assert len(rows) == len(floors)
    for row, floor in zip(rows, floors):
        lowest = {}
        for f, front in fronts.items():
            reaching = front[front[:, 1] >= floor, 0]
            lowest[f] = reaching.min() if len(reaching) else np.nan
        for k, base in enumerate(BASELINES):
            hybrid = np.inf if np.isnan(lowest["hybrid"]) else lowest["hybrid"]
            assert ratio(row[4 + k]) == pytest.approx(lowest[base] / hybrid, abs=5e-5, nan_ok=True)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_fronts(done, tmp_path):
    assert compare(tmp_path) == 0
    first = json.loads((done / "out" / "fronts.json").read_text())
    assert json.loads((tmp_path / "out" / "fronts.json").read_text()) == first


def test_a_small_space_is_enumerated_and_a_large_one_searched():
    base = StudyConfig(
        workload={"model": "deit-t", "tokens": 192, "blocks": 1, "embed_and_head": False},
        platform="vck190",
        space=SpaceOptions(batch_sizes=(1, 2)).to_dict(),
        budget=500,
    )
    only_sequential = SpaceOptions(family="sequential", batch_sizes=(1, 2)).to_dict()
    sequential = space_size(replace(base, space=only_sequential).build_space())
    plans = {p.study_name[2:]: p for p in plan_families(base, "p", exhaustive_limit=sequential)}
    assert plans["sequential"].config.strategy == "exhaustive"
    assert plans["sequential"].config.budget == sequential == plans["sequential"].space_size
    assert plans["hybrid"].config.strategy == plans["spatial"].config.strategy == "nsga2"
    assert plans["hybrid"].config.budget == 500 and plans["hybrid"].study_name == "p-hybrid"
    # configured: the sequential and spatial spaces are one design per batch size, enumerated
    assert plans["sequential-ssr"].config.strategy == plans["spatial-ssr"].config.strategy == "exhaustive"
    assert plans["sequential-ssr"].space_size == plans["spatial-ssr"].space_size == 2
    # the configured hybrid space is enumerated whenever it is within the limit, even when
    # it holds more designs than --budget (the budget bounds searches, not enumerations)
    size = plans["hybrid-ssr"].space_size
    assert size > 500
    exact = plan_family(base, "hybrid", "h", exhaustive_limit=size, configurator="ssr")
    assert exact.config.strategy == "exhaustive" and exact.config.budget == size
    searched = plan_family(base, "hybrid", "h", exhaustive_limit=size - 1, configurator="ssr")
    assert searched.config.strategy == "nsga2" and searched.config.budget == 500


@pytest.mark.parametrize(
    "argv, message",
    [
        (("--model", "deit-x"), "deit-x"),
        (("--model", "deit-t", "--platform", "vck999"), "vck999"),
        (("--model", "deit-t", "--batch", "0-3"), "batch"),
        (("--model", "deit-t", "--batch", "4-2"), "batch"),
        (("--model", "deit-t", "--budget", "0"), "budget"),
        (("--model", "deit-t", "--dtype", "int3"), "int3"),
        (("--workload", "nope.json", "--tokens", "192"), "--tokens"),
        (("--model", "deit-t", "--exhaustive-limit", "-1"), "exhaustive-limit"),
        (("--model", "deit-t", "--storage", "/no/such/dir/s.log"), "does not exist"),
        (("--model", "deit-t", "--out", "{full}"), "not empty"),
        (("--model", "deit-t", "--out", "{file}"), "not a directory"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, message):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    (tmp_path / "file").write_text("x")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    argv = [a.format(full=full, file=tmp_path / "file") for a in argv]
    defaults = ["--storage", str(tmp_path / "s.log"), "--out", str(tmp_path / "new")]
    code = main(["compare", "--budget", "1", *defaults, *argv])  # a later option wins
    err = capsys.readouterr().err
    assert code == 2
    # argparse refuses the numbers; the line then names the command
    prefix = "ssropt compare: error: argument " if {"--budget", "--exhaustive-limit"} & set(argv) else "error: "
    assert err.startswith(prefix) and err.count("\n") == 1 and message in err, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.slow
def test_existing_study_names_are_refused_before_anything_is_written(done, tmp_path, capsys):
    code = main(
        [
            "compare",
            *SMALL,
            "--storage",
            str(done / "studies.log"),
            "--study-prefix",
            "cmp",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2 and "already exist" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_force_writes_into_a_non_empty_directory(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    assert compare(tmp_path, "--force", "--budget", "100") == 0
    assert FILES <= {p.name for p in (tmp_path / "out").iterdir()}
    assert re.search(r"--budget 100", (tmp_path / "out" / "summary.md").read_text())
