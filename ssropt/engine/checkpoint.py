"""The strategy checkpoint: one study system attribute, plain JSON.

The checkpoint holds the generation it was taken before, the designs stored before it
and the strategy's state (:meth:`ssropt.strategies.base.Strategy.state_dict`, plain JSON
data, nothing pickled); it is written in the same atomic update as the plan of the
generation asked from it (see :mod:`ssropt.engine.worker`).

**Growing history, stored once.**  A strategy whose state keeps a told history (the
Optuna strategies: one row per asked trial) puts it under ``"history"``, a dict of
equally long lists that only grow.  Rewriting it with every generation would make a
study's journal grow with the square of its generations (about 600 KiB a checkpoint at
2,000 trials), so :func:`store_history` keeps in the checkpoint only the list of stored
segments, ``{"segments": [[start, rows], ...]}``, and writes each generation's new rows
once, as the study system attribute ``ssropt:history:START`` in the same atomic update
as the checkpoint; :func:`decode_state` puts the lists back together, so the strategy
gets exactly the state it saved.  A checkpoint with its history inline (older studies)
reads as before, and the next one stores it as its first segment.

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


HISTORY_PREFIX = "ssropt:history:"


def _history(state: dict) -> dict | None:
    inner = state.get("state") if isinstance(state, dict) else None
    history = inner.get("history") if isinstance(inner, dict) else None
    return history if isinstance(history, dict) else None


def store_history(attrs: dict, previous: dict | None) -> dict:
    """The checkpoint attributes ``attrs`` (of :func:`encode_state`) with the strategy's
    history stored incrementally: the rows beyond those ``previous`` (the study's current
    checkpoint attribute, or None) already stored go to one new ``ssropt:history:START``
    attribute; the checkpoint names the segments.

    >>> first = store_history(encode_state(1, 2, {"state": {"history": {"x": [1, 2]}}}), None)
    >>> first["ssropt:checkpoint"]["state"]["state"]["history"], first["ssropt:history:0"]
    ({'segments': [[0, 2]]}, {'x': [1, 2]})
    >>> second = store_history(encode_state(2, 3, {"state": {"history": {"x": [1, 2, 3]}}}),
    ...                        first["ssropt:checkpoint"])
    >>> second["ssropt:history:2"], second["ssropt:checkpoint"]["state"]["state"]["history"]
    ({'x': [3]}, {'segments': [[0, 2], [2, 1]]})
    """
    checkpoint = attrs[CHECKPOINT_KEY]
    history = _history(checkpoint["state"])
    if history is None or "segments" in history:
        return attrs
    lengths = {len(rows) for rows in history.values()}
    if len(lengths) != 1:
        return attrs  # not rows of one table: kept inline
    (total,) = lengths
    if total == 0:
        return attrs
    old = _history(previous["state"]) if previous and isinstance(previous.get("state"), dict) else None
    segments = [list(s) for s in old["segments"]] if old and "segments" in old else []
    stored = sum(rows for _, rows in segments)
    out = dict(attrs)
    if total > stored:
        out[HISTORY_PREFIX + str(stored)] = {k: rows[stored:] for k, rows in history.items()}
        segments.append([stored, total - stored])
    elif total < stored:
        return attrs  # a history that shrank is not ours to split: inline
    state = {**checkpoint["state"], "state": {**checkpoint["state"]["state"],
                                              "history": {"segments": segments}}}
    out[CHECKPOINT_KEY] = {**checkpoint, "state": state}
    return out


def history_keys(attrs: dict) -> list[str]:
    """The ``ssropt:history:START`` attributes the checkpoint in ``attrs`` needs."""
    checkpoint = attrs.get(CHECKPOINT_KEY) or {}
    history = _history(checkpoint.get("state")) if isinstance(checkpoint, dict) else None
    if not history or "segments" not in history:
        return []
    return [HISTORY_PREFIX + str(start) for start, _ in history["segments"]]


def decode_state(attrs: dict) -> tuple[int, int, dict] | None:
    """``(generation, evaluated, state)`` of the study's checkpoint, or None; ``attrs`` holds
    the checkpoint and the history segments it names (:func:`history_keys`).  A format-1
    checkpoint (older ssropt) is converted where that is safe, else StudyError."""
    checkpoint = attrs.get(CHECKPOINT_KEY)
    if not checkpoint:
        return None
    state = checkpoint["state"]
    if isinstance(state, str):  # format 1: a base64 pickle
        state = _format1_state(state)
    history = _history(state)
    if history is not None and "segments" in history:
        from ssropt.engine.study import StudyError

        rows: dict[str, list] = {}
        for key in history_keys(attrs):
            if key not in attrs:
                raise StudyError(f"the study's checkpoint names {key!r}, which is missing")
            for name, part in attrs[key].items():
                rows.setdefault(name, []).extend(part)
        state = {**state, "state": {**state["state"], "history": rows}}
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
