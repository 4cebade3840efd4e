"""NSGA-II survival with one niche per batch size.

Latency grows with the batch while throughput saturates, so the overall front is made
of small-batch designs and plain NSGA-II lets every larger batch die out -- yet users
ask for the best design *at* a batch size (``ssropt front --batch 6``).  This survival
ranks each batch size's designs on their own (pymoo's non-dominated rank and crowding
distance within the niche) and then takes survivors round-robin across the niches:
every niche's best first, then every niche's second, and so on.  Each batch size thus
keeps its own front in the population, and the overall front is the union of theirs.
Infeasible designs come last, by constraint violation, as in NSGA-II.

Example:
    >>> import numpy as np
    >>> round_robin([np.array([4, 5, 6]), np.array([7]), np.array([8, 9])]).tolist()
    [4, 7, 8, 5, 9, 6]
"""

from __future__ import annotations

import numpy as np
from pymoo.core.survival import Survival
from pymoo.operators.survival.rank_and_crowding import RankAndCrowding


def round_robin(orders: list[np.ndarray]) -> np.ndarray:
    """Interleave ranked index lists: the first of each, then the second of each, ..."""
    width = max((len(o) for o in orders), default=0)
    picked = [o[k] for k in range(width) for o in orders if k < len(o)]
    return np.array(picked, dtype=np.int64)


class BatchNicheSurvival(Survival):
    """Rank and crowding within each batch niche, survivors taken round-robin.

    Args:
        batch_gene: index of the genome's batch gene (the niche key).
    """

    def __init__(self, batch_gene: int = 0) -> None:
        super().__init__(filter_infeasible=True)
        self.batch_gene = batch_gene
        self._inner = RankAndCrowding()

    def _do(self, problem, pop, *args, random_state=None, n_survive=None, **kwargs):
        keys = np.rint(pop.get("X")[:, self.batch_gene].astype(float)).astype(np.int64)
        orders = []
        for key in np.unique(keys):
            members = np.flatnonzero(keys == key)
            niche = self._inner._do(
                problem, pop[members], random_state=random_state, n_survive=len(members)
            )
            rank = niche.get("rank").astype(float)
            crowding = niche.get("crowding").astype(float)
            ranked = np.lexsort((-crowding, rank))
            # map the niche's survivors back to population indices
            index = {id(ind): i for i, ind in zip(members, pop[members])}
            orders.append(np.array([index[id(niche[j])] for j in ranked], dtype=np.int64))
        chosen = round_robin(orders)
        n = len(chosen) if n_survive is None else min(n_survive, len(chosen))
        return pop[chosen[:n]]
