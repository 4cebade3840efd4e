"""Studies survive upgrades: studies stored by an earlier ssropt (``tests/data/``, written by
``tests/data/make_fixtures.py``, interrupted mid-run) resume with the current code and end
exactly where an uninterrupted run of the same settings ends.

When a change alters what a study stores (trials, settings, checkpoint, work document),
this test fails: the change must read -- or migrate -- the old studies, not break them.
Regenerate the fixtures only for a change that deliberately leaves old studies behind.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import optuna
import pytest

from ssropt.cli import main
from ssropt.engine.records import GENERATION_KEY, GENOME_KEY, INDIVIDUAL_KEY
from ssropt.engine.runner import run_study
from ssropt.engine.study import create_ssropt_study, load_ssropt_study
from ssropt.storage import open_storage

DATA = Path(__file__).resolve().parent.parent / "data"
sys.path.insert(0, str(DATA))
from make_fixtures import BUDGET, STOP_AFTER, STORAGES, STRATEGIES, fixture_config, url_of  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def stored(url: str, name: str) -> dict:
    """(generation, individual) -> (genome, values) of a study's COMPLETE trials."""
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    trials = study.get_trials(deepcopy=False)
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
    out = {
        (t.system_attrs[GENERATION_KEY], t.system_attrs[INDIVIDUAL_KEY]):
        (tuple(t.system_attrs[GENOME_KEY]), tuple(t.values))
        for t in trials
    }
    assert len(out) == len(trials), "a (generation, individual) stored twice"
    return out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("uninterrupted") / "studies.log"
    out = {}
    for strategy in STRATEGIES:
        config = fixture_config(strategy)
        study = create_ssropt_study(open_storage(str(path)), strategy, config)
        run_study(study, config, progress=False)
        out[strategy] = stored(str(path), strategy)
    return out


def test_the_fixtures_are_small_and_interrupted_mid_run():
    assert sum(path.stat().st_size for path in STORAGES.values()) < 1024 * 1024
    for kind, path in STORAGES.items():
        for strategy in STRATEGIES:
            trials = stored(url_of(kind, path), strategy)
            assert len(trials) == STOP_AFTER * 10 < BUDGET


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("kind", list(STORAGES))
def test_a_study_of_an_earlier_ssropt_resumes_to_the_uninterrupted_end(
    kind, strategy, uninterrupted, tmp_path, capsys
):
    copy = tmp_path / STORAGES[kind].name
    shutil.copyfile(STORAGES[kind], copy)
    url = url_of(kind, copy)
    _, config = load_ssropt_study(open_storage(url), strategy)
    # every setting read back (the model version is the one the study was made with)
    assert config == replace(fixture_config(strategy), model_version=config.model_version)
    code = main(["resume", "--storage", url, "--study-name", strategy, "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert stored(url, strategy) == uninterrupted[strategy]
    assert len(uninterrupted[strategy]) == BUDGET
