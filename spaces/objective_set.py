"""The objectives a search optimises: their names, directions and how to read them.

Every study searches latency and throughput; it may add energy per image. One
:class:`ObjectiveSet` knows the list, and everything that depends on it asks it: the
space's minimised objective matrix ``F``, the stored trial values and their metric
names, the study's directions, the strategies' objective count, the fronts.

Stored trial values are the objectives as measured (throughput in ops/s, maximised);
``F`` is the same values with every maximised objective negated, so every column of
``F`` is minimised (the convention of pymoo and :mod:`ssropt.pareto`).

Example:
    >>> objectives = ObjectiveSet.parse("latency,throughput,energy")
    >>> objectives.names
    ('latency_s', 'throughput_ops_per_s', 'energy_j_per_image')
    >>> objectives.directions
    ('minimize', 'maximize', 'minimize')
    >>> objectives.minimised(np.array([[0.002, 4e12, 0.5]])).tolist()
    [[0.002, -4000000000000.0, 0.5]]
    >>> ObjectiveSet.parse("energy")
    Traceback (most recent call last):
    ...
    ssropt.spaces.objective_set.ObjectiveError: unknown objectives 'energy': use latency,throughput or latency,throughput,energy
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssropt.errors import SsroptError

if TYPE_CHECKING:
    from ssropt.objectives.evaluation import Evaluation


class ObjectiveError(SsroptError):
    """An objective list is not one ssropt searches."""


@dataclass(frozen=True)
class Objective:
    """One objective: its key (``--objectives``), the name of its stored value (the
    :class:`~ssropt.objectives.evaluation.Evaluation` field of the same name) and its
    direction."""

    key: str
    name: str
    direction: str

    @property
    def sign(self) -> float:
        """``1`` for a minimised objective, ``-1`` for a maximised one."""
        return 1.0 if self.direction == "minimize" else -1.0


#: every objective ssropt can search
OBJECTIVES = {
    o.key: o
    for o in (
        Objective("latency", "latency_s", "minimize"),
        Objective("throughput", "throughput_ops_per_s", "maximize"),
        Objective("energy", "energy_j_per_image", "minimize"),
    )
}
#: the objective lists a study may search (the first is the default)
CHOICES = (("latency", "throughput"), ("latency", "throughput", "energy"))
DEFAULT_KEYS = CHOICES[0]


@dataclass(frozen=True)
class ObjectiveSet:
    """The ordered objectives of a search (one of :data:`CHOICES`)."""

    keys: tuple[str, ...] = DEFAULT_KEYS

    def __post_init__(self) -> None:
        keys = tuple(self.keys)
        if keys not in CHOICES:
            raise ObjectiveError(f"unknown objectives {','.join(map(str, keys))!r}: use {_choices()}")
        object.__setattr__(self, "keys", keys)

    @classmethod
    def parse(cls, text: str) -> ObjectiveSet:
        """``"latency,throughput,energy"`` -> its set (spaces around names allowed)."""
        keys = tuple(part.strip() for part in str(text).split(","))
        if keys not in CHOICES:
            raise ObjectiveError(f"unknown objectives {str(text)[:80]!r}: use {_choices()}")
        return cls(keys)

    @classmethod
    def from_names(cls, names: list[str] | tuple[str, ...] | None) -> ObjectiveSet:
        """The set whose stored value names are ``names`` (a study's metric names);
        the default set when a study has none."""
        if not names:
            return cls()
        by_name = {o.name: key for key, o in OBJECTIVES.items()}
        keys = tuple(by_name.get(str(n), str(n)) for n in names)
        return cls(keys)

    @property
    def objectives(self) -> tuple[Objective, ...]:
        return tuple(OBJECTIVES[k] for k in self.keys)

    @property
    def count(self) -> int:
        return len(self.keys)

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the stored values (the study's metric names)."""
        return tuple(o.name for o in self.objectives)

    @property
    def directions(self) -> tuple[str, ...]:
        return tuple(o.direction for o in self.objectives)

    @property
    def signs(self) -> np.ndarray:
        """``(count,)``: ``F = values * signs`` and ``values = F * signs``."""
        return np.array([o.sign for o in self.objectives])

    def values(self, evaluation: Evaluation) -> np.ndarray:
        """``(n, count)`` the objectives of evaluated designs as measured (the stored trial
        values); a value the model could not give (NaN) is the worst, ``inf`` minimised."""
        columns = [np.asarray(getattr(evaluation, o.name), dtype=float) for o in self.objectives]
        values = np.stack(columns, axis=1).reshape(-1, self.count)
        return np.where(np.isnan(values), np.inf * self.signs, values)

    def minimised(self, values: np.ndarray) -> np.ndarray:
        """``(n, count)`` stored values -> ``F``, every column minimised (and back: the
        map is its own inverse)."""
        return np.asarray(values, dtype=float).reshape(-1, self.count) * self.signs

    def text(self) -> str:
        """``latency,throughput,energy``: the ``--objectives`` value of this set."""
        return ",".join(self.keys)


def _choices() -> str:
    return " or ".join(",".join(choice) for choice in CHOICES)
