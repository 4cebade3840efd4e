"""Evaluate a population in-process or in chunks across joblib worker processes.

The analytical model costs tens of microseconds per design, vectorised, so splitting a
population only pays when chunks are large: below ``min_chunk`` designs per worker the
population is evaluated in-process.  Workers rebuild the space from the study settings
once and keep it (with its schedule cache) between calls.
"""

from __future__ import annotations

import json

import numpy as np
from joblib import Parallel, delayed

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.evaluation import Evaluation
from ssropt.spaces import Space, SpaceEvaluation

_WORKER_SPACES: dict[str, Space] = {}


def _evaluate_chunk(config_json: str, genomes: np.ndarray) -> SpaceEvaluation:
    from ssropt.engine.study import StudyConfig

    space = _WORKER_SPACES.get(config_json)
    if space is None:
        space = StudyConfig(**json.loads(config_json)).build_space()
        _WORKER_SPACES[config_json] = space
    return space.evaluate(genomes)


class PopulationEvaluator:
    """Evaluates populations of genomes for one space, with ``n_jobs`` processes."""

    def __init__(self, space: Space, config, n_jobs: int = 1, min_chunk: int = 2000) -> None:
        from dataclasses import asdict

        self.space = space
        self.n_jobs = max(1, int(n_jobs))
        self.min_chunk = min_chunk
        self.config_json = json.dumps(asdict(config), sort_keys=True)
        self._pool = Parallel(n_jobs=self.n_jobs, backend="loky") if self.n_jobs > 1 else None

    def evaluate(self, genomes: np.ndarray) -> SpaceEvaluation:
        n_chunks = min(self.n_jobs, len(genomes) // self.min_chunk)
        if self._pool is None or n_chunks < 2:
            return self.space.evaluate(genomes)
        parts = self._pool(
            delayed(_evaluate_chunk)(self.config_json, chunk)
            for chunk in np.array_split(genomes, n_chunks)
        )
        return concatenate_evaluations(parts)

    def close(self) -> None:
        self._pool = None


def concatenate_evaluations(parts: list[SpaceEvaluation]) -> SpaceEvaluation:
    """One SpaceEvaluation from consecutive parts."""
    return SpaceEvaluation(
        genomes=np.concatenate([p.genomes for p in parts]),
        designs=DesignBatch.concatenate([p.designs for p in parts]),
        evaluation=Evaluation.concatenate([p.evaluation for p in parts]),
        F=np.concatenate([p.F for p in parts]),
        G=np.concatenate([p.G for p in parts]),
        constraint_names=parts[0].constraint_names,
    )
