"""Many workers, one study: ``ssropt create-study`` + ``ssropt worker`` (ssropt.engine.worker).

Whatever the number of workers, who evaluated what, a worker killed by SIGKILL or the
database going away for a while, a study must end with exactly ``budget`` COMPLETE
trials, no ``(generation, individual)`` twice, and the same ``(generation, individual,
genome, values, params)`` -- hence the same front -- as one ``ssropt run`` with the same
seed and budget.

The workload is two DeiT-T encoder blocks in the spatial space (fast to evaluate), 50
designs a generation in chunks of 10.  Worker processes start behind a barrier: the
test holds the storage's lock (the journal's lock file, or the study row ``FOR UPDATE``)
until every worker has logged that it joined, so all of them are in the race from the
first generation on.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import optuna
import pytest

from ssropt.cli import main
from ssropt.engine.checkpoint import CHECKPOINT_KEY, encode_state
from ssropt.engine.leases import LeaseClock
from ssropt.engine.records import GENERATION_KEY, GENOME_KEY, INDIVIDUAL_KEY, trial_records
from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.engine.work import WORK_KEY, evaluated_in
from ssropt.engine.worker import Worker
from ssropt.outputs.front import front_rows
from ssropt.spaces import SpaceOptions
from ssropt.storage import (
    StorageError,
    StorageUnavailable,
    StudyUpdate,
    TrialRecord,
    open_storage,
    read_study_attrs,
    read_trials,
    retry_unavailable,
    update_study,
    write_trials,
)
from ssropt.strategies import make_strategy

optuna.logging.set_verbosity(optuna.logging.WARNING)

SMALL = ("--model", "deit-t", "--tokens", "192", "--blocks", "2", "--no-embed-head")
SEARCH = (*SMALL, "--space", "spatial", "--population", "50", "--chunk-size", "10")
SEED, BUDGET = 3, 500
SSROPT = [sys.executable, "-m", "ssropt.cli"]
WORKLOAD = {"model": "deit-t", "tokens": 192, "blocks": 2, "embed_and_head": False}


def search(budget: int = BUDGET, seed: int = SEED) -> tuple:
    return (*SEARCH, "--budget", budget, "--seed", seed)


def cli(capsys, *argv: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@functools.cache
def storage_of(url: str):
    """One storage object per URL (a database URL opened per poll would pile up pools)."""
    return open_storage(url)


def contents(url: str, name: str) -> dict[int, tuple]:
    """individual -> (generation, genome, values, params) of a study that must hold exactly
    its COMPLETE design trials, each (generation, individual) once."""
    study = optuna.load_study(study_name=name, storage=storage_of(url))
    trials = study.get_trials(deepcopy=False)
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
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


def front(url: str, name: str) -> list[tuple]:
    """The front's points (trial numbers follow completion order, so they are left out)."""
    study = optuna.load_study(study_name=name, storage=storage_of(url))
    return [(r["latency_s"], r["throughput_ops_per_s"], r["batch"]) for r in front_rows(study)]


def work_doc(url: str, name: str) -> dict | None:
    storage = storage_of(url)
    study_id = storage.get_study_id_from_name(name)
    return read_study_attrs(storage, study_id, [WORK_KEY]).get(WORK_KEY)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[dict, list]:
    """One in-process ``ssropt run`` with the same settings: what every test must match."""
    storage = str(tmp_path_factory.mktemp("reference") / "studies.log")
    code = main(
        ["run", *map(str, search()), "--storage", storage, "--study-name", "ref", "--quiet"]
    )
    assert code == 0
    stored = contents(storage, "ref")
    assert sorted(stored) == list(range(BUDGET))
    return stored, front(storage, "ref")


