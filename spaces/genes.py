"""Gene domains: the values each accelerator parameter may take in a search space.

Every gene of a genome is an index into a value table, so all genes are plain bounded
integers (``0 .. len(values) - 1``) for every strategy, and the tables carry the
per-gene domains (allowed cascade lengths, kernel tile sizes, divisors of the head
count for ``dup``).
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.fpga import array_values, cascade_values
from ssropt.objectives.platforms import Platform
from ssropt.objectives.workloads.graph import Workload


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def parameter_values(cost_model: str, workload: Workload, platform: Platform, dtype: str) -> dict[str, np.ndarray]:
    """Allowed values of every accelerator parameter, in ``PARAM_NAMES`` order.

    ``fpga``: ``a`` and ``c`` the multiples of the platform's ``array_dim_factors`` up to
    ``array_dim_max``, ``b`` the powers of two of the data type's lane range, ``dup`` the
    divisors of the head count, ``stream`` 0 (weights on chip) or also 1 (weights streamed
    from off-chip memory) when the platform has an ``[fpga.memory]`` table.  ``gpu-roofline`` has no parameters.
    """
    heads = max(n.repeat for n in workload.nodes)
    has_attention = any(n.activation_rhs for n in workload.nodes)
    dup_values = np.array(divisors(heads) if has_attention else [1])
    if cost_model == "gpu-roofline":
        return {}
    if cost_model == "fpga":
        dims = array_values(platform.fpga)
        return {
            "a": dims,
            "b": cascade_values(platform.fpga, platform.dtype(dtype).bytes),
            "c": dims.copy(),
            "dup": dup_values,
            "stream": np.array([0, 1] if platform.fpga.memory else [0]),
        }
    if cost_model == "ssr":
        s = platform.ssr
        kernel = platform.dtype(dtype).ssr
        dims = np.arange(1, s.array_dim_max + 1)
        b_values = dims[(dims <= s.b_multiple_above) | (dims % s.b_multiple == 0)]
        return {
            "a": dims,
            "b": b_values,
            "c": dims,
            "dup": dup_values,
            "h1": np.array(kernel.h1_choices),
            "w1": np.array(kernel.w1_choices),
            "w2": np.array(kernel.w2_choices),
        }
    # CHARM: array along M and K up to 16, c up to one AIE column (8), PL tiling 1..15
    return {
        "a": np.arange(1, 17),
        "b": np.arange(1, 17),
        "c": np.arange(1, 9),
        "x": np.arange(1, 16),
        "y": np.arange(1, 16),
        "z": np.arange(1, 16),
        "pack_in": np.array([0]),
        "pack_out": np.array([0]),
    }


def value_index(values: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Index of the largest allowed value ``<= given`` (the smallest if none is)."""
    idx = np.searchsorted(values, given, side="right") - 1
    return np.clip(idx, 0, len(values) - 1)


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
