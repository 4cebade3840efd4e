"""Search strategies: ask/tell over the integer genomes of a space.

Example:
    >>> "nsga2" in available_strategies()
    True
    >>> make_strategy("simulated-annealing", None, seed=0)
    Traceback (most recent call last):
    ...
    ssropt.errors.SsroptError: unknown strategy 'simulated-annealing': known strategies are ...
"""

from __future__ import annotations

import numpy as np

from ssropt.errors import SsroptError
from ssropt.spaces.space import Space
from ssropt.strategies.base import Strategy
from ssropt.strategies.exhaustive import Exhaustive, space_size
from ssropt.strategies.optuna_samplers import (
    HAS_TORCH,
    OptunaGp,
    OptunaNsga2,
    OptunaQmc,
    OptunaRandom,
    OptunaTpe,
    torch_missing_message,
)
from ssropt.strategies.pymoo_nsga2 import PymooNsga2
from ssropt.strategies.ssr_ea import SsrEa

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (PymooNsga2, OptunaNsga2, OptunaTpe, OptunaRandom, OptunaQmc, Exhaustive, SsrEa)
}
if HAS_TORCH:
    STRATEGIES[OptunaGp.name] = OptunaGp


def available_strategies() -> list[str]:
    """Names of the strategies usable here (``gp`` only when torch is installed)."""
    return list(STRATEGIES)


def make_strategy(
    name: str,
    space: Space,
    seed: int,
    population_size: int = 100,
    initial: np.ndarray | None = None,
) -> Strategy:
    """The strategy ``name`` over ``space``; SsroptError for an unknown or unusable name."""
    if name not in STRATEGIES:
        if name == OptunaGp.name:
            raise SsroptError(torch_missing_message())
        raise SsroptError(
            f"unknown strategy {name!r}: known strategies are {', '.join(available_strategies())}"
        )
    return STRATEGIES[name](space, seed, population_size=population_size, initial=initial)


__all__ = [
    "STRATEGIES",
    "Exhaustive",
    "OptunaGp",
    "OptunaNsga2",
    "OptunaQmc",
    "OptunaRandom",
    "OptunaTpe",
    "PymooNsga2",
    "SsrEa",
    "Strategy",
    "available_strategies",
    "make_strategy",
    "space_size",
]