# -- worker processes ------------------------------------------------------------------------
class Workers:
    """``ssropt -v worker`` processes on one study, stderr in files."""

    def __init__(self, url: str, name: str, n: int, tmp: Path, *extra: str) -> None:
        self.logs = [tmp / f"{name}-worker{i}.err" for i in range(n)]
        command = [*SSROPT, "-v", "worker", "--storage", url, "--study-name", name,
                   "--no-progress", *extra]
        self.processes = []
        for log in self.logs:
            with log.open("w") as err:
                self.processes.append(
                    subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
                )

    def stderr(self, i: int) -> str:
        return self.logs[i].read_text()

    def joined(self) -> bool:
        return all("joined study" in self.stderr(i) for i in range(len(self.logs)))

    def wait(self, timeout: float = 150) -> list[int]:
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        return [p.returncode for p in self.processes]

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    def evaluated_here(self, i: int) -> int:
        match = re.search(r"worker: (\d+) designs evaluated here", self.stderr(i))
        assert match, self.stderr(i)
        return int(match.group(1))


@contextmanager
def storage_lock(url: str, name: str):
    """Hold the lock every study update takes (journal lock file / study row FOR UPDATE)."""
    if "://" not in url:
        from optuna.storages.journal import JournalFileSymlinkLock

        lock = JournalFileSymlinkLock(url)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()
        return
    import sqlalchemy

    study_id = storage_of(url).get_study_id_from_name(name)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(
                sqlalchemy.text("SELECT study_id FROM studies WHERE study_id = :i FOR UPDATE"),
                {"i": study_id},
            )
            try:
                yield
            finally:
                transaction.rollback()
    finally:
        engine.dispose()


def start_workers(url: str, name: str, n: int, tmp: Path, *extra: str) -> Workers:
    """``n`` workers, released together once all of them have joined the study."""
    with storage_lock(url, name):
        workers = Workers(url, name, n, tmp, *extra)
        deadline = time.monotonic() + 90
        while not workers.joined():
            if any(p.poll() is not None for p in workers.processes):
                break  # a worker failed: let the caller see its exit status and log
            if time.monotonic() > deadline:
                workers.kill_all()
                pytest.fail("workers did not start: " + workers.stderr(0))
            time.sleep(0.05)
    return workers


def create(capsys, url: str, budget: int = BUDGET) -> str:
    name = f"w-{uuid.uuid4().hex[:8]}"
    code, out, err = cli(capsys, "create-study", *search(budget), "--storage", url,
                         "--study-name", name)
    assert code == 0, err
    assert out == f"{name}\n"
    return name


def assert_same_as_reference(url: str, name: str, reference) -> None:
    stored, points = reference
    assert contents(url, name) == stored
    assert front(url, name) == points
    doc = work_doc(url, name)
    assert doc["finished"] == "budget" and evaluated_in(doc) == BUDGET


def run_workers(capsys, url: str, n: int, tmp: Path, reference, attempts: int = 3) -> Workers:
    """n workers on a fresh study must store exactly the one-worker study.  On a loaded
    machine the first worker may finish before the others have started; the study is
    then repeated (up to ``attempts`` times) until the work was really shared."""
    for attempt in range(attempts):
        name = create(capsys, url)
        workers = start_workers(url, name, n, tmp)
        try:
            codes = workers.wait()
        finally:
            workers.kill_all()
        assert codes == [0] * n, [workers.stderr(i) for i in range(n)]
        assert_same_as_reference(url, name, reference)
        shares = [workers.evaluated_here(i) for i in range(n)]
        assert sum(shares) == BUDGET  # every stored design counted once, by its worker
        if sum(share > 0 for share in shares) >= 2:  # the work was shared
            return workers
    raise AssertionError(f"one worker did all the work in {attempts} attempts: {shares}")


@pytest.mark.slow
def test_four_workers_on_postgresql_store_exactly_what_one_worker_stores(
    postgres_url, reference, capsys, tmp_path
):
    run_workers(capsys, postgres_url, 4, tmp_path, reference)


@pytest.mark.slow
def test_four_workers_on_a_journal_file_store_exactly_what_one_worker_stores(
    reference, capsys, tmp_path
):
    run_workers(capsys, str(tmp_path / "studies.log"), 4, tmp_path, reference)


def _holds_claim(doc: dict | None, pid: int) -> bool:
    if not doc or doc["finished"]:
        return False
    markers = [m for m in doc["chunks"] if not m["done"]] + [doc.get("close") or {}]
    return any((m.get("owner") or {}).get("pid") == pid for m in markers)


