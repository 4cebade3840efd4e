"""ssropt.storage: URLs open the right storage, batches round-trip through Optuna's readers."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._base import BaseJournalSnapshot
from optuna.trial import TrialState

from ssropt.storage import (
    DEFAULT_STORAGE,
    StorageError,
    TrialRecord,
    constraint_values,
    open_storage,
    stored_constraints,
    write_trials,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)

DISTRIBUTIONS = {
    "accelerators": IntDistribution(1, 12),
    "tile": IntDistribution(1, 1024, log=True),
    "aie_step": IntDistribution(0, 64, step=8),
    "ratio": FloatDistribution(0.0, 1.0),
    "clock": FloatDistribution(0.1, 10.0, log=True),
    "dtype": CategoricalDistribution(["int8", "fp16", None, 4]),
}


def make_records(n: int, start: int = 0) -> list[TrialRecord]:
    rng = np.random.default_rng(start)
    records = []
    for i in range(start, start + n):
        params = {
            "accelerators": np.int64(1 + i % 12),  # numpy scalars are accepted
            "tile": int(2 ** (i % 10)),
            "aie_step": 8 * (i % 9),
            "ratio": float(rng.random()),
            "clock": float(np.exp(rng.uniform(np.log(0.1), np.log(10.0)))),
            "dtype": ["int8", "fp16", None, 4][i % 4],
        }
        records.append(
            TrialRecord(
                params=params,
                distributions=DISTRIBUTIONS,
                values=(np.float64(rng.random()), float(rng.random() * 1e4)),
                constraints={f"c{j}": float(rng.normal()) for j in range(17)} | {"inf": -math.inf},
                user_attrs={
                    "energy": np.float32(0.5),
                    "resources": np.arange(3),
                    "tag": f"d{i}",
                    "nested": {"a": [1, 2.5, None]},
                },
                system_attrs={"NSGAIISampler:generation": i // 4},
            )
        )
    return records


def expected_trial(record: TrialRecord) -> optuna.trial.FrozenTrial:
    """What Optuna's own create_trial makes of the record (the reference encoding), the
    constraints as the list-valued ``constraints`` attribute in the record's order."""
    system_attrs = dict(record.system_attrs)
    if record.constraints:
        system_attrs["constraints"] = list(record.constraints.values())
    return optuna.trial.create_trial(
        state=record.state,
        values=None if record.values is None else [float(v) for v in record.values],
        params={k: v.item() if isinstance(v, np.generic) else v for k, v in record.params.items()},
        distributions=record.distributions,
        user_attrs=json.loads(json.dumps(record.user_attrs, default=lambda o: o.tolist())),
        system_attrs=system_attrs,
    )


def assert_same_trial(got: optuna.trial.FrozenTrial, want: optuna.trial.FrozenTrial) -> None:
    assert got.state == want.state
    assert got.params == want.params
    assert got.distributions == want.distributions
    assert got.values == want.values
    assert got.constraints == want.constraints
    assert got.user_attrs == want.user_attrs
    assert got.system_attrs == want.system_attrs
    assert got.datetime_start is not None and got.datetime_complete is not None


@pytest.fixture(params=["journal", "sqlite"])
def url(request, tmp_path: Path) -> str:
    if request.param == "journal":
        return str(tmp_path / "studies.log")
    return f"sqlite:///{tmp_path / 'studies.db'}"


def new_study(url: str, name: str = "s", n_objectives: int = 2) -> optuna.Study:
    return optuna.create_study(
        storage=open_storage(url),
        study_name=name,
        directions=["minimize", "maximize"][:n_objectives],
    )


def test_open_storage_picks_journal_for_paths_and_rdb_for_urls(tmp_path: Path) -> None:
    assert isinstance(open_storage(str(tmp_path / "a.log")), optuna.storages.JournalStorage)
    assert isinstance(open_storage(f"sqlite:///{tmp_path}/a.db"), optuna.storages.RDBStorage)


def test_open_storage_none_is_the_default_journal_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert isinstance(open_storage(None), optuna.storages.JournalStorage)
    assert (tmp_path / DEFAULT_STORAGE).is_file()


