"""The work-document transitions (ssropt.engine.transitions), without processes or storage.

Several simulated workers act on one work document in random interleavings chosen by
hypothesis: plan, claim (or wait), complete, close, extend after a budget raise, stall
(a frozen process: its claims look expired to the others), resume, die.  Each step is one
compare-and-set over the document's JSON form, as the storage runs it.  Whatever the
interleaving:

* a worker that kept running since it claimed a chunk still holds it (a claim is only
  taken over once its holder has stalled or died: never from a live worker);
* every (generation, individual) is stored at most once (the first completion wins,
  later ones store nothing) and never beyond the budget;
* a generation is closed only when all its chunks are done and the whole generation is
  within the budget, and at most once;
* once the survivors have drained the study, every design within the budget is stored
  exactly once and every complete generation was closed exactly once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from ssropt.engine.transitions import (
    CLOSE,
    claim,
    commit,
    complete,
    extend,
    join,
    plan,
    record_trials,
    release,
    renew,
)
from ssropt.engine.work import Held, Owner, WorkDoc

LEASE = 30.0


@dataclass
class SimWorker:
    owner: Owner
    state: str = "running"  # running, stalled, dead
    held: Held | None = None
    seen: WorkDoc | None = None  # the document as this worker last wrote it
    stalled_since_claim: bool = False
    done: bool = False


@dataclass
class Sim:
    population: int
    chunk_size: int
    budget: int
    workers: list[SimWorker]
    stored_doc: dict | None = None  # the work document as the storage holds it (JSON)
    stored: Counter = field(default_factory=Counter)  # (generation, individual) -> times
    closes: Counter = field(default_factory=Counter)  # generation -> times closed
    next_trial: int = 0
    plans: int = 0

    # -- the storage: one compare-and-set at a time -------------------------------------------
    def read(self) -> WorkDoc | None:
        return WorkDoc.from_json(self.stored_doc)

    def write(self, doc: WorkDoc) -> None:
        data = doc.to_json()
        assert WorkDoc.from_json(data) == doc  # the JSON form round-trips
        self.stored_doc = data

    def expired(self, observer: SimWorker, doc: WorkDoc) -> set[int | str]:
        """What ``observer``'s lease clock says: claims of stalled or dead workers (their
        heartbeats stopped long enough) and its own."""
        gone = {w.owner.id for w in self.workers if w.state != "running"} | {observer.owner.id}
        out: set[int | str] = {
            c for c, m in enumerate(doc.chunks)
            if not m.done and m.owner is not None and m.owner.id in gone
        }
        if doc.close is not None and doc.close.owner is not None and doc.close.owner.id in gone:
            out.add(CLOSE)
        return out

    def new_plan(self, generation: int, first: int, workers: int) -> WorkDoc:
        left = self.budget - first
        finished = "budget" if left <= 0 else None
        size = 0 if finished else self.population
        self.plans += 1
        return plan(f"plan{self.plans}", generation=generation, first=first, size=size,
                    limit=max(0, min(size, left)), chunk_size=self.chunk_size, lease=LEASE,
                    workers=workers, finished=finished)

    # -- one step of one worker ---------------------------------------------------------------
    def act(self, worker: SimWorker) -> None:
        if worker.state != "running" or worker.done:
            return
        doc = self.read()
        held = worker.held
        if held is None:
            self.idle_step(worker, doc)
        elif held.close:
            self.close_step(worker, doc, held)  # tells and asks from its own view
        else:
            self.complete_step(worker, doc, held)

    def take(self, worker: SimWorker, doc: WorkDoc, held: Held | None) -> WorkDoc:
        """``worker`` now holds ``held`` of ``doc``: as the real worker, start its own
        claim on it with the ``owner`` field set."""
        worker.held, worker.seen = held, doc
        worker.stalled_since_claim = False
        if held is not None:
            for c in held.chunks:
                assert doc.chunks[c].owner == worker.owner
        return doc

    def idle_step(self, worker: SimWorker, doc: WorkDoc | None) -> None:
        if doc is None:  # plan the first generation (two may race: one commit wins)
            new = self.new_plan(0, 0, 1)
            new, held = claim(new, worker.owner, (), LEASE)
            if commit(self.read(), None, new, require_done=False) == "write":
                self.write(new)
                self.take(worker, new, held)
            return
        if doc.finished == "budget" and self.budget > doc.evaluated:
            if doc.limit < doc.size:
                new, held = extend(doc, self.budget - doc.first, worker.owner,
                                   self.expired(worker, doc), LEASE, claim_work=True)
            else:
                new = self.new_plan(doc.generation, doc.first, 1)
                new, held = claim(new, worker.owner, (), LEASE)
            self.write(new)
            self.take(worker, new, held)
            return
        if doc.finished:
            worker.done = True
            return
        new, held = join(doc, worker.owner, self.expired(worker, doc), LEASE)
        if new is not None:
            self.write(new)
            self.take(worker, new, held)

    def complete_step(self, worker: SimWorker, doc: WorkDoc, held: Held) -> None:
        done = complete(doc, worker.owner, held, self.expired(worker, doc), LEASE,
                        claim_next=True)
        if done is None:  # the plan moved on
            worker.held = None
            return
        sizes = []
        for c in done.stored:
            chunk = doc.chunks[c]
            for k in range(chunk.start, chunk.stop):
                individual = doc.first + k
                assert individual < self.budget, "stored beyond the budget"
                self.stored[(doc.generation, individual)] += 1
            sizes.append(chunk.size)
        ids = list(range(self.next_trial, self.next_trial + sum(sizes)))
        self.next_trial += len(ids)
        new = record_trials(done.doc, done.stored, sizes, ids)
        self.write(new)
        self.take(worker, new, done.following)

    def close_step(self, worker: SimWorker, current: WorkDoc, held: Held) -> None:
        doc = worker.seen  # what it claimed the close of: the commit must guard the rest
        new = self.new_plan(doc.generation + 1, doc.first + doc.size, len(doc.participants()))
        new, following = claim(new, worker.owner, (), LEASE)
        if commit(self.read(), held.plan, new, require_done=True) != "write":
            worker.held = None
            return
        assert doc.all_done and doc.limit == doc.size, "closed an incomplete generation"
        self.closes[doc.generation] += 1
        self.write(new)
        self.take(worker, new, following)

    # -- the others ---------------------------------------------------------------------------------
    def event(self, kind: str, index: int) -> None:
        worker = self.workers[index % len(self.workers)]
        if kind == "act":
            self.act(worker)
        elif kind == "stall" and worker.state == "running":
            worker.state, worker.stalled_since_claim = "stalled", True
        elif kind == "resume" and worker.state == "stalled":
            worker.state = "running"
        elif kind == "die":
            worker.state = "dead"
        elif kind == "heartbeat" and worker.state == "running" and worker.held is not None:
            doc = self.read()
            new = doc and renew(doc, worker.owner, worker.held)
            if new is not None:
                self.write(new)
        elif kind == "release" and worker.state == "running" and worker.held is not None:
            doc = self.read()
            new = doc and release(doc, worker.owner, worker.held)
            if new is not None:
                self.write(new)
            worker.held = None
        elif kind == "raise":
            self.budget += self.population // 2 + 1
            for w in self.workers:
                w.done = False

    def check(self) -> None:
        doc = self.read()
        assert max(self.stored.values(), default=0) <= 1, "a design stored twice"
        assert max(self.closes.values(), default=0) <= 1, "a generation closed twice"
        if doc is None:
            return
        assert doc.evaluated <= self.budget
        for worker in self.workers:
            held = worker.held
            if worker.state != "running" or worker.stalled_since_claim or held is None:
                continue
            if held.plan != doc.plan:
                continue
            for c in held.chunks:
                marker = doc.chunks[c]
                assert marker.done or marker.owner == worker.owner, (
                    f"chunk {c} taken from live worker {worker.owner.id}"
                )

    def drain(self) -> None:
        for worker in self.workers:
            if worker.state == "stalled":
                worker.state = "running"
        if all(w.state == "dead" for w in self.workers):
            self.workers.append(SimWorker(Owner(f"w{len(self.workers)}")))
        for _ in range(5000):
            live = [w for w in self.workers if w.state == "running" and not w.done]
            if not live:
                return
            for worker in live:
                self.act(worker)
                self.check()
        raise AssertionError("the survivors did not finish the study")


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["act"] * 5 + ["stall"] * 2 + ["resume"] * 2
                        + ["die", "heartbeat", "release", "raise"]),
        st.integers(0, 3),
    ),
    max_size=60,
)


@settings(max_examples=600, deadline=None)
@given(
    population=st.integers(1, 12),
    chunk_size=st.integers(1, 5),
    budget=st.integers(1, 40),
    n_workers=st.integers(1, 3),
    events=EVENTS,
)
def test_interleaved_workers_store_every_design_once_and_close_each_generation_once(
    population, chunk_size, budget, n_workers, events
):
    sim = Sim(population, chunk_size, budget,
              [SimWorker(Owner(f"w{i}", machine="m", pid=i)) for i in range(n_workers)])
    for kind, index in events:
        sim.event(kind, index)
        sim.check()
    sim.drain()
    doc = sim.read()
    assert doc.finished == "budget" and doc.evaluated == sim.budget
    per_generation = Counter(generation for generation, _ in sim.stored)
    assert sorted(individual for _, individual in sim.stored) == list(range(sim.budget))
    assert all(count == 1 for count in sim.stored.values())
    complete_generations = {g for g, n in per_generation.items() if n == population}
    assert set(sim.closes) == complete_generations
    assert all(n == 1 for n in sim.closes.values())


def test_a_claim_is_taken_over_only_when_expired():
    a, b = Owner("a"), Owner("b")
    doc = plan("p", generation=0, first=0, size=4, limit=4, chunk_size=2, lease=LEASE,
               workers=2)
    doc, held_a = claim(doc, a, (), LEASE)
    assert held_a.chunks == (0,)
    doc, held_b = claim(doc, b, (), LEASE)
    assert held_b.chunks == (1,)
    assert claim(doc, b, (), LEASE) == (doc, None)  # a's chunk is live: nothing for b
    taken, held = claim(doc, b, {0}, LEASE)  # a's lease expired in b's eyes
    assert held.chunks == (0,) and taken.chunks[0].owner == b
    late = complete(taken, a, held_a, (), LEASE, claim_next=False)  # a was only slow
    assert late.stored == (0,)  # first completion wins: a's
    again = complete(late.doc, b, held, (), LEASE, claim_next=False)
    assert again.stored == () and again.mine == 0  # b stores nothing twice


def test_a_budget_cut_generation_stays_open_until_extended():
    me = Owner("w")
    doc = plan("p", generation=2, first=100, size=50, limit=20, chunk_size=10, lease=LEASE,
               workers=1)
    doc, held = claim(doc, me, (), LEASE)
    done = complete(doc, me, held, (), LEASE, claim_next=True)
    assert done.cut and done.doc.finished == "budget" and done.following is None
    assert done.doc.evaluated == 120
    extended, held = extend(done.doc, 50, me, (), LEASE, claim_work=True)
    assert extended.finished is None and extended.limit == 50 and held.chunks == (2, 3, 4)
    assert [c.done for c in extended.chunks] == [True, True, False, False, False]
