"""Power of the ``fpga`` template, in the terms of the Versal model (an estimate; constants in
``[fpga.power]`` and ``[fpga.memory]``)::

    P = static_w                                   device baseline
      + dsp_w * blocks                             clocked compute blocks ("tiles")
      + dynamic_j_per_op_<dtype> * executed ops/s  the work, padding included ("compute")
      + bram_w * BRAM + uram_w * URAM              clocked RAM blocks
      + energy_j_per_byte * off-chip bytes/s       streamed weights, the image in, the result out

The FPGA platforms have no per-access RAM energy and no AIE memory or PLIO: their RAM
terms stay per block, the other two terms are absent.

Example:
    >>> import numpy as np
    >>> from ssropt.objectives.platforms import load_platform
    >>> nx = load_platform("stratix10nx")
    >>> terms = fpga_power_terms(nx, "int8", dsp=np.array([0]), bram=np.array([0]),
    ...                          uram=np.array([0]), ops_per_s=np.array([0.0]))
    >>> bool(terms["static"][0] == nx.fpga.power.static_w), sorted(terms)
    (True, ['bram', 'compute', 'ddr', 'static', 'tiles', 'uram'])
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.energy import _non_negative, total_power_w
from ssropt.objectives.platforms import Platform, PlatformError


def fpga_power_terms(
    platform: Platform, dtype_name: str, *, dsp, bram, uram, ops_per_s, offchip_bytes_per_s=0.0
) -> dict[str, np.ndarray]:
    """Power of every term (W, ``(n,)`` each) of N designs: static, clocked compute blocks
    (``tiles``), the executed operations (``compute``, ``ops_per_s`` counting 2 per MAC),
    RAM blocks and the off-chip bytes (``ddr``); every constant an estimate documented in
    the platform TOML."""
    power = platform.fpga.power
    memory = platform.fpga.memory
    j_per_byte = memory.energy_j_per_byte if memory else 0.0
    field = f"dynamic_j_per_op_{dtype_name}"
    if not hasattr(power, field):
        raise PlatformError(f"no dynamic energy per op for dtype {dtype_name!r} on platform {platform.name}")
    blocks = _non_negative("dsp", dsp)
    return {
        "static": np.full(blocks.shape, power.static_w),
        "tiles": power.dsp_w * blocks,
        "compute": getattr(power, field) * _non_negative("ops_per_s", ops_per_s),
        "bram": power.bram_w * _non_negative("bram", bram),
        "uram": power.uram_w * _non_negative("uram", uram),
        "ddr": j_per_byte * _non_negative("offchip_bytes_per_s", offchip_bytes_per_s) + 0.0 * blocks,
    }


def fpga_power_w(platform: Platform, dtype_name: str, **quantities) -> np.ndarray:
    """Average power (W) of N designs: the sum of :func:`fpga_power_terms`."""
    return total_power_w(fpga_power_terms(platform, dtype_name, **quantities))