@pytest.mark.slow
def test_a_worker_killed_holding_a_claim_loses_and_duplicates_nothing(
    postgres_url, reference, capsys, tmp_path
):
    name = create(capsys, postgres_url)
    workers = start_workers(postgres_url, name, 3, tmp_path, "--lease-seconds", "2")
    victim = workers.processes[1]
    try:
        killed = False
        deadline = time.monotonic() + 90
        while not killed and time.monotonic() < deadline:
            victim.send_signal(signal.SIGSTOP)  # freeze it, then look at what it holds
            doc = work_doc(postgres_url, name)
            if doc and doc["finished"]:
                victim.send_signal(signal.SIGCONT)
                break
            if evaluated_in(doc) > 0 and _holds_claim(doc, victim.pid):
                victim.kill()
                victim.wait()
                killed = True
            else:
                victim.send_signal(signal.SIGCONT)
                time.sleep(0.002)
        assert killed, "the study finished before the victim could be caught holding a claim"
        survivors = [workers.processes[0], workers.processes[2]]
        for process in survivors:
            process.wait(timeout=150)
    finally:
        workers.kill_all()
    assert victim.returncode == -signal.SIGKILL
    assert [p.returncode for p in survivors] == [0, 0], workers.stderr(0) + workers.stderr(2)
    assert_same_as_reference(postgres_url, name, reference)
    assert "taking over" in workers.stderr(0) + workers.stderr(2)  # the victim's claim


@pytest.mark.slow
def test_workers_ride_out_a_database_restart(postgres_server, reference, capsys, tmp_path):
    url = postgres_server.url
    name = create(capsys, url)
    workers = start_workers(url, name, 2, tmp_path)
    try:
        deadline = time.monotonic() + 90
        while evaluated_in(work_doc(url, name)) < 100:
            assert time.monotonic() < deadline and all(
                p.poll() is None for p in workers.processes
            ), workers.stderr(0)
            time.sleep(0.01)
        postgres_server.stop()
        stopped = time.monotonic()
        time.sleep(3)
        postgres_server.start()
        outage = time.monotonic() - stopped
        codes = workers.wait()
    finally:
        if not postgres_server.running:
            postgres_server.start()
        workers.kill_all()
    assert codes == [0, 0], workers.stderr(0) + workers.stderr(1)
    logs = workers.stderr(0) + workers.stderr(1)
    assert "storage unavailable" in logs  # they met the outage and retried through it
    assert outage >= 3
    assert_same_as_reference(url, name, reference)


# -- leases, in one process ---------------------------------------------------------------------
def small_config(budget: int = 150) -> StudyConfig:
    return StudyConfig(
        workload=WORKLOAD,
        platform="vck190",
        space=SpaceOptions(family="spatial").to_dict(),
        seed=SEED,
        budget=budget,
        population_size=50,
        chunk_size=10,
    )


@pytest.fixture(scope="module")
def small_reference(tmp_path_factory) -> dict:
    url = str(tmp_path_factory.mktemp("small") / "studies.log")
    config = small_config()
    study = create_ssropt_study(open_storage(url), "ref", config)
    summary = run_study(study, config, progress=False)
    assert summary.finished and summary.evaluated == summary.evaluated_here == 150
    return contents(url, "ref")


def test_a_claim_of_a_vanished_worker_elsewhere_is_taken_after_its_lease(
    small_reference, tmp_path, monkeypatch, caplog
):
    url = str(tmp_path / "studies.log")
    config = small_config()
    study = create_ssropt_study(open_storage(url), "s", config)
    ghost = Worker(study, config, lease_seconds=0.5, progress=False)
    ghost.me = dataclasses.replace(ghost.me, machine="another-machine")  # never seen dead
    ghost.leases = LeaseClock(ghost.me)
    held = ghost._plan(None)  # plans generation 0 and claims all of it, then vanishes
    assert held is not None and len(held.chunks) == 5

    waits = []
    real_sleep = time.sleep
    monkeypatch.setattr("ssropt.engine.worker.time.sleep", lambda s: (waits.append(s), real_sleep(s)))
    with caplog.at_level("INFO", logger="ssropt.engine.worker"):
        summary = run_study(study, config, progress=False, lease_seconds=5)
    assert summary.finished and summary.evaluated_here == 150
    assert waits, "the ghost's claims were taken before their lease ran out"
    assert "its lease expired" in caplog.text
    assert contents(url, "s") == small_reference


