"""The value tables of the ``ssr`` model: the values each accelerator parameter may take.

Every gene of a search space is an index into one of these tables (see
:mod:`ssropt.spaces.genes`), so they carry the per-parameter domains: the AIE array
dimensions up to ``array_dim_max``, cascade lengths ``b`` that obey the multiple rule,
the divisors of the head count for ``dup``, and the data type's kernel tile sizes (SSR's
lists, or those derived from the native ``aie::mmul`` shapes: :mod:`.tiles`).

Example:
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> values = ssr_values(build_model("deit-t"), load_platform("vck190"), "int8")
    >>> values["dup"].tolist(), values["h1"].tolist()
    ([1, 3], [16, 32, 48, 64])
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.models.lockstep.model import dup_values
from ssropt.objectives.models.ssr.tiles import tile_values
from ssropt.objectives.platforms import Platform
from ssropt.objectives.workloads.graph import Workload


def ssr_values(workload: Workload, platform: Platform, dtype: str) -> dict[str, np.ndarray]:
    """Allowed values of every ``ssr`` parameter, in parameter order."""
    s = platform.ssr
    dims = np.arange(1, s.array_dim_max + 1)
    b_values = dims[(dims <= s.b_multiple_above) | (dims % s.b_multiple == 0)]
    return {
        "a": dims,
        "b": b_values,
        "c": dims,
        "dup": dup_values(workload),
        **tile_values(platform, dtype),
    }
