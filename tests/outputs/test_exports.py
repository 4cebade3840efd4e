"""Complete exports: every figure of a front design in CSV and JSON, to files or stdout,
every trial with ``--all``, and a pandas DataFrame from Python."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import optuna
import pytest

import ssropt
from ssropt.cli import main
from ssropt.errors import SsroptError
from ssropt.outputs.rows import trial_feasible

RESOURCES = ("aie", "plio_in", "plio_out", "bram", "uram", "columns")
FIGURES = ("power_w", "energy_j_per_image", "images_per_s_per_w")


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[str, optuna.Study]:
    url = str(tmp_path_factory.mktemp("exports") / "studies.log")
    config = ssropt.StudyConfig(
        workload={"model": "deit-t", "tokens": 32, "blocks": 2, "embed_and_head": False},
        platform="vck190", space=ssropt.SpaceOptions(batch_sizes=(1, 2, 4)), budget=100,
        population_size=25, seed=4,
    )
    study = ssropt.create_study(config, "x", storage=url)
    ssropt.run(study)
    return url, ssropt.load_study("x", storage=url)


def cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_front_json_and_csv_carry_power_energy_efficiency_and_resources(study, capsys, tmp_path):
    url, loaded = study
    trials = {t.number: t for t in loaded.trials}
    code, _, err = cli(capsys, "front", "--storage", url, "--study-name", "x",
                       "--json", tmp_path / "f.json", "--csv", tmp_path / "f.csv")
    assert code == 0, err
    rows = json.loads((tmp_path / "f.json").read_text())
    table = list(csv.DictReader((tmp_path / "f.csv").open()))
    assert rows and len(table) == len(rows)
    for row, line in zip(rows, table):
        user = trials[row["trial"]].user_attrs
        for key in ("images_per_s", *FIGURES):
            assert row[key] == pytest.approx(user[key]) and float(line[key]) == pytest.approx(user[key])
        assert row["resources"] == {k: user[k] for k in RESOURCES}
        assert {k: int(line[k]) for k in RESOURCES} == row["resources"]
        assert len(row["accelerators"]) == row["n_accelerators"]
        assert line["accelerators"].count(";") == row["n_accelerators"] - 1
        assert json.loads(line["assignment"]) == row["assignment"]


def test_dash_writes_the_export_to_stdout_and_nothing_else(study, capsys):
    url, _ = study
    code, out, _ = cli(capsys, "front", "--storage", url, "--study-name", "x", "--json", "-")
    assert code == 0 and json.loads(out)
    code, out, _ = cli(capsys, "front", "--storage", url, "--study-name", "x", "--csv", "-")
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and table and "power_w" in table[0]
    code, out, err = cli(capsys, "front", "--storage", url, "--study-name", "x",
                         "--csv", "-", "--json", "-")
    assert code == 2 and out == "" and err.startswith("error:") and "standard output" in err


def test_all_exports_every_trial_with_feasibility_front_membership_and_violations(study, capsys):
    url, loaded = study
    code, out, _ = cli(capsys, "front", "--storage", url, "--study-name", "x", "--all",
                       "--json", "-")
    rows = json.loads(out)
    assert code == 0 and [r["trial"] for r in rows] == [t.number for t in loaded.trials]
    names = loaded.user_attrs["ssropt:constraint_names"]
    front = {r["trial"] for r in ssropt.load_front(loaded)}
    for row, trial in zip(rows, loaded.trials):
        assert row["feasible"] == trial_feasible(trial)
        assert row["on_front"] == (row["trial"] in front)
        values = dict(zip(names, trial.system_attrs["constraints"]))
        assert row["violations"] == {k: v for k, v in values.items() if v > 0}
    assert any(not r["feasible"] for r in rows) and sum(r["on_front"] for r in rows) == len(front)


def test_front_dataframe_has_the_csv_columns(study, capsys, tmp_path):
    url, loaded = study
    frame = ssropt.front_dataframe(url, "x")
    assert cli(capsys, "front", "--storage", url, "--study-name", "x", "--csv", tmp_path / "f.csv")[0] == 0
    header = next(csv.reader((tmp_path / "f.csv").open()))
    assert list(frame.columns) == header
    assert frame["trial"].tolist() == [r["trial"] for r in ssropt.load_front(loaded)]
    every = ssropt.front_dataframe(loaded, all_trials=True)
    assert len(every) == len(loaded.trials) and {"feasible", "on_front", "violations"} <= set(every)


def test_front_dataframe_without_pandas_says_how_to_install_it(study, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(SsroptError, match=r"pip install -e \".\[pandas\]\""):
        ssropt.front_dataframe(study[1])


def test_readme_python_api_example_runs(tmp_path, monkeypatch):
    """The README's Python API example, as written, in an empty directory."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md (Python API)", "exec"), namespace)
    assert namespace["front"] and len(namespace["table"]) == len(namespace["front"])
    assert (tmp_path / "studies.log").exists()
