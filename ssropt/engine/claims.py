"""Claims: how a worker takes, renews and gives back its share of a generation.

Part of :class:`~ssropt.engine.worker.Worker` (a mixin over its state): a worker claims
``chunks // W`` of the free chunks of the work document (or the close of a complete
generation), each claim with a lease (:mod:`ssropt.engine.leases`) that a heartbeat
thread renews; claims of a worker whose lease expired, or whose process is gone, are
taken over; an interrupted worker gives back what it holds.
"""

from __future__ import annotations

import logging
import threading

from ssropt.engine.leases import owner_is_dead
from ssropt.engine.work import WORK_KEY, Held, bump_beat, drop_owner, participants
from ssropt.storage import StudyUpdate, update_study

logger = logging.getLogger("ssropt.engine.worker")


class Claims:
    """Claiming, renewing and releasing work (see the module docstring)."""

    me: dict
    _holding: Held | None
    _hold_lock: threading.Lock

    def _hold(self, held: Held | None) -> None:
        with self._hold_lock:
            self._holding = held

    def _claim_in(self, doc: dict) -> Held | None:
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
            return Held(plan, chunks=mine)
        if all(marker["done"] for marker in doc["chunks"]) and doc["limit"] == doc["size"]:
            close = doc.get("close")
            if close is None or self.leases.expired((plan, "close"), close):
                self._log_takeover(doc, "the close", close or {})
                doc["close"] = {"owner": self.me, "beat": 0, "lease": self.lease_s}
                return Held(plan, close=True)
        return None

    def _log_takeover(self, doc: dict, what: str, marker: dict) -> None:
        owner = marker.get("owner")
        if owner and owner.get("id") != self.me["id"]:
            logger.info(
                "taking over %s of generation %d from worker %s (pid %s): %s",
                what, doc["generation"], owner.get("id", "?")[:8], owner.get("pid"),
                "its process is gone" if owner_is_dead(owner, self.me) else "its lease expired",
            )

    def _claim(self, doc: dict) -> Held | None:
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

    # -- leases --------------------------------------------------------------------------
    def _renew(self) -> None:
        """Heartbeat: bump ``beat`` of every claim this worker holds (another thread)."""
        with self._hold_lock:
            held = self._holding
        if held is not None:
            update_study(self.storage, self.study_id, [WORK_KEY], self._own_claims(held, bump_beat))

    def _release(self) -> None:
        """Give back what this worker holds (when interrupted); never raises."""
        with self._hold_lock:
            held, self._holding = self._holding, None
        if held is None:
            return
        decide = self._own_claims(held, drop_owner)
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