def test_the_heartbeat_renews_what_a_worker_holds(tmp_path):
    url = str(tmp_path / "studies.log")
    config = small_config()
    study = create_ssropt_study(open_storage(url), "s", config)
    worker = Worker(study, config, lease_seconds=60, progress=False)
    held = worker._plan(None)
    worker._hold(held)
    now = [1000.0]
    observer = LeaseClock({"id": "observer", "machine": "elsewhere"}, clock=lambda: now[0])
    before = work_doc(url, "s")["chunks"][0]
    observer.observe("c0", before)
    worker._renew()
    after = work_doc(url, "s")["chunks"][0]
    assert after["beat"] == before["beat"] + 1 and after["owner"] == before["owner"]
    now[0] = 1061.0
    assert observer.expired("c0", before)  # unrenewed for longer than the 60 s lease
    assert not observer.expired("c0", after)  # renewed: its clock starts again
    now[0] = 1061.0 + 59
    assert not observer.expired("c0", after)
    now[0] = 1061.0 + 61
    assert observer.expired("c0", after)
    worker._release()
    assert work_doc(url, "s")["chunks"][0]["owner"] is None


def test_an_older_study_with_a_checkpoint_but_no_work_plan_resumes(small_reference, tmp_path):
    """Studies stored before workers existed: generations and checkpoint written together."""
    url = str(tmp_path / "studies.log")
    config = small_config()
    storage = open_storage(url)
    study = create_ssropt_study(storage, "old", config)
    space = config.build_space()
    strategy = make_strategy("nsga2", space, config.seed, config.population_size)
    evaluated = 0
    for generation in range(2):  # what the single-process loop used to write
        result = space.evaluate(strategy.ask())
        strategy.tell(result.genomes, result.F, result.G)
        records = trial_records(space, result, generation, evaluated)
        evaluated += len(records)
        write_trials(storage, study._study_id, records,
                     encode_state(generation + 1, evaluated, strategy.state_dict()))
    summary = run_study(study, config, progress=False)
    assert summary.finished and summary.evaluated_here == 50
    assert contents(url, "old") == small_reference


def test_an_older_study_with_a_pickled_checkpoint_is_refused_in_one_line(capsys, tmp_path):
    """Format-1 checkpoints held pickled library objects: never unpickled, one error line."""
    url = str(tmp_path / "studies.log")
    config = small_config()
    storage = open_storage(url)
    create_ssropt_study(storage, "old", config)
    space = config.build_space()
    strategy = make_strategy("nsga2", space, config.seed, config.population_size)
    result = space.evaluate(strategy.ask())
    strategy.tell(result.genomes, result.F, result.G)
    algorithm = strategy._algorithm
    problem, algorithm.problem = algorithm.problem, None
    envelope = {  # what an older ssropt pickled: the pymoo algorithm inside
        "format": 1, "strategy": "nsga2", "settings": strategy._settings(), "generation": 1,
        "state": {"algorithm": pickle.dumps(algorithm), "exhausted": False},
    }
    algorithm.problem = problem
    blob = base64.b64encode(pickle.dumps(envelope)).decode("ascii")
    write_trials(storage, storage.get_study_id_from_name("old"),
                 trial_records(space, result, 0, 0),
                 {CHECKPOINT_KEY: {"generation": 1, "evaluated": 50, "state": blob}})
    code, out, err = cli(capsys, "resume", "--storage", url, "--study-name", "old", "--quiet")
    assert code == 2 and out == ""
    assert err.startswith("error: this study was written by an older ssropt, whose checkpoint "
                          "of the 'nsga2' strategy's state (format 1, pickled library objects) "
                          "cannot be restored safely: start a new study with `ssropt run`")
    assert err.count("\n") == 1
    assert len(load_trials_of(url, "old")) == 50  # nothing added, nothing lost


