"""Creating a study is atomic: the study, its directions, metric names and every setting
appear in one journal append / one database transaction, or not at all.  A study whose
settings are incomplete (left by an older ssropt killed while creating it) is refused in
one line that says how to recover, and its name can be used again; two creations of one
name at once: one wins, the other is one error line."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time

import optuna
import pytest

from ssropt.cli import main
from ssropt.engine.study import (
    CONFIG_PREFIX,
    SETTINGS_KEY,
    StudyConfig,
    StudyError,
    create_ssropt_study,
    load_ssropt_study,
)
from ssropt.spaces import SpaceOptions
from ssropt.storage import backend_for, open_storage
from ssropt.storage._journal_file import JournalFile

optuna.logging.set_verbosity(optuna.logging.WARNING)

WORKLOAD = {"model": "deit-t", "tokens": 192, "blocks": 1, "embed_and_head": False}
SEARCH = ("--model", "deit-t", "--tokens", "192", "--blocks", "1", "--no-embed-head",
          "--space", "sequential", "--batch", "1-2", "--population", "10", "--budget", "20")
SSROPT = [sys.executable, "-m", "ssropt.cli"]


def config() -> StudyConfig:
    return StudyConfig(workload=WORKLOAD, platform="vck190",
                       space=SpaceOptions(family="sequential", batch_sizes=(1, 2)).to_dict(),
                       budget=20, population_size=10)


def cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(params=["journal", "sqlite"])
def url(request, tmp_path) -> str:
    return str(tmp_path / "s.log") if request.param == "journal" else f"sqlite:///{tmp_path}/s.db"


def test_a_study_and_all_its_settings_are_one_journal_append(tmp_path, monkeypatch):
    appends = []
    original = JournalFile.append_logs
    monkeypatch.setattr(JournalFile, "append_logs",
                        lambda self, logs: (appends.append(len(logs)), original(self, logs)))
    storage = open_storage(str(tmp_path / "s.log"))
    study = create_ssropt_study(storage, "s", config())
    assert len(appends) == 1  # study, metric names, every setting, the settings list
    assert appends[0] == 2 + len(config().to_attrs()) + 1
    assert study.metric_names == ["latency_s", "throughput_ops_per_s"]
    assert study.user_attrs == config().to_attrs()
    assert load_ssropt_study(open_storage(str(tmp_path / "s.log")), "s")[1] == config()


def interrupted(url: str, name: str, keep: int) -> None:
    """What an older ssropt left when killed while creating ``name``: the study and its
    first ``keep`` settings (one per append), nothing else."""
    storage = open_storage(url)
    study = optuna.create_study(storage=storage, study_name=name,
                                directions=["minimize", "maximize"])
    for key, value in list(config().to_attrs().items())[:keep]:
        study.set_user_attr(key, value)


@pytest.mark.parametrize("keep", [0, 3])
def test_an_incomplete_study_is_refused_in_one_line_and_its_name_reused(url, keep, capsys):
    interrupted(url, "half", keep)
    missing = "budget" if keep else None
    for command in (("resume",), ("front",), ("show", "--trial", "0"), ("worker",)):
        code, out, err = cli(capsys, *command, "--storage", url, "--study-name", "half")
        assert code == 2 and out == "" and err.count("\n") == 1, err
        if keep:
            assert err.startswith("error: study 'half' has incomplete settings (missing ")
            assert missing in err and "ssropt studies --repair" in err
    code, out, _ = cli(capsys, "studies", "--storage", url)
    if keep:
        assert "half: 0 trials; incomplete settings (missing" in out
    code, out, _ = cli(capsys, "create-study", *SEARCH, "--storage", url, "--study-name", "half")
    assert code == 0 and out == "half\n"  # the name left by the crash is free again
    study, loaded = load_ssropt_study(open_storage(url), "half")
    assert loaded.budget == 20 and loaded.population_size == 10


def test_repair_removes_only_studies_that_never_got_their_settings(url, capsys):
    interrupted(url, "half", 4)
    interrupted(url, "empty", 0)
    code, _, err = cli(capsys, "create-study", *SEARCH, "--storage", url, "--study-name", "good")
    assert code == 0, err
    done = optuna.create_study(storage=open_storage(url), study_name="plain")
    done.add_trial(optuna.trial.create_trial(values=[1.0]))  # someone else's study
    code, out, _ = cli(capsys, "studies", "--storage", url, "--repair")
    assert code == 0
    assert sorted(out.splitlines()) == [
        "removed study 'empty' (its creation was interrupted)",
        "removed study 'half' (its creation was interrupted)",
    ]
    assert sorted(backend_for(open_storage(url)).study_names()) == ["good", "plain"]
    code, out, _ = cli(capsys, "studies", "--storage", url, "--delete", "plain")
    assert code == 0 and backend_for(open_storage(url)).study_names() == ["good"]
    code, _, err = cli(capsys, "studies", "--storage", url, "--delete", "nope")
    assert code == 2 and err.startswith("error: no study named 'nope'")


def test_a_study_with_unreadable_settings_is_one_error_line(url, capsys):
    code, _, _ = cli(capsys, "create-study", *SEARCH, "--storage", url, "--study-name", "s")
    assert code == 0
    study = optuna.load_study(study_name="s", storage=open_storage(url))
    study.set_user_attr(CONFIG_PREFIX + "space", "not a dict")
    code, out, err = cli(capsys, "resume", "--storage", url, "--study-name", "s")
    assert code == 2 and err.count("\n") == 1 and "settings cannot be read" in err


def test_two_creations_of_one_name_at_once_one_wins(url):
    barrier = threading.Barrier(4, timeout=60)
    outcomes: list[str] = []
    open_storage(url)  # the database schema exists before the race
    storages = [open_storage(url) for _ in range(4)]  # only the storage itself orders them

    def create(storage) -> None:
        barrier.wait()
        try:
            create_ssropt_study(storage, "race", config())
            outcomes.append("created")
        except StudyError as error:
            outcomes.append(str(error))
        except BaseException as error:  # surfaced by the assertions below
            outcomes.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=create, args=(s,)) for s in storages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("created") == 1
    assert all(o.startswith("a study named 'race' already exists") for o in outcomes
               if o != "created")
    assert backend_for(open_storage(url)).study_names() == ["race"]


@pytest.mark.slow
def test_two_create_study_processes_with_one_name_one_error_line(tmp_path):
    storage = tmp_path / "s.log"
    argv = [*SSROPT, "create-study", *SEARCH, "--storage", str(storage), "--study-name", "x"]
    processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in processes]
    assert sorted(code for code, _, _ in results) == [0, 2]
    _, _, err = next(r for r in results if r[0] == 2)
    assert err.startswith("error: a study named 'x' already exists") and err.count("\n") == 1


#: why ``_settled`` refused a study, by name (shown when an assertion fails)
REFUSALS: dict[str, str] = {}


def _settled(url: str, name: str) -> str:
    """What a kill left of study ``name``: "absent", "complete" or "refused"."""
    backend = backend_for(open_storage(url))
    if backend.study_id(name) is None:
        return "absent"
    try:
        _, loaded = load_ssropt_study(open_storage(url), name)
    except StudyError as error:
        assert "\n" not in str(error)
        REFUSALS[name] = str(error)
        return "refused"
    assert loaded.budget == 20 and loaded.population_size == 10  # all settings, no defaults
    system = backend.read_study_attrs(backend.study_id(name), [SETTINGS_KEY])
    assert set(system[SETTINGS_KEY]) == {f for f in StudyConfig.__dataclass_fields__}
    return "complete"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_killing_create_study_and_run_at_random_moments_leaves_no_half_study(kind, tmp_path):
    """``ssropt create-study`` and the start of ``ssropt run`` killed with SIGKILL at random
    moments (around when they write, timed by a first, unkilled run): every study left
    either resumes with all its settings or is absent; none is half made."""
    url = str(tmp_path / "s.log") if kind == "journal" else f"sqlite:///{tmp_path}/s.db"
    tries = 30 if kind == "journal" else 20
    rng = random.Random(7)
    began = time.monotonic()
    first = subprocess.run([*SSROPT, "create-study", *SEARCH, "--storage", url,
                            "--study-name", "timing"], capture_output=True, timeout=120)
    assert first.returncode == 0
    span = time.monotonic() - began
    seen = {"absent": 0, "complete": 0, "refused": 0}
    for k in range(tries):
        name = f"k{k}"
        command = "run" if k % 3 == 2 else "create-study"
        process = subprocess.Popen([*SSROPT, command, *SEARCH, "--storage", url,
                                    "--study-name", name, "--quiet"][: None if command == "run"
                                                                     else -1],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5 * span, 1.3 * span))
        process.kill()
        process.wait()
        state = _settled(url, name)
        seen[state] += 1
        if state != "complete":  # the name is free again, whatever the kill left
            again = subprocess.run([*SSROPT, "create-study", *SEARCH, "--storage", url,
                                    "--study-name", name], capture_output=True, timeout=120)
            assert again.returncode == 0, again.stderr
            assert _settled(url, name) == "complete", (state, REFUSALS.get(name))
        else:
            code = main(["resume", "--storage", url, "--study-name", name, "--quiet"])
            assert code == 0
    assert seen["refused"] == 0, REFUSALS  # creation is atomic: never a half study
    assert seen["complete"] > 0 and seen["absent"] > 0, seen  # the kills did land around it
