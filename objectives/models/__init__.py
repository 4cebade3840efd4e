"""Cost models: a workload on a platform in one data type, priced over arrays of designs.

* :mod:`.base` -- :class:`CostModel`, the type every cost model is (``CostModel(workload,
  platform, dtype, cost_model=None)`` builds the registered model it names);
* :mod:`.registry` -- name -> model class (:func:`register`, :func:`model_class`);
* :mod:`.lockstep` -- the lock-step schedule, buffers and base class of ``ssr`` and ``fpga``;
* :mod:`.ssr` (Versal AIE arrays, with its configurator), :mod:`.charm` (CHARM),
  :mod:`.fpga` (DSP / tensor-block PE arrays), :mod:`.gpu` (a GPU roofline).

Every model is registered below, one line each; a new model is one sub-package and one
line here.

Example:
    >>> cost_model_names()
    ('ssr', 'charm', 'fpga', 'gpu-roofline')
"""

from ssropt.objectives.models.base import (
    MODEL_VERSION,
    SHARE_WEIGHTS,
    SSR_RULE,
    TUNED_RULE,
    CostModel,
    value_index,
)
from ssropt.objectives.models.charm import CharmModel
from ssropt.objectives.models.fpga import FpgaModel
from ssropt.objectives.models.gpu import GpuRoofline
from ssropt.objectives.models.registry import (
    cost_model_names,
    model_class,
    register,
    unregister,
)
from ssropt.objectives.models.ssr import SsrModel

register(SsrModel)
register(CharmModel)
register(FpgaModel)
register(GpuRoofline)

__all__ = [
    "MODEL_VERSION",
    "SHARE_WEIGHTS",
    "SSR_RULE",
    "TUNED_RULE",
    "CharmModel",
    "CostModel",
    "FpgaModel",
    "GpuRoofline",
    "SsrModel",
    "cost_model_names",
    "model_class",
    "register",
    "unregister",
    "value_index",
]
