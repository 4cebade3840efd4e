"""A study's storage grows linearly with its generations: the told history of the Optuna
strategies is stored once, a segment per generation, not rewritten with every checkpoint;
resuming still continues exactly."""

from __future__ import annotations

import os

import optuna
import pytest

from ssropt.engine.checkpoint import CHECKPOINT_KEY, HISTORY_PREFIX
from ssropt.engine.records import GENERATION_KEY, GENOME_KEY, INDIVIDUAL_KEY
from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.spaces import SpaceOptions
from ssropt.storage import backend_for, open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)


def config(strategy: str, budget: int) -> StudyConfig:
    return StudyConfig(
        workload={"model": "deit-t", "tokens": 192, "blocks": 1, "embed_and_head": False},
        platform="vck190", space=SpaceOptions(family="hybrid", configurator="none").to_dict(),
        strategy=strategy, seed=5, budget=budget, population_size=20, chunk_size=20,
    )


def stored(path: str, name: str = "s") -> dict:
    study = optuna.load_study(study_name=name, storage=open_storage(path))
    return {
        (t.system_attrs[GENERATION_KEY], t.system_attrs[INDIVIDUAL_KEY]):
        (tuple(t.system_attrs[GENOME_KEY]), tuple(t.values))
        for t in study.get_trials()
    }


def test_each_generation_appends_about_as_much_as_the_first(tmp_path):
    path = str(tmp_path / "studies.log")
    cfg = config("random", 400)
    study = create_ssropt_study(open_storage(path), "s", cfg)
    sizes = []
    run_study(study, cfg, progress=False,
              on_generation=lambda report: sizes.append(os.path.getsize(path)))
    growth = [b - a for a, b in zip(sizes, sizes[1:])]
    assert len(growth) == 19
    # quadratic growth would make generation 19's append ~ 7x generation 3's
    assert max(growth[10:]) < 1.3 * min(growth[1:4]), growth
    storage = open_storage(path)
    backend = backend_for(storage)
    study_id = backend.study_id("s")
    checkpoint = backend.read_study_attrs(study_id, [CHECKPOINT_KEY])[CHECKPOINT_KEY]
    segments = checkpoint["state"]["state"]["history"]["segments"]
    assert segments == [[20 * g, 20] for g in range(20)]
    parts = backend.read_study_attrs(study_id, [HISTORY_PREFIX + str(s) for s, _ in segments])
    assert sum(len(part["genomes"]) for part in parts.values()) == 400


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["random", "tpe", "optuna-nsga2"])
def test_a_study_resumed_from_incremental_history_ends_as_an_uninterrupted_one(
    strategy, tmp_path
):
    whole = str(tmp_path / "whole.log")
    cfg = config(strategy, 130)
    run_study(create_ssropt_study(open_storage(whole), "s", cfg), cfg, progress=False)
    parts = str(tmp_path / "parts.log")
    first = config(strategy, 50)
    study = create_ssropt_study(open_storage(parts), "s", first)
    run_study(study, first, progress=False)
    for budget in (90, 130):  # stopped and resumed twice, the budget raised each time
        study = optuna.load_study(study_name="s", storage=open_storage(parts))
        study.set_user_attr("ssropt:budget", budget)
        from ssropt.engine.study import load_ssropt_study

        study, loaded = load_ssropt_study(open_storage(parts), "s")
        run_study(study, loaded, progress=False)
    assert stored(parts) == stored(whole)
    assert len(stored(whole)) == 130
