"""The strategy checkpoint: one study system attribute, plain JSON.

The checkpoint holds the generation it was taken before, the designs stored before it
and the strategy's state (bytes, base64); it is written in the same atomic update as the
plan of the generation asked from it (see :mod:`ssropt.engine.worker`).

Example:
    >>> attrs = encode_state(3, 300, b"state")
    >>> decode_state(attrs)
    (3, 300, b'state')
"""

from __future__ import annotations

import base64

CHECKPOINT_KEY = "ssropt:checkpoint"


def encode_state(generation: int, evaluated: int, state: bytes) -> dict:
    return {
        CHECKPOINT_KEY: {
            "generation": generation,
            "evaluated": evaluated,
            "state": base64.b64encode(state).decode("ascii"),
        }
    }


def decode_state(attrs: dict) -> tuple[int, int, bytes] | None:
    checkpoint = attrs.get(CHECKPOINT_KEY)
    if not checkpoint:
        return None
    return checkpoint["generation"], checkpoint["evaluated"], base64.b64decode(checkpoint["state"])
