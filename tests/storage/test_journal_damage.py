"""Damaged journal files: every bad line is reported with its number and how to recover,
never an AssertionError, a codec message or a silently dropped trial; ``ssropt studies
--salvage`` copies every whole record into a new file."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna.distributions import IntDistribution

from ssropt.cli import main
from ssropt.storage import (
    JournalDamaged,
    TrialRecord,
    backend_for,
    inspect_journal,
    open_storage,
    write_trials,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def journal(tmp_path: Path, n_trials: int = 6) -> Path:
    """A journal with one study ``s`` of ``n_trials`` trials, one record (line) each."""
    path = tmp_path / "studies.log"
    storage = open_storage(str(path))
    study_id = backend_for(storage).create_study("s", ["minimize"], ["x"], {"seed": 1}, {})
    records = [
        TrialRecord({"x": i}, {"x": IntDistribution(0, 100)}, (float(i),)) for i in range(n_trials)
    ]
    for record in records:
        write_trials(storage, study_id, [record])
    return path


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def studies(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["studies", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def trial_values(path: Path) -> list[float]:
    study = optuna.load_study(study_name="s", storage=open_storage(str(path)))
    return [t.values[0] for t in study.get_trials()]


def test_an_intact_journal_reads_back_every_trial(tmp_path):
    path = journal(tmp_path)
    assert trial_values(path) == [0, 1, 2, 3, 4, 5]
    assert inspect_journal(str(path)) == []


DAMAGE = {
    "unknown op code": (lambda rec: json.dumps({**rec, "op_code": 99}).encode() + b"\n",
                        "unknown op_code 99"),
    "corrupt JSON": (lambda rec: b'{"op_code": 4, "study_id": 0, "datetime_start": \n',
                     "not a whole JSON record"),
    "UTF-16 text": (lambda rec: '{"op_code":4}'.encode("utf-16-be") + b"\n",
                    "not a whole JSON record"),
    "bytes that are not UTF-8": (lambda rec: b"\xff\xfe\x00garbage\n", "not UTF-8 text"),
    "a JSON list": (lambda rec: b"[1, 2, 3]\n", "a JSON list, not a record"),
    "missing field": (lambda rec: json.dumps({"op_code": 2, "worker_id": "w"}).encode() + b"\n",
                      "without its field(s) study_id, user_attr"),
    "two attributes in one record": (
        lambda rec: json.dumps({"op_code": 2, "worker_id": "w", "study_id": 0,
                                "user_attr": {"a": 1, "b": 2}}).encode() + b"\n",
        "malformed user_attr"),
}


@pytest.mark.parametrize("where", ["middle", "end"])
@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE)
def test_a_damaged_line_is_reported_by_number_with_the_way_out(damage, where, tmp_path, capsys):
    path = journal(tmp_path)
    content = lines(path)
    make, problem = damage
    bad = make(json.loads(content[3]))
    number = 4 if where == "middle" else len(content) + 1
    if where == "middle":
        content[3] = bad
    else:
        content.append(bad)  # garbage appended: not skipped as Optuna does
    path.write_bytes(b"".join(content))
    before = path.read_bytes()
    with pytest.raises(JournalDamaged) as error:
        open_storage(str(path))
    assert error.value.line == number and problem in error.value.problem
    code, out, err = studies(capsys, "--storage", path)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: journal {str(path)!r} is damaged at line {number}: ")
    assert "--salvage" in err and "Traceback" not in err
    assert path.read_bytes() == before  # reporting changes nothing
    code, _, err = main_err(capsys, "front", "--storage", path, "--study-name", "s")
    assert code == 2 and f"line {number}" in err and err.count("\n") == 1


def main_err(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_damage_appended_while_a_storage_is_open_is_reported_too(tmp_path):
    path = journal(tmp_path)
    storage = open_storage(str(path))
    study_id = backend_for(storage).study_id("s")
    number = len(lines(path)) + 1
    with path.open("ab") as file:
        file.write(b'{"op_code": 42, "worker_id": "w"}\n')
    with pytest.raises(JournalDamaged, match=f"line {number}: unknown op_code 42"):
        backend_for(storage).read_study_attrs(study_id, ["x"])


def test_salvage_keeps_every_whole_record_of_a_torn_middle_record(tmp_path, capsys):
    path = journal(tmp_path)
    content = lines(path)
    first = next(i for i, line in enumerate(content) if json.loads(line)["op_code"] == 4)
    # a writer killed inside its append (trial x=1), then an append glued onto it (x=2)
    torn = first + 1
    content[torn] = content[torn][: len(content[torn]) // 2] + content[torn + 1]
    del content[torn + 1]
    path.write_bytes(b"".join(content))
    with pytest.raises(JournalDamaged, match=f"line {torn + 1}: not a whole JSON record"):
        open_storage(str(path))
    out_path = tmp_path / "salvaged.log"
    code, out, err = studies(capsys, "--storage", path, "--salvage", out_path)
    assert code == 0
    assert (f"line {torn + 1}: not a whole JSON record (torn or garbled): its whole record "
            "at the end kept") in err
    assert out.strip() == f"{out_path}: {len(content)} whole records of {path}; 1 damaged lines"
    # the trial of the torn record (x=1) is lost; the glued one (x=2) and all others are kept
    assert trial_values(out_path) == [0, 2, 3, 4, 5]
    code, out, _ = studies(capsys, "--storage", out_path)
    assert code == 0 and out.startswith("s: 5 trials;")


def test_salvage_drops_garbage_and_refuses_to_overwrite(tmp_path, capsys):
    path = journal(tmp_path)
    number = len(lines(path)) + 1
    with path.open("ab") as file:
        file.write(b"\x00\xff garbage\n")
    out_path = tmp_path / "salvaged.log"
    code, _, err = studies(capsys, "--storage", path, "--salvage", out_path)
    assert code == 0 and f"line {number}: not UTF-8 text: dropped" in err
    assert trial_values(out_path) == [0, 1, 2, 3, 4, 5]
    code, _, err = studies(capsys, "--storage", path, "--salvage", out_path)
    assert code == 2 and err.startswith("error: ") and "exists" in err


def test_an_incomplete_last_line_is_cut_with_a_warning_not_reported(tmp_path, caplog):
    """A writer killed inside its append leaves a torn last line: the complete records
    before it stay, the torn one is removed (logged), and the journal stays usable."""
    path = journal(tmp_path)
    with path.open("ab") as file:
        file.write(b'{"op_code": 4, "study_id": 0, "datetime_st')
    with caplog.at_level("WARNING", logger="ssropt.storage"):
        assert trial_values(path) == [0, 1, 2, 3, 4, 5]
    assert "removed an incomplete last entry" in caplog.text
    assert path.read_bytes().endswith(b"\n")
