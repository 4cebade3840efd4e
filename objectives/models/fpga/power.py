"""Power of the ``fpga`` template (an estimate; constants in ``[fpga.power]`` and
``[fpga.memory]``)::

    P = static_w + dsp_w * blocks + bram_w * BRAM + uram_w * URAM + e_dtype * ops/s
        + energy_j_per_byte * streamed bytes/s

Example:
    >>> import numpy as np
    >>> from ssropt.objectives.platforms import load_platform
    >>> nx = load_platform("stratix10nx")
    >>> bool(fpga_power_w(nx, "int8", dsp=np.array([0]), bram=np.array([0]), uram=np.array([0]),
    ...                   ops_per_s=np.array([0.0]))[0] == nx.fpga.power.static_w)
    True
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.energy import _non_negative
from ssropt.objectives.platforms import Platform, PlatformError


def fpga_power_w(platform: Platform, dtype_name: str, *, dsp, bram, uram, ops_per_s, offchip_bytes_per_s=0.0) -> np.ndarray:
    """Average power (W) of N designs: static + clocked compute blocks + RAM blocks + the
    dynamic energy of the work (``dynamic_j_per_op_<dtype>``) + the off-chip weight reads
    (``[fpga.memory] energy_j_per_byte``); every constant an estimate documented in the
    platform TOML."""
    power = platform.fpga.power
    memory = platform.fpga.memory
    j_per_byte = memory.energy_j_per_byte if memory else 0.0
    field = f"dynamic_j_per_op_{dtype_name}"
    if not hasattr(power, field):
        raise PlatformError(f"no dynamic energy per op for dtype {dtype_name!r} on platform {platform.name}")
    return (
        power.static_w
        + power.dsp_w * _non_negative("dsp", dsp)
        + power.bram_w * _non_negative("bram", bram)
        + power.uram_w * _non_negative("uram", uram)
        + getattr(power, field) * _non_negative("ops_per_s", ops_per_s)
        + j_per_byte * _non_negative("offchip_bytes_per_s", offchip_bytes_per_s)
    )
