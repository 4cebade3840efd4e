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

import importlib
from typing import TYPE_CHECKING

import numpy as np

from ssropt.errors import SsroptError

if TYPE_CHECKING:
    from ssropt.spaces.space import Space
    from ssropt.strategies.base import Strategy

#: public name -> the module defining it; imported on first use, so a command that never
#: searches (``--help``, ``front``, an early error) does not import Optuna and pymoo
_HOMES = {
    "Strategy": "base",
    "Exhaustive": "exhaustive", "space_size": "exhaustive",
    "OptunaGp": "optuna_samplers", "OptunaNsga2": "optuna_samplers", "OptunaQmc": "optuna_samplers",
    "OptunaRandom": "optuna_samplers", "OptunaTpe": "optuna_samplers", "HAS_TORCH": "optuna_samplers",
    "torch_missing_message": "optuna_samplers",
    "PymooNsga2": "pymoo_nsga2", "SsrEa": "ssr_ea",
}
_STRATEGY_CLASSES = ("PymooNsga2", "OptunaNsga2", "OptunaTpe", "OptunaRandom", "OptunaQmc", "Exhaustive", "SsrEa")


def __getattr__(name: str):
    if name == "STRATEGIES":
        return _registry()
    if name in _HOMES:
        value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _registry() -> dict[str, type[Strategy]]:
    """Strategy name -> class (``gp`` only when torch is installed)."""
    registry = globals().get("_REGISTRY")
    if registry is None:
        registry = {cls.name: cls for cls in (__getattr__(name) for name in _STRATEGY_CLASSES)}
        if __getattr__("HAS_TORCH"):
            gp = __getattr__("OptunaGp")
            registry[gp.name] = gp
        globals()["_REGISTRY"] = registry
    return registry


def available_strategies() -> list[str]:
    """Names of the strategies usable here (``gp`` only when torch is installed)."""
    return list(_registry())


def make_strategy(
    name: str,
    space: Space,
    seed: int,
    population_size: int = 100,
    initial: np.ndarray | None = None,
) -> Strategy:
    """The strategy ``name`` over ``space``; SsroptError for an unknown or unusable name."""
    registry = _registry()
    if name not in registry:
        if name == __getattr__("OptunaGp").name:
            raise SsroptError(__getattr__("torch_missing_message")())
        raise SsroptError(
            f"unknown strategy {name!r}: known strategies are {', '.join(available_strategies())}"
        )
    return registry[name](space, seed, population_size=population_size, initial=initial)


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
