"""What a configurator's candidate grid reads of the workload, the same for every template."""

from __future__ import annotations

import numpy as np

from ssropt.objectives.workloads.graph import ROLE_CODE


class WorkloadArrays:
    """Per-node shapes of a workload as arrays, and its dependencies.

    ``m, k, n, repeat, copies`` per node; ``act`` (activation RHS: an attention product),
    ``attention_input``; ``heads`` (the largest repeat); ``ops`` per node and image;
    ``deps`` as ``(src, dst, role code)`` rows.
    """

    def __init__(self, workload) -> None:
        shapes = workload.shape_arrays()
        self.m, self.k, self.n = shapes["m"], shapes["k"], shapes["n"]
        self.repeat, self.copies = shapes["repeat"], shapes["copies"]
        self.act = shapes["activation_rhs"]
        self.attention_input = shapes["attention_input"]
        self.n_nodes = len(self.m)
        self.heads = int(self.repeat.max())
        self.ops = 2 * self.m * self.k * self.n * self.repeat * self.copies
        self.deps = np.array(
            [(workload.index(d.src), workload.index(d.dst), ROLE_CODE[d.role]) for d in workload.dependencies],
            dtype=np.int64,
        ).reshape(-1, 3)
