"""The ``gpu-roofline`` cost model: a GPU as a comparison point, not an SSR target.

A design is one device holding every node; its only variable is the batch.  Every node
of every block is one kernel over the whole batch (all heads in one batched kernel),
timed by the roofline plus a launch overhead::

    t_node = max(ops / (peak_dtype * compute_efficiency), bytes / bandwidth) + launch

* ``ops = 2 * batch * M * K * N * R``;
* ``bytes`` are the operands read and the result written once, in the data type: for a
  weight layer ``(batch*M*K + K*N + batch*M*N) * R * DT`` (the weights are read once per
  kernel, the activations of every image), for an activation x activation product
  (QK^T, A.V) ``batch * (M*K + K*N + M*N) * R * DT``.

Nonlinear operators (softmax, LayerNorm, GELU, residual adds; the workload's
``nonlinear`` list, one per encoder block each) are memory-bound kernels: each reads its
input (two for an add) and writes its output once, ``(inputs + 1) * batch * rows * cols
* count * DT`` bytes at the memory bandwidth, plus one launch.  A workload without such
operators (a GEMM chain) pays none.  Host-to-device input transfer is not modelled.

Latency = the sum of every kernel's time (kernels run back to back); throughput = batch
* OPS / latency.  Power = ``power_fraction_of_tdp * tdp_w`` while the batch runs (an
assumption: the board near its power limit when busy), energy per image = P * latency /
batch.  ``peak_ops_per_s`` per data type and the bandwidth are published figures;
``compute_efficiency``, the launch overhead and the power fraction are assumptions,
marked in each platform TOML.

Example:
    >>> import numpy as np
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.workloads.graph import gemm_chain
    >>> model = GpuRoofline(gemm_chain([("l0", 64, 64, 64, 1)]), load_platform("t4"), "int8")
    >>> model.kernel_time_s(np.array([1])).shape
    (1, 1)
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.evaluation import Evaluation
from ssropt.objectives.models.base import CostModel
from ssropt.objectives.platforms import Platform
from ssropt.objectives.workloads.graph import Workload

RESOURCES = ("gpus",)
#: bytes read per output element of each nonlinear kind, in units of the tensor (add: 2)
NONLINEAR_INPUTS = {"add": 2}


class GpuRoofline(CostModel):
    """The ``gpu-roofline`` model bound to one workload, platform and data type."""

    name = "gpu-roofline"
    param_names = ()  # one device holding every node; the batch is the only variable
    platform_tables = ("gpu",)
    dtype_tables = ("gpu",)
    single_device = True

    def __init__(
        self, workload: Workload, platform: Platform, dtype: str = "int8", cost_model: str | None = None
    ) -> None:
        super().__init__(workload, platform, dtype, cost_model)
        self.constants = platform.gpu
        self.bytes = platform.dtype(dtype).bytes
        self.peak = platform.dtype(dtype).gpu.peak_ops_per_s
        shapes = workload.shape_arrays()
        self.m, self.k, self.n = (shapes[key].astype(float) for key in ("m", "k", "n"))
        self.repeat = shapes["repeat"].astype(float)
        self.activation_rhs = shapes["activation_rhs"]
        self.copies = shapes["copies"].astype(float)
        nonlinear = workload.nonlinear
        self.nl_elements = np.array([op.rows * op.cols * op.count for op in nonlinear], dtype=float)
        self.nl_inputs = np.array([NONLINEAR_INPUTS.get(op.kind, 1) for op in nonlinear], dtype=float)
        self.nl_copies = np.array(
            [workload.copies(workload.nodes[workload.index(op.after)]) for op in nonlinear], dtype=float
        )

    def values(self) -> dict[str, np.ndarray]:
        return {}

    def kernel_time_s(self, batch: np.ndarray) -> np.ndarray:
        """``(n, n_nodes)`` seconds of one kernel of each matmul node over the batch."""
        g = self.constants
        bt = np.asarray(batch, dtype=float)[:, None]
        ops = 2.0 * bt * self.m * self.k * self.n * self.repeat
        weights = (bt * self.m * self.k + self.k * self.n + bt * self.m * self.n) * self.repeat
        activations = bt * (self.m * self.k + self.k * self.n + self.m * self.n) * self.repeat
        moved = np.where(self.activation_rhs, activations, weights) * self.bytes
        roof = np.maximum(ops / (self.peak * g.compute_efficiency), moved / g.memory_bandwidth_bytes_per_s)
        return roof + g.launch_overhead_s

    def nonlinear_time_s(self, batch: np.ndarray) -> np.ndarray:
        """``(n,)`` seconds of every nonlinear kernel of one batch (all blocks)."""
        g = self.constants
        bt = np.asarray(batch, dtype=float)[:, None]
        moved = (self.nl_inputs + 1.0) * bt * self.nl_elements * self.bytes
        per_kernel = moved / g.memory_bandwidth_bytes_per_s + g.launch_overhead_s
        return (per_kernel * self.nl_copies).sum(axis=1)

    def _evaluate(self, designs: DesignBatch, detail: bool) -> Evaluation:
        n = designs.n_designs
        batch = designs.batch.astype(float)
        node_time = self.kernel_time_s(batch)
        latency = (node_time * self.copies).sum(axis=1) + self.nonlinear_time_s(batch)
        ops = float(self.workload.ops_per_image)
        power = np.full(n, self.constants.power_fraction_of_tdp * self.constants.tdp_w)
        n_slots = designs.max_accelerators
        gpus = (np.arange(n_slots)[None, :] == 0).astype(np.int64).repeat(n, axis=0)
        zero = np.zeros(n)
        return Evaluation(
            latency_s=latency,
            compute_s=latency.copy(),
            relayout_s=zero,
            input_s=zero.copy(),
            throughput_ops_per_s=batch * ops / latency,
            images_per_s=batch / latency,
            energy_j_per_image=power * latency / batch,
            power_w=power,
            steps=np.full(n, -1, dtype=np.int64),
            node_cycles=np.zeros((n, self.workload.n_nodes), dtype=np.int64),
            node_time_s=node_time,
            accelerators={"gpus": gpus},
            violations={},
        ).with_resources(RESOURCES)
