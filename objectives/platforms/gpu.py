"""Tables of the GPU family (``family = "gpu"``): the ``[gpu]`` roofline constants and
``[dtype.NAME.gpu]``.

Each frozen dataclass is one TOML table, field by field (see :mod:`.loader`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuKernel:
    """Peak dense throughput of one data type on a GPU (``[dtype.NAME.gpu]``)."""

    peak_ops_per_s: float  # 2 ops per MAC, dense (no structured sparsity)


@dataclass(frozen=True)
class GpuConstants:
    """The GPU roofline (``[gpu]``), a comparison platform, not an SSR target."""

    memory_bandwidth_bytes_per_s: float
    compute_efficiency: float  # fraction of peak a matmul kernel reaches (an assumption)
    launch_overhead_s: float  # per kernel
    tdp_w: float
    power_fraction_of_tdp: float  # average power while busy / TDP (an assumption)
