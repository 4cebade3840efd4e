"""Generations: how a worker plans, closes and reports the generations of a study.

Part of :class:`~ssropt.engine.worker.Worker` (a mixin over its state).  The strategy is
deterministic given its checkpoint, so each generation is asked once and stored as the
plan, with the checkpoint taken before the ask, in one atomic write.  Whoever completes
the last chunk of a generation closes it: reads its results in individual order (its own
from memory, the others' from their trials), tells the strategy (restored from the
checkpoint unless it planned this generation itself), asks the next generation and
writes checkpoint, plan and work document together.  A generation the budget cuts short
stays open and is extended when the budget is raised.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import numpy as np
import optuna

from ssropt.engine.checkpoint import (
    CHECKPOINT_KEY,
    decode_state,
    encode_state,
    history_keys,
    store_history,
)
from ssropt.engine.parallel import concatenate_evaluations
from ssropt.engine.records import GENOME_KEY, INDIVIDUAL_KEY
from ssropt.engine.study import StudyError
from ssropt.engine.transitions import claim, commit, extend, plan
from ssropt.engine.work import (
    PLAN_GENOMES_KEY,
    WORK_KEY,
    Held,
    PlanMoved,
    WorkDoc,
    expand_ranges,
)
from ssropt.spaces import SpaceEvaluation
from ssropt.storage import StudyUpdate, stored_constraints
from ssropt.strategies import make_strategy
from ssropt.strategies.base import Strategy, constraint_names


@dataclass(frozen=True)
class GenerationReport:
    """What one stored generation adds: its evaluations and the clocks so far."""

    generation: int  # generations stored so far (this one included)
    evaluated: int  # evaluations stored so far (this run and earlier ones)
    result: SpaceEvaluation  # this generation's evaluated designs
    model_seconds: float  # time spent evaluating designs in this run so far
    seconds: float  # wall time of this run so far


class Generations:
    """Planning, closing and reporting generations (see the module docstring)."""

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
        checkpoint = self._read_checkpoint()
        if checkpoint is None or tuple(checkpoint[:2]) != (generation, first):
            found = "none" if checkpoint is None else f"generation {checkpoint[0]}"
            raise StudyError(
                f"the study's checkpoint ({found}) does not match its work plan "
                f"(generation {generation}, {first} designs before it)"
            )
        strategy = self._blank_strategy()
        strategy.load_state(checkpoint[2])
        return strategy

    def _checkpoint_attrs(self, with_history: bool) -> dict:
        """The checkpoint attribute (and, if asked, the history segments it names)."""
        attrs = self._retry(
            lambda: self.backend.read_study_attrs(self.study_id, [CHECKPOINT_KEY]),
            "read the checkpoint",
        )
        keys = history_keys(attrs) if with_history else []
        if keys:
            attrs.update(self._retry(
                lambda: self.backend.read_study_attrs(self.study_id, keys),
                "read the checkpoint's history",
            ))
        return attrs

    def _read_checkpoint(self) -> tuple[int, int, dict] | None:
        return decode_state(self._checkpoint_attrs(with_history=True))

    def _strategy_for(self, doc: WorkDoc) -> Strategy:
        """The strategy with generation ``doc``'s ask pending."""
        if self._live is not None and self._live[0] == doc.plan and self._live[2]:
            return self._live[1]
        self._live = None
        strategy = self._restore(doc.generation, doc.first)
        asked = strategy.ask()
        planned = self._plan_genomes(doc.plan)
        if not np.array_equal(asked[: len(planned)], planned):
            raise StudyError(
                f"strategy {self.config.strategy!r} restored from the checkpoint asked other "
                f"genomes than generation {doc.generation}'s stored plan: it is not "
                "deterministic, so several workers cannot share this study"
            )
        return strategy

    def _constraint_names(self) -> list[str]:
        if self._names is None:
            own = next(iter(self._parts.values()), None)
            self._names = list(own.constraint_names) if own else constraint_names(self.space)
        return self._names

    def _generation(self, doc: WorkDoc) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """Genomes, F, G of the closed plan in individual order, and per-chunk results
        (None for chunks evaluated elsewhere)."""
        first = doc.first
        own = self._parts if self._parts_plan == doc.plan else {}
        genomes, F, G, parts = [], [], [], []
        for c, marker in enumerate(doc.chunks):
            if c in own:
                part = own[c]
                genomes.append(part.genomes)
                F.append(part.F)
                G.append(part.G)
                parts.append(part)
                continue
            ids = expand_ranges(marker.trials)
            trials = self._retry(lambda: self.backend.read_trials(ids), "read a chunk's trials")
            expected = list(range(first + marker.start, first + marker.stop))
            by_individual = {t.system_attrs.get(INDIVIDUAL_KEY): t for t in trials}
            if sorted(by_individual) != expected or any(
                t.state != optuna.trial.TrialState.COMPLETE for t in trials
            ):
                raise StudyError(
                    f"chunk {c} of generation {doc.generation} names trials that do not "
                    f"hold its designs {expected[0]}..{expected[-1]}"
                )
            names = self._constraint_names()
            ordered = [by_individual[i] for i in expected]
            genomes.append(np.array([t.system_attrs[GENOME_KEY] for t in ordered], dtype=np.int64))
            F.append(self.space.objectives.minimised([t.values for t in ordered]))
            G.append(
                np.array(
                    [stored_constraints(t.system_attrs, names) for t in ordered], dtype=float
                ).reshape(len(ordered), len(names))
            )
            parts.append(None)
        return (
            np.concatenate(genomes).reshape(-1, self.space.n_genes),
            np.concatenate(F).reshape(-1, self.space.objectives.count),
            np.concatenate(G),
            parts,
        )

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
        doc = plan(
            uuid.uuid4().hex, generation=generation, first=first, size=len(genomes),
            limit=limit, chunk_size=self.config.chunk_size, lease=self.lease_s,
            workers=workers, finished=finished,
        )
        held = None
        if not finished and not self._out_of_time():
            doc, held = claim(doc, self.me, (), self.lease_s)
        return doc, genomes, held, pending

    def _extend(self, doc: WorkDoc) -> Held | None:
        """Raise the budget limit of an open (budget-cut) plan; None if someone else did."""
        budget = self._budget()
        limit = doc.size if budget is None else min(doc.size, budget - doc.first)
        old = doc.limit
        written: dict = {}

        def decide(attrs: dict) -> StudyUpdate | None:
            current = WorkDoc.from_json(attrs.get(WORK_KEY))
            if current is None or current.plan != doc.plan or current.limit != old:
                return None
            new, held = extend(current, limit, self.me, self._expired(current), self.lease_s,
                               claim_work=not self._out_of_time())
            self._log_takeovers(current, held)
            written["doc"] = new
            return StudyUpdate(attrs={WORK_KEY: new.to_json()}, result=held)

        update = self._update(decide, "extend the work plan")
        if update is None:
            return None
        self._saw(written["doc"])
        return update.result

    def _commit_plan(
        self,
        expected: str | None,
        doc: WorkDoc,
        genomes: np.ndarray,
        extra: dict,
        what: str,
        require_done: bool = False,
    ) -> bool:
        """Write a new plan if the current one is still ``expected``; True if written."""
        outcome = {"ours": False}

        def decide(attrs: dict) -> StudyUpdate | None:
            current = WorkDoc.from_json(attrs.get(WORK_KEY))
            decision = commit(current, expected, doc, require_done)
            outcome["ours"] = decision != "refused"
            if decision != "write":
                return None
            attrs_out = dict(extra)
            attrs_out[PLAN_GENOMES_KEY] = {"plan": doc.plan, "genomes": genomes.tolist()}
            attrs_out[WORK_KEY] = doc.to_json()
            return StudyUpdate(attrs=attrs_out)

        self._update(decide, what)
        return outcome["ours"]

    def _plan(self, doc: WorkDoc | None) -> Held | None:
        """The first plan of a study (or of an older ssropt study), or a new plan after the
        budget was raised; None if someone else planned first."""
        if doc is None:
            checkpoint = self._read_checkpoint()
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
            generation, first, expected = doc.generation, doc.first, doc.plan
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
        self._live = (new.plan, strategy, pending)
        self._genomes = (new.plan, genomes)
        self._saw(new)
        return held

    def _close(self, held: Held) -> Held | None:
        """Tell the strategy the closed generation, ask the next, write both atomically."""
        doc = self._doc
        assert doc is not None and doc.plan == held.plan
        try:
            strategy = self._strategy_for(doc)
        except PlanMoved:
            return None
        genomes, F, G, parts = self._generation(doc)
        strategy.tell(genomes, F, G)
        generation, first = doc.generation + 1, doc.first + doc.size
        previous = self._checkpoint_attrs(with_history=False).get(CHECKPOINT_KEY)
        checkpoint = store_history(encode_state(generation, first, strategy.state_dict()), previous)
        workers = len(doc.participants())
        new, next_genomes, following, pending = self._next(strategy, generation, first, workers)
        if not self._commit_plan(
            doc.plan, new, next_genomes, checkpoint, "close the generation", require_done=True
        ):
            self._live = None
            return None
        self._live = (new.plan, strategy, pending)
        self._genomes = (new.plan, next_genomes)
        self._parts, self._parts_plan = {}, None
        self._saw(new)
        if self.on_generation is not None:
            self._hold(following)  # so a callback that raises gives them back
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
