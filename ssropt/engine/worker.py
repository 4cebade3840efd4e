"""Workers: any number of processes, on any machines, search one study together.

Every search -- ``ssropt run`` (one worker in the process that created the study),
``ssropt resume`` and each ``ssropt worker`` -- runs :class:`Worker` over a study in
shared Optuna storage.  They follow one **generation-synchronous protocol** that makes a
study's results independent of who evaluated what:

* **The plan.**  The strategy is deterministic given its checkpoint, so generation ``g``
  is asked once: its genomes are stored as the plan, in the same atomic write as the
  checkpoint taken before the ask.  The designs within the budget are split into chunks
  of ``chunk_size`` designs (a study setting, 25 by default, enlarged so a generation has
  at most 64 chunks), in individual order; worker counts play no part in it.  A
  generation the budget cuts short stays open -- evaluated up to the budget, not told --
  and is extended when the budget is raised (``resume --budget``), so a study continued
  with a larger budget stores exactly what one run with that budget stores.
* **The work document.**  One study system attribute, ``ssropt:work``, says which plan is
  current and, per chunk, who holds it (owner, heartbeat counter, lease) and whether it
  is done (and which trials hold its results).  Every change to it is a compare-and-set:
  :func:`ssropt.storage.update_study` reads it, decides and writes under the storage's
  lock (the journal file's lock file; a ``SELECT ... FOR UPDATE`` of the study row in a
  database), so two workers never claim, complete or close the same thing.
* **Claiming.**  A worker claims its share of the free chunks, ``chunks // W`` at least
  one, where ``W`` is the number of workers that took part in the previous generation
  (chunk holders and idle workers that registered as waiting).  A lone worker thus takes
  a whole generation and evaluates it in one vectorised call, as a single-process run
  always did; four workers take a quarter each.
* **Completing.**  A worker evaluates its chunks and, in one atomic write, stores their
  designs as COMPLETE trials, marks the chunks done (naming the trials) and claims its
  next share.  A chunk that is already done is not stored again: the first completion
  wins, so every ``(generation, individual)`` is stored exactly once.
* **Closing.**  Whoever completes the last chunk of a complete generation ``g`` also
  claims the close.  It reads the generation's results in individual order (its own
  from memory, the others' from their trials), tells the strategy (restored from the
  checkpoint unless it planned this generation itself; the restored strategy must ask
  exactly the stored plan), asks generation ``g + 1`` and writes checkpoint, plan and
  work document together, provided the plan is still ``g``.  Idle workers poll the
  work document (10 ms doubling to 100 ms; every 10 ms while a close is under way)
  until there is something to claim, and stop when the plan says the budget is spent or
  the strategy is exhausted.

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

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from tqdm import tqdm

from ssropt.engine.leases import DEFAULT_LEASE_S, Heartbeat, LeaseClock, new_owner, owner_is_dead
from ssropt.engine.parallel import PopulationEvaluator, concatenate_evaluations
from ssropt.engine.study import (
    CHECKPOINT_KEY,
    CONFIG_PREFIX,
    GENERATION_KEY,
    GENOME_KEY,
    INDIVIDUAL_KEY,
    StudyConfig,
    StudyError,
    decode_state,
    encode_state,
    trial_records,
)
from ssropt.objectives.evaluation import PER_DESIGN_FIELDS, Evaluation
from ssropt.spaces import SpaceEvaluation
from ssropt.storage import (
    StudyUpdate,
    read_study_attrs,
    read_trials,
    retry_unavailable,
    update_study,
)
from ssropt.storage._records import _constraint_key_prefix
from ssropt.storage._retry import MAX_OUTAGE_S
from ssropt.strategies import make_strategy
from ssropt.strategies.base import Strategy, constraint_names

logger = logging.getLogger(__name__)

WORK_KEY = "ssropt:work"
PLAN_GENOMES_KEY = "ssropt:plan-genomes"
MAX_CHUNKS = 64
POLL_FIRST_S, POLL_LONGEST_S = 0.01, 0.1


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
    evaluated: int  # evaluations stored in the study
    generations: int  # generations closed in the study
    seconds: float
    model_seconds: float
    finished: bool  # the budget is spent or the strategy has nothing left to ask
    evaluated_here: int = 0  # evaluations stored by this worker


@dataclass(frozen=True)
class _Held:
    """What this worker holds: chunks of a plan, or the plan's close."""

    plan: str
    chunks: tuple[int, ...] = ()
    close: bool = False


