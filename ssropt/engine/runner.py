"""The run loop: ask a generation, evaluate it, persist it with a checkpoint, tell.

One loop serves every strategy and every number of workers: :func:`run_study` runs one
:class:`ssropt.engine.worker.Worker` in this process.  The generation-synchronous protocol it
follows (documented in :mod:`ssropt.engine.worker`) stores every generation's plan with the
strategy checkpoint taken before it was asked, so after any interruption the study holds
whole chunks of designs and a checkpoint that matches them.  Resuming (or any other
worker joining) continues from there: the same seed and budget give the same front
whether the run was interrupted or not, and however many workers shared it.
"""

from __future__ import annotations

from collections.abc import Callable

import optuna

from ssropt.engine.leases import DEFAULT_LEASE_S
from ssropt.engine.study import StudyConfig
from ssropt.engine.worker import GenerationReport, RunSummary, Worker, fail_stale_trials

__all__ = ["GenerationReport", "RunSummary", "fail_stale_trials", "run_study"]


def run_study(
    study: optuna.Study,
    config: StudyConfig,
    *,
    budget: int | None = None,
    time_limit_s: float | None = None,
    n_jobs: int = 1,
    progress: bool = True,
    on_generation: Callable[[GenerationReport], None] | None = None,
    lease_seconds: float = DEFAULT_LEASE_S,
) -> RunSummary:
    """Run (or resume, or join) a study until its budget or time limit is reached.

    ``budget`` (default: the study's, as stored) is the total number of evaluations;
    ``time_limit_s`` (default: the study's) limits this call.  ``on_generation``
    (optional) is called after each generation this process closes -- every generation
    when it works alone; a last generation cut short by the budget is reported once its
    last design within the budget is stored -- with a :class:`GenerationReport`; the
    benchmark harness records its progress curves there.  Other workers may join the study meanwhile
    (``ssropt worker``).
    """
    worker = Worker(
        study,
        config,
        budget=budget,
        time_limit_s=time_limit_s,
        n_jobs=n_jobs,
        progress=progress,
        on_generation=on_generation,
        lease_seconds=lease_seconds,
    )
    return worker.run()
