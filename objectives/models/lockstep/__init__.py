"""The lock-step machinery the ``ssr`` and ``fpga`` templates share.

* :mod:`.schedule` -- :class:`LockStepScheduler`: the schedule of a batch and the buffer
  simulation along it, cached per (assignment, batch);
* :mod:`.costing` -- :class:`LockStep`: latency over the schedule's step kinds, re-layout;
* :mod:`.buffers` -- bank partition factors (lcm rules) and BRAM/URAM placement;
* :mod:`.model` -- :class:`LockStepModel`, the base class of lock-step cost models.
"""

from ssropt.objectives.models.lockstep.costing import LockStep, Schedules, relayout_ns
from ssropt.objectives.models.lockstep.model import LockStepModel, SlotLayout, dup_values
from ssropt.objectives.models.lockstep.schedule import LockStepScheduler

__all__ = [
    "LockStep",
    "LockStepModel",
    "LockStepScheduler",
    "Schedules",
    "SlotLayout",
    "dup_values",
    "relayout_ns",
]
