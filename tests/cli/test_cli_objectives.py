"""``ssropt run --objectives latency,throughput,energy``: a three-objective study.

Its trials hold three values (latency, throughput, energy per image) under three
directions; ``front`` is the exact 3-D non-dominated set of its feasible trials; an
interrupted study resumes to exactly the trials of an uninterrupted run; every strategy
searches it; a power cap constrains it; an objective list ssropt does not search is
one ``error:`` line, exit status 2, and writes nothing.

The workload is the one of ``test_cli_study.py``: two DeiT-T encoder blocks without
embedding and head, 50 designs a generation, 300 evaluations.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
from test_cli_study import trial_map  # the same record of a study, one place

from ssropt.cli import main
from ssropt.engine.runner import run_study
from ssropt.engine.study import load_ssropt_study
from ssropt.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)

SMALL = ("--model", "deit-t", "--tokens", "192", "--blocks", "2", "--no-embed-head")
THREE = ("--objectives", "latency,throughput,energy")
SEED, BUDGET = 1, 300
NAMES = ["latency_s", "throughput_ops_per_s", "energy_j_per_image"]
#: the console script of this interpreter, else ``python -c`` its entry point
SSROPT = (
    [str(Path(sys.executable).with_name("ssropt"))]
    if Path(sys.executable).with_name("ssropt").exists()
    else [sys.executable, "-c", "import sys; from ssropt.cli import main; sys.exit(main())"]
)


def search(budget: int = BUDGET, *extra: object) -> tuple:
    return (*SMALL, "--population", "50", "--budget", budget, "--seed", SEED, *THREE, *extra)


def at(storage: Path, name: str) -> tuple:
    return ("--storage", storage, "--study-name", name)


def cli(capsys, *argv: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def front_json(capsys, storage: Path, name: str) -> list[dict]:
    out_file = storage.with_name(f"{storage.stem}-{name}-front.json")
    code, _, err = cli(capsys, "front", *at(storage, name), "--json", out_file)
    assert code == 0, err
    return json.loads(out_file.read_text())


def load_study(storage: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(str(storage)))


def complete(storage: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    return load_study(storage, name).get_trials(
        deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
    )


def feasible(trial: optuna.trial.FrozenTrial) -> bool:
    return all(v <= 0 for v in (trial.constraints or {}).values())


def rounded(value: float) -> float:
    """Fronts compare objectives at 12 significant digits (ssropt.pareto)."""
    return float(f"{value:.12g}")


def true_front(trials: list[optuna.trial.FrozenTrial]) -> set[tuple[float, float, float]]:
    """The distinct non-dominated (latency, throughput, energy) of the feasible trials, by
    brute force over every pair: latency and energy minimised, throughput maximised."""
    points = [tuple(rounded(v) for v in t.values) for t in trials if feasible(t)]

    def dominates(a, b) -> bool:
        no_worse = a[0] <= b[0] and a[1] >= b[1] and a[2] <= b[2]
        return no_worse and a != b

    return {p for p in points if not any(dominates(q, p) for q in points)}


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> Path:
    """A journal file holding the three-objective nsga2 study 'three'."""
    storage = tmp_path_factory.mktemp("three") / "studies.log"
    code = main([str(a) for a in ("run", *search(), *at(storage, "three"), "--quiet")])
    assert code == 0
    return storage


def test_a_three_objective_study_stores_three_values_under_three_directions(three):
    study = load_study(three, "three")
    assert study.directions == [
        optuna.study.StudyDirection.MINIMIZE,
        optuna.study.StudyDirection.MAXIMIZE,
        optuna.study.StudyDirection.MINIMIZE,
    ]
    assert study.metric_names == NAMES
    assert study.user_attrs["ssropt:space"]["objectives"] == ["latency", "throughput", "energy"]
    trials = complete(three, "three")
    assert len(trials) == BUDGET
    for trial in trials:
        assert len(trial.values) == 3
        assert trial.values[2] == trial.user_attrs["energy_j_per_image"] > 0


def test_front_json_is_the_exact_three_dimensional_non_dominated_set(three, capsys):
    rows = front_json(capsys, three, "three")
    trials = {t.number: t for t in complete(three, "three")}
    found = {tuple(rounded(r[name]) for name in NAMES) for r in rows}
    assert found == true_front(list(trials.values()))
    assert len(found) == len(rows)
    latency = [r["latency_s"] for r in rows]
    assert latency == sorted(latency)
    for row in rows:
        trial = trials[row["trial"]]
        assert feasible(trial)
        assert tuple(trial.values) == tuple(row[name] for name in NAMES)
    # energy is searched: the front keeps designs the latency-throughput view calls dominated
    two_d = [(r["latency_s"], r["throughput_ops_per_s"]) for r in rows]
    assert any(
        a[0] <= b[0] and a[1] >= b[1] and a != b for a, b in itertools.permutations(two_d, 2)
    )


def test_front_prints_an_energy_column_and_writes_csv_png_and_html(three, capsys, tmp_path):
    code, out, err = cli(capsys, "front", *at(three, "three"))
    assert code == 0, err
    head, *body = out.strip().splitlines()
    assert head.split()[:4] == ["trial", "latency_ms", "GOPS", "mJ/image"]
    rows = front_json(capsys, three, "three")
    assert [int(line.split()[0]) for line in body] == [r["trial"] for r in rows]
    assert [float(line.split()[3]) for line in body] == [
        round(r["energy_j_per_image"] * 1e3, 4) for r in rows
    ]
    files = [tmp_path / "front.csv", tmp_path / "front.png", tmp_path / "front.html"]
    code, _, err = cli(capsys, "front", *at(three, "three"), "--csv", files[0], "--plot", files[1])
    assert code == 0, err
    code, _, err = cli(capsys, "front", *at(three, "three"), "--plot", files[2])
    assert code == 0, err
    assert all(f.stat().st_size > 0 for f in files)
    header = files[0].read_text().splitlines()[0].split(",")
    assert "energy_j_per_image" in header
    assert "Latency-energy view of the front" in files[2].read_text()


@pytest.mark.parametrize("strategy", ["nsga2", "optuna-nsga2"])
def test_an_interrupted_three_objective_study_resumes_to_the_uninterrupted_end(
    strategy, three, capsys, tmp_path
):
    reference = three
    if strategy != "nsga2":
        reference = tmp_path / "uninterrupted.log"
        code, _, err = cli(
            capsys, "run", *search(), "--strategy", strategy, *at(reference, "three"), "--quiet"
        )
        assert code == 0, err
    storage = tmp_path / "interrupted.log"
    code, _, err = cli(
        capsys, "create-study", *search(), "--strategy", strategy, *at(storage, "three")
    )
    assert code == 0, err
    study, config = load_ssropt_study(open_storage(str(storage)), "three")

    class Stop(KeyboardInterrupt):
        """Interrupts the run as Ctrl-C would."""

    def stop(report) -> None:
        if report.generation >= 2:
            raise Stop

    # the callback runs once the next generation is claimed: a short lease lets the resume
    # take those claims over without waiting
    with pytest.raises(Stop):
        run_study(study, config, progress=False, on_generation=stop, lease_seconds=1.0)
    stored = trial_map(storage, "three")
    assert 0 < len(stored) < BUDGET
    code, _, err = cli(capsys, "resume", *at(storage, "three"), "--quiet")
    assert code == 0, err
    assert trial_map(storage, "three") == trial_map(reference, "three")
    assert front_json(capsys, storage, "three") == front_json(capsys, reference, "three")


def test_two_workers_sharing_a_three_objective_study_store_what_one_stores(three, capsys, tmp_path):
    """Workers that split a generation read the objectives of the chunks the other
    evaluated back from the stored trial values when they close it."""
    storage = tmp_path / "shared.log"
    code, _, err = cli(capsys, "create-study", *search(), "--chunk-size", "5", *at(storage, "three"))
    assert code == 0, err
    command = [*SSROPT, "worker", *map(str, at(storage, "three")), "--no-progress"]
    workers = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr
    assert trial_map(storage, "three") == trial_map(three, "three")


@pytest.mark.parametrize("strategy", ["tpe", "random", "qmc", "exhaustive"])
def test_every_strategy_searches_three_objectives(strategy, capsys, tmp_path):
    storage = tmp_path / "studies.log"
    code, out, err = cli(
        capsys, "run", *search(100), "--strategy", strategy, *at(storage, strategy), "--quiet"
    )
    assert code == 0, err
    trials = complete(storage, strategy)
    assert len(trials) == 100 and all(len(t.values) == 3 for t in trials)
    assert "mJ/image" in out.splitlines()[0]
    rows = front_json(capsys, storage, strategy)
    assert {tuple(rounded(r[name]) for name in NAMES) for r in rows} == true_front(trials)


def test_a_power_cap_constrains_a_three_objective_search(three, capsys, tmp_path):
    powers = sorted(r["power_w"] for r in front_json(capsys, three, "three"))
    cap = powers[len(powers) // 2]
    assert powers[-1] > cap
    storage = tmp_path / "capped.log"
    code, _, err = cli(capsys, "run", *search(), "--power-cap", cap, *at(storage, "capped"), "--quiet")
    assert code == 0, err
    rows = front_json(capsys, storage, "capped")
    assert rows and all(r["power_w"] <= cap for r in rows)
    study = load_study(storage, "capped")
    assert "power_cap_w" in study.user_attrs["ssropt:constraint_names"]
    assert study.metric_names == NAMES
    trials = complete(storage, "capped")
    assert {tuple(rounded(r[name]) for name in NAMES) for r in rows} == true_front(trials)


@pytest.mark.parametrize(
    "objectives",
    ["energy", "latency", "throughput,latency", "latency,energy", "latency,throughput,power",
     "latency,throughput,energy,energy", ""],
)
@pytest.mark.parametrize("command", ["run", "create-study"])
def test_an_objective_list_ssropt_does_not_search_is_refused_and_nothing_is_written(
    command, objectives, capsys, tmp_path
):
    argv = (command, *SMALL, "--budget", "100", "--objectives", objectives,
            "--storage", tmp_path / "studies.log")
    code, out, err = cli(capsys, *argv)
    assert code == 2
    assert err.startswith("error: unknown objectives") and err.count("\n") == 1, err
    assert "latency,throughput,energy" in err and out == ""
    assert os.listdir(tmp_path) == []


def test_a_two_objective_study_records_its_objectives_and_stores_two_values(capsys, tmp_path):
    storage = tmp_path / "studies.log"
    code, out, err = cli(capsys, "run", *SMALL, "--population", "50", "--budget", "100",
                         *at(storage, "two"), "--quiet")
    assert code == 0, err
    study = load_study(storage, "two")
    assert study.metric_names == NAMES[:2] and len(study.directions) == 2
    assert study.user_attrs["ssropt:space"]["objectives"] == ["latency", "throughput"]
    assert all(len(t.values) == 2 for t in complete(storage, "two"))
    assert out.splitlines()[0].split()[:4] == ["trial", "latency_ms", "GOPS", "images/s"]
    np.testing.assert_array_equal(
        sorted(r["trial"] for r in front_json(capsys, storage, "two")),
        sorted(int(line.split()[0]) for line in out.strip().splitlines()[1:]),
    )
