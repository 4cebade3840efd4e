"""``ssropt run / resume / front / studies / show`` on journal-file storages.

A study run, killed or resumed must give the same front and the same trials as an
uninterrupted run with the same seed; the front is exact, non-dominated and readable
by Optuna's own CLI; every bad input is one ``error:`` line, exit status 2, and leaves
no study and no storage file behind.

The workload is two DeiT-T encoder blocks without embedding and head, 50 designs a
generation, a few hundred evaluations a study, so the file runs in well under a
minute and a half on two cores.  Most commands run in-process through
:func:`ssropt.cli.main` (the console script calls exactly that); the progress bar,
exit statuses, the SIGKILL and Optuna's CLI go through real processes.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest

from ssropt.cli import main
from ssropt.engine.records import GENERATION_KEY, GENOME_KEY, INDIVIDUAL_KEY
from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.spaces import Space, SpaceOptions
from ssropt.storage import open_storage
from ssropt.strategies import space_size

optuna.logging.set_verbosity(optuna.logging.WARNING)

WORKLOAD = {"model": "deit-t", "tokens": 192, "blocks": 2, "embed_and_head": False}
SMALL = ("--model", "deit-t", "--tokens", "192", "--blocks", "2", "--no-embed-head")
POPULATION = ("--population", "50")
SEED, BUDGET = 1, 300
FRONT_KEYS = {"trial", "latency_s", "throughput_ops_per_s", "images_per_s", "batch"}
FRONT_KEYS |= {"n_accelerators", "assignment"}


def search(budget: int = BUDGET, seed: int = SEED) -> tuple:
    """``run`` options of the reduced workload."""
    return (*SMALL, *POPULATION, "--budget", budget, "--seed", seed)


def at(storage: Path | str, name: str) -> tuple:
    return ("--storage", storage, "--study-name", name)


def _script(name: str, module: str) -> list[str]:
    """The console script ``name`` of this interpreter, else ``python -c`` its entry point."""
    script = Path(sys.executable).with_name(name)
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", f"import sys; from {module} import main; sys.exit(main())"]


SSROPT = _script("ssropt", "ssropt.cli")
OPTUNA = _script("optuna", "optuna.cli")


def run_process(*argv: object, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SSROPT, *map(str, argv)], check=False, capture_output=True, text=True, timeout=timeout
    )


def cli(capsys, *argv: object) -> tuple[int, str, str]:
    """``ssropt ARGV`` in-process: exit status, stdout, stderr."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def front_json(capsys, storage: Path, name: str, *extra: object) -> list[dict]:
    out_file = storage.with_name(f"{storage.stem}-{name}-front.json")
    code, _, err = cli(capsys, "front", *at(storage, name), "--json", out_file, *extra)
    assert code == 0, err
    return json.loads(out_file.read_text())


def load_trials(storage: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=open_storage(str(storage)))
    return study.get_trials(deepcopy=False)


def trial_map(storage: Path, name: str) -> dict[int, tuple]:
    """individual -> (generation, genome, values, params) of the COMPLETE trials.

    Asserts that no (generation, individual) is stored twice.
    """
    trials = [t for t in load_trials(storage, name) if t.state == optuna.trial.TrialState.COMPLETE]
    keys = [(t.system_attrs[GENERATION_KEY], t.system_attrs[INDIVIDUAL_KEY]) for t in trials]
    assert len(set(keys)) == len(keys), "a (generation, individual) is stored twice"
    return {
        t.system_attrs[INDIVIDUAL_KEY]: (
            t.system_attrs[GENERATION_KEY],
            tuple(t.system_attrs[GENOME_KEY]),
            tuple(t.values),
            tuple(sorted(t.params.items())),
        )
        for t in trials
    }


