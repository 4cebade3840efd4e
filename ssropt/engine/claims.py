"""Claims: how a worker takes, renews and gives back its share of a generation.

Part of :class:`~ssropt.engine.worker.Worker` (a mixin over its state): the storage side
of :func:`~ssropt.engine.transitions.join`, :func:`~ssropt.engine.transitions.renew` and
:func:`~ssropt.engine.transitions.release`.  Each claim carries a lease
(:mod:`ssropt.engine.leases`) that a heartbeat thread renews; claims of a worker whose
lease expired, or whose process is gone, are taken over; an interrupted worker gives
back what it holds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ssropt.engine.leases import LeaseClock, owner_is_dead
from ssropt.engine.transitions import CLOSE, join, release, renew
from ssropt.engine.work import WORK_KEY, Held, Owner, WorkDoc
from ssropt.storage import StudyBackend, StudyUpdate

logger = logging.getLogger("ssropt.engine.worker")


class Claims:
    """Claiming, renewing and releasing work (see the module docstring)."""

    me: Owner
    leases: LeaseClock
    lease_s: float
    backend: StudyBackend
    study_id: int
    _holding: Held | None
    _hold_lock: threading.Lock

    def _hold(self, held: Held | None) -> None:
        with self._hold_lock:
            self._holding = held

    def _expired(self, doc: WorkDoc) -> set[int | str]:
        """The claims of ``doc`` this worker may take over (by its lease clock)."""
        out: set[int | str] = {
            c for c, marker in enumerate(doc.chunks)
            if not marker.done and marker.owner is not None
            and self.leases.expired((doc.plan, c), marker)
        }
        if doc.close is not None and doc.close.owner is not None and self.leases.expired(
            (doc.plan, CLOSE), doc.close
        ):
            out.add(CLOSE)
        return out

    def _log_takeovers(self, before: WorkDoc, held: Held | None) -> None:
        if held is None:
            return
        taken = [(f"chunk {c}", before.chunks[c].owner) for c in held.chunks
                 if c < len(before.chunks)]
        if held.close and before.close is not None:
            taken.append(("the close", before.close.owner))
        for what, owner in taken:
            if owner is not None and owner.id != self.me.id:
                logger.info(
                    "taking over %s of generation %d from worker %s (pid %s): %s",
                    what, before.generation, owner.id[:8], owner.pid,
                    "its process is gone" if owner_is_dead(owner, self.me)
                    else "its lease expired",
                )

    def _claim(self, doc: WorkDoc) -> Held | None:
        plan = doc.plan
        written: dict = {}

        def decide(attrs: dict) -> StudyUpdate | None:
            current = WorkDoc.from_json(attrs.get(WORK_KEY))
            if current is None or current.plan != plan or current.finished:
                return None
            self._observe(current)
            new, held = join(current, self.me, self._expired(current), self.lease_s)
            if new is None:
                return None
            self._log_takeovers(current, held)
            written["doc"] = new
            return StudyUpdate(attrs={WORK_KEY: new.to_json()}, result=held)

        update = self._update(decide, "claim work")
        if update is None:
            return None
        self._saw(written["doc"])
        return update.result

    # -- leases --------------------------------------------------------------------------
    def _renew(self) -> None:
        """Heartbeat: bump ``beat`` of every claim this worker holds (another thread)."""
        with self._hold_lock:
            held = self._holding
        if held is not None:
            self.backend.update_study(self.study_id, [WORK_KEY], self._own_claims(held, renew))

    def _release(self) -> None:
        """Give back what this worker holds (when interrupted); never raises."""
        with self._hold_lock:
            held, self._holding = self._holding, None
        if held is None:
            return
        try:
            self.backend.update_study(self.study_id, [WORK_KEY], self._own_claims(held, release))
        except BaseException as error:  # interrupted again, storage away: the lease covers it
            logger.info("could not release this worker's claims: %s", error)

    def _own_claims(self, held: Held, change: Callable) -> Callable:
        """A ``decide`` applying ``change(doc, me, held)`` (renew, release) to the claims
        of ``held`` this worker still owns; no update when there is none."""

        def decide(attrs: dict) -> StudyUpdate | None:
            current = WorkDoc.from_json(attrs.get(WORK_KEY))
            new = None if current is None else change(current, self.me, held)
            return None if new is None else StudyUpdate(attrs={WORK_KEY: new.to_json()})

        return decide

