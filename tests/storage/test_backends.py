"""One backend per storage, chosen once; when the Optuna internals a fast backend relies on
are missing (a future Optuna), ONE warning and the public-API backend, which stores
exactly the same study."""

from __future__ import annotations

import logging
import re

import optuna
import pytest

from ssropt.engine.records import GENERATION_KEY, INDIVIDUAL_KEY
from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.engine.work import PLAN_GENOMES_KEY, WORK_KEY
from ssropt.spaces import SpaceOptions
from ssropt.storage import _journal, _rdb, backend_for, open_storage
from ssropt.storage import _select as backend_module

optuna.logging.set_verbosity(optuna.logging.WARNING)

CONFIG = StudyConfig(
    workload={"model": "deit-t", "tokens": 192, "blocks": 2, "embed_and_head": False},
    platform="vck190",
    space=SpaceOptions(family="spatial").to_dict(),
    seed=3,
    budget=120,  # the last generation is cut by the budget
    population_size=50,
    chunk_size=10,
)


@pytest.fixture(params=["journal", "sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "journal":
        return str(tmp_path / "studies.log")
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/studies.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def no_internals(monkeypatch):
    """A future Optuna: one internal each fast backend relies on is gone (renamed)."""
    monkeypatch.setattr(_journal, "_REPLAY_INTERNALS",
                        (*_journal._REPLAY_INTERNALS, "_renamed_in_a_future_optuna"))
    monkeypatch.setattr(_rdb, "_MODELS", (*_rdb._MODELS, "RenamedModel"))
    monkeypatch.setattr(backend_module, "_WARNED", set())


def test_each_storage_gets_its_backend_once(tmp_path):
    journal = open_storage(str(tmp_path / "s.log"))
    database = open_storage(f"sqlite:///{tmp_path}/s.db")
    assert backend_for(journal).kind == "journal" and backend_for(journal) is backend_for(journal)
    assert backend_for(database).kind == "rdb"
    assert backend_for(optuna.storages.InMemoryStorage()).kind == "generic"


def _normalise(value, plans: dict):
    """``value`` with plan ids (random per run) replaced by their order of appearance."""
    if isinstance(value, dict):
        return {k: _normalise(v, plans) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, plans) for v in value]
    if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{32}", value):
        return plans.setdefault(value, f"plan{len(plans)}")
    return value


def snapshot(url: str, name: str) -> dict:
    """Everything stored of a study except trial numbers' order, times and plan ids."""
    storage = open_storage(url)
    study = optuna.load_study(study_name=name, storage=storage)
    study_id = backend_for(storage).study_id(name)
    system = storage.get_study_system_attrs(study_id)
    trials = {}
    for t in study.get_trials():
        key = (t.system_attrs[GENERATION_KEY], t.system_attrs[INDIVIDUAL_KEY])
        trials[key] = (t.state, tuple(t.values), t.params, t.user_attrs, t.system_attrs,
                       t.distributions)
    work = system[WORK_KEY]
    work = {**work, "chunks": [{**c, "trials": None, "by": None} for c in work["chunks"]]}
    return {
        "directions": study.directions,
        "metric_names": study.metric_names,
        "user_attrs": study.user_attrs,
        "system": _normalise({k: v for k, v in system.items() if k != WORK_KEY}, {}),
        "work": _normalise(work, {}),
        "trials": trials,
        "plan": system[PLAN_GENOMES_KEY]["genomes"],
    }


def run(url: str, name: str) -> dict:
    study = create_ssropt_study(open_storage(url), name, CONFIG)
    summary = run_study(study, CONFIG, progress=False)
    assert summary.finished and summary.evaluated == 120
    study.set_user_attr("ssropt:budget", 150)  # raise the budget: the cut generation goes on
    summary = run_study(study, CONFIG, progress=False)
    assert summary.evaluated == 150
    return snapshot(url, name)


@pytest.mark.slow
def test_without_optuna_internals_the_public_api_stores_the_same_study(
    url, no_internals, request, caplog
):
    with caplog.at_level(logging.WARNING, logger="ssropt.storage"):
        fallback = run(url, f"fallback-{request.node.callspec.id}")
    assert backend_for(open_storage(url)).kind == "generic"
    warnings = [r for r in caplog.records if "fast path is not available" in r.getMessage()]
    assert len(warnings) == 1  # one warning, however many storages and calls
    request.getfixturevalue("monkeypatch").undo()
    fast = run(url, f"fast-{request.node.callspec.id}")
    assert backend_for(open_storage(url)).kind in ("journal", "rdb")
    assert fallback == fast
    assert len(fast["trials"]) == 150


def test_the_journal_replay_parses_each_distribution_once_and_equal_to_optunas(tmp_path):
    from optuna.distributions import FloatDistribution, IntDistribution, distribution_to_json
    from optuna.storages.journal import _storage as journal_module

    storage = open_storage(str(tmp_path / "s.log"))
    backend_for(storage)  # building the journal backend installs the remembered parse
    parse = journal_module.json_to_distribution
    assert parse._ssropt_remembered
    for distribution in (IntDistribution(0, 7), FloatDistribution(0.5, 2.0, log=True), IntDistribution(1, 9, step=2)):
        text = distribution_to_json(distribution)
        assert parse(text) == parse.__wrapped__(text) == distribution
        assert parse(text) is parse(text)  # parsed once
    study = optuna.create_study(storage=storage, study_name="d")
    study.add_trial(optuna.trial.create_trial(params={"x": 3}, distributions={"x": IntDistribution(0, 7)}, value=1.0))
    reloaded = optuna.load_study(study_name="d", storage=open_storage(str(tmp_path / "s.log")))
    assert reloaded.trials[0].distributions == {"x": IntDistribution(0, 7)}