def load_trials_of(url: str, name: str) -> list:
    return optuna.load_study(study_name=name, storage=open_storage(url)).get_trials()


def test_a_generation_cut_by_the_budget_stays_open_until_the_budget_is_raised(
    small_reference, tmp_path
):
    url = str(tmp_path / "studies.log")
    config = small_config(budget=120)
    study = create_ssropt_study(open_storage(url), "s", config)
    reports = []
    summary = run_study(study, config, progress=False, on_generation=reports.append)
    assert summary.finished and summary.evaluated == 120 and summary.generations == 2
    # the cut generation is reported once its last design within the budget is stored
    assert [(r.generation, r.evaluated, len(r.result.F)) for r in reports] == [
        (1, 50, 50), (2, 100, 50), (3, 120, 20)
    ]
    doc = work_doc(url, "s")
    assert (doc["generation"], doc["size"], doc["limit"], doc["finished"]) == (2, 50, 20, "budget")
    assert contents(url, "s") == {i: v for i, v in small_reference.items() if i < 120}
    study.set_user_attr("ssropt:budget", 150)  # what `ssropt resume --budget 150` does
    reports.clear()
    summary = run_study(study, config, progress=False, on_generation=reports.append)
    assert summary.evaluated_here == 30 and summary.generations == 3
    assert [(r.generation, r.evaluated, len(r.result.F)) for r in reports] == [(3, 150, 50)]
    assert contents(url, "s") == small_reference  # as if it had run to 150 at once


def test_a_callback_that_raises_leaves_no_claim_behind(small_reference, tmp_path):
    """on_generation raising stops the worker; the claims it held on the next generation
    are given back at once, so a resume starts without waiting for a lease to expire."""
    url = str(tmp_path / "studies.log")
    config = small_config()
    study = create_ssropt_study(open_storage(url), "s", config)

    def fail(report):
        if report.generation == 1:  # the worker already holds chunks of generation 2
            raise RuntimeError("the caller's callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        run_study(study, config, progress=False, on_generation=fail)
    doc = work_doc(url, "s")
    owners = [c.get("owner") for c in doc["chunks"] if not c.get("done")] + [(doc.get("close") or {}).get("owner")]
    assert not any(owners), doc
    summary = run_study(study, config, progress=False)
    assert summary.finished and summary.evaluated == 150
    assert contents(url, "s") == small_reference


def test_trials_left_running_are_failed_when_a_worker_starts(small_reference, tmp_path):
    url = str(tmp_path / "studies.log")
    config = small_config()
    study = create_ssropt_study(open_storage(url), "s", config)
    stale = study.ask()  # a RUNNING trial whose client died
    summary = run_study(study, config, progress=False)
    assert summary.finished
    trials = optuna.load_study(study_name="s", storage=open_storage(url)).get_trials()
    assert trials[stale.number].state == optuna.trial.TrialState.FAIL
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == len(trials) - 1 == 150
    assert {t.system_attrs[INDIVIDUAL_KEY]: tuple(t.values) for t in complete} == {
        i: v[2] for i, v in small_reference.items()
    }


def test_generation_reports_cover_every_generation_on_in_memory_storage(small_reference):
    config = small_config()
    study = create_ssropt_study(optuna.storages.InMemoryStorage(), "mem", config)
    reports = []
    summary = run_study(study, config, progress=False, on_generation=reports.append)
    assert [r.generation for r in reports] == [1, 2, 3]
    assert [r.evaluated for r in reports] == [50, 100, 150]
    assert summary.generations == 3 and summary.evaluated == 150
    by_individual = {t.system_attrs[INDIVIDUAL_KEY]: t for t in study.get_trials()}
    for k, report in enumerate(reports):
        latency = list(report.result.evaluation.latency_s)
        assert latency == [by_individual[50 * k + i].values[0] for i in range(50)]
    assert {i: v[:3] for i, v in small_reference.items()} == {
        t.system_attrs[INDIVIDUAL_KEY]: (
            t.system_attrs[GENERATION_KEY], tuple(t.system_attrs[GENOME_KEY]), tuple(t.values)
        )
        for t in study.get_trials()
    }


# -- storage: the compare-and-set the protocol stands on ----------------------------------------
@pytest.fixture(params=["journal", "sqlite", "postgresql"])
def any_url(request, tmp_path) -> str:
    if request.param == "journal":
        return str(tmp_path / "studies.log")
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'studies.db'}"
    return request.getfixturevalue("postgres_url")


