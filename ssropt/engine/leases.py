"""Who holds a claim, and when another worker may take it over.

A claim in the work document (see :mod:`ssropt.engine.work`) names its owner -- a random
worker id, the machine, the process id and the process start time -- and carries a
``beat`` counter and a ``lease`` in seconds.  The owner bumps ``beat`` every third of the
lease while it works (:class:`Heartbeat`).

Expiry is judged by the *observer*, on its own monotonic clock, never by comparing clocks
of different machines: a claim has expired when the observer has seen the same
``(owner, beat)`` for longer than the claim's lease (:class:`LeaseClock`).  A claim whose
owner ran on the observer's machine (same host name, boot and PID namespace) and whose
process is gone has expired at once, so a study killed on a laptop resumes without
waiting out a lease.  Expiry only ever costs duplicated work, never duplicated results:
completing a chunk is a compare-and-set that only the first completer wins.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ssropt.engine.work import DEFAULT_LEASE_S, Owner

logger = logging.getLogger(__name__)



def _read(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return None


def machine_token() -> str:
    """Host name, boot id and PID namespace: equal exactly for processes that can see
    each other's process ids (falls back to the host name without ``/proc``)."""
    parts = [socket.gethostname()]
    boot = _read("/proc/sys/kernel/random/boot_id")
    if boot:
        parts.append(boot)
    try:
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    except OSError:
        pass
    return "|".join(parts)


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot), None if unknown."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    try:
        return stat.rsplit(")", 1)[1].split()[19]
    except IndexError:
        return None


def new_owner() -> Owner:
    """The identity this worker writes into its claims."""
    pid = os.getpid()
    return Owner(uuid.uuid4().hex, machine_token(), pid, process_start(pid))


def owner_is_dead(owner: Owner | dict[str, Any], here: Owner | dict[str, Any]) -> bool:
    """True when ``owner`` ran on this machine and its process no longer exists."""
    owner, here = Owner.from_json(owner), Owner.from_json(here)
    if owner.machine != here.machine:
        return False
    pid = owner.pid
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    except OSError:
        return False
    stat = _read(f"/proc/{pid}/stat")
    if stat and stat.rsplit(")", 1)[-1].split()[:1] in (["Z"], ["X"]):
        return True  # killed, not yet reaped by its parent
    start = owner.start
    return start is not None and process_start(pid) not in (None, start)  # pid reused


def _claim_fields(claim: Any) -> tuple[Owner | None, Any, float]:
    """Owner, beat and lease of a claim marker (a Chunk, a CloseMarker or their JSON)."""
    if isinstance(claim, dict):
        return (Owner.from_json(claim.get("owner")), claim.get("beat"),
                float(claim.get("lease", DEFAULT_LEASE_S)))
    return claim.owner, claim.beat, float(claim.lease)


class LeaseClock:
    """Remembers when this worker first saw each claim version; says which have expired."""

    def __init__(self, here: Owner | dict[str, Any], clock: Callable[[], float] = time.monotonic):
        self.here = Owner.from_json(here)
        self.clock = clock
        self._seen: dict[Any, tuple[tuple, float]] = {}

    def observe(self, key: Any, claim: Any) -> None:
        """Record ``claim`` (the first time this version of it is seen, the clock starts)."""
        owner, beat, _ = _claim_fields(claim) if claim else (None, None, 0.0)
        if owner is None:
            self._seen.pop(key, None)
            return
        version = (owner.id, beat)
        seen = self._seen.get(key)
        if seen is None or seen[0] != version:
            self._seen[key] = (version, self.clock())

    def expired(self, key: Any, claim: Any) -> bool:
        """Whether ``claim`` may be taken over now (observes it first)."""
        owner, _, lease = _claim_fields(claim)
        if owner is None:
            return True
        if owner.id == self.here.id:
            return True  # our own claim (a write whose acknowledgement we lost)
        if owner_is_dead(owner, self.here):
            return True
        self.observe(key, claim)
        _, since = self._seen[key]
        return self.clock() - since >= lease

    def forget(self, keep: Callable[[Any], bool]) -> None:
        for key in [k for k in self._seen if not keep(k)]:
            del self._seen[key]


class Heartbeat:
    """Calls ``renew()`` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, renew: Callable[[], None], interval: float) -> None:
        self._renew = renew
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ssropt-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=max(self._interval, 1.0) + 5.0)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._renew()
            except Exception as error:  # a missed beat only risks duplicated work
                logger.warning("could not renew this worker's claims: %s", error)