def assert_complete_generations(trials: dict[int, tuple], budget: int) -> None:
    """Individuals 0..budget-1, each once, generations numbered in asking order."""
    assert sorted(trials) == list(range(budget))
    generations = [trials[i][0] for i in range(budget)]
    assert generations[0] == 0 and all(0 <= b - a <= 1 for a, b in itertools.pairwise(generations))


def feasible(trial: optuna.trial.FrozenTrial) -> bool:
    return trial.state == optuna.trial.TrialState.COMPLETE and all(
        v <= 0 for v in (trial.constraints or {}).values()
    )


def rounded(value: float) -> float:
    """Fronts compare objectives at 12 significant digits (ssropt.pareto)."""
    return float(f"{value:.12g}")


def front_points(points: np.ndarray) -> set[tuple[float, float]]:
    """Distinct non-dominated (latency, throughput) rows of ``(n, 2)`` points, by brute
    force, at 12 significant digits."""
    points = np.vectorize(rounded)(np.asarray(points, dtype=float).reshape(-1, 2))
    front = set()
    for lat, thr in points:
        no_worse = (points[:, 0] <= lat) & (points[:, 1] >= thr)
        better = (points[:, 0] < lat) | (points[:, 1] > thr)
        if not (no_worse & better).any():
            front.add((float(lat), float(thr)))
    return front


def true_front(trials: list[optuna.trial.FrozenTrial], batch: int | None = None) -> set[tuple]:
    """The front of the feasible trials (of one batch size), computed independently."""
    return front_points(
        np.array(
            [t.values for t in trials if feasible(t) and batch in (None, t.params["batch"])]
        ).reshape(-1, 2)
    )


# -- one small study, run once through the console script ---------------------------------------
@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    storage = tmp_path_factory.mktemp("small") / "studies.log"
    done = run_process("run", *search(), *at(storage, "small"))
    assert done.returncode == 0, done.stderr
    return storage, done


def test_run_shows_a_progress_bar_and_prints_the_stored_front(small, capsys):
    storage, done = small
    assert f"/{BUDGET} [" in done.stderr and "design/s" in done.stderr  # tqdm, at least 0/300
    printed = [int(line.split()[0]) for line in done.stdout.strip().splitlines()[1:]]
    assert printed == [row["trial"] for row in front_json(capsys, storage, "small")]
    assert len(load_trials(storage, "small")) == BUDGET


def test_front_json_is_the_exact_non_dominated_set_sorted_by_latency(small, capsys):
    storage, _ = small
    rows = front_json(capsys, storage, "small")
    trials = {t.number: t for t in load_trials(storage, "small")}
    assert rows and all(FRONT_KEYS <= row.keys() for row in rows)
    latency = [r["latency_s"] for r in rows]
    throughput = [r["throughput_ops_per_s"] for r in rows]
    assert latency == sorted(latency) and len(set(latency)) == len(latency)
    assert all(a < b for a, b in itertools.pairwise(throughput)), "a row dominates the next"
    assert {(rounded(r["latency_s"]), rounded(r["throughput_ops_per_s"])) for r in rows} == true_front(
        list(trials.values())
    )
    for row in rows:
        trial = trials[row["trial"]]
        assert feasible(trial) and tuple(trial.values) == (
            row["latency_s"],
            row["throughput_ops_per_s"],
        )
        assert row["batch"] == trial.params["batch"]
        assert row["images_per_s"] == trial.user_attrs["images_per_s"]
        assert row["n_accelerators"] == len(set(row["assignment"].values()))
        assert row["assignment"] == {
            k.removeprefix("acc_of_"): v for k, v in trial.params.items() if k.startswith("acc_of_")
        }


def test_front_batch_restricts_to_one_batch_size(small, capsys):
    storage, _ = small
    trials = load_trials(storage, "small")
    batches = sorted({t.params["batch"] for t in trials if feasible(t)})
    assert len(batches) > 1
    for batch in batches[:3]:
        rows = front_json(capsys, storage, "small", "--batch", batch)
        assert rows and {r["batch"] for r in rows} == {batch}
        assert {(rounded(r["latency_s"]), rounded(r["throughput_ops_per_s"])) for r in rows} == true_front(
            trials, batch
        )
    absent = max(batches) + 100
    assert front_json(capsys, storage, "small", "--batch", absent) == []