class _PlanMoved(Exception):
    """The plan we were working on has been closed by another worker."""


def fail_stale_trials(study: optuna.Study) -> int:
    """Mark RUNNING trials (in flight when a worker died) as FAIL; they are redone.

    ssropt's own workers never leave RUNNING trials (they store finished ones only); this
    cleans up after other Optuna clients.  The query asks the storage for RUNNING trials
    only (Optuna's cache would first load every trial of the study).
    """
    storage = study._storage
    backend = storage._backend if isinstance(storage, optuna.storages._CachedStorage) else storage
    stale = backend.get_all_trials(
        study._study_id, deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)
    )
    for trial in stale:
        storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
    return len(stale)


def evaluated_in(doc: dict | None) -> int:
    """Designs stored in the study according to the work document."""
    if not doc:
        return 0
    return doc["first"] + sum(m["stop"] - m["start"] for m in doc["chunks"] if m["done"])


def participants(doc: dict) -> set[str]:
    """Ids of the workers that hold, did or wait for work of the document's generation."""
    ids = set(doc.get("waiting", ()))
    for marker in [*doc["chunks"], doc.get("close") or {}]:
        if marker.get("by"):
            ids.add(marker["by"])
        if marker.get("owner"):
            ids.add(marker["owner"]["id"])
    return ids


def finished_message(study: optuna.Study, config: StudyConfig) -> str | None:
    """Why the study has nothing left for a worker, or None if it has work."""
    doc = read_study_attrs(study._storage, study._study_id, [WORK_KEY]).get(WORK_KEY)
    if not doc or not doc["finished"]:
        return None
    name = study.study_name
    if doc["finished"] == "strategy":
        return (
            f"study {name!r} is finished: strategy {config.strategy!r} has no design left "
            f"to ask ({doc['first']} designs stored)"
        )
    budget = study._storage.get_study_user_attrs(study._study_id).get(
        CONFIG_PREFIX + "budget", config.budget
    )
    if budget is not None and budget <= evaluated_in(doc):
        return (
            f"study {name!r} is finished: {evaluated_in(doc)} designs stored, budget {budget} "
            f"(raise it with `ssropt resume --study-name {name} --budget N`)"
        )
    return None


def _chunks(start: int, stop: int, chunk: int, lease: float) -> list[dict]:
    """Fresh chunk markers covering plan positions ``start:stop``."""
    return [
        {"start": a, "stop": min(a + chunk, stop), "owner": None, "beat": 0, "lease": lease,
         "done": False, "by": None, "trials": []}
        for a in range(start, stop, chunk)
    ]


