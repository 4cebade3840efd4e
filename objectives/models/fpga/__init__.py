"""The ``fpga`` cost model: the FPGA variant of the SSR estimator, PE arrays built from DSP
slices or AI tensor blocks, on the same lock-step schedule as ``ssr``.

* :mod:`.model` -- :class:`FpgaModel`: layer cycles, buffers, evaluation, weight offload;
* :mod:`.values` -- the value tables (array shapes, cascade lengths, ``stream``);
* :mod:`.power` -- its power estimate.
"""

from ssropt.objectives.models.fpga.model import (
    FpgaModel,
    compute_blocks,
    fpga_layer_cycles,
    ram_blocks,
)
from ssropt.objectives.models.fpga.power import fpga_power_terms, fpga_power_w
from ssropt.objectives.models.fpga.values import array_values, cascade_values, fpga_values, pack

__all__ = [
    "FpgaModel",
    "array_values",
    "cascade_values",
    "compute_blocks",
    "fpga_layer_cycles",
    "fpga_power_terms",
    "fpga_power_w",
    "fpga_values",
    "pack",
    "ram_blocks",
]
