"""The ``charm`` cost model: CHARM's monolithic, DDR-bound AIE accelerators (FPGA'23).

* :mod:`.model` -- :class:`CharmModel` and :func:`evaluate_charm`;
* :mod:`.timing` -- kernel, tile and per-node pipeline cycles;
* :mod:`.resources` -- CHARM's resource model (AIE, PLIO, BRAM/URAM, placement columns);
* :mod:`.traffic` -- the work of a batch (DDR, PL buffers, PLIO, AIE memory, MACs) for power.
"""

from ssropt.objectives.models.charm.model import CharmModel, evaluate_charm
from ssropt.objectives.models.charm.resources import (
    ARRAY_ROWS_MAX,
    UNPACKED_B_MAX,
    UNPACKED_B_MULTIPLE,
    UNPACKED_B_MULTIPLE_ABOVE,
    CharmResources,
    broadcast_factors,
    buffer_rams,
    resolve_packing,
    resources,
)
from ssropt.objectives.models.charm.timing import charm_layer_cycles, kernel_cycles, tile_cycles
from ssropt.objectives.models.charm.traffic import charm_activity

__all__ = [
    "ARRAY_ROWS_MAX",
    "UNPACKED_B_MAX",
    "UNPACKED_B_MULTIPLE",
    "UNPACKED_B_MULTIPLE_ABOVE",
    "CharmModel",
    "CharmResources",
    "broadcast_factors",
    "charm_activity",
    "buffer_rams",
    "charm_layer_cycles",
    "evaluate_charm",
    "kernel_cycles",
    "resolve_packing",
    "resources",
    "tile_cycles",
]
