"""``ssropt bench`` and :mod:`ssropt.harness.bench.run` on one DeiT-T block without embed/head.

The command writes every file with consistent content: hypervolume fractions are at most
1 and never decrease along a run, results.csv agrees with curves.csv, the reference front
is non-dominated and no run point dominates it; an enumerable space gets the exact front;
the same seeds give the same non-time content twice; ``--storage`` keeps every run as a
study and ``--reference`` merges a stored front; every bad input is one ``error:`` line,
exit status 2, and writes nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import optuna
import pytest

from ssropt.cli import main
from ssropt.engine.study import StudyConfig
from ssropt.harness.bench.metrics import (
    build_reference_front,
    plan_reference,
    run_metrics,
    spread,
    step_band,
)
from ssropt.harness.bench.report import OUTPUT_FILES, BenchReport, write_bench
from ssropt.harness.bench.run import enumerate_front, plan_bench, run_bench
from ssropt.outputs.front import front_rows
from ssropt.pareto import dominates_or_equals_at_every_latency
from ssropt.spaces import SpaceOptions
from ssropt.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)

STRATEGIES = ("nsga2", "random")
SEEDS = 2
SMALL = (
    "--model", "deit-t", "--tokens", "192", "--blocks", "1", "--no-embed-head",
    "--batch", "1-4", "--strategies", ",".join(STRATEGIES), "--seeds", str(SEEDS),
    "--budget", "300", "--population", "50", "--quiet",
    # accelerator parameters as genes: the harness is under test, not the configurator
    "--configurator", "none",
)
TIME_COLUMNS = {"wall_seconds", "model_seconds", "overhead_seconds", "seconds",
                "seconds_to_95", "seconds_to_99"}
WORKLOAD = {"model": "deit-t", "tokens": 192, "blocks": 1, "embed_and_head": False}


def bench(out: Path, *extra: object) -> int:
    return main(["bench", *SMALL, "--out", str(out), *map(str, extra)])


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def without_time(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in TIME_COLUMNS} for row in rows]


def points(rows: list[dict]) -> np.ndarray:
    return np.array(
        [[float(r["latency_s"]), float(r["throughput_ops_per_s"])] for r in rows]
    ).reshape(-1, 2)


def dominated_by(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per point of ``b``: is it strictly dominated by some point of ``a``?"""
    weakly = (a[:, None, 0] <= b[None, :, 0]) & (a[:, None, 1] >= b[None, :, 1])
    strictly = (a[:, None, 0] < b[None, :, 0]) | (a[:, None, 1] > b[None, :, 1])
    return (weakly & strictly).any(axis=0)


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "out"
    assert bench(out) == 0
    return out


@pytest.mark.slow
def test_report_html_renders_curves_fronts_and_schedules(done, chromium_page):
    from chromium import report_problems

    # hypervolume against evaluations and time, the fronts, a schedule
    assert report_problems(chromium_page, done / "report.html", min_plots=4) == []
    curves = chromium_page.evaluate(
        "document.getElementById('fig-1').data.filter(t => t.showlegend !== false).map(t => t.name)")
    assert curves == [f"{s} ({SEEDS} seeds)" for s in STRATEGIES]


@pytest.mark.slow
def test_bench_writes_every_file_with_one_row_per_run(done):
    assert {p.name for p in done.iterdir()} == set(OUTPUT_FILES)
    for png in ("hv_vs_evaluations.png", "hv_vs_time.png"):
        assert (done / png).read_bytes()[:4] == b"\x89PNG"
    results = read_csv(done / "results.csv")
    assert [(r["strategy"], int(r["seed"])) for r in results] == [
        (s, k) for s in STRATEGIES for k in range(SEEDS)
    ]
    for r in results:
        assert int(r["evaluations"]) == 300 and int(r["generations"]) == 6
        wall, model = float(r["wall_seconds"]), float(r["model_seconds"])
        assert 0 < model <= wall
        assert float(r["overhead_seconds"]) == pytest.approx(wall - model, abs=2e-4)
        assert int(r["front_points"]) >= 1 and float(r["igd_plus"]) >= 0


@pytest.mark.slow
def test_hv_fractions_are_at_most_one_and_never_decrease(done):
    curves = read_csv(done / "curves.csv")
    results = {(r["strategy"], r["seed"]): r for r in read_csv(done / "results.csv")}
    assert {(c["strategy"], c["seed"]) for c in curves} == set(results)
    for key, result in results.items():
        run = [c for c in curves if (c["strategy"], c["seed"]) == key]
        assert [int(c["generation"]) for c in run] == list(range(1, 7))
        assert [int(c["evaluations"]) for c in run] == [50 * g for g in range(1, 7)]
        fractions = np.array([float(c["hv_fraction"]) for c in run])
        seconds = np.array([float(c["seconds"]) for c in run])
        assert np.all(fractions >= 0) and np.all(fractions <= 1 + 1e-9)
        assert np.all(np.diff(fractions) >= -1e-12) and np.all(np.diff(seconds) >= 0)
        assert float(result["final_hv_fraction"]) == fractions[-1]
        for target, column in ((0.95, "95"), (0.99, "99")):
            reached = np.flatnonzero(fractions >= target)
            expected = str(50 * (reached[0] + 1)) if reached.size else ""
            assert result[f"evaluations_to_{column}"] == expected
            assert (result[f"seconds_to_{column}"] == "") == (not reached.size)
    # the run that found the best point of the reference front reaches 100 %
    assert max(float(r["final_hv_fraction"]) for r in results.values()) > 0