def test_records_round_trip_through_load_study(url: str) -> None:
    study = new_study(url)
    first, second = make_records(7), make_records(5, start=7)
    write_trials(study._storage, study._study_id, first, {"ssropt:checkpoint": {"gen": 0}})
    write_trials(
        study._storage,
        study._study_id,
        second,
        {"ssropt:checkpoint": {"gen": 1, "rng": [1, 2]}, "ssropt:seed": 42},
    )

    loaded = optuna.load_study(study_name="s", storage=open_storage(url))
    trials = loaded.get_trials()
    assert [t.number for t in trials] == list(range(12))
    for got, record in zip(trials, first + second):
        assert_same_trial(got, expected_trial(record))
    names = list(first[0].constraints)
    assert stored_constraints(trials[3].system_attrs, names)[3] == first[3].constraints["c3"]
    assert stored_constraints(trials[0].system_attrs, names)[-1] == -math.inf
    assert loaded._storage.get_study_system_attrs(loaded._study_id) == {
        "ssropt:checkpoint": {"gen": 1, "rng": [1, 2]},
        "ssropt:seed": 42,
    }


def test_written_trials_equal_what_optuna_add_trials_writes(url: str) -> None:
    ours, theirs = new_study(url, "ours"), new_study(url, "theirs")
    records = make_records(6)
    write_trials(ours._storage, ours._study_id, records)
    theirs.add_trials([expected_trial(r) for r in records])
    for a, b in zip(ours.get_trials(), theirs.get_trials()):
        assert_same_trial(a, b)
        assert a.number == b.number


def test_batches_interleave_with_optunas_own_trials(url: str) -> None:
    study = new_study(url)
    study.add_trial(expected_trial(make_records(1)[0]))
    write_trials(study._storage, study._study_id, make_records(3, start=1))
    trial = study.ask(DISTRIBUTIONS)  # Optuna's define-and-run path still works afterwards
    study.tell(trial, [1.0, 2.0])
    write_trials(study._storage, study._study_id, make_records(2, start=5))
    trials = optuna.load_study(study_name="s", storage=open_storage(url)).get_trials()
    assert [t.number for t in trials] == list(range(7))
    assert trials[4].values == [1.0, 2.0]


def test_failed_pruned_and_single_objective_records(url: str) -> None:
    study = new_study(url, n_objectives=1)
    params = {"accelerators": 3}
    dists = {"accelerators": DISTRIBUTIONS["accelerators"]}
    records = [
        TrialRecord(params, dists, (2.5,)),
        TrialRecord(params, dists, None, state=TrialState.FAIL, user_attrs={"why": "oom"}),
        TrialRecord(params, dists, (7.0,), state=TrialState.PRUNED),
        TrialRecord(params, dists, None, state=TrialState.PRUNED),
    ]
    write_trials(study._storage, study._study_id, records)
    trials = optuna.load_study(study_name="s", storage=open_storage(url)).get_trials()
    assert [t.state for t in trials] == [r.state for r in records]
    assert [t.values for t in trials] == [[2.5], None, [7.0], None]
    assert trials[0].value == 2.5
    assert trials[1].user_attrs == {"why": "oom"}


def test_study_system_attrs_alone_and_empty_batches(url: str) -> None:
    study = new_study(url)
    write_trials(study._storage, study._study_id, [])
    write_trials(study._storage, study._study_id, [], {"checkpoint": 3})
    storage = open_storage(url)
    assert storage.get_study_system_attrs(study._study_id) == {"checkpoint": 3}
    assert storage.get_all_trials(study._study_id) == []


@pytest.mark.parametrize(
    "change, message",
    [
        ({"values": (float("nan"), 1.0)}, "NaN"),
        ({"values": (1.0,)}, "needs 2 values"),
        ({"values": None}, "needs 2 values"),
        ({"values": (1.0, 2.0, 3.0), "state": TrialState.PRUNED}, "needs 2 values"),
        ({"params": {"accelerators": 99}}, "outside"),
        ({"params": {"accelerators": 1, "extra": 2}}, "different parameters"),
        ({"constraints": {"dsp": float("nan")}}, "NaN"),
        ({"state": TrialState.RUNNING}, "RUNNING"),
        ({"state": TrialState.FAIL}, "values=None"),
        ({"user_attrs": {"model": object()}}, "cannot write the batch"),
    ],
)
def test_invalid_records_raise_and_write_nothing(url: str, change: dict, message: str) -> None:
    study = new_study(url)
    good = TrialRecord(
        {"accelerators": 1}, {"accelerators": DISTRIBUTIONS["accelerators"]}, (1.0, 2.0)
    )
    bad = TrialRecord(**{**good.__dict__, **change})
    with pytest.raises(StorageError, match=message) as error:
        write_trials(study._storage, study._study_id, [good, bad], {"checkpoint": 1})
    assert "\n" not in str(error.value)
    storage = open_storage(url)
    assert storage.get_all_trials(study._study_id) == []
    assert storage.get_study_system_attrs(study._study_id) == {}