def test_update_study_is_a_compare_and_set_across_storage_instances(any_url):
    """Four threads, each with its own storage object (so only the storage's own lock can
    order them), add 1 to a counter and store one trial, 15 times each: no lost update, and
    the ids returned name the trials written."""
    from optuna.distributions import IntDistribution

    name = f"cas-{uuid.uuid4().hex[:8]}"
    study_id = optuna.create_study(
        storage=open_storage(any_url), study_name=name, directions=["minimize"]
    )._study_id
    written: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def increment(storage, tag: int) -> None:
        def decide(attrs: dict) -> StudyUpdate:
            count = attrs.get("counter", 0) + 1
            record = TrialRecord(
                params={"x": count}, distributions={"x": IntDistribution(0, 1000)},
                values=(float(count),), system_attrs={"tag": tag},
            )
            return StudyUpdate(attrs={"counter": count}, records=[record], result=count)

        for _ in range(15):
            update, ids = retry_unavailable(
                lambda: update_study(storage, study_id, ["counter"], decide), "count"
            )
            written.append((update.result, ids[0]))

    def run(tag: int) -> None:
        try:
            increment(open_storage(any_url), tag)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(tag,)) for tag in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    storage = open_storage(any_url)
    assert read_study_attrs(storage, study_id, ["counter", "absent"]) == {"counter": 60}
    assert sorted(count for count, _ in written) == list(range(1, 61))
    for (count, trial_id), trial in zip(written, read_trials(storage, [i for _, i in written])):
        assert trial.values == [float(count)] and trial.trial_id == trial_id


def test_update_study_of_a_missing_study_is_one_storage_error(tmp_path):
    storage = open_storage(str(tmp_path / "studies.log"))
    with pytest.raises(StorageError, match="does not exist"):
        update_study(storage, 7, ["k"], lambda attrs: StudyUpdate(attrs={"k": 1}))


def test_retries_back_off_while_the_storage_is_away_and_give_up_after_the_limit():
    now = [0.0]
    pauses = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    failures = iter([StorageUnavailable("down"), OSError("disk"), StorageUnavailable("down")])

    def flaky():
        error = next(failures, None)
        if error is not None:
            raise error
        return "ok"

    assert retry_unavailable(flaky, "work", sleep=sleep, clock=lambda: now[0]) == "ok"
    assert pauses == [0.1, 0.2, 0.4]

    def down():
        raise StorageUnavailable("connection refused")

    pauses.clear()
    with pytest.raises(StorageUnavailable, match="connection refused") as error:
        retry_unavailable(down, "store designs", max_seconds=60, sleep=sleep,
                          clock=lambda: now[0])
    assert "\n" not in str(error.value) and "store designs" in str(error.value)
    assert pauses[:6] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2] and max(pauses) == 5.0
    assert 55 <= sum(pauses) <= 60

    def wrong():
        raise StorageError("study id 3 does not exist")

    pauses.clear()
    with pytest.raises(StorageError):
        retry_unavailable(wrong, "work", sleep=sleep, clock=lambda: now[0])
    assert pauses == []  # a real error is not retried


# -- the command line ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    storage = tmp_path_factory.mktemp("finished") / "studies.log"
    code = main(["run", *map(str, search(100)), "--storage", str(storage),
                 "--study-name", "done", "--quiet"])
    assert code == 0
    return storage


def test_create_study_stores_the_settings_and_evaluates_nothing(capsys, tmp_path):
    storage = tmp_path / "studies.log"
    code, out, err = cli(capsys, "create-study", *search(), "--storage", storage)
    assert code == 0, err
    name = out.strip()
    assert re.fullmatch(r"deit-t-spatial-nsga2-\d{8}-\d{6}", name)
    assert f"ssropt worker --storage {storage} --study-name {name}" in err
    code, listing, _ = cli(capsys, "studies", "--storage", storage)
    assert listing.startswith(f"{name}: 0 trials;") and f"budget {BUDGET}" in listing
    study = optuna.load_study(study_name=name, storage=open_storage(str(storage)))
    assert study.user_attrs["ssropt:chunk_size"] == 10
    assert study.user_attrs["ssropt:seed"] == SEED


