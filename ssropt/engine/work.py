"""The work document: what a study's workers share, as frozen values with a JSON form.

One study system attribute, :data:`WORK_KEY` (plain JSON), names the current plan and,
per chunk, its holder and whether it is done; :data:`PLAN_GENOMES_KEY` holds the plan's
genomes.  :class:`WorkDoc` is that document (with :class:`Chunk`, :class:`Owner` and
:class:`CloseMarker`), read with :meth:`WorkDoc.from_json` and written with
:meth:`WorkDoc.to_json` in the stored format.  What may happen to it -- plan, claim,
complete, close, take over, extend, renew, release -- are the pure functions of
:mod:`ssropt.engine.transitions`; the worker loop (:mod:`ssropt.engine.worker`) applies
them inside the storage's compare-and-set.  The protocol:

* **The plan.**  The strategy is deterministic given its checkpoint, so generation ``g``
  is asked once: its genomes are stored as the plan, in the same atomic write as the
  checkpoint taken before the ask.  The designs within the budget are split into chunks
  of ``chunk_size`` designs (a study setting, 25 by default, enlarged so a generation has
  at most 64 chunks), in individual order; worker counts play no part in it.  A
  generation the budget cuts short stays open -- evaluated up to the budget, not told --
  and is extended when the budget is raised (``resume --budget``), so a study continued
  with a larger budget stores exactly what one run with that budget stores.
* **The work document** says which plan is current and, per chunk, who holds it (owner,
  heartbeat counter, lease) and whether it is done (and which trials hold its results).
  Every change to it is a compare-and-set: the storage backend's ``update_study`` reads
  it, decides and writes under the storage's lock (the journal file's lock file; a
  ``SELECT ... FOR UPDATE`` of the study row in a database), so two workers never claim,
  complete or close the same thing.
* **Claiming.**  A worker claims its share of the free chunks, ``chunks // W`` at least
  one, where ``W`` is the number of workers that took part in the previous generation
  (chunk holders and idle workers that registered as waiting).  A lone worker thus takes
  a whole generation and evaluates it in one vectorised call; four workers take a
  quarter each.  A claim whose lease expired, or whose holder's process is gone, is free.
* **Completing.**  A worker evaluates its chunks and, in one atomic write, stores their
  designs as COMPLETE trials, marks the chunks done (naming the trials) and claims its
  next share.  A chunk that is already done is not stored again: the first completion
  wins, so every ``(generation, individual)`` is stored exactly once.
* **Closing.**  Whoever completes the last chunk of a complete generation ``g`` also
  claims the close.  It reads the generation's results in individual order (its own
  from memory, the others' from their trials), tells the strategy (restored from the
  checkpoint unless it planned this generation itself; the restored strategy must ask
  exactly the stored plan), asks generation ``g + 1`` and writes checkpoint, plan and
  work document together, provided the plan is still ``g`` and all its chunks are done.
  Idle workers poll the work document (10 ms doubling to 100 ms; every 10 ms while a
  close is under way) until there is something to claim, and stop when the plan says the
  budget is spent or the strategy is exhausted.

Example:
    >>> doc = WorkDoc.from_json({"plan": "p", "generation": 0, "first": 0, "size": 4,
    ...     "limit": 4, "chunk": 2, "finished": None, "workers": 1, "close": None,
    ...     "waiting": [], "chunks": [
    ...     {"start": 0, "stop": 2, "owner": None, "beat": 0, "lease": 30.0, "done": True,
    ...      "by": "w1", "trials": [[0, 2]]},
    ...     {"start": 2, "stop": 4, "owner": None, "beat": 0, "lease": 30.0, "done": False,
    ...      "by": None, "trials": []}]})
    >>> doc.evaluated, doc.all_done, WorkDoc.from_json(doc.to_json()) == doc
    (2, False, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

WORK_KEY = "ssropt:work"
PLAN_GENOMES_KEY = "ssropt:plan-genomes"
MAX_CHUNKS = 64
DEFAULT_LEASE_S = 30.0


@dataclass(frozen=True)
class Owner:
    """Who holds a claim: a random worker id, its machine, process id and start time."""

    id: str
    machine: str = ""
    pid: int | None = None
    start: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "machine": self.machine, "pid": self.pid, "start": self.start}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | Owner | None) -> Owner | None:
        if data is None or isinstance(data, Owner):
            return data
        return cls(str(data.get("id", "")), str(data.get("machine", "")), data.get("pid"),
                   data.get("start"))


@dataclass(frozen=True)
class Chunk:
    """Plan positions ``start:stop``: their holder (with heartbeat count and lease), and
    once done, the worker that stored them and their trial ids as ``(first, count)``."""

    start: int
    stop: int
    owner: Owner | None = None
    beat: int = 0
    lease: float = DEFAULT_LEASE_S
    done: bool = False
    by: str | None = None
    trials: tuple[tuple[int, int], ...] = ()

    @property
    def size(self) -> int:
        return self.stop - self.start

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start, "stop": self.stop,
            "owner": None if self.owner is None else self.owner.to_json(),
            "beat": self.beat, "lease": self.lease, "done": self.done, "by": self.by,
            "trials": [list(r) for r in self.trials],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Chunk:
        return cls(
            int(data["start"]), int(data["stop"]), Owner.from_json(data.get("owner")),
            int(data.get("beat", 0)), float(data.get("lease", DEFAULT_LEASE_S)),
            bool(data.get("done", False)), data.get("by"),
            tuple((int(a), int(n)) for a, n in data.get("trials") or ()),
        )


@dataclass(frozen=True)
class CloseMarker:
    """The claim on closing a complete generation."""

    owner: Owner | None
    beat: int = 0
    lease: float = DEFAULT_LEASE_S

    def to_json(self) -> dict[str, Any]:
        return {"owner": None if self.owner is None else self.owner.to_json(),
                "beat": self.beat, "lease": self.lease}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CloseMarker | None:
        if not data:
            return None
        return cls(Owner.from_json(data.get("owner")), int(data.get("beat", 0)),
                   float(data.get("lease", DEFAULT_LEASE_S)))


@dataclass(frozen=True)
class WorkDoc:
    """The work document of one plan (one generation); see the module docstring.

    Attributes:
        plan: random id of the plan (a new one per generation).
        generation: the generation planned; ``first``: designs stored before it.
        size: designs asked; ``limit``: those within the budget (chunked).
        chunk: designs per chunk; ``workers``: participants of the previous generation.
        finished: None, ``"budget"`` or ``"strategy"``.
        chunks, close, waiting: the claims, the close claim, idle workers counted in.
    """

    plan: str
    generation: int
    first: int
    size: int
    limit: int
    chunk: int
    finished: str | None = None
    workers: int = 1
    chunks: tuple[Chunk, ...] = ()
    close: CloseMarker | None = None
    waiting: tuple[str, ...] = field(default=())

    # -- reading ----------------------------------------------------------------------------
    @property
    def evaluated(self) -> int:
        """Designs stored in the study according to the document."""
        return self.first + sum(c.size for c in self.chunks if c.done)

    @property
    def all_done(self) -> bool:
        return all(c.done for c in self.chunks)

    @property
    def complete(self) -> bool:
        """Every chunk done and the whole generation within the budget: ready to close."""
        return self.all_done and self.limit == self.size

    @property
    def closing(self) -> bool:
        """Whether the generation is complete and being closed by someone."""
        return not self.finished and self.close is not None and self.all_done

    def participants(self) -> set[str]:
        """Ids of the workers that hold, did or wait for work of this generation."""
        ids = set(self.waiting)
        for marker in self.chunks:
            if marker.by:
                ids.add(marker.by)
            if marker.owner:
                ids.add(marker.owner.id)
        if self.close is not None and self.close.owner is not None:
            ids.add(self.close.owner.id)
        return ids

    def with_chunk(self, index: int, chunk: Chunk) -> WorkDoc:
        chunks = list(self.chunks)
        chunks[index] = chunk
        return replace(self, chunks=tuple(chunks))

    # -- JSON --------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan, "generation": self.generation, "first": self.first,
            "size": self.size, "limit": self.limit, "chunk": self.chunk,
            "finished": self.finished, "workers": self.workers,
            "chunks": [c.to_json() for c in self.chunks],
            "close": None if self.close is None else self.close.to_json(),
            "waiting": list(self.waiting),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | WorkDoc | None) -> WorkDoc | None:
        if data is None or isinstance(data, WorkDoc):
            return data
        return cls(
            str(data["plan"]), int(data["generation"]), int(data["first"]), int(data["size"]),
            int(data["limit"]), int(data["chunk"]), data.get("finished"),
            int(data.get("workers", 1)), tuple(Chunk.from_json(c) for c in data["chunks"]),
            CloseMarker.from_json(data.get("close")), tuple(data.get("waiting") or ()),
        )


@dataclass(frozen=True)
class Held:
    """What this worker holds: chunks of a plan, or the plan's close."""

    plan: str
    chunks: tuple[int, ...] = ()
    close: bool = False


class PlanMoved(Exception):
    """The plan we were working on has been closed by another worker."""


def evaluated_in(doc: WorkDoc | Mapping[str, Any] | None) -> int:
    """Designs stored in the study according to the work document (or its JSON)."""
    doc = WorkDoc.from_json(doc)
    return 0 if doc is None else doc.evaluated


def id_ranges(ids: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Trial ids as ``(first, count)`` runs of consecutive ids."""
    ranges: list[list[int]] = []
    for trial_id in ids:
        if ranges and ranges[-1][0] + ranges[-1][1] == trial_id:
            ranges[-1][1] += 1
        else:
            ranges.append([int(trial_id), 1])
    return tuple((a, n) for a, n in ranges)


def expand_ranges(ranges: Sequence[Sequence[int]]) -> list[int]:
    return [start + k for start, count in ranges for k in range(count)]