def test_front_writes_csv_and_plot(small, capsys, tmp_path):
    storage, _ = small
    csv, png = tmp_path / "f.csv", tmp_path / "f.png"
    code, out, err = cli(capsys, "front", *at(storage, "small"), "--csv", csv, "--plot", png)
    assert code == 0, err
    rows = front_json(capsys, storage, "small")
    lines = csv.read_text().strip().splitlines()
    assert lines[0].split(",")[:3] == ["trial", "latency_s", "throughput_ops_per_s"]
    assert len(lines) == len(rows) + 1 == len(out.strip().splitlines())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_studies_lists_settings_and_trial_counts(small, capsys):
    storage, _ = small
    code, out, err = cli(capsys, "studies", "--storage", storage)
    assert code == 0, err
    (line,) = out.strip().splitlines()
    assert line.startswith(f"small: {BUDGET} trials;")
    for setting in ("deit-t on vck190 int8", "hybrid", "nsga2", f"seed {SEED}", f"budget {BUDGET}"):
        assert setting in line


def test_show_prints_the_trial_as_evaluate_and_writes_an_equivalent_design_file(
    small, capsys, tmp_path
):
    storage, _ = small
    trials = load_trials(storage, "small")
    front = [row["trial"] for row in front_json(capsys, storage, "small")]
    infeasible = next(t.number for t in trials if not feasible(t))
    for number in [*front[:2], 0, infeasible]:
        design = tmp_path / f"trial{number}.json"
        show = ("show", *at(storage, "small"), "--trial", number)
        code, shown, err = cli(capsys, *show, "--design-out", design)
        assert code == 0, err
        code, evaluated, err = cli(capsys, "evaluate", design)
        assert code == 0, err
        assert shown == evaluated
        code, shown_json, _ = cli(capsys, *show, "--json")
        code, evaluated_json, err = cli(capsys, "evaluate", design, "--json")
        assert code == 0, err
        record = json.loads(evaluated_json)
        assert json.loads(shown_json) == record
        stored = trials[number]
        assert record["latency_s"] == pytest.approx(stored.values[0], rel=1e-12)
        assert record["throughput_ops_per_s"] == pytest.approx(stored.values[1], rel=1e-12)
        assert record["feasible"] == feasible(stored)
        assert record["batch"] == stored.params["batch"]


