"""The strategy checkpoint: one study system attribute, plain JSON.

The checkpoint holds the generation it was taken before, the designs stored before it
and the strategy's state (:meth:`ssropt.strategies.base.Strategy.state_dict`, plain JSON
data, nothing pickled); it is written in the same atomic update as the plan of the
generation asked from it (see :mod:`ssropt.engine.worker`).

Studies of older ssropt versions hold checkpoints of format 1, a base64 pickle.  Those of
``exhaustive`` and ``ssr-ea`` held only numbers, lists and numpy arrays: they are read by
an unpickler that admits numpy arrays and nothing else, and converted.  The others held
pickled pymoo and Optuna objects, which are never unpickled: resuming such a study is
refused with one line saying so (start a new study; the trials stay readable).

Example:
    >>> attrs = encode_state(3, 300, {"format": 2, "position": 7})
    >>> decode_state(attrs)
    (3, 300, {'format': 2, 'position': 7})
"""

from __future__ import annotations

import base64
import io
import pickle

import numpy as np

CHECKPOINT_KEY = "ssropt:checkpoint"


def encode_state(generation: int, evaluated: int, state: dict) -> dict:
    """The study system attribute of a strategy checkpoint (``Strategy.state_dict()``,
    plain JSON data) taken before generation ``generation``, after ``evaluated`` designs."""
    return {CHECKPOINT_KEY: {"generation": generation, "evaluated": evaluated, "state": state}}


def decode_state(attrs: dict) -> tuple[int, int, dict] | None:
    """``(generation, evaluated, state)`` of the study's checkpoint, or None; a format-1
    checkpoint (older ssropt) is converted where that is safe, else StudyError."""
    checkpoint = attrs.get(CHECKPOINT_KEY)
    if not checkpoint:
        return None
    state = checkpoint["state"]
    if isinstance(state, str):  # format 1: a base64 pickle
        state = _format1_state(state)
    return checkpoint["generation"], checkpoint["evaluated"], state


#: strategies whose format-1 checkpoints held only numbers, lists and numpy arrays
FORMAT1_PLAIN_STRATEGIES = ("exhaustive", "ssr-ea")
#: what a pickled numpy array or scalar needs (numpy 1 and 2 module names), nothing else
_NUMPY_GLOBALS = frozenset(
    [("numpy", "ndarray"), ("numpy", "dtype")]
    + [(f"numpy.{core}.multiarray", name) for core in ("core", "_core")
       for name in ("_reconstruct", "scalar")]
    + [(f"numpy.{core}.numeric", "_frombuffer") for core in ("core", "_core")]
)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Builtin values and numpy arrays; any other class or function is refused."""

    def find_class(self, module: str, name: str):
        if (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not admitted")


def _format1_state(text: str) -> dict:
    """A format-1 checkpoint as plain data (format 2) if its strategy kept plain state
    (numbers, lists, numpy arrays); StudyError otherwise, without unpickling any object."""
    from ssropt.engine.study import StudyError

    try:
        envelope = _NumpyOnlyUnpickler(io.BytesIO(base64.b64decode(text))).load()
    except Exception:
        envelope = None
    strategy = envelope.get("strategy") if isinstance(envelope, dict) else None
    if strategy not in FORMAT1_PLAIN_STRATEGIES or envelope.get("format") != 1:
        what = f"the {strategy!r} strategy's" if isinstance(strategy, str) else "its strategy's"
        raise StudyError(
            f"this study was written by an older ssropt, whose checkpoint of {what} state "
            "(format 1, pickled library objects) cannot be restored safely: start a new study "
            "with `ssropt run` (this one's trials stay readable, e.g. by `ssropt front`)"
        )
    from ssropt.strategies.base import STATE_FORMAT

    return {**_plain(envelope), "format": STATE_FORMAT}


def _plain(value):
    """``value`` with numpy arrays and scalars as plain lists and numbers (floats as
    :func:`~ssropt.strategies.base.plain_floats` writes them) and tuples as lists."""
    from ssropt.strategies.base import plain_floats

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return plain_floats(value) if value.dtype.kind == "f" else value.tolist()
    if isinstance(value, float):
        return plain_floats(value)
    return value
