"""The value tables of the ``fpga`` template: the PE-array shapes a platform allows.

``a`` and ``c`` are at most ``array_dim_max`` and multiples of one of
``array_dim_factors``; ``b`` (the reduction-parallel dimension) is a power of two from
``lane_width_bits / (8 DT)`` to ``lane_width_max_bits / (8 DT)`` elements (8..64 for
INT8); ``dup`` divides the head count; ``stream`` is 0 (weights on chip) or also 1
(weights streamed from off-chip memory) when the platform has an ``[fpga.memory]`` table.

Example:
    >>> from ssropt.objectives.platforms import load_platform
    >>> cascade_values(load_platform("stratix10nx").fpga, 1).tolist()
    [8, 16, 32, 64]
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.models.lockstep.model import dup_values
from ssropt.objectives.platforms import Platform
from ssropt.objectives.platforms.fpga import FpgaConstants
from ssropt.objectives.workloads.graph import Workload


def pack(constants: FpgaConstants, dtype_bytes: int) -> int:
    """Elements per buffer word (``DATA_PACK_B``): ``lane_width_bits / (8 DT)``."""
    return max(constants.lane_width_bits // (8 * dtype_bytes), 1)


def array_values(constants: FpgaConstants) -> np.ndarray:
    """Allowed ``a`` and ``c``: ``<= array_dim_max`` and a multiple of a named factor."""
    dims = np.arange(1, constants.array_dim_max + 1)
    ok = np.zeros(dims.shape, dtype=bool)
    for factor in constants.array_dim_factors:
        ok |= dims % factor == 0
    return dims[ok]


def cascade_values(constants: FpgaConstants, dtype_bytes: int) -> np.ndarray:
    """Allowed ``b``: powers of two from ``pack`` to ``lane_width_max_bits / (8 DT)``."""
    low, high = pack(constants, dtype_bytes), max(constants.lane_width_max_bits // (8 * dtype_bytes), 1)
    values = [1 << p for p in range(0, 31) if low <= (1 << p) <= high]
    return np.array(values, dtype=np.int64)


def fpga_values(workload: Workload, platform: Platform, dtype: str) -> dict[str, np.ndarray]:
    """Allowed values of every ``fpga`` parameter, in parameter order."""
    dims = array_values(platform.fpga)
    return {
        "a": dims,
        "b": cascade_values(platform.fpga, platform.dtype(dtype).bytes),
        "c": dims.copy(),
        "dup": dup_values(workload),
        "stream": np.array([0, 1] if platform.fpga.memory else [0]),
    }