def test_incompatible_distribution_with_stored_trials_is_rejected(url: str) -> None:
    study = new_study(url)
    write_trials(study._storage, study._study_id, make_records(1))
    record = TrialRecord(
        {"accelerators": 0.5}, {"accelerators": FloatDistribution(0, 1)}, (1.0, 2.0)
    )
    with pytest.raises(StorageError, match="incompatible"):
        write_trials(study._storage, study._study_id, [record])
    assert len(open_storage(url).get_all_trials(study._study_id)) == 1


def test_rdb_without_insert_returning_takes_the_row_by_row_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/noreturning.db"
    study = new_study(url)
    dialect = study._storage._backend.engine.dialect  # create_study wraps RDBStorage in a cache
    monkeypatch.setattr(dialect, "insert_executemany_returning_sort_by_parameter_order", False)
    records = make_records(5)
    write_trials(study._storage, study._study_id, records[:2])
    write_trials(study._storage, study._study_id, records[2:])
    trials = optuna.load_study(study_name="s", storage=open_storage(url)).get_trials()
    assert [t.number for t in trials] == list(range(5))
    for got, record in zip(trials, records):
        assert_same_trial(got, expected_trial(record))
    assert abs((trials[0].datetime_start - datetime.datetime.now()).total_seconds()) < 60


def _evaluated_records(n: int) -> tuple[list[TrialRecord], list[tuple]]:
    """Records stamped with evaluation windows well in the past, one per record."""
    base = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    windows = [(base + datetime.timedelta(seconds=10 * i),
                base + datetime.timedelta(seconds=10 * i + 1.25)) for i in range(n)]
    records = [
        dataclasses.replace(r, datetime_start=a, datetime_complete=b)
        for r, (a, b) in zip(make_records(n), windows)
    ]
    return records, windows


def _local(when: datetime.datetime) -> datetime.datetime:
    return when.astimezone().replace(tzinfo=None)  # how Optuna hands datetimes out


@pytest.mark.parametrize("where", ["journal", "sqlite", "sqlite-row-by-row"])
def test_trials_start_and_complete_at_their_evaluation_window(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "studies.log") if where == "journal" else f"sqlite:///{tmp_path / 's.db'}"
    study = new_study(url)
    if where == "sqlite-row-by-row":  # the RDB path of databases without RETURNING (MySQL)
        dialect = study._storage._backend.engine.dialect
        monkeypatch.setattr(dialect, "insert_executemany_returning_sort_by_parameter_order", False)
    records, windows = _evaluated_records(3)
    write_trials(study._storage, study._study_id, records)
    trials = optuna.load_study(study_name="s", storage=open_storage(url)).get_trials()
    assert [(t.datetime_start, t.datetime_complete) for t in trials] == [
        (_local(a), _local(b)) for a, b in windows
    ]
    assert trials[0].duration == datetime.timedelta(seconds=1.25)


def test_in_memory_trials_keep_their_evaluation_window() -> None:
    study = optuna.create_study(directions=["minimize", "maximize"])
    records, windows = _evaluated_records(2)
    write_trials(study._storage, study._study_id, records)
    assert [(t.datetime_start, t.datetime_complete) for t in study.trials] == [
        (_local(a), _local(b)) for a, b in windows
    ]


def test_naive_evaluation_times_are_refused(url: str) -> None:
    study = new_study(url)
    record = dataclasses.replace(make_records(1)[0], datetime_start=datetime.datetime(2026, 1, 1))
    with pytest.raises(StorageError, match="timezone-aware"):
        write_trials(study._storage, study._study_id, [record])


def test_constraints_are_one_list_that_every_reader_understands(url: str) -> None:
    """optuna-dashboard reads the list only; Optuna reads it too (as "0", "1", ...) and
    leaves infeasible trials out of best_trials; stored_constraints reads it by name."""
    study = new_study(url)
    dists = {"x": IntDistribution(0, 9)}
    write_trials(study._storage, study._study_id, [
        TrialRecord({"x": 1}, dists, (1.0, 100.0), constraints={"aie": 3.0, "bram": -1.0}),
        TrialRecord({"x": 2}, dists, (2.0, 50.0), constraints={"aie": -1.0, "bram": 0.0}),
    ])
    loaded = optuna.load_study(study_name="s", storage=open_storage(url))
    first = loaded.trials[0]
    assert first.system_attrs["constraints"] == [3.0, -1.0]
    assert not any(k.startswith("constraints:") for k in first.system_attrs)
    assert first.constraints == {"0": 3.0, "1": -1.0}
    assert [t.number for t in loaded.best_trials] == [1]
    assert stored_constraints(first.system_attrs, ["aie", "bram"]) == [3.0, -1.0]
    legacy = {"constraints:aie": 3.0, "constraints:bram": -1.0}  # what ssropt wrote before
    assert stored_constraints(legacy, ["bram", "aie"]) == [-1.0, 3.0]
    assert constraint_values(legacy) == [3.0, -1.0]