def test_worker_on_a_finished_study_has_nothing_to_do(finished, capsys):
    before = finished.read_bytes()
    code, out, err = cli(capsys, "worker", "--storage", finished, "--study-name", "done")
    assert code == 0 and out == ""
    assert err.count("\n") == 1 and "is finished" in err and "nothing to do" in err
    assert "--budget" in err  # says how to go on
    assert finished.read_bytes() == before


def test_worker_continues_a_study_whose_budget_was_raised(finished, capsys, tmp_path):
    storage = tmp_path / "studies.log"
    storage.write_bytes(finished.read_bytes())
    study = optuna.load_study(study_name="done", storage=open_storage(str(storage)))
    study.set_user_attr("ssropt:budget", 150)
    code, _, err = cli(capsys, "worker", "--storage", storage, "--study-name", "done",
                       "--no-progress")
    assert code == 0, err
    assert "50 designs evaluated here" in err and "150 designs in 3 generations, finished" in err
    assert sorted(contents(str(storage), "done")) == list(range(150))


WORKER_ERRORS = {
    "missing storage": ("worker", "--study-name", "x", "--storage", "{tmp}/none.log"),
    "missing study": ("worker", "--study-name", "nope", "--storage", "{finished}"),
    "not an ssropt study": ("worker", "--study-name", "plain", "--storage", "{finished}"),
    "lease 0": ("worker", "--study-name", "done", "--lease-seconds", "0",
                "--storage", "{finished}"),
    "negative time limit": ("worker", "--study-name", "done", "--time-limit", "-1",
                            "--storage", "{finished}"),
    "no study name": ("worker", "--storage", "{finished}"),
    "create an existing name": ("create-study", *SEARCH, "--study-name", "done",
                                "--storage", "{finished}"),
    "create with budget 0": ("create-study", *SEARCH, "--budget", "0",
                             "--storage", "{tmp}/new.log"),
    "create with an unknown strategy": ("create-study", *SEARCH, "--strategy", "annealing",
                                        "--storage", "{tmp}/new.log"),
    "create with chunk size 0": ("create-study", *SEARCH, "--chunk-size", "0",
                                 "--storage", "{tmp}/new.log"),
}


@pytest.mark.parametrize("argv", WORKER_ERRORS.values(), ids=WORKER_ERRORS)
def test_bad_worker_and_create_study_input_is_one_error_line(argv, finished, capsys, tmp_path):
    storage = tmp_path / "copy.log"
    storage.write_bytes(finished.read_bytes())
    optuna.create_study(storage=open_storage(str(storage)), study_name="plain")
    before = storage.read_bytes()
    # argparse refuses these arguments; the line then names the command
    refused = {WORKER_ERRORS[name] for name in ("lease 0", "negative time limit", "no study name",
                                                "create with budget 0", "create with chunk size 0")}
    prefix = f"ssropt {argv[0]}: error: " if argv in refused else "error:"
    argv = [a.format(tmp=tmp_path, finished=storage) for a in argv]
    code, out, err = cli(capsys, *argv)
    assert code == 2
    assert err.startswith(prefix) and err.count("\n") == 1, err
    assert "Traceback" not in err and out == ""
    assert storage.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["copy.log"]  # no new storage, no lock left


def test_worker_console_script_reports_a_missing_study_in_one_line(finished):
    done = subprocess.run(
        [*SSROPT, "worker", "--storage", str(finished), "--study-name", "nope"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: no study named 'nope'") and done.stderr.count("\n") == 1


def test_work_document_is_plain_json(finished):
    doc = work_doc(str(finished), "done")
    assert json.loads(json.dumps(doc)) == doc
    assert doc["generation"] == 2 and doc["first"] == 100 and doc["finished"] == "budget"