def _id_ranges(ids: Sequence[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for trial_id in ids:
        if ranges and ranges[-1][0] + ranges[-1][1] == trial_id:
            ranges[-1][1] += 1
        else:
            ranges.append([int(trial_id), 1])
    return ranges


def _expand(ranges: Sequence[Sequence[int]]) -> list[int]:
    return [start + k for start, count in ranges for k in range(count)]


def _slice(result: SpaceEvaluation, start: int, stop: int) -> SpaceEvaluation:
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


class Worker:
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
        self.storage = study._storage
        self.study_id = study._study_id
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
        self._doc: dict | None = None  # the work document as last read or written
        self._live: tuple[str, Strategy, bool] | None = None  # plan, strategy, ask pending
        self._genomes: tuple[str | None, np.ndarray | None] = (None, None)
        self._parts: dict[int, SpaceEvaluation] = {}  # chunk -> own results, current plan
        self._parts_plan: str | None = None
        self._holding: _Held | None = None
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
            "worker %s (pid %d) joined study %r", self.me["id"][:8], self.me["pid"],
            self.study.study_name,
        )
        failed = self._retry(lambda: fail_stale_trials(self.study), "fail stale trials")
        if failed:
            logger.warning("marked %d trials left running by a dead worker as failed", failed)
        self._evaluator = PopulationEvaluator(self.space, self.config, n_jobs=self.n_jobs)
        total = self._budget()
        self._bar = tqdm(total=total, unit="design", disable=not self.progress,
                         desc=self.config.strategy, leave=False)
        held: _Held | None = None
        pause = POLL_FIRST_S
        try:
            with Heartbeat(self._renew, self.lease_s / 3):
                while True:
                    self._hold(held)
                    if held is None:
                        if self._out_of_time():
                            break
                        doc = self._read_doc()
                        if doc is None or (doc["finished"] and self._more_budget(doc)):
                            if doc is not None and doc["limit"] < doc["size"]:
                                held = self._extend(doc)
                            else:
                                held = self._plan(doc)
                            continue
                        if doc["finished"]:
                            break
                        held = self._claim(doc)
                        if held is None:
                            time.sleep(pause)
                            if self._closing(self._doc):  # a new plan is moments away
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
            evaluated=evaluated_in(doc),
            generations=doc["generation"] if doc else 0,
            seconds=time.perf_counter() - self._start,
            model_seconds=self.model_seconds,
            finished=bool(doc and doc["finished"]),
            evaluated_here=self.evaluated_here,
        )

    # -- reading -------------------------------------------------------------------------
    def _retry(self, call: Callable[[], Any], what: str) -> Any:
        return retry_unavailable(call, what, max_seconds=self.max_outage_s)

    def _read_doc(self) -> dict | None:
        attrs = self._retry(
            lambda: read_study_attrs(self.storage, self.study_id, [WORK_KEY]),
            "read the study's work plan",
        )
        doc = attrs.get(WORK_KEY)
        self._saw(doc)
        return doc

    def _saw(self, doc: dict | None) -> None:
        """Take note of a work document read or written: leases, progress."""
        self._doc = doc
        if doc is None:
            return
        self._observe(doc)
        if self._bar is not None:
            shown = evaluated_in(doc)
            if shown > self._bar.n:
                self._bar.update(shown - self._bar.n)

    def _observe(self, doc: dict) -> None:
        plan = doc["plan"]
        for c, marker in enumerate(doc["chunks"]):
            self.leases.observe((plan, c), None if marker["done"] else marker)
        self.leases.observe((plan, "close"), doc.get("close"))
        self.leases.forget(lambda key: key[0] == plan)

    @staticmethod
    def _closing(doc: dict | None) -> bool:
        """Whether ``doc``'s generation is complete and being closed by someone."""
        return bool(
            doc and not doc["finished"] and doc.get("close")
            and all(marker["done"] for marker in doc["chunks"])
        )

    def _budget(self) -> int | None:
        if self.explicit_budget is not None:
            return self.explicit_budget
        attrs = self._retry(
            lambda: self.storage.get_study_user_attrs(self.study_id), "read the study's budget"
        )
        return attrs.get(CONFIG_PREFIX + "budget", self.config.budget)

    def _more_budget(self, doc: dict) -> bool:
        """Whether a plan finished by its budget may go on (the budget has been raised)."""
        if doc["finished"] != "budget":
            return False
        budget = self._budget()
        return budget is None or budget > evaluated_in(doc)

    def _out_of_time(self) -> bool:
        limit = self.time_limit_s
        return limit is not None and time.perf_counter() - self._start >= limit

    def _plan_genomes(self, plan: str) -> np.ndarray:
        if self._genomes[0] == plan:
            return self._genomes[1]
        attrs = self._retry(
            lambda: read_study_attrs(self.storage, self.study_id, [PLAN_GENOMES_KEY]),
            "read the plan's genomes",
        )
        stored = attrs.get(PLAN_GENOMES_KEY)
        if not stored or stored.get("plan") != plan:
            raise _PlanMoved
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
            lambda: update_study(self.storage, self.study_id, [WORK_KEY], decide, dedupe=dedupe),
            what,
        )
        return update

    def _hold(self, held: _Held | None) -> None:
        with self._hold_lock:
            self._holding = held

    def _claim_in(self, doc: dict) -> _Held | None:
        """Claim this worker's share of ``doc``'s free chunks (or its close) in place."""
        plan = doc["plan"]
        free = [
            c
            for c, marker in enumerate(doc["chunks"])
            if not marker["done"] and self.leases.expired((plan, c), marker)
        ]
        if free:
            share = max(1, len(doc["chunks"]) // max(1, int(doc.get("workers", 1))))
            mine = tuple(free[:share])
            for c in mine:
                self._log_takeover(doc, f"chunk {c}", doc["chunks"][c])
                doc["chunks"][c].update(owner=self.me, beat=0, lease=self.lease_s)
            return _Held(plan, chunks=mine)
        if all(marker["done"] for marker in doc["chunks"]) and doc["limit"] == doc["size"]:
            close = doc.get("close")
            if close is None or self.leases.expired((plan, "close"), close):
                self._log_takeover(doc, "the close", close or {})
                doc["close"] = {"owner": self.me, "beat": 0, "lease": self.lease_s}
                return _Held(plan, close=True)
        return None

    def _log_takeover(self, doc: dict, what: str, marker: dict) -> None:
        owner = marker.get("owner")
        if owner and owner.get("id") != self.me["id"]:
            logger.info(
                "taking over %s of generation %d from worker %s (pid %s): %s",
                what, doc["generation"], owner.get("id", "?")[:8], owner.get("pid"),
                "its process is gone" if owner_is_dead(owner, self.me) else "its lease expired",
            )

    def _claim(self, doc: dict) -> _Held | None:
        plan = doc["plan"]
        written: dict = {}

        def decide(attrs: dict) -> StudyUpdate | None:
            current = attrs.get(WORK_KEY)
            if current is None or current["plan"] != plan or current["finished"]:
                return None
            self._observe(current)
            held = self._claim_in(current)
            if held is None and self.me["id"] not in participants(current):
                current.setdefault("waiting", []).append(self.me["id"])  # count me in next time
            elif held is None:
                return None
            written["doc"] = current
            return StudyUpdate(attrs={WORK_KEY: current}, result=held)

        update = self._update(decide, "claim work")
        if update is None:
            return None
        self._saw(written["doc"])
        return update.result

    def _work(self, held: _Held) -> _Held | None:
        """Evaluate the held chunks, store them, claim the next share (or the close)."""
        doc = self._doc
        assert doc is not None and doc["plan"] == held.plan
        plan, first, generation = held.plan, doc["first"], doc["generation"]
        try:
            genomes = self._plan_genomes(plan)
        except _PlanMoved:
            return None
        bounds = [(doc["chunks"][c]["start"], doc["chunks"][c]["stop"]) for c in held.chunks]
        rows = np.concatenate([genomes[a:b] for a, b in bounds])
        began = time.perf_counter()
        result = self._evaluator.evaluate(rows)
        self.model_seconds += time.perf_counter() - began
        parts, records, offset = {}, {}, 0
        for c, (a, b) in zip(held.chunks, bounds):
            parts[c] = _slice(result, offset, offset + b - a)
            offset += b - a
            records[c] = trial_records(
                self.space, parts[c], self.config.strategy, generation, first + a
            )
        claim_next = not self._out_of_time()
        written: dict = {}

        def decide(attrs: dict) -> StudyUpdate | None:
            written.clear()  # a retry decides afresh
            current = attrs.get(WORK_KEY)
            if current is None or current["plan"] != plan:
                return None
            self._observe(current)
            new, mine, batch = [], 0, []
            for c in held.chunks:
                marker = current["chunks"][c]
                if marker["done"]:  # done by another worker (or by our lost-ack attempt)
                    mine += len(records[c]) if marker.get("by") == self.me["id"] else 0
                    continue
                new.append(c)
                mine += len(records[c])
                batch.extend(records[c])
                marker.update(done=True, by=self.me["id"], owner=None)
            following = None
            if all(marker["done"] for marker in current["chunks"]):
                if current["limit"] < current["size"]:
                    current["finished"] = "budget"  # the generation stays open: see _extend
                    written["cut"] = bool(new)
                else:
                    following = self._claim_in(current)  # the close
            elif claim_next:
                following = self._claim_in(current)

            def with_ids(ids: list[int]) -> dict:
                k = 0
                for c in new:
                    n = len(records[c])
                    current["chunks"][c]["trials"] = _id_ranges(ids[k : k + n])
                    k += n
                return {WORK_KEY: current}

            written["doc"] = current
            return StudyUpdate(records=batch, attrs_from_ids=with_ids, result=(mine, following))

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
            genomes, F, G, parts_all = self._generation(doc)
            self._report(doc["generation"] + 1, evaluated_in(doc), genomes, F, G, parts_all)
        return following

    # -- closing a generation ------------------------------------------------------------
    def _new_strategy(self) -> Strategy:
        config = self.config
        return make_strategy(
            config.strategy, self.space, config.seed, config.population_size,
            config.initial_genomes(self.space),
        )

    def _blank_strategy(self) -> Strategy:
        """A strategy object to load a checkpoint into (built once: building one costs an
        evaluation); never the live one, which may be needed again."""
        if self._spare is None or (self._live is not None and self._live[1] is self._spare):
            self._spare = self._new_strategy()
        return self._spare

    def _restore(self, generation: int, first: int) -> Strategy:
        """The strategy as checkpointed before generation ``generation`` was asked."""
        attrs = self._retry(
            lambda: read_study_attrs(self.storage, self.study_id, [CHECKPOINT_KEY]),
            "read the checkpoint",
        )
        checkpoint = decode_state(attrs)
        if checkpoint is None or tuple(checkpoint[:2]) != (generation, first):
            found = "none" if checkpoint is None else f"generation {checkpoint[0]}"
            raise StudyError(
                f"the study's checkpoint ({found}) does not match its work plan "
                f"(generation {generation}, {first} designs before it)"
            )
        strategy = self._blank_strategy()
        strategy.load_state(checkpoint[2])
        return strategy

    def _strategy_for(self, doc: dict) -> Strategy:
        """The strategy with generation ``doc``'s ask pending."""
        plan = doc["plan"]
        if self._live is not None and self._live[0] == plan and self._live[2]:
            return self._live[1]
        self._live = None
        strategy = self._restore(doc["generation"], doc["first"])
        asked = strategy.ask()
        planned = self._plan_genomes(plan)
        if not np.array_equal(asked[: len(planned)], planned):
            raise StudyError(
                f"strategy {self.config.strategy!r} restored from the checkpoint asked other "
                f"genomes than generation {doc['generation']}'s stored plan: it is not "
                "deterministic, so several workers cannot share this study"
            )
        return strategy

    def _constraint_names(self) -> list[str]:
        if self._names is None:
            own = next(iter(self._parts.values()), None)
            self._names = list(own.constraint_names) if own else constraint_names(self.space)
        return self._names

    def _generation(self, doc: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """Genomes, F, G of the closed plan in individual order, and per-chunk results
        (None for chunks evaluated elsewhere)."""
        plan, first = doc["plan"], doc["first"]
        own = self._parts if self._parts_plan == plan else {}
        prefix = _constraint_key_prefix()
        genomes, F, G, parts = [], [], [], []
        for c, marker in enumerate(doc["chunks"]):
            if c in own:
                part = own[c]
                genomes.append(part.genomes)
                F.append(part.F)
                G.append(part.G)
                parts.append(part)
                continue
            ids = _expand(marker["trials"])
            trials = self._retry(lambda: read_trials(self.storage, ids), "read a chunk's trials")
            expected = list(range(first + marker["start"], first + marker["stop"]))
            by_individual = {t.system_attrs.get(INDIVIDUAL_KEY): t for t in trials}
            if sorted(by_individual) != expected or any(
                t.state != optuna.trial.TrialState.COMPLETE for t in trials
            ):
                raise StudyError(
                    f"chunk {c} of generation {doc['generation']} names trials that do not "
                    f"hold its designs {expected[0]}..{expected[-1]}"
                )
            names = self._constraint_names()
            ordered = [by_individual[i] for i in expected]
            genomes.append(np.array([t.system_attrs[GENOME_KEY] for t in ordered], dtype=np.int64))
            F.append(np.array([[t.values[0], -t.values[1]] for t in ordered], dtype=float))
            G.append(
                np.array(
                    [[t.system_attrs[prefix + n] for n in names] for t in ordered], dtype=float
                ).reshape(len(ordered), len(names))
            )
            parts.append(None)
        return (
            np.concatenate(genomes).reshape(-1, self.space.n_genes),
            np.concatenate(F).reshape(-1, 2),
            np.concatenate(G),
            parts,
        )

    def _new_doc(
        self,
        generation: int,
        first: int,
        genomes: np.ndarray,
        limit: int,
        finished: str | None,
        workers: int,
    ) -> dict:
        """A plan of ``genomes`` whose first ``limit`` are within the budget (chunked)."""
        n = len(genomes)
        chunk = max(int(self.config.chunk_size), math.ceil(n / MAX_CHUNKS), 1)
        return {
            "plan": uuid.uuid4().hex,
            "generation": generation,
            "first": first,
            "size": n,
            "limit": limit,
            "chunk": chunk,
            "finished": finished,
            "workers": max(1, workers),
            "chunks": _chunks(0, limit, chunk, self.lease_s),
            "close": None,
            "waiting": [],
        }

    def _next(self, strategy: Strategy, generation: int, first: int, workers: int):
        """Ask the next generation: its document (evaluated up to the budget), genomes,
        this worker's claim in it, and whether the strategy now has an ask pending.

        A generation the budget cuts short is planned in full but chunked only up to the
        budget; it is closed (told) only once a raised budget lets it be completed, so a
        study whose budget is raised continues exactly as a longer one would have run.
        """
        budget = self._budget()
        left = None if budget is None else budget - first
        finished, genomes = None, np.zeros((0, self.space.n_genes), dtype=np.int64)
        pending = False
        if strategy.finished:
            finished = "strategy"
        elif left is not None and left <= 0:
            finished = "budget"
        else:
            genomes = strategy.ask()
            pending = len(genomes) > 0
            if len(genomes) == 0:
                finished = "strategy"
        limit = len(genomes) if left is None else max(0, min(len(genomes), left))
        doc = self._new_doc(generation, first, genomes, limit, finished, workers)
        if not finished and not self._out_of_time():
            held = self._claim_in(doc)
        else:
            held = None
        return doc, genomes, held, pending

    def _extend(self, doc: dict) -> _Held | None:
        """Raise the budget limit of an open (budget-cut) plan; None if someone else did."""
        budget = self._budget()
        limit = doc["size"] if budget is None else min(doc["size"], budget - doc["first"])
        plan, old = doc["plan"], doc["limit"]
        written: dict = {}

        def decide(attrs: dict) -> StudyUpdate | None:
            current = attrs.get(WORK_KEY)
            if current is None or current["plan"] != plan or current["limit"] != old:
                return None
            current["chunks"] += _chunks(old, limit, current["chunk"], self.lease_s)
            current["limit"], current["finished"] = limit, None
            held = None if self._out_of_time() else self._claim_in(current)
            written["doc"] = current
            return StudyUpdate(attrs={WORK_KEY: current}, result=held)

        update = self._update(decide, "extend the work plan")
        if update is None:
            return None
        self._saw(written["doc"])
        return update.result

    def _commit_plan(
        self,
        expected: str | None,
        doc: dict,
        genomes: np.ndarray,
        extra: dict,
        what: str,
        require_done: bool = False,
    ) -> bool:
        """Write a new plan if the current one is still ``expected``; True if written."""
        plan = doc["plan"]
        outcome = {"ours": False}

        def decide(attrs: dict) -> StudyUpdate | None:
            outcome["ours"] = False
            current = attrs.get(WORK_KEY)
            if current is not None and current["plan"] == plan:
                outcome["ours"] = True  # our earlier attempt was written
                return None
            if (current["plan"] if current else None) != expected:
                return None
            if require_done and not all(m["done"] for m in current["chunks"]):
                return None
            outcome["ours"] = True
            attrs_out = dict(extra)
            attrs_out[PLAN_GENOMES_KEY] = {"plan": plan, "genomes": genomes.tolist()}
            attrs_out[WORK_KEY] = doc
            return StudyUpdate(attrs=attrs_out)

        self._update(decide, what)
        return outcome["ours"]

    def _plan(self, doc: dict | None) -> _Held | None:
        """The first plan of a study (or of an older ssropt study), or a new plan after the
        budget was raised; None if someone else planned first."""
        if doc is None:
            attrs = self._retry(
                lambda: read_study_attrs(self.storage, self.study_id, [CHECKPOINT_KEY]),
                "read the checkpoint",
            )
            checkpoint = decode_state(attrs)
            strategy = self._new_strategy()
            extra: dict = {}
            if checkpoint is None:
                generation, first = 0, 0
                extra = encode_state(0, 0, strategy.state_dict())
            else:
                generation, first, state = checkpoint
                strategy.load_state(state)
            expected = None
        else:
            generation, first, expected = doc["generation"], doc["first"], doc["plan"]
            live = self._live
            if live is not None and live[0] == expected and not live[2]:
                strategy = live[1]
            else:
                strategy = self._restore(generation, first)
            extra = {}
        new, genomes, held, pending = self._next(strategy, generation, first, workers=1)
        if not self._commit_plan(expected, new, genomes, extra, "write the work plan"):
            self._live = None
            return None
        self._live = (new["plan"], strategy, pending)
        self._genomes = (new["plan"], genomes)
        self._saw(new)
        return held

    def _close(self, held: _Held) -> _Held | None:
        """Tell the strategy the closed generation, ask the next, write both atomically."""
        doc = self._doc
        assert doc is not None and doc["plan"] == held.plan
        try:
            strategy = self._strategy_for(doc)
        except _PlanMoved:
            return None
        genomes, F, G, parts = self._generation(doc)
        strategy.tell(genomes, F, G)
        generation, first = doc["generation"] + 1, doc["first"] + doc["size"]
        checkpoint = encode_state(generation, first, strategy.state_dict())
        workers = len(participants(doc))
        new, next_genomes, following, pending = self._next(strategy, generation, first, workers)
        if not self._commit_plan(
            doc["plan"], new, next_genomes, checkpoint, "close the generation", require_done=True
        ):
            self._live = None
            return None
        self._live = (new["plan"], strategy, pending)
        self._genomes = (new["plan"], next_genomes)
        self._parts, self._parts_plan = {}, None
        self._saw(new)
        if self.on_generation is not None:
            self._report(generation, first, genomes, F, G, parts)
        return following

    def _report(self, generation: int, evaluated: int, genomes, F, G, parts: list) -> None:
        self.on_generation(
            GenerationReport(
                generation,
                evaluated,
                self._report_result(genomes, F, G, parts),
                self.model_seconds,
                time.perf_counter() - self._start,
            )
        )

    def _report_result(self, genomes, F, G, parts: list) -> SpaceEvaluation:
        """The closed generation as one SpaceEvaluation; chunks evaluated by other workers
        are rebuilt from their stored (repaired) genomes, objectives and constraints."""
        if all(p is not None for p in parts):
            return parts[0] if len(parts) == 1 else concatenate_evaluations(parts)
        designs = self.space.decode(genomes)
        return SpaceEvaluation(
            genomes, designs, self.space.model.evaluate(designs), F, G, self._constraint_names()
        )

    # -- leases --------------------------------------------------------------------------
    def _renew(self) -> None:
        """Heartbeat: bump ``beat`` of every claim this worker holds (another thread)."""
        with self._hold_lock:
            held = self._holding
        if held is not None:
            update_study(self.storage, self.study_id, [WORK_KEY], self._own_claims(held, _bump_beat))

    def _release(self) -> None:
        """Give back what this worker holds (when interrupted); never raises."""
        with self._hold_lock:
            held, self._holding = self._holding, None
        if held is None:
            return
        decide = self._own_claims(held, _drop_owner)
        try:
            update_study(self.storage, self.study_id, [WORK_KEY], decide)
        except BaseException as error:  # interrupted again, storage away: the lease covers it
            logger.info("could not release this worker's claims: %s", error)

    def _own_claims(self, held, change):
        """A ``decide`` for :func:`update_study` applying ``change(marker)`` to every
        unfinished claim marker of ``held`` (its chunks and, if held, the close) that
        this worker still owns; no update when there is none."""
        me = self.me["id"]

        def decide(attrs: dict) -> StudyUpdate | None:
            current = attrs.get(WORK_KEY)
            if current is None or current["plan"] != held.plan:
                return None
            markers = [current["chunks"][c] for c in held.chunks]
            if held.close and current.get("close"):
                markers.append(current["close"])
            mine = [m for m in markers if not m.get("done") and (m.get("owner") or {}).get("id") == me]
            for marker in mine:
                change(marker)
            return StudyUpdate(attrs={WORK_KEY: current}) if mine else None

        return decide


def _bump_beat(marker: dict) -> None:
    """A heartbeat on a claim marker: its lease is renewed."""
    marker["beat"] = int(marker.get("beat", 0)) + 1


def _drop_owner(marker: dict) -> None:
    """A claim marker given back: anyone may take it."""
    marker["owner"] = None
