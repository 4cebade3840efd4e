"""Repair: map decoded designs onto buildable ones before they are counted.

The search spends its budget on buildable designs when every design is repaired the
same way inside :meth:`~ssropt.spaces.space.Space.evaluate`:

1. the cost model's closed-form shape rules (``CostModel.repair_shapes``, for models
   that have them);
2. up to :data:`REPAIR_ROUNDS` rounds for designs over a resource budget: the model may
   move weights off chip (``CostModel.offload_weights``), the others shrink every
   accelerator (:func:`shrink`) -- each round re-evaluates the repaired designs.

Every remaining rule is a constraint ``G <= 0``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.evaluation import Evaluation
from ssropt.objectives.models.base import value_index

if TYPE_CHECKING:
    from ssropt.spaces.space import Space

REPAIR_ROUNDS = 6


def repair_and_evaluate(space: Space, designs: DesignBatch, detail: bool) -> tuple[DesignBatch, Evaluation]:
    """Repair ``designs`` of ``space`` as its options say and evaluate them: the repaired
    designs and their evaluation."""
    model = space.model
    if space.options.repair and model.repairable:
        designs = model.repair_shapes(designs, space.values)
    result = model.evaluate(designs, detail=detail)
    if space.options.repair:
        for _ in range(REPAIR_ROUNDS):
            over = model.budget_ratio(result)
            bad = np.flatnonzero(over < 1.0)
            if bad.size == 0:
                break
            fixed = model.offload_weights(designs.take(bad), result, bad, space.values)
            fixed = shrink(fixed, over[bad], space.param_names, space.values,
                           keep=fixed.params != designs.params[bad])
            designs = designs.replaced(bad, fixed)
            result = result.replaced(bad, model.evaluate(fixed, detail=detail))
    return designs, result


def shrink(
    designs: DesignBatch,
    ratio: np.ndarray,
    names: tuple[str, ...],
    values: dict[str, np.ndarray],
    keep: np.ndarray | None = None,
) -> DesignBatch:
    """Scale every accelerator of over-budget designs by ``ratio`` (the cascade ``b``
    first, then the array ``a`` and ``c``); every shrunk parameter is snapped to its value
    table.  Designs with any ``keep`` entry set were repaired otherwise this round and are
    left as they are; parameters a model does not have are left alone."""
    if not names:
        return designs
    if keep is not None and keep.any():
        rest = ~keep.reshape(len(ratio), -1).any(axis=1)
        if not rest.any():
            return designs
        return designs.replaced(rest, shrink(designs.take(rest), ratio[rest], names, values))
    params = designs.params.copy()
    f = np.clip(ratio, 0.05, 0.97)[:, None]
    used = params[:, :, 0] > 0
    if "b" in names:
        bi = names.index("b")
        b = params[:, :, bi]
        new_b = values["b"][value_index(values["b"], np.maximum(1, np.floor(b * f)))]
        rest = f * b / np.maximum(new_b, 1)  # the part the cascade could not absorb
        params[:, :, bi] = np.where(used, new_b, 0)
    else:
        rest = f
    scale = np.sqrt(np.clip(rest, 0.0, 1.0))
    for name in ("a", "c"):
        if name not in names:
            continue
        i = names.index(name)
        shrunk = np.maximum(1, np.floor(params[:, :, i] * scale)).astype(np.int64)
        shrunk = values[name][value_index(values[name], shrunk)]
        params[:, :, i] = np.where(used & (rest < 0.999), shrunk, params[:, :, i])
    return DesignBatch(designs.cost_model, designs.batch, designs.assignment, params)
