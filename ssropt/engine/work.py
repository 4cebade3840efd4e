"""The work document: what a study's workers share, and the helpers that read it.

One study system attribute, :data:`WORK_KEY` (plain JSON), names the current plan and,
per chunk, its holder and whether it is done; :data:`PLAN_GENOMES_KEY` holds the plan's
genomes.  The protocol the workers follow over it (see :mod:`ssropt.engine.worker`):

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import optuna

from ssropt.engine.study import CONFIG_PREFIX, StudyConfig
from ssropt.storage import read_study_attrs

WORK_KEY = "ssropt:work"
PLAN_GENOMES_KEY = "ssropt:plan-genomes"
MAX_CHUNKS = 64


@dataclass(frozen=True)
class Held:
    """What this worker holds: chunks of a plan, or the plan's close."""

    plan: str
    chunks: tuple[int, ...] = ()
    close: bool = False


class PlanMoved(Exception):
    """The plan we were working on has been closed by another worker."""


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


def chunk_markers(start: int, stop: int, chunk: int, lease: float) -> list[dict]:
    """Fresh chunk markers covering plan positions ``start:stop``."""
    return [
        {"start": a, "stop": min(a + chunk, stop), "owner": None, "beat": 0, "lease": lease,
         "done": False, "by": None, "trials": []}
        for a in range(start, stop, chunk)
    ]


def id_ranges(ids: Sequence[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for trial_id in ids:
        if ranges and ranges[-1][0] + ranges[-1][1] == trial_id:
            ranges[-1][1] += 1
        else:
            ranges.append([int(trial_id), 1])
    return ranges


def expand_ranges(ranges: Sequence[Sequence[int]]) -> list[int]:
    return [start + k for start, count in ranges for k in range(count)]


def bump_beat(marker: dict) -> None:
    """A heartbeat on a claim marker: its lease is renewed."""
    marker["beat"] = int(marker.get("beat", 0)) + 1


def drop_owner(marker: dict) -> None:
    """A claim marker given back: anyone may take it."""
    marker["owner"] = None
