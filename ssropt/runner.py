"""The run loop: ask a generation, evaluate it, persist it with a checkpoint, tell.

One loop serves every strategy.  A generation's trials and the strategy checkpoint
taken after telling it are written in one storage batch, so after any interruption the
study holds whole generations and a checkpoint that matches them.  Resuming restores
the checkpoint and continues: the same seed and budget give the same front whether or
not the run was interrupted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import optuna
from tqdm import tqdm

from ssropt.parallel import PopulationEvaluator
from ssropt.spaces import SpaceEvaluation
from ssropt.storage import write_trials
from ssropt.strategies import make_strategy
from ssropt.study import (
    GENERATION_KEY,
    INDIVIDUAL_KEY,
    StudyConfig,
    decode_state,
    encode_state,
    trial_records,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerationReport:
    """What one stored generation adds: its evaluations and the clocks so far."""

    generation: int  # generations stored so far (this one included)
    evaluated: int  # evaluations stored so far (this run and earlier ones)
    result: SpaceEvaluation  # this generation's evaluated designs
    model_seconds: float  # time spent evaluating designs in this run so far
    seconds: float  # wall time of this run so far


@dataclass
class RunSummary:
    evaluated: int
    generations: int
    seconds: float
    model_seconds: float
    finished: bool


def fail_stale_trials(study: optuna.Study) -> int:
    """Mark RUNNING trials (in flight when a worker died) as FAIL; they are redone."""
    storage = study._storage
    stale = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in stale:
        storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
    return len(stale)


def run_study(
    study: optuna.Study,
    config: StudyConfig,
    *,
    budget: int | None = None,
    time_limit_s: float | None = None,
    n_jobs: int = 1,
    progress: bool = True,
    on_generation: Callable[[GenerationReport], None] | None = None,
) -> RunSummary:
    """Run (or resume) a study until its budget or time limit is reached.

    ``on_generation`` (optional) is called after each generation is stored, with a
    :class:`GenerationReport`; the benchmark harness records its progress curves there.
    """
    budget = config.budget if budget is None else budget
    time_limit_s = config.time_limit_s if time_limit_s is None else time_limit_s
    space = config.build_space()
    evaluator = PopulationEvaluator(space, config, n_jobs=n_jobs)
    failed = fail_stale_trials(study)
    if failed:
        logger.warning("marked %d trials left running by a dead worker as failed", failed)

    strategy = make_strategy(
        config.strategy, space, config.seed, config.population_size, config.initial_genomes(space)
    )
    checkpoint = decode_state(study._storage.get_study_system_attrs(study._study_id))
    evaluated, generation = 0, 0
    if checkpoint is not None:
        generation, evaluated, state = checkpoint
        strategy.load_state(state)
    stored = {
        (t.system_attrs.get(GENERATION_KEY), t.system_attrs.get(INDIVIDUAL_KEY))
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    }
    storage, study_id = study._storage, study._study_id
    start = time.perf_counter()
    model_seconds = 0.0
    total = budget if budget is not None else None
    bar = tqdm(total=total, initial=min(evaluated, total or evaluated), unit="design",
               disable=not progress, desc=config.strategy, leave=False)
    try:
        while not strategy.finished:
            left = None if budget is None else budget - evaluated
            if left is not None and left <= 0:
                break
            if time_limit_s is not None and time.perf_counter() - start >= time_limit_s:
                break
            genomes = strategy.ask()
            if left is not None:
                genomes = genomes[:left]
            if len(genomes) == 0:
                break
            t0 = time.perf_counter()
            result = evaluator.evaluate(genomes)
            model_seconds += time.perf_counter() - t0
            strategy.tell(result.genomes, result.F, result.G)
            records = trial_records(space, result, config.strategy, generation, evaluated)
            records = [
                r for r in records
                if (r.system_attrs[GENERATION_KEY], r.system_attrs[INDIVIDUAL_KEY]) not in stored
            ]
            evaluated += len(genomes)
            generation += 1
            write_trials(
                storage, study_id, records, encode_state(generation, evaluated, strategy.state_dict())
            )
            bar.update(len(genomes))
            if on_generation is not None:
                on_generation(
                    GenerationReport(
                        generation, evaluated, result, model_seconds, time.perf_counter() - start
                    )
                )
    finally:
        bar.close()
        evaluator.close()
    seconds = time.perf_counter() - start
    done = strategy.finished or (budget is not None and evaluated >= budget)
    return RunSummary(evaluated, generation, seconds, model_seconds, done)
