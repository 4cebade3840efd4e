"""Configuring accelerators for an assignment, SSR's way, for every lock-step template.

* :mod:`.driver` -- :class:`LockStepConfigurator`: the split, the pre-pass, widening and
  reconciliation over whole populations at once;
* :mod:`.split` -- :class:`SplitRule`: how the chip is split among accelerators;
* :mod:`.context` -- :class:`Queries`: what one accelerator's search depends on
  (producers and consumers by the lcm partition rules);
* :mod:`.selection` -- :class:`Selector`: the choice for one accelerator, for many
  searches at once (least RAM within 8 % of the fastest).
"""

from ssropt.objectives.models.lockstep.configurator.context import Queries
from ssropt.objectives.models.lockstep.configurator.driver import (
    Configuration,
    Configured,
    LockStepConfigurator,
)
from ssropt.objectives.models.lockstep.configurator.selection import TIME_BAND, Choices, Selector
from ssropt.objectives.models.lockstep.configurator.split import (
    SHARE_WEIGHTS,
    SSR_RULE,
    TUNED_RULE,
    WIDEN_TRIES,
    SplitRule,
    share_ratio,
)

__all__ = [
    "SHARE_WEIGHTS",
    "SSR_RULE",
    "TIME_BAND",
    "TUNED_RULE",
    "WIDEN_TRIES",
    "Choices",
    "Configuration",
    "Configured",
    "LockStepConfigurator",
    "Queries",
    "Selector",
    "SplitRule",
    "share_ratio",
]