def test_unknown_study_id_raises(url: str) -> None:
    storage = open_storage(url)
    with pytest.raises(StorageError, match="study id 5"):
        write_trials(storage, 5, make_records(1))


def test_in_memory_storage_uses_the_public_api_fallback() -> None:
    study = optuna.create_study(directions=["minimize", "maximize"])
    records = make_records(3)
    write_trials(study._storage, study._study_id, records, {"checkpoint": 1})
    for got, record in zip(study.get_trials(), records):
        assert_same_trial(got, expected_trial(record))
    assert study._storage.get_study_system_attrs(study._study_id) == {"checkpoint": 1}


def test_cached_rdb_storage_of_a_study_sees_the_batch(tmp_path: Path) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/c.db", directions=["minimize"] * 2)
    study.add_trial(expected_trial(make_records(1)[0]))
    assert len(study.trials) == 1  # fills the _CachedStorage cache
    write_trials(study._storage, study._study_id, make_records(4, start=1))
    assert [t.number for t in study.trials] == list(range(5))


def test_journal_batch_is_one_append_including_the_checkpoint(tmp_path: Path) -> None:
    calls = []

    class CountingBackend(JournalFileBackend):
        def append_logs(self, logs):
            calls.append(len(logs))
            super().append_logs(logs)

    storage = optuna.storages.JournalStorage(CountingBackend(str(tmp_path / "j.log")))
    study = optuna.create_study(storage=storage, directions=["minimize", "maximize"])
    calls.clear()
    write_trials(storage, study._study_id, make_records(10), {"a": 1, "b": 2})
    assert calls == [12]


def test_journal_snapshot_is_saved_when_a_batch_crosses_the_interval(tmp_path: Path) -> None:
    class SnapshotBackend(JournalFileBackend, BaseJournalSnapshot):
        snapshot: bytes | None = None
        saves = 0

        def save_snapshot(self, snapshot: bytes) -> None:
            type(self).snapshot, type(self).saves = snapshot, type(self).saves + 1

        def load_snapshot(self) -> bytes | None:
            return type(self).snapshot

    path = str(tmp_path / "snap.log")
    storage = optuna.storages.JournalStorage(SnapshotBackend(path))
    study = optuna.create_study(storage=storage, study_name="s", directions=["minimize"] * 2)
    write_trials(storage, study._study_id, make_records(60))
    assert SnapshotBackend.saves == 0
    write_trials(storage, study._study_id, make_records(150, start=60))  # ids 60..209
    assert SnapshotBackend.saves == 1
    write_trials(storage, study._study_id, make_records(5, start=210))
    reopened = optuna.storages.JournalStorage(SnapshotBackend(path))  # snapshot + newer logs
    trials = optuna.load_study(study_name="s", storage=reopened).get_trials()
    assert [t.number for t in trials] == list(range(215))


def _optuna_cli() -> str:
    candidate = Path(sys.executable).with_name("optuna")
    return str(candidate) if candidate.exists() else (shutil.which("optuna") or "optuna")


@pytest.mark.parametrize("storage_class", ["JournalFileBackend", "JournalFileStorage", None])
def test_optuna_trials_cli_lists_the_written_trials(tmp_path: Path, storage_class) -> None:
    path = str(tmp_path / "cli.log")
    study = new_study(path, "cli-study")
    records = make_records(4)
    write_trials(study._storage, study._study_id, records, {"checkpoint": 0})
    command = [
        _optuna_cli(),
        "trials",
        "--storage",
        path,
        "--study-name",
        "cli-study",
        "-f",
        "json",
    ]
    if storage_class:
        command += ["--storage-class", storage_class]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [row["number"] for row in listed] == [0, 1, 2, 3]
    assert [row["values"] for row in listed] == [[float(v) for v in r.values] for r in records]
    assert listed[2]["params"]["tile"] == records[2].params["tile"]
    assert listed[2]["user_attrs"]["tag"] == "d2"


