"""Genes: every gene of a genome is an index into a value table.

All genes are plain bounded integers (``0 .. len(values) - 1``) for every strategy; the
value tables carry the per-gene domains and come from the cost model
(``CostModel.values()``: allowed cascade lengths, kernel tile sizes, divisors of the head
count ...).  :func:`value_index` snaps a value to its table, :func:`sample_genomes` draws
genomes.
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.models.base import value_index

__all__ = ["sample_genomes", "value_index"]


def sample_genomes(lower, upper, label_genes: slice, min_count: int, n: int, rng) -> np.ndarray:
    """``n`` random genomes, uniform over the accelerator count first.

    Uniform labels would almost always use nearly every accelerator slot and almost never
    all of them; instead the count ``k`` is drawn uniformly from ``min_count .. slots``
    and the labels form a random assignment that uses exactly ``k`` accelerators (``k``
    random groups get one accelerator each, the others a random one of those ``k``), so
    the samples cover sequential, hybrid and spatial designs alike.
    """
    genomes = rng.integers(lower, np.asarray(upper) + 1, size=(n, len(lower)))
    n_labels = label_genes.stop - label_genes.start
    if n_labels:
        slots = int(upper[label_genes.start]) + 1
        count = rng.integers(min(min_count, slots), slots + 1, size=(n, 1))
        labels = np.floor(rng.random((n, n_labels)) * count).astype(np.int64)
        order = np.argsort(rng.random((n, n_labels)), axis=1)  # a random order of groups
        rank = np.argsort(order, axis=1)
        labels = np.where(rank < count, rank, labels)  # the first k groups open the k accelerators
        genomes[:, label_genes] = labels
    return genomes
