"""Workers: any number of processes, on any machines, search one study together.

Every search -- ``ssropt run`` (one worker in the process that created the study),
``ssropt resume`` and each ``ssropt worker`` -- runs :class:`Worker` over a study in
shared Optuna storage.  They follow one **generation-synchronous protocol** that makes a
study's results independent of who evaluated what:

* **The plan, the work document, claiming, completing and closing** are described in
  :mod:`ssropt.engine.work` (the document, frozen values) and decided by the pure
  functions of :mod:`ssropt.engine.transitions`; the code here is the loop around them --
  storage calls, retries, heartbeats, the progress bar: this module (the loop, reading,
  completing), :mod:`ssropt.engine.claims` (claims and leases) and
  :mod:`ssropt.engine.generations` (planning and closing generations).

Because the plans and the telling order are fixed by the seed and the budget alone (and
each design's evaluation does not depend on what it is evaluated with), the stored
``(generation, individual, genome, values)`` and so the front are identical to a single
worker's, for any number of workers (trial *numbers* follow completion order, so they
differ).

**Fault tolerance.**  Claims carry leases (:mod:`ssropt.engine.leases`): the holder renews them
every third of ``lease_seconds`` (default 30 s) from a heartbeat thread; another worker
takes a chunk or a close over once it has seen the same claim unrenewed for the lease
(on its own clock), or at once when the holder was a process of its own machine that no
longer exists.  A worker killed anywhere loses only its unfinished chunk, which is
redone; its partial journal append (if any) is cut, and trials it left are not stored
twice.  Storage errors (a database restarting, a dropped connection, journal I/O errors)
are retried with exponential backoff for up to ``max_outage_s`` (60 s); every write is
safe to repeat.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from tqdm import tqdm

from ssropt.engine.claims import Claims
from ssropt.engine.generations import GenerationReport, Generations
from ssropt.engine.leases import DEFAULT_LEASE_S, Heartbeat, LeaseClock, new_owner
from ssropt.engine.parallel import PopulationEvaluator
from ssropt.engine.records import (
    GENERATION_KEY,
    INDIVIDUAL_KEY,
    ensure_record_layout,
    trial_records,
)
from ssropt.engine.study import CONFIG_PREFIX, StudyConfig, StudyError
from ssropt.engine.transitions import CLOSE, complete, record_trials
from ssropt.engine.work import PLAN_GENOMES_KEY, WORK_KEY, Held, PlanMoved, WorkDoc
from ssropt.objectives.evaluation import PER_DESIGN_FIELDS, Evaluation
from ssropt.spaces import SpaceEvaluation
from ssropt.storage import StudyBackend, StudyUpdate, retry_unavailable, study_ref
from ssropt.storage._retry import MAX_OUTAGE_S
from ssropt.strategies.base import Strategy

__all__ = ["GenerationReport", "RunSummary", "Worker", "fail_stale_trials", "finished_message"]

logger = logging.getLogger(__name__)

POLL_FIRST_S, POLL_LONGEST_S = 0.01, 0.1


@dataclass
class RunSummary:
    evaluated: int  # evaluations stored in the study
    generations: int  # generations closed in the study
    seconds: float
    model_seconds: float
    finished: bool  # the budget is spent or the strategy has nothing left to ask
    evaluated_here: int = 0  # evaluations stored by this worker


def fail_stale_trials(study: optuna.Study) -> int:
    """Mark RUNNING trials (in flight when a worker died) as FAIL; they are redone.

    ssropt's own workers never leave RUNNING trials (they store finished ones only); this
    cleans up after other Optuna clients.
    """
    backend, study_id = study_ref(study)
    return backend.fail_running_trials(study_id)


def finished_message(study: optuna.Study, config: StudyConfig) -> str | None:
    """Why the study has nothing left for a worker, or None if it has work."""
    backend, study_id = study_ref(study)
    doc = WorkDoc.from_json(backend.read_study_attrs(study_id, [WORK_KEY]).get(WORK_KEY))
    if doc is None or not doc.finished:
        return None
    name = study.study_name
    if doc.finished == "strategy":
        return (
            f"study {name!r} is finished: strategy {config.strategy!r} has no design left "
            f"to ask ({doc.first} designs stored)"
        )
    budget = backend.user_attrs(study_id).get(CONFIG_PREFIX + "budget", config.budget)
    if budget is not None and budget <= doc.evaluated:
        return (
            f"study {name!r} is finished: {doc.evaluated} designs stored, budget {budget} "
            f"(raise it with `ssropt resume --study-name {name} --budget N`)"
        )
    return None


def slice_evaluation(result: SpaceEvaluation, start: int, stop: int) -> SpaceEvaluation:
    """Rows ``start:stop`` of an evaluated population."""
    rows = slice(start, stop)
    ev = result.evaluation
    fields = {name: getattr(ev, name)[rows] for name in PER_DESIGN_FIELDS}
    fields["accelerators"] = {k: v[rows] for k, v in ev.accelerators.items()}
    fields["violations"] = {k: v[rows] for k, v in ev.violations.items()}
    return SpaceEvaluation(
        genomes=result.genomes[rows],
        designs=result.designs.take(rows),
        evaluation=Evaluation(**fields).with_resources(ev.resource_fields),
        F=result.F[rows],
        G=result.G[rows],
        constraint_names=result.constraint_names,
    )


class Worker(Claims, Generations):
    """One participant in a study's search (see the module docstring for the protocol).

    Args:
        study: the study (from :func:`ssropt.engine.study.load_ssropt_study` or create).
        config: its settings.
        budget: total evaluations to reach; default: the study's ``ssropt:budget``
            attribute, read again at every generation (``resume --budget`` raises it).
        time_limit_s: stop claiming work after this many seconds of this worker.
        n_jobs: evaluation processes for this worker's chunks.
        progress: show a progress bar of the study's evaluations.
        on_generation: called after each generation this worker closes, and when it
            stores the last design the budget allows of a generation cut short.
        lease_seconds: lease of this worker's claims.
        max_outage_s: how long storage errors are retried before giving up.
    """

    def __init__(
        self,
        study: optuna.Study,
        config: StudyConfig,
        *,
        budget: int | None = None,
        time_limit_s: float | None = None,
        n_jobs: int = 1,
        progress: bool = True,
        on_generation: Callable[[GenerationReport], None] | None = None,
        lease_seconds: float = DEFAULT_LEASE_S,
        max_outage_s: float = MAX_OUTAGE_S,
    ) -> None:
        if not lease_seconds > 0:
            raise StudyError(f"lease must be a positive number of seconds, got {lease_seconds}")
        self.study = study
        self.backend: StudyBackend
        self.backend, self.study_id = study_ref(study)
        self.config = config
        self.explicit_budget = budget
        self.time_limit_s = config.time_limit_s if time_limit_s is None else time_limit_s
        self.n_jobs = n_jobs
        self.progress = progress
        self.on_generation = on_generation
        self.lease_s = float(lease_seconds)
        self.max_outage_s = max_outage_s
        self.me = new_owner()
        self.leases = LeaseClock(self.me)
        self.space = config.build_space()
        self.evaluated_here = 0
        self.model_seconds = 0.0
        self._doc: WorkDoc | None = None  # the work document as last read or written
        self._live: tuple[str, Strategy, bool] | None = None  # plan, strategy, ask pending
        self._genomes: tuple[str | None, np.ndarray | None] = (None, None)
        self._parts: dict[int, SpaceEvaluation] = {}  # chunk -> own results, current plan
        self._parts_plan: str | None = None
        self._holding: Held | None = None
        self._hold_lock = threading.Lock()
        self._names: list[str] | None = None
        self._spare: Strategy | None = None
        self._start = time.perf_counter()
        self._bar: Any = None

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> RunSummary:
        """Work until the study is finished (or this worker's time limit); see module doc."""
        self._start = time.perf_counter()
        logger.info(
            "worker %s (pid %d) joined study %r", self.me.id[:8], self.me.pid,
            self.study.study_name,
        )
        names = self._constraint_names()
        self._retry(
            lambda: ensure_record_layout(self.backend, self.study_id, self.space, names),
            "describe the study's trial records",
        )
        failed = self._retry(lambda: fail_stale_trials(self.study), "fail stale trials")
        if failed:
            logger.warning("marked %d trials left running by a dead worker as failed", failed)
        self._evaluator = PopulationEvaluator(self.space, self.config, n_jobs=self.n_jobs)
        total = self._budget()
        self._bar = tqdm(total=total, unit="design", disable=not self.progress,
                         desc=self.config.strategy, leave=False)
        held: Held | None = None
        pause = POLL_FIRST_S
        try:
            with Heartbeat(self._renew, self.lease_s / 3):
                while True:
                    self._hold(held)
                    if held is None:
                        if self._out_of_time():
                            break
                        doc = self._read_doc()
                        if doc is None or (doc.finished and self._more_budget(doc)):
                            if doc is not None and doc.limit < doc.size:
                                held = self._extend(doc)
                            else:
                                held = self._plan(doc)
                            continue
                        if doc.finished:
                            break
                        held = self._claim(doc)
                        if held is None:
                            time.sleep(pause)
                            if self._doc is not None and self._doc.closing:  # plan soon
                                pause = POLL_FIRST_S
                            else:
                                pause = min(2 * pause, POLL_LONGEST_S)
                            continue
                        pause = POLL_FIRST_S
                        self._hold(held)
                    held = self._close(held) if held.close else self._work(held)
        except BaseException:
            self._release()
            raise
        finally:
            self._bar.close()
            self._evaluator.close()
        doc = self._doc
        return RunSummary(
            evaluated=doc.evaluated if doc else 0,
            generations=doc.generation if doc else 0,
            seconds=time.perf_counter() - self._start,
            model_seconds=self.model_seconds,
            finished=bool(doc and doc.finished),
            evaluated_here=self.evaluated_here,
        )

    # -- reading -------------------------------------------------------------------------
    def _retry(self, call: Callable[[], Any], what: str) -> Any:
        return retry_unavailable(call, what, max_seconds=self.max_outage_s)

    def _read_doc(self) -> WorkDoc | None:
        attrs = self._retry(
            lambda: self.backend.read_study_attrs(self.study_id, [WORK_KEY]),
            "read the study's work plan",
        )
        doc = WorkDoc.from_json(attrs.get(WORK_KEY))
        self._saw(doc)
        return doc

    def _saw(self, doc: WorkDoc | None) -> None:
        """Take note of a work document read or written: leases, progress."""
        self._doc = doc
        if doc is None:
            return
        self._observe(doc)
        if self._bar is not None and doc.evaluated > self._bar.n:
            self._bar.update(doc.evaluated - self._bar.n)

    def _observe(self, doc: WorkDoc) -> None:
        for c, marker in enumerate(doc.chunks):
            self.leases.observe((doc.plan, c), None if marker.done else marker)
        self.leases.observe((doc.plan, CLOSE), doc.close)
        self.leases.forget(lambda key: key[0] == doc.plan)

    def _budget(self) -> int | None:
        if self.explicit_budget is not None:
            return self.explicit_budget
        attrs = self._retry(
            lambda: self.backend.user_attrs(self.study_id), "read the study's budget"
        )
        return attrs.get(CONFIG_PREFIX + "budget", self.config.budget)

    def _more_budget(self, doc: WorkDoc) -> bool:
        """Whether a plan finished by its budget may go on (the budget has been raised)."""
        if doc.finished != "budget":
            return False
        budget = self._budget()
        return budget is None or budget > doc.evaluated

    def _out_of_time(self) -> bool:
        limit = self.time_limit_s
        return limit is not None and time.perf_counter() - self._start >= limit

    def _plan_genomes(self, plan: str) -> np.ndarray:
        if self._genomes[0] == plan:
            return self._genomes[1]
        attrs = self._retry(
            lambda: self.backend.read_study_attrs(self.study_id, [PLAN_GENOMES_KEY]),
            "read the plan's genomes",
        )
        stored = attrs.get(PLAN_GENOMES_KEY)
        if not stored or stored.get("plan") != plan:
            raise PlanMoved
        genomes = np.array(stored["genomes"], dtype=np.int64).reshape(-1, self.space.n_genes)
        self._genomes = (plan, genomes)
        return genomes

    # -- writing -------------------------------------------------------------------------
    def _update(
        self,
        decide: Callable[[dict], StudyUpdate | None],
        what: str,
        dedupe: tuple[str, str] | None = None,
    ) -> StudyUpdate | None:
        update, _ = self._retry(
            lambda: self.backend.update_study(self.study_id, [WORK_KEY], decide, dedupe),
            what,
        )
        return update

    def _work(self, held: Held) -> Held | None:
        """Evaluate the held chunks, store them, claim the next share (or the close)."""
        doc = self._doc
        assert doc is not None and doc.plan == held.plan
        plan, first, generation = held.plan, doc.first, doc.generation
        try:
            genomes = self._plan_genomes(plan)
        except PlanMoved:
            return None
        bounds = [(doc.chunks[c].start, doc.chunks[c].stop) for c in held.chunks]
        rows = np.concatenate([genomes[a:b] for a, b in bounds])
        began, started = time.perf_counter(), datetime.datetime.now(datetime.UTC)
        result = self._evaluator.evaluate(rows)
        self.model_seconds += time.perf_counter() - began
        window = (started, datetime.datetime.now(datetime.UTC))  # the trials' start and end
        parts, records, offset = {}, {}, 0
        for c, (a, b) in zip(held.chunks, bounds):
            parts[c] = slice_evaluation(result, offset, offset + b - a)
            offset += b - a
            records[c] = trial_records(self.space, parts[c], generation, first + a, window)
        claim_next = not self._out_of_time()
        written: dict = {}

        def decide(attrs: dict) -> StudyUpdate | None:
            written.clear()  # a retry decides afresh
            current = WorkDoc.from_json(attrs.get(WORK_KEY))
            if current is None or current.plan != plan:
                return None
            self._observe(current)
            done = complete(current, self.me, held, self._expired(current), self.lease_s,
                            claim_next)
            self._log_takeovers(current, done.following)
            sizes = [len(records[c]) for c in done.stored]

            def with_ids(ids: list[int]) -> dict:
                written["doc"] = record_trials(done.doc, done.stored, sizes, ids)
                return {WORK_KEY: written["doc"].to_json()}

            written["cut"] = done.cut
            batch = [record for c in done.stored for record in records[c]]
            return StudyUpdate(records=batch, attrs_from_ids=with_ids,
                               result=(done.mine, done.following))

        update = self._update(
            decide, "store evaluated designs", dedupe=(GENERATION_KEY, INDIVIDUAL_KEY)
        )
        if update is None:  # the plan moved on without us
            return None
        mine, following = update.result
        if self._parts_plan != plan:
            self._parts, self._parts_plan = {}, plan
        self._parts.update(parts)  # results are deterministic: ours equal anyone's
        self.evaluated_here += mine
        doc = written["doc"]
        self._saw(doc)
        if written.get("cut") and self.on_generation is not None:
            # we stored the last design the budget allows of a generation cut short
            self._hold(following)  # so a callback that raises gives them back
            genomes, F, G, parts_all = self._generation(doc)
            self._report(doc.generation + 1, doc.evaluated, genomes, F, G, parts_all)
        return following
