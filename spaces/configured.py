"""Configured spaces: accelerators configured by their cost model instead of searched.

A lock-step cost model may come with a configurator (``CostModel.configurator``): given
an assignment and a batch it splits the chip among the accelerators and chooses every
accelerator's parameters, SSR's way.  A space's ``configurator`` option says how its
accelerators get their parameters:

* ``none``: every parameter is a gene, searched with everything else;
* ``ssr``: the genome is the batch and the assignment; the configurator follows SSR's
  rule (each accelerator's share of the chip by its work and buffers);
* ``tuned``: as ``ssr``, plus one gene per accelerator slot, a share weight from
  ``SHARE_WEIGHTS``, scaling that accelerator's work and buffers before the split --
  so the search can reach designs SSR's fixed split never builds.

This module is the glue between spaces and those configurators; it knows no cost model
by name.

Example:
    >>> configurator_choices()
    ('none', 'ssr', 'tuned')
    >>> from ssropt.objectives.models import SHARE_WEIGHTS
    >>> [float(w) for w in SHARE_WEIGHTS]
    [0.5, 0.707, 1.0, 1.414, 2.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.models import (
    SSR_RULE,
    TUNED_RULE,
    cost_model_names,
    model_class,
)

if TYPE_CHECKING:
    from ssropt.spaces.space import Space

#: the ``configurator`` option of a space whose accelerator parameters are genes
NO_CONFIGURATOR = "none"


def configurator_choices() -> tuple[str, ...]:
    """The values of a space's ``configurator`` option."""
    return (NO_CONFIGURATOR, SSR_RULE, TUNED_RULE)


def default_configurator(cost_model: str | None, family: str) -> str:
    """What ``--configurator auto`` means: SSR's rule for the hybrid space when the cost
    model has a configurator, else ``none`` (never an error: an unknown cost model is
    reported where the model is built)."""
    known = cost_model in cost_model_names()
    if known and family == "hybrid" and model_class(cost_model).configurator_type is not None:
        return SSR_RULE
    return NO_CONFIGURATOR


def configurator_for(space: Space):
    """The (cached) configurator of ``space``'s cost model and value tables; SsroptError
    when the model has none."""
    model = space.model
    configurator = model.configurator(space.values)
    if configurator is None:
        raise SsroptError(
            f"cost model {model.cost_model!r} has no configurator: use --configurator none "
            f"(configured accelerators exist for the lock-step models)"
        )
    return configurator


def configure_genomes(space: Space, genomes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Genomes of a parameters-as-genes ``space`` with every accelerator's parameter genes
    set by the cost model's configurator (SSR's rule), and ``(n,)`` whether each
    configuration fit its shares.

    The batch and the accelerator labels are read from ``genomes`` (a decoder for the
    hybrid space; sequential and spatial genomes work too).
    """
    designs = space.decode(np.asarray(genomes, dtype=np.int64))
    configured, feasible = configurator_for(space).designs(
        designs.assignment, designs.batch, n_slots=space.n_slots
    )
    return space.encode(configured), feasible