def test_optuna_cli_reads_the_study(small):
    storage, _ = small
    trials = {t.number: t for t in load_trials(storage, "small")}
    for hint in ([], ["--storage-class", "JournalFileBackend"]):
        done = subprocess.run(
            [
                *OPTUNA,
                "trials",
                "--storage",
                str(storage),
                *hint,
                "--study-name",
                "small",
                "-f",
                "json",
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        listed = json.loads(done.stdout)
        assert sorted(t["number"] for t in listed) == list(range(BUDGET))
        assert {t["state"] for t in listed} == {"COMPLETE"}
        for item in listed[:: BUDGET // 10]:
            stored = trials[item["number"]]
            assert item["values"] == {
                "latency_s": stored.values[0],
                "throughput_ops_per_s": stored.values[1],
            }
            assert item["params"]["batch"] == stored.params["batch"]


# -- determinism and resume ------------------------------------------------------------------------
@pytest.mark.slow
def test_same_seed_and_budget_give_identical_studies(small, capsys, tmp_path):
    storage, _ = small
    again = tmp_path / "again.log"
    code, _, err = cli(capsys, "run", *search(), *at(again, "small"), "--quiet")
    assert code == 0, err
    assert front_json(capsys, again, "small") == front_json(capsys, storage, "small")
    assert trial_map(again, "small") == trial_map(storage, "small")
    code, _, err = cli(capsys, "run", *search(seed=SEED + 1), *at(again, "other"), "--quiet")
    assert code == 0, err
    assert trial_map(again, "other") != trial_map(storage, "small")


@pytest.mark.slow
def test_resume_with_a_larger_budget_continues_as_one_longer_run(small, capsys, tmp_path):
    storage, _ = small
    resumed, longer = tmp_path / "resumed.log", tmp_path / "longer.log"
    shutil.copyfile(storage, resumed)
    code, out, err = cli(
        capsys, "resume", *at(resumed, "small"), "--budget", BUDGET + 100, "--quiet"
    )
    assert code == 0, err
    assert "latency_ms" in out
    code, _, err = cli(capsys, "run", *search(BUDGET + 100), *at(longer, "small"), "--quiet")
    assert code == 0, err
    assert front_json(capsys, resumed, "small") == front_json(capsys, longer, "small")
    trials = trial_map(resumed, "small")
    assert_complete_generations(trials, BUDGET + 100)
    assert trials == trial_map(longer, "small")
    _, listing, _ = cli(capsys, "studies", "--storage", resumed)
    assert f"small: {BUDGET + 100} trials;" in listing and f"budget {BUDGET + 100}" in listing


def test_resume_after_a_write_torn_by_a_kill_loses_and_duplicates_nothing(small, capsys, tmp_path):
    """A kill in the middle of a generation's append leaves complete trial lines and a
    half line; resuming must neither choke on it nor store a design twice."""
    storage, _ = small
    torn = tmp_path / "torn.log"
    lines = storage.read_bytes().splitlines(keepends=True)
    generation_of = {  # line -> generation of the trial it creates
        i: entry["system_attrs"][GENERATION_KEY]
        for i, entry in enumerate(map(json.loads, lines))
        if entry["op_code"] == 4
    }
    # the last generation of 50 designs: a lone worker stores it as one append
    last = max(g for g in set(generation_of.values()) if list(generation_of.values()).count(g) == 50)
    first_line = min(i for i, g in generation_of.items() if g == last)
    before = sum(1 for i in generation_of if i < first_line)
    assert [generation_of.get(i) for i in range(first_line, first_line + 50)] == [last] * 50
    kept = 20
    cut = first_line + kept
    torn.write_bytes(b"".join(lines[:cut]) + lines[cut][: len(lines[cut]) // 2])
    assert len(load_trials(torn, "small")) == before + kept
    code, _, err = cli(capsys, "resume", *at(torn, "small"), "--quiet")
    assert code == 0, err
    trials = trial_map(torn, "small")
    assert_complete_generations(trials, BUDGET)
    assert trials == trial_map(storage, "small")
    assert front_json(capsys, torn, "small") == front_json(capsys, storage, "small")


def _checkpoints(storage: Path) -> int:
    try:
        return storage.read_bytes().count(b'"ssropt:checkpoint"')
    except FileNotFoundError:
        return 0


def _stopped(pid: int) -> bool:
    """Whether the process has stopped (state T in /proc), so it cannot touch the journal."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        time.sleep(0.01)  # no procfs: give the signal time to land
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("T", "t", "Z")


def _kill_after_checkpoints(process: subprocess.Popen, storage: Path, log: Path) -> bool:
    """SIGKILL ``process`` once 3 generations are stored; False if it finished first.

    The kill lands outside a journal append: a process killed while it holds the
    journal's lock file leaves the lock behind, and the next writer waits Optuna's
    30 s grace period before breaking it (the torn-write test covers a kill inside an
    append).  So the process is stopped first, and let go again while it holds the lock.
    """
    deadline = time.monotonic() + 60
    while _checkpoints(storage) < 3:
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.01)
    lock = Path(f"{storage}.lock")
    while True:
        process.send_signal(signal.SIGSTOP)
        while not _stopped(process.pid):
            time.sleep(0.001)
        if not os.path.lexists(lock):
            break
        process.send_signal(signal.SIGCONT)
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return process.returncode == -signal.SIGKILL


def _start_run(storage: Path, budget: int, log: Path) -> subprocess.Popen:
    argv = ("run", *search(budget, SEED + 4), *at(storage, "killed"), "--quiet")
    with log.open("w") as stderr:
        return subprocess.Popen(
            [*SSROPT, *map(str, argv)], stdout=subprocess.DEVNULL, stderr=stderr
        )


@pytest.mark.slow
def test_sigkilled_run_resumes_to_the_uninterrupted_front_without_lost_or_duplicate_trials(
    capsys, tmp_path
):
    for budget in (3000, 12000):  # a larger budget if the first run outpaced the kill
        killed, full = tmp_path / f"killed{budget}.log", tmp_path / f"full{budget}.log"
        reference = _start_run(full, budget, tmp_path / f"full{budget}.err")
        victim = _start_run(killed, budget, tmp_path / f"killed{budget}.err")
        try:
            was_killed = _kill_after_checkpoints(victim, killed, tmp_path / f"killed{budget}.err")
        except BaseException:
            for process in (victim, reference):
                process.kill()
                process.wait()
            raise
        if was_killed and _checkpoints(killed) < budget // 50:
            break
        reference.kill()
        reference.wait()
    else:
        pytest.fail("the run always finished before it could be killed")
    reference.wait(timeout=120)
    assert reference.returncode == 0, (tmp_path / f"full{budget}.err").read_text()
    stored = trial_map(killed, "killed")
    assert 0 < len(stored) < budget
    assert sorted(stored) == list(range(len(stored)))  # whole generations only

    resumed = run_process("resume", *at(killed, "killed"), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    trials = trial_map(killed, "killed")
    assert_complete_generations(trials, budget)
    assert len(load_trials(killed, "killed")) == budget  # nothing FAILED or left RUNNING
    assert trials == trial_map(full, "killed")
    assert front_json(capsys, killed, "killed") == front_json(capsys, full, "killed")


# -- workloads, time limits and the exact front -------------------------------------------------------
@pytest.mark.slow
def test_workload_file_in_json_or_toml_runs_the_same_study_as_model(capsys, tmp_path):
    (tmp_path / "w.json").write_text(json.dumps(WORKLOAD))
    (tmp_path / "w.toml").write_text(
        'model = "deit-t"\ntokens = 192\nblocks = 2\nembed_and_head = false\n'
    )
    storage = tmp_path / "s.log"
    common = (*POPULATION, "--budget", 100, "--seed", 2, "--storage", storage, "--quiet")
    fronts = []
    for name, source in [
        ("model", SMALL),
        ("json", ("--workload", tmp_path / "w.json")),
        ("toml", ("--workload", tmp_path / "w.toml")),
    ]:
        code, _, err = cli(capsys, "run", *source, *common, "--study-name", name)
        assert code == 0, err
        fronts.append(front_json(capsys, storage, name))
    assert fronts[0] and fronts[0] == fronts[1] == fronts[2]

    gemms = {
        "gemms": [
            {"name": "qkv", "M": 192, "K": 192, "N": 576},
            {"name": "proj", "M": 192, "K": 192, "N": 192, "count": 2},
        ]
    }
    (tmp_path / "g.json").write_text(json.dumps(gemms))
    code, _, err = cli(
        capsys, "run", "--workload", tmp_path / "g.json", *common, "--study-name", "gemms"
    )
    assert code == 0, err
    assert {frozenset(r["assignment"]) for r in front_json(capsys, storage, "gemms")} == {
        frozenset({"qkv", "proj"})
    }


def test_time_limit_stops_the_run_and_the_default_name_is_listed(capsys, tmp_path):
    storage = tmp_path / "s.log"
    start = time.monotonic()
    code, out, err = cli(
        capsys, "run", *SMALL, *POPULATION, "--time-limit", 0.5, "--storage", storage, "--quiet"
    )
    assert code == 0, err
    assert time.monotonic() - start < 15
    _, listing, _ = cli(capsys, "studies", "--storage", storage)
    (line,) = listing.strip().splitlines()
    name = line.split(":")[0]
    assert name.startswith("deit-t-hybrid-nsga2-")
    assert 0 < len(load_trials(storage, name)) and "latency_ms" in out


#: 3,000 sequential designs of the reduced workload (five batch sizes, narrowed parameters)
EXACT_VALUES = {"a": (1, 2, 4, 6, 8), "b": (1, 2, 4, 8), "c": (1, 2, 4, 6, 8), "dup": (1,)}
EXACT_VALUES |= {"h1": (16, 32, 64), "w1": (48, 96), "w2": (32,)}


@pytest.mark.slow
def test_exhaustive_finds_the_exact_front_and_nsga2_reaches_it(capsys, tmp_path):
    options = SpaceOptions(family="sequential", batch_sizes=(1, 2, 4, 6, 8), values=EXACT_VALUES)
    storage = tmp_path / "s.log"
    common = {"workload": WORKLOAD, "platform": "vck190", "space": options.to_dict()}
    configs = {
        "exhaustive": StudyConfig(
            **common, strategy="exhaustive", budget=None, population_size=500
        ),
        "nsga2": StudyConfig(**common, strategy="nsga2", budget=1000, population_size=50),
    }
    space = configs["exhaustive"].build_space()
    size = space_size(space)
    assert size == 3000
    for name, config in configs.items():
        study = create_ssropt_study(open_storage(str(storage)), name, config)
        run_study(study, config, progress=False)

    assert_complete_generations(trial_map(storage, "exhaustive"), size)  # every design once
    radices = tuple(int(r) for r in space.upper - space.lower + 1)
    every = space.lower + np.stack(np.unravel_index(np.arange(size), radices), axis=1)
    result = Space(space.model, options).evaluate(every)
    feasible_F = result.F[result.feasible]
    truth = front_points(np.column_stack([feasible_F[:, 0], -feasible_F[:, 1]]))
    exact = front_json(capsys, storage, "exhaustive")
    assert {(rounded(r["latency_s"]), rounded(r["throughput_ops_per_s"])) for r in exact} == truth
    found = front_json(capsys, storage, "nsga2")
    assert [(rounded(r["latency_s"]), rounded(r["throughput_ops_per_s"])) for r in found] == [
        (rounded(r["latency_s"]), rounded(r["throughput_ops_per_s"])) for r in exact
    ]


# -- errors ------------------------------------------------------------------------------------------
def _bad_inputs(tmp: Path) -> None:
    (tmp / "truncated.json").write_text('{"gemms": [')
    (tmp / "broken.toml").write_text("model = \n")
    (tmp / "unknown_key.json").write_text(json.dumps({"model": "deit-t", "layers": 2}))
    (tmp / "bad_gemm.json").write_text(
        json.dumps({"gemms": [{"name": "l0", "M": 0, "K": 1, "N": 1}]})
    )


RUN = ("run", *SMALL, "--budget", "100", *POPULATION, "--quiet")
ERRORS_BEFORE_ANY_STORAGE = {
    "unknown strategy": (*RUN, "--strategy", "simulated-annealing"),
    "unknown space": (*RUN, "--space", "diagonal"),
    "unknown storage scheme": ("run", *SMALL, "--storage", "postgres://user:pw@host/db"),
    "storage in a missing directory": ("run", *SMALL, "--storage", "{tmp}/no/such/dir.log"),
    "sqlite in a missing directory": ("run", *SMALL, "--storage", "sqlite:///{tmp}/no/x.db"),
    "budget 0": ("run", *SMALL, "--budget", "0"),
    "negative budget": ("run", *SMALL, "--budget", "-5"),
    "time limit 0": ("run", *SMALL, "--time-limit", "0"),
    "negative time limit": ("run", *SMALL, "--time-limit", "-1"),
    "budget and time limit": ("run", *SMALL, "--budget", "10", "--time-limit", "1"),
    "impossible latency ceiling": (*RUN, "--latency-ceiling", "1e-7"),
    "impossible power cap": (*RUN, "--power-cap", "1"),
    "batch 0": (*RUN, "--batch", "0"),
    "batch range 3-1": (*RUN, "--batch", "3-1"),
    "batch not a number": (*RUN, "--batch", "two"),
    "unknown model": ("run", "--model", "deit-x", "--budget", "100"),
    "unknown dtype": (*RUN, "--dtype", "int4"),
    "unknown platform": (*RUN, "--platform", "vck999"),
    "a cost model the platform cannot run": (*RUN, "--platform", "zcu102", "--cost-model", "ssr"),
    "unknown cost model": (*RUN, "--cost-model", "analytic"),
    "too many accelerators": (*RUN, "--min-accelerators", "100"),
    "exhaustive over a huge space": (*RUN, "--strategy", "exhaustive", "--configurator", "none"),
    "population 0": (*RUN, "--population", "0"),
    "unknown objectives": (*RUN, "--objectives", "latency,energy"),
    "truncated JSON workload": ("run", "--workload", "{tmp}/truncated.json"),
    "broken TOML workload": ("run", "--workload", "{tmp}/broken.toml"),
    "workload with an unknown key": ("run", "--workload", "{tmp}/unknown_key.json"),
    "workload with a bad GEMM": ("run", "--workload", "{tmp}/bad_gemm.json"),
    "missing workload file": ("run", "--workload", "{tmp}/missing.json"),
    "workload and --tokens": ("run", "--workload", "{tmp}/unknown_key.json", "--tokens", "9"),
    "resume in a missing storage": ("resume", "--study-name", "small"),
    "front of a missing storage": ("front", "--study-name", "small"),
    "show in a missing storage": ("show", "--study-name", "small", "--trial", "0"),
    "studies of a missing storage": ("studies",),
    "front of a missing sqlite file": ("front", *at("sqlite:///{tmp}/x.db", "small")),
}


#: argument errors argparse reports: ``ssropt COMMAND: error: argument ...``
ARGPARSE_ERRORS = {
    ERRORS_BEFORE_ANY_STORAGE[name]
    for name in ("budget 0", "negative budget", "time limit 0", "negative time limit",
                 "budget and time limit", "population 0")
}


def error_prefix(argv) -> str:
    """How the one error line of ``argv`` starts."""
    return f"ssropt {argv[0]}: error: argument " if argv in ARGPARSE_ERRORS else "error:"


@pytest.mark.parametrize("argv", ERRORS_BEFORE_ANY_STORAGE.values(), ids=ERRORS_BEFORE_ANY_STORAGE)
def test_bad_input_is_one_error_line_and_creates_no_storage(argv, capsys, tmp_path):
    _bad_inputs(tmp_path)
    inputs = sorted(os.listdir(tmp_path))
    prefix = error_prefix(argv)
    argv = [a.format(tmp=tmp_path) for a in argv]
    if "--storage" not in argv:
        argv += ["--storage", str(tmp_path / "studies.log")]
    code, out, err = cli(capsys, *argv)
    assert code == 2
    assert err.startswith(prefix) and err.count("\n") == 1, err
    assert "Traceback" not in err and out == ""
    assert sorted(os.listdir(tmp_path)) == inputs  # no journal, database or lock file


ERRORS_ON_A_STORED_STUDY = {
    "run with an existing study name": (*RUN, "--study-name", "small"),
    "resume an unknown study": ("resume", "--study-name", "nope"),
    "resume with budget 0": ("resume", "--study-name", "small", "--budget", "0"),
    "front of an unknown study": ("front", "--study-name", "nope"),
    "front --batch 0": ("front", "--study-name", "small", "--batch", "0"),
    "show an unknown study": ("show", "--study-name", "nope", "--trial", "0"),
    "show a missing trial": ("show", "--study-name", "small", "--trial", "999999"),
    "show a negative trial": ("show", "--study-name", "small", "--trial", "-1"),
}
ARGPARSE_ERRORS |= {
    ERRORS_ON_A_STORED_STUDY[name]
    for name in ("resume with budget 0", "front --batch 0", "show a negative trial")
}


@pytest.mark.parametrize("argv", ERRORS_ON_A_STORED_STUDY.values(), ids=ERRORS_ON_A_STORED_STUDY)
def test_bad_input_on_a_stored_study_is_one_error_line_and_writes_nothing(
    argv, small, capsys, tmp_path
):
    storage = tmp_path / "studies.log"
    shutil.copyfile(small[0], storage)
    before = storage.read_bytes()
    code, out, err = cli(capsys, *argv, "--storage", storage)
    assert code == 2
    assert err.startswith(error_prefix(argv)) and err.count("\n") == 1, err
    assert "Traceback" not in err and out == ""
    assert storage.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["studies.log"]


@pytest.mark.parametrize(
    "argv",
    [
        (*RUN, "--strategy", "simulated-annealing"),
        ("run", *SMALL, "--budget", "0"),
        ("show", "--study-name", "small", "--trial", "999999"),
    ],
    ids=["unknown strategy", "budget 0", "missing trial"],
)
def test_console_script_exits_2_with_one_error_line(argv, small, tmp_path):
    storage = tmp_path / "studies.log"
    if argv[0] == "show":
        shutil.copyfile(small[0], storage)
    done = run_process(*argv, "--storage", storage)
    assert done.returncode == 2
    prefix = "ssropt run: error: argument --budget: " if argv == ("run", *SMALL, "--budget", "0") else "error:"
    assert done.stderr.startswith(prefix) and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert storage.exists() == (argv[0] == "show")


def test_the_cost_model_defaults_to_the_platforms_own(capsys, tmp_path):
    storage = tmp_path / "studies.log"
    for platform, model in (("zcu102", "fpga"), ("a10g", "gpu-roofline"), ("vck190", "ssr")):
        code, _, err = cli(
            capsys, "create-study", "--model", "deit-t", "--tokens", "48", "--blocks", "1",
            "--platform", platform, "--budget", "100", "--storage", storage, "--study-name", platform,
        )
        assert code == 0, err
        attrs = optuna.load_study(study_name=platform, storage=open_storage(str(storage))).user_attrs
        assert attrs["ssropt:cost_model"] == model
    code, _, err = cli(capsys, *RUN, "--platform", "zcu102", "--cost-model", "ssr", "--storage", storage)
    assert code == 2 and "zcu102" in err and "'ssr'" in err and "'fpga'" in err


def test_a_power_cap_keeps_every_front_design_under_it(small, capsys, tmp_path):
    storage, _ = small
    uncapped = front_json(capsys, storage, "small")
    powers = sorted(r["power_w"] for r in uncapped)
    cap = powers[len(powers) // 2]  # the most powerful half of the uncapped front is over it
    assert powers[-1] > cap
    capped = tmp_path / "capped.log"
    code, _, err = cli(capsys, "run", *search(), "--power-cap", str(cap), *at(capped, "capped"))
    assert code == 0, err
    rows = front_json(capsys, capped, "capped")
    assert rows and all(r["power_w"] <= cap for r in rows)
    study = optuna.load_study(study_name="capped", storage=open_storage(str(capped)))
    assert "power_cap_w" in study.user_attrs["ssropt:constraint_names"]
