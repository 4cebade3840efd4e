"""Parallel evaluation gives exactly what in-process evaluation gives."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.engine.parallel import PopulationEvaluator, concatenate_evaluations
from ssropt.engine.study import StudyConfig
from ssropt.spaces import SpaceOptions


def config() -> StudyConfig:
    return StudyConfig(
        workload={"model": "deit-t", "tokens": 192, "blocks": 2, "embed_and_head": False},
        platform="vck190",
        space=SpaceOptions(family="hybrid", batch_sizes=(1, 2, 6)).to_dict(),
    )


@pytest.mark.slow
def test_two_worker_processes_equal_one_process():
    cfg = config()
    space = cfg.build_space()
    genomes = space.sample(600, np.random.default_rng(4))
    alone = PopulationEvaluator(space, cfg, n_jobs=1).evaluate(genomes)
    pooled = PopulationEvaluator(space, cfg, n_jobs=2, min_chunk=100)
    together = pooled.evaluate(genomes)
    pooled.close()
    np.testing.assert_array_equal(alone.genomes, together.genomes)
    np.testing.assert_array_equal(alone.F, together.F)
    np.testing.assert_array_equal(alone.G, together.G)
    np.testing.assert_array_equal(alone.designs.params, together.designs.params)
    for name, value in alone.evaluation.accelerators.items():
        np.testing.assert_array_equal(value, together.evaluation.accelerators[name])


def test_small_populations_stay_in_process():
    cfg = config()
    space = cfg.build_space()
    evaluator = PopulationEvaluator(space, cfg, n_jobs=2, min_chunk=1000)
    genomes = space.sample(50, np.random.default_rng(1))
    # below min_chunk per worker nothing is sent to the pool: same object as space.evaluate
    assert np.array_equal(evaluator.evaluate(genomes).F, space.evaluate(genomes).F)


def test_concatenated_parts_equal_the_whole():
    space = config().build_space()
    genomes = space.sample(90, np.random.default_rng(2))
    whole = space.evaluate(genomes)
    parts = concatenate_evaluations([space.evaluate(genomes[:40]), space.evaluate(genomes[40:])])
    np.testing.assert_array_equal(whole.F, parts.F)
    np.testing.assert_array_equal(whole.evaluation.latency_s, parts.evaluation.latency_s)
    assert parts.designs.n_designs == 90
