"""The ``ssr`` cost model: several AIE-array accelerators on one Versal chip, activations
forwarded on chip, the batch run on the lock-step schedule (the SSR estimator, FPGA'24).

* :mod:`.model` -- :class:`SsrModel`: evaluation, power, repair, latency bound;
* :mod:`.accelerator` -- the per-accelerator equations (kernel, layer cycles, broadcast,
  placement columns, RAM banks);
* :mod:`.values` -- the value tables of its parameters;
* :mod:`.configurator` -- :class:`SsrConfigurator`, configuring the accelerators of an
  assignment the SSR way, with :mod:`.share` (the split of the chip) and :mod:`.search`
  (the choice for one accelerator).
"""

from ssropt.objectives.models.ssr.configurator import Configuration, SsrConfigurator
from ssropt.objectives.models.ssr.model import SsrModel

__all__ = ["Configuration", "SsrConfigurator", "SsrModel"]