@pytest.mark.parametrize(
    "bad_url, message",
    [
        ("", "empty"),
        ("redis://localhost:6379", "unknown scheme"),
        ("postgres://user:hunter2@localhost/db", "did you mean postgresql"),
        ("{tmp}/missing-dir/studies.log", "does not exist"),
        ("{tmp}", "is a directory"),
        ("{tmp}/notes.txt", "not an Optuna journal"),
        ("{tmp}/real.db", "is an SQLite database"),
        ("sqlite:///{tmp}/missing-dir/studies.db", "does not exist"),
        ("sqlite:///{tmp}/notes.txt", "cannot open the database"),
        ("postgresql+psycopg2://user:hunter2@127.0.0.1:1/db", "driver missing"),
        ("mysql+pymysql://user:hunter2@127.0.0.1:1/db", "driver missing"),
        ("postgresql+nodriver://user:hunter2@127.0.0.1:1/db", "unknown database driver"),
        ("postgresql://user:hunter2@127.0.0.1:1/db", "cannot open the database"),
        ("postgresql://user:hunter2@localhost:port/db", "malformed URL"),
    ],
)
def test_bad_urls_raise_one_line_errors_and_create_no_file(
    tmp_path: Path, bad_url: str, message: str
) -> None:
    (tmp_path / "notes.txt").write_text("not a journal\n")
    optuna.storages.RDBStorage(f"sqlite:///{tmp_path}/real.db").engine.dispose()
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(StorageError, match=message) as error:
        open_storage(bad_url.format(tmp=tmp_path))
    text = str(error.value)
    assert "\n" not in text
    assert "hunter2" not in text
    assert sorted(os.listdir(tmp_path)) == before


def _postgres_study_name() -> str:
    # Unique, so the tests can share one database (also an external SSROPT_TEST_POSTGRES_URL).
    return f"ssropt-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def test_postgres_round_trip(postgres_url: str) -> None:
    url = postgres_url
    storage = open_storage(url)
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert storage.engine.dialect.name == "postgresql"
    name = _postgres_study_name()
    study = optuna.create_study(storage=storage, study_name=name, directions=["minimize"] * 2)
    try:
        records = make_records(25)
        write_trials(storage, study._study_id, records, {"checkpoint": 1})
        trials = optuna.load_study(study_name=name, storage=open_storage(url)).get_trials()
        assert [t.number for t in trials] == list(range(25))
        for got, record in zip(trials, records):
            assert_same_trial(got, expected_trial(record))
    finally:
        optuna.delete_study(study_name=name, storage=storage)


def test_postgres_batches_interleave_with_optuna_and_keep_the_checkpoint(
    postgres_url: str,
) -> None:
    """Several batches through the study's cached storage, Optuna's own trials in between,
    FAIL/PRUNED records and the study-level checkpoint, all read back by a fresh process's
    view (a new ``open_storage`` + ``optuna.load_study``)."""
    name = _postgres_study_name()
    study = new_study(postgres_url, name)
    try:
        first, second = make_records(4), make_records(3, start=5)
        second[1] = TrialRecord(
            second[1].params, DISTRIBUTIONS, None, state=TrialState.FAIL, user_attrs={"why": "x"}
        )
        second[2] = TrialRecord(
            second[2].params, DISTRIBUTIONS, (0.25, 3.0), state=TrialState.PRUNED
        )
        write_trials(study._storage, study._study_id, first, {"ssropt:checkpoint": {"gen": 0}})
        trial = study.ask(DISTRIBUTIONS)
        study.tell(trial, [1.0, 2.0])
        write_trials(
            study._storage,
            study._study_id,
            second,
            {"ssropt:checkpoint": {"gen": 1, "rng": [1, 2]}, "ssropt:seed": 42},
        )
        assert [t.number for t in study.trials] == list(range(8))  # the cache sees the batch

        loaded = optuna.load_study(study_name=name, storage=open_storage(postgres_url))
        trials = loaded.get_trials()
        assert [t.number for t in trials] == list(range(8))
        assert trials[4].values == [1.0, 2.0]
        for got, record in zip(trials[:4] + trials[5:], first + second):
            assert_same_trial(got, expected_trial(record))
        assert trials[0].system_attrs["constraints"][-1] == -math.inf
        assert loaded._storage.get_study_system_attrs(loaded._study_id) == {
            "ssropt:checkpoint": {"gen": 1, "rng": [1, 2]},
            "ssropt:seed": 42,
        }
    finally:
        optuna.delete_study(study_name=name, storage=open_storage(postgres_url))
