"""Configured spaces: accelerators configured by their cost model instead of searched.

A cost model may come with a configurator (``CostModel.configurator``): given an
assignment and a batch it chooses every accelerator's parameters.  A space whose
``configurator`` option names it keeps only the batch and the assignment as genes and
asks the configurator for the rest.  This module is the glue between spaces and those
configurators; it knows no cost model by name.

Example:
    >>> from ssropt.objectives.models import configurator_names
    >>> configurator_choices() == ("none", *configurator_names())
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.models import configurator_names, cost_model_names, model_class

if TYPE_CHECKING:
    from ssropt.spaces.space import Space

#: the ``configurator`` option of a space whose accelerator parameters are genes
NO_CONFIGURATOR = "none"


def configurator_choices() -> tuple[str, ...]:
    """The values of a space's ``configurator`` option: ``none`` (parameters are genes) or
    the name of a cost model that configures accelerators itself."""
    return (NO_CONFIGURATOR, *configurator_names())


def default_configurator(cost_model: str | None, family: str) -> str:
    """What ``--configurator auto`` means: the cost model's own configurator for the hybrid
    space when it has one, else ``none`` (never an error: an unknown cost model is
    reported where the model is built)."""
    known = cost_model in cost_model_names()
    if known and family == "hybrid" and model_class(cost_model).configurator_type is not None:
        return cost_model
    return NO_CONFIGURATOR


def configurator_for(space: Space):
    """The (cached) configurator of ``space``'s cost model and value tables; SsroptError
    when the model has none (the configurator the space names refuses it)."""
    model = space.model
    configurator = model.configurator(space.values)
    if configurator is not None:
        return configurator
    wanted = space.options.configurator
    if wanted in configurator_names():  # let the configurator asked for say why not
        model_class(wanted).configurator_type(model, space.values)
    raise SsroptError(f"cost model {model.cost_model!r} has no configurator")


def configure_genomes(space: Space, genomes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Genomes of ``space`` with every accelerator's parameter genes set by the cost
    model's configurator.

    The batch and the accelerator labels are read from ``genomes`` (a decoder for the
    hybrid space; sequential and spatial genomes work too); returns the configured
    genomes and ``(n,)`` whether each configuration fit its shares.
    """
    designs = space.decode(np.asarray(genomes, dtype=np.int64))
    configured, feasible = configurator_for(space).designs(
        designs.assignment, designs.batch, n_slots=space.n_slots
    )
    return space.encode(configured), feasible
