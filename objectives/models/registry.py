"""The registry of cost models: the name a study, a design file or ``--cost-model`` gives
-> the :class:`~ssropt.objectives.models.base.CostModel` subclass that implements it.

The shipped models register in ``ssropt/objectives/models/__init__.py``, one line each,
so importing :mod:`ssropt.objectives.models` (or anything below it) registers them all;
a new model is one more ``register(MyModel)`` line (or ``@register`` on its class).

Example:
    >>> cost_model_names()
    ('ssr', 'charm', 'fpga', 'gpu-roofline')
    >>> model_class("fpga").param_names
    ('a', 'b', 'c', 'dup', 'stream')
    >>> model_class("analytic")
    Traceback (most recent call last):
    ...
    ssropt.errors.SsroptError: unknown cost model 'analytic': known cost models are ssr, charm, fpga, gpu-roofline
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from ssropt.errors import SsroptError

if TYPE_CHECKING:
    from ssropt.objectives.models.base import CostModel

    Model = TypeVar("Model", bound=type[CostModel])

_MODELS: dict[str, type[CostModel]] = {}


def register(cls: Model) -> Model:
    """Register the cost model class ``cls`` under its ``name``; returns ``cls``.

    Registering the same class twice is harmless; another class under a taken name raises
    SsroptError.
    """
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise SsroptError(f"cost model class {cls.__name__} has no name")
    if _MODELS.get(name, cls) is not cls:
        raise SsroptError(f"cost model {name!r} is registered already ({_MODELS[name].__name__})")
    _MODELS[name] = cls
    return cls


def unregister(name: str) -> None:
    """Forget the cost model ``name`` (a no-op if it is not registered)."""
    _MODELS.pop(name, None)


def cost_model_names() -> tuple[str, ...]:
    """The registered cost models, in registration order."""
    return tuple(_MODELS)


def model_class(name: str) -> type[CostModel]:
    """The cost model class registered as ``name``; SsroptError naming the known ones."""
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise SsroptError(
            f"unknown cost model {name!r}: known cost models are {', '.join(_MODELS)}"
        ) from None

