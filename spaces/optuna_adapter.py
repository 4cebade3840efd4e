"""Optuna define-by-run adapter: one ``suggest_int`` per gene of a :class:`Space` genome.

Every gene is a bounded integer (an index into a value table, see :mod:`.genes`), so a
genome maps onto Optuna parameters named after ``space.gene_names`` with
``IntDistribution(lower, upper)`` each.  This module is the only place in
``ssropt.spaces`` that imports Optuna.

Example:
    >>> import optuna
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.models import CostModel
    >>> from ssropt.spaces import Space, SpaceOptions
    >>> model = CostModel(build_model("deit-t", tokens=192, embed_and_head=False),
    ...                   load_platform("vck190"), "int8")
    >>> space = Space(model, SpaceOptions(family="sequential", batch_sizes=(1, 2)))
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> genome = suggest_genome(study.ask(), space)
    >>> bool((genome >= space.lower).all() and (genome <= space.upper).all())
    True
    >>> genome_params(space, genome)["batch"] == int(genome[0])
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from optuna.distributions import IntDistribution

if TYPE_CHECKING:
    from optuna.trial import BaseTrial

    from ssropt.spaces.space import Space


def suggest_genome(trial: BaseTrial, space: Space) -> np.ndarray:
    """``(n_genes,)`` int64 genome suggested gene by gene (``trial.suggest_int``)."""
    return np.array(
        [
            trial.suggest_int(name, int(lo), int(hi))
            for name, lo, hi in zip(space.gene_names, space.lower, space.upper)
        ],
        dtype=np.int64,
    )


def genome_params(space: Space, genome: np.ndarray) -> dict[str, int]:
    """Optuna parameters (gene name -> int) of one ``(n_genes,)`` genome."""
    return {name: int(value) for name, value in zip(space.gene_names, genome)}


def params_genome(space: Space, params: dict[str, int]) -> np.ndarray:
    """``(n_genes,)`` int64 genome of Optuna parameters (the inverse of :func:`genome_params`)."""
    return np.array([params[name] for name in space.gene_names], dtype=np.int64)


def genome_distributions(space: Space) -> dict[str, IntDistribution]:
    """Gene name -> ``IntDistribution(lower, upper)``, e.g. for ``optuna.trial.create_trial``."""
    return {
        name: IntDistribution(int(lo), int(hi))
        for name, lo, hi in zip(space.gene_names, space.lower, space.upper)
    }