@pytest.mark.slow
def test_reference_front_is_non_dominated_and_no_run_point_dominates_it(done):
    rows = read_csv(done / "reference_front.csv")
    reference = points(rows)
    assert len(reference) >= 1
    assert not dominated_by(reference, reference).any()
    assert np.all(np.diff(reference[:, 0]) > 0)  # by latency; throughput rises with it
    labels = {f"{s} seed {k}" for s in STRATEGIES for k in range(SEEDS)}
    assert {r["found_by"] for r in rows} <= labels
    assert "**Not exact**" in (done / "summary.md").read_text()


@pytest.mark.slow
def test_summary_names_every_strategy_the_settings_and_the_check(done):
    summary = (done / "summary.md").read_text()
    assert "ssropt bench --model deit-t" in summary and "--strategies nsga2,random" in summary
    body = [line for line in summary.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in body[1:]] == list(STRATEGIES)
    check = [line for line in summary.splitlines() if line.startswith("Check: nsga2")]
    assert len(check) == 1
    assert "**reached**" in check[0] or "**not reached**" in check[0]
    assert "within 60 s" in check[0] and "median final fraction" in check[0]


@pytest.mark.slow
def test_the_same_seeds_give_the_same_content_except_times(done, tmp_path):
    assert bench(tmp_path / "again") == 0
    for name in ("results.csv", "curves.csv"):
        first = without_time(read_csv(done / name))
        assert without_time(read_csv(tmp_path / "again" / name)) == first
    assert (tmp_path / "again" / "reference_front.csv").read_text() == (
        done / "reference_front.csv"
    ).read_text()


@pytest.mark.slow
def test_storage_keeps_every_run_and_reference_file_is_merged(done, tmp_path, capsys):
    journal = tmp_path / "studies.log"
    reference = done / "reference_front.csv"
    extra = ("--storage", journal, "--study-prefix", "b", "--reference", reference)
    assert bench(tmp_path / "out", *extra) == 0
    storage = open_storage(str(journal), must_exist=True)
    names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    assert names == {f"b-{s}-seed{k}" for s in STRATEGIES for k in range(SEEDS)}
    results = read_csv(tmp_path / "out" / "results.csv")
    assert [r["study"] for r in results] == [f"b-{s}-seed{k}" for s in STRATEGIES for k in range(SEEDS)]
    # the same runs again: the stored front is the whole reference and is credited first
    rows = read_csv(tmp_path / "out" / "reference_front.csv")
    assert np.array_equal(points(rows), points(read_csv(reference)))
    assert {r["found_by"] for r in rows} == {str(reference)}
    assert without_time(results) == [
        {**r, "study": f"b-{r['strategy']}-seed{r['seed']}"}
        for r in without_time(read_csv(done / "results.csv"))
    ]
    # every stored run's front point is on the reference front or dominated by it
    front = points(rows)
    for name in names:
        run = points(front_rows(optuna.load_study(study_name=name, storage=storage)))
        assert len(run) >= 1 and not dominated_by(run, front).any()
        on_front = (run[:, None, :] == front[None, :, :]).all(axis=2).any(axis=1)
        assert np.all(on_front | dominated_by(front, run))
    capsys.readouterr()
    # the names are now taken: refused before anything is written
    assert bench(tmp_path / "again", *extra) == 2
    assert "already exists" in capsys.readouterr().err
    assert not (tmp_path / "again").exists()


@pytest.mark.slow
def test_an_enumerable_space_gets_the_exact_front(tmp_path):
    values = {"dup": (1,), "h1": (32,), "w1": (32, 48), "w2": (32,)}
    options = SpaceOptions(family="sequential", batch_sizes=(1, 2, 3, 4), values=values)
    base = StudyConfig(workload=WORKLOAD, platform="vck190", space=options.to_dict(),
                       budget=400, population_size=50)
    plan = plan_bench(base, ("nsga2", "random"), n_seeds=2, exhaustive_limit=100_000)
    assert plan.enumerable and plan.space_size == 55_296
    traces = run_bench(plan)
    reference, provenance = plan_reference(plan, traces)
    assert reference.exact and "**Exact**: all 55,296 distinct designs" in provenance
    exact, evaluated = enumerate_front(base, plan.exhaustive_limit)
    assert evaluated == plan.space_size
    # the enumerated front is the reference (up to ties) and bounds every run
    assert dominates_or_equals_at_every_latency(exact, reference.points, rtol=1e-9)
    assert dominates_or_equals_at_every_latency(reference.points, exact)
    metrics = [run_metrics(t, reference) for t in traces]
    for m in metrics:
        assert dominates_or_equals_at_every_latency(exact, m.trace.front, rtol=1e-9)
        assert not dominated_by(m.trace.front, reference.points).any()
        assert 0 <= m.final_fraction <= 1 + 1e-9
        assert np.all(np.diff(m.hv_fraction) >= -1e-12)
    report = BenchReport(plan, reference, provenance, "test", "in memory")
    summary = write_bench(tmp_path, report, metrics)
    assert "**Exact**" in summary and "| nsga2 |" in summary and "| random |" in summary
    assert {p.name for p in tmp_path.iterdir()} == set(OUTPUT_FILES)
    # below the space size the front is no longer exact
    small = plan_bench(base, ("nsga2",), n_seeds=1, exhaustive_limit=1000)
    assert not small.enumerable


