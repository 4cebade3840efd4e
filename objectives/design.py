"""Designs as arrays: a :class:`DesignBatch` holds N complete designs as a struct of arrays.

A design fixes the batch size, the accelerators (each with the parameters of its cost
model) and the node-to-accelerator assignment.  ``params[d, a, p]`` is parameter
``param_names[p]`` of the cost model (``model_class(cost_model).param_names``, see
:mod:`ssropt.objectives.models`) of accelerator ``a`` of design ``d``; slots ``a >=
n_accelerators[d]`` are zero and ignored.

Example:
    >>> import numpy as np
    >>> batch = DesignBatch(
    ...     cost_model="ssr",
    ...     batch=np.array([1]),
    ...     assignment=np.zeros((1, 8), dtype=np.int64),
    ...     params=np.array([[[1, 4, 6, 1, 32, 48, 32]]]),
    ... )
    >>> batch.n_designs, batch.max_accelerators
    (1, 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def relabel_by_first_use(assignment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relabel accelerators in order of first use, removing symmetric duplicates.

    Returns ``(canonical, rank)`` with ``canonical[d, j] = rank[d, assignment[d, j]]``;
    ``rank[d, a]`` is the new index of old accelerator ``a`` (unused ones sort last).
    Both ``(n, n_nodes)`` / ``(n, width)`` integer arrays.
    """
    n, n_nodes = assignment.shape
    width = int(assignment.max(initial=0)) + 1
    on = assignment[:, None, :] == np.arange(width)[None, :, None]
    first = np.where(on, np.arange(n_nodes)[None, None, :], n_nodes).min(axis=2)
    order = np.argsort(first, axis=1, kind="stable")
    rank = np.argsort(order, axis=1, kind="stable")
    return np.take_along_axis(rank, assignment, axis=1), rank


@dataclass(frozen=True)
class DesignBatch:
    """N designs of one cost model over one workload.

    Attributes:
        cost_model: a registered cost model's name (``ssr``, ``charm``, ``fpga``,
            ``gpu-roofline`` ...).
        batch: ``(n,)`` images processed together.
        assignment: ``(n, n_nodes)`` accelerator index of every workload node.
        params: ``(n, max_accelerators, n_params)`` accelerator parameters.
    """

    cost_model: str
    batch: np.ndarray
    assignment: np.ndarray
    params: np.ndarray

    @property
    def n_designs(self) -> int:
        return int(self.batch.shape[0])

    @property
    def max_accelerators(self) -> int:
        return int(self.params.shape[1])

    @property
    def n_accelerators(self) -> np.ndarray:
        """``(n,)`` accelerators used (largest assigned index + 1)."""
        return self.assignment.max(axis=1) + 1

    def param(self, name: str) -> np.ndarray:
        """``(n, max_accelerators)`` one parameter of every accelerator."""
        from ssropt.objectives.models.registry import model_class  # the models use designs

        return self.params[:, :, model_class(self.cost_model).param_names.index(name)]

    def node_param(self, name: str) -> np.ndarray:
        """``(n, n_nodes)`` one parameter of the accelerator each node runs on."""
        return np.take_along_axis(self.param(name), self.assignment, axis=1)

    def take(self, index: np.ndarray | slice) -> DesignBatch:
        """The designs selected by ``index`` (a mask, indices or a slice)."""
        return DesignBatch(
            self.cost_model, self.batch[index], self.assignment[index], self.params[index]
        )

    def replaced(self, index: np.ndarray, part: DesignBatch) -> DesignBatch:
        """A copy whose designs at ``index`` have the accelerator parameters of ``part``."""
        params = self.params.copy()
        params[index] = part.params
        return DesignBatch(self.cost_model, self.batch, self.assignment, params)

    @staticmethod
    def concatenate(batches: list[DesignBatch]) -> DesignBatch:
        width = max(b.max_accelerators for b in batches)
        params = [
            np.pad(b.params, ((0, 0), (0, width - b.max_accelerators), (0, 0))) for b in batches
        ]
        return DesignBatch(
            batches[0].cost_model,
            np.concatenate([b.batch for b in batches]),
            np.concatenate([b.assignment for b in batches]),
            np.concatenate(params),
        )
