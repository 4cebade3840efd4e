"""What may happen to a work document: pure functions from a document to a new one.

Each function takes a :class:`~ssropt.engine.work.WorkDoc` (plus the worker's identity and
what it observed of the leases) and returns the new document and what was decided; none
does I/O, reads a clock or draws a random number.  The worker loop
(:mod:`ssropt.engine.worker`) calls them inside the storage's compare-and-set and writes
what they return; the property tests (``tests/engine/test_transitions.py``) run them for
many simulated workers at once.

``expired`` is what the caller's lease clock (:mod:`ssropt.engine.leases`) says may be
taken over: the indices of chunks, and ``"close"``, whose claims are unrenewed for their
lease, held by a process of this machine that is gone, or this worker's own.  A marker
without an owner is always free.

Example:
    >>> me = Owner("w1")
    >>> doc = plan("p0", generation=0, first=0, size=10, limit=10, chunk_size=5,
    ...            lease=30.0, workers=1)
    >>> doc, held = claim(doc, me, expired=(), lease=30.0)
    >>> held.chunks
    (0, 1)
    >>> done = complete(doc, me, held, expired=(), lease=30.0, claim_next=True)
    >>> done.stored, done.following.close, done.doc.evaluated
    ((0, 1), True, 10)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from ssropt.engine.work import (
    MAX_CHUNKS,
    Chunk,
    CloseMarker,
    Held,
    Owner,
    WorkDoc,
    id_ranges,
)

CLOSE = "close"


def chunk_markers(start: int, stop: int, chunk: int, lease: float) -> tuple[Chunk, ...]:
    """Fresh chunks covering plan positions ``start:stop``."""
    return tuple(Chunk(a, min(a + chunk, stop), lease=lease) for a in range(start, stop, chunk))


def plan(
    plan_id: str,
    *,
    generation: int,
    first: int,
    size: int,
    limit: int,
    chunk_size: int,
    lease: float,
    workers: int,
    finished: str | None = None,
) -> WorkDoc:
    """The document of a new plan of ``size`` designs, the first ``limit`` within the budget,
    chunked by ``chunk_size`` (enlarged to keep at most ``MAX_CHUNKS`` chunks)."""
    chunk = max(int(chunk_size), math.ceil(size / MAX_CHUNKS), 1)
    return WorkDoc(
        plan=plan_id, generation=generation, first=first, size=size, limit=limit, chunk=chunk,
        finished=finished, workers=max(1, workers),
        chunks=chunk_markers(0, limit, chunk, lease),
    )


def free_chunks(doc: WorkDoc, expired: Collection[int | str]) -> list[int]:
    """Chunks not done whose claim is free or may be taken over."""
    return [
        c for c, marker in enumerate(doc.chunks)
        if not marker.done and (marker.owner is None or c in expired)
    ]


def claim(
    doc: WorkDoc, me: Owner, expired: Collection[int | str], lease: float
) -> tuple[WorkDoc, Held | None]:
    """Claim this worker's share of the free chunks (``chunks // workers``, at least one),
    or else the close of a complete generation; ``(doc, None)`` if there is nothing."""
    if doc.finished:
        return doc, None
    free = free_chunks(doc, expired)
    if free:
        share = max(1, len(doc.chunks) // max(1, doc.workers))
        mine = tuple(free[:share])
        chunks = list(doc.chunks)
        for c in mine:
            chunks[c] = replace(chunks[c], owner=me, beat=0, lease=lease)
        return replace(doc, chunks=tuple(chunks)), Held(doc.plan, chunks=mine)
    if doc.complete and (doc.close is None or doc.close.owner is None or CLOSE in expired):
        return replace(doc, close=CloseMarker(me, 0, lease)), Held(doc.plan, close=True)
    return doc, None


def join(
    doc: WorkDoc, me: Owner, expired: Collection[int | str], lease: float
) -> tuple[WorkDoc | None, Held | None]:
    """:func:`claim`, or, with nothing to claim, count this worker in as waiting (so the
    next generation is shared with it); ``(None, None)`` when nothing is to be written."""
    new, held = claim(doc, me, expired, lease)
    if held is not None:
        return new, held
    if doc.finished or me.id in doc.participants():
        return None, None
    return replace(doc, waiting=(*doc.waiting, me.id)), None


@dataclass(frozen=True)
class Completion:
    """What completing held chunks decided.

    Attributes:
        doc: the new document (the stored chunks done; their ``trials`` are set by
            :func:`record_trials` once the storage has numbered them).
        stored: the chunks whose designs this write stores (those not done before).
        mine: designs this worker stored (now, or by an earlier attempt whose
            acknowledgement was lost).
        following: what this worker holds next (its next share, or the close).
        cut: this write stored the last design the budget allows of a generation cut
            short (which then stays open: see :func:`extend`).
    """

    doc: WorkDoc
    stored: tuple[int, ...]
    mine: int
    following: Held | None
    cut: bool = False


def complete(
    doc: WorkDoc,
    me: Owner,
    held: Held,
    expired: Collection[int | str],
    lease: float,
    claim_next: bool,
) -> Completion | None:
    """Mark the held chunks done (first completion wins: chunks already done are not stored
    again) and claim the next share, or the close once all are done; None if the plan
    moved on."""
    if doc.plan != held.plan:
        return None
    chunks = list(doc.chunks)
    stored, mine = [], 0
    for c in held.chunks:
        marker = chunks[c]
        if marker.done:  # done by another worker (or by our lost-ack attempt)
            mine += marker.size if marker.by == me.id else 0
            continue
        stored.append(c)
        mine += marker.size
        chunks[c] = replace(marker, done=True, by=me.id, owner=None, trials=())
    new = replace(doc, chunks=tuple(chunks))
    following, cut = None, False
    if new.all_done:
        if new.limit < new.size:
            new = replace(new, finished="budget")  # stays open until the budget is raised
            cut = bool(stored)
        else:
            new, following = claim(new, me, expired, lease)  # the close
    elif claim_next:
        new, following = claim(new, me, expired, lease)
    return Completion(new, tuple(stored), mine, following, cut)


def record_trials(doc: WorkDoc, stored: Sequence[int], sizes: Sequence[int],
                  trial_ids: Sequence[int]) -> WorkDoc:
    """Name the trials holding each stored chunk (``trial_ids`` in chunk order, ``sizes[k]``
    of them for ``stored[k]``)."""
    chunks, k = list(doc.chunks), 0
    for c, n in zip(stored, sizes):
        chunks[c] = replace(chunks[c], trials=id_ranges(trial_ids[k:k + n]))
        k += n
    return replace(doc, chunks=tuple(chunks))


def extend(
    doc: WorkDoc,
    limit: int,
    me: Owner,
    expired: Collection[int | str],
    lease: float,
    claim_work: bool,
) -> tuple[WorkDoc, Held | None]:
    """Raise the budget limit of an open (budget-cut) plan to ``limit`` (at most its size),
    adding chunks for the new designs, and claim a share if ``claim_work``."""
    limit = min(limit, doc.size)
    new = replace(
        doc,
        chunks=doc.chunks + chunk_markers(doc.limit, limit, doc.chunk, lease),
        limit=limit,
        finished=None,
    )
    if not claim_work:
        return new, None
    return claim(new, me, expired, lease)


def _own(doc: WorkDoc, me: Owner, held: Held) -> list[int | str]:
    """The unfinished claims of ``held`` that ``me`` still owns in ``doc``."""
    if doc.plan != held.plan:
        return []
    mine: list[int | str] = [
        c for c in held.chunks
        if not doc.chunks[c].done and doc.chunks[c].owner is not None
        and doc.chunks[c].owner.id == me.id
    ]
    if held.close and doc.close is not None and doc.close.owner is not None and (
        doc.close.owner.id == me.id
    ):
        mine.append(CLOSE)
    return mine


def renew(doc: WorkDoc, me: Owner, held: Held) -> WorkDoc | None:
    """A heartbeat: bump ``beat`` of every claim of ``held`` this worker still owns; None
    when there is none."""
    mine = _own(doc, me, held)
    if not mine:
        return None
    for key in mine:
        if key == CLOSE:
            doc = replace(doc, close=replace(doc.close, beat=doc.close.beat + 1))
        else:
            marker = doc.chunks[key]
            doc = doc.with_chunk(key, replace(marker, beat=marker.beat + 1))
    return doc


def release(doc: WorkDoc, me: Owner, held: Held) -> WorkDoc | None:
    """Give back every claim of ``held`` this worker still owns; None when there is none."""
    mine = _own(doc, me, held)
    if not mine:
        return None
    for key in mine:
        if key == CLOSE:
            doc = replace(doc, close=replace(doc.close, owner=None))
        else:
            doc = doc.with_chunk(key, replace(doc.chunks[key], owner=None))
    return doc


def commit(current: WorkDoc | None, expected: str | None, new: WorkDoc,
           require_done: bool) -> str:
    """Whether a new plan may replace the current one: ``"write"``; ``"written"`` when it
    already has (an earlier attempt whose acknowledgement was lost); ``"refused"`` when
    the plan is no longer ``expected`` or (``require_done``) not all its chunks are done.
    A plan is closed at most once: only the first commit over ``expected`` is written."""
    if current is not None and current.plan == new.plan:
        return "written"
    if (current.plan if current is not None else None) != expected:
        return "refused"
    if require_done and current is not None and not current.all_done:
        return "refused"
    return "write"