def test_reference_front_keeps_the_first_of_equal_points_and_sets_one_reference_point():
    exact = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0]])
    reference = build_reference_front([], exact=exact, stored=np.array([[2.0, 30.0], [0.5, 1.0]]))
    assert reference.points.tolist() == [[0.5, 1.0], [1.0, 10.0], [2.0, 30.0]]
    assert reference.found_by == ("reference file", "exhaustive", "exhaustive")
    assert reference.hv_reference.tolist() == pytest.approx([2.2, 0.0])
    assert reference.hypervolume == pytest.approx(0.5 * 1 + 1.0 * 10 + 0.2 * 30)


def test_spread_counts_never_as_infinitely_late_and_bands_hold_the_last_value():
    s = spread([3.0, None, 1.0])
    assert (s.median, s.low, s.high, s.missing, s.n) == (3.0, 1.0, np.inf, 1, 3)
    assert spread([None, None, 2.0]).median == np.inf
    grid, median, low, high = step_band(
        [(np.array([1, 3]), np.array([0.2, 0.6])), (np.array([2, 3]), np.array([0.4, 1.0]))]
    )
    assert grid.tolist() == [1, 2, 3]
    assert low.tolist() == [0.0, 0.2, 0.6] and high.tolist() == [0.2, 0.4, 1.0]
    assert median.tolist() == pytest.approx([0.1, 0.3, 0.8])


@pytest.mark.parametrize(
    "argv, message",
    [
        (("--strategies", "nsga2,simulated-annealing"), "unknown strategy 'simulated-annealing'"),
        (("--strategies", "nsga2,nsga2"), "listed twice"),
        (("--strategies", ","), "no strategy"),
        (("--strategies", "exhaustive"), "exhaustive limit"),
        (("--seeds", "0"), "--seeds"),
        (("--seeds", "-2"), "--seeds"),
        (("--budget", "0"), "--budget"),
        (("--time-limit", "-1"), "--time-limit"),
        (("--model", "deit-x"), "deit-x"),
        (("--space", "diagonal"), "diagonal"),
        (("--batch", "4-2"), "batch"),
        (("--out", "{full}"), "not empty"),
        (("--out", "{file}"), "not a directory"),
        (("--out", "{file}/sub"), "not a writable directory"),
        (("--storage", "/no/such/dir/s.log"), "does not exist"),
        (("--reference", "{tmp}/missing.csv"), "cannot read"),
        (("--reference", "{file}"), "no column 'latency_s'"),
        (("--reference", "{badnumber}"), "line 2"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, message):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    (tmp_path / "file").write_text("x\n")
    (tmp_path / "bad.csv").write_text("latency_s,throughput_ops_per_s\nfast,1e12\n")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    names = {"full": full, "file": tmp_path / "file", "tmp": tmp_path,
             "badnumber": tmp_path / "bad.csv"}
    argv = [a.format(**names) for a in argv]
    code = main(["bench", *SMALL, "--out", str(tmp_path / "new"), *argv])  # later options win
    err = capsys.readouterr().err
    assert code == 2
    # argparse refuses the numbers; the line then names the command
    prefix = "ssropt bench: error: argument " if argv[0] in ("--seeds", "--budget", "--time-limit") else "error: "
    assert err.startswith(prefix) and err.count("\n") == 1 and message in err, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_an_out_directory_that_cannot_be_made_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, monkeypatch):
    """Permissions may allow what the file system refuses (root on /proc, a full disk):
    the directory is made and removed again before anything runs."""
    real_mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self.name == "inner":
            raise OSError(28, "No space left on device")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    code = main(["bench", *SMALL, "--out", str(tmp_path / "outer" / "inner")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "No space left on device" in err, err
    assert not any(tmp_path.iterdir())  # "outer", made on the way, is gone again


def test_force_writes_into_a_non_empty_directory(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    assert main(["bench", *SMALL, "--seeds", "1", "--budget", "100", "--strategies", "nsga2",
                 "--out", str(tmp_path / "out"), "--force"]) == 0
    assert set(OUTPUT_FILES) <= {p.name for p in (tmp_path / "out").iterdir()}
    assert len(read_csv(tmp_path / "out" / "results.csv")) == 1
