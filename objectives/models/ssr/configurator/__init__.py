"""SSR's configurator for the ``ssr`` cost model.

* :mod:`.configurator` -- :class:`SsrConfigurator` and SSR's split rule (``ssr_share``);
* :mod:`.candidates` -- the candidate grid (arrays, ``dup``, tiles) and per-node times;
* :mod:`.nodesets` -- what a search needs of each node set, stacked over node sets;
* :mod:`.search` -- the ``ssr`` model's pricing inside the search.
"""

from ssropt.objectives.models.lockstep.configurator import TIME_BAND, Configuration
from ssropt.objectives.models.ssr.configurator.configurator import (
    SPLIT_RESOURCES,
    SsrConfigurator,
    ssr_share,
)

__all__ = ["SPLIT_RESOURCES", "TIME_BAND", "Configuration", "SsrConfigurator", "ssr_share"]
