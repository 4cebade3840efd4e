"""One entry point for every cost model: :class:`CostModel` evaluates a DesignBatch.

It binds a workload, a platform, a data type and a cost model name (``ssr``, ``charm``,
``fpga`` or ``gpu-roofline``; by default the platform's own, see
:func:`~ssropt.objectives.platforms.default_cost_model`), dispatches to the model, and
fills in power and energy, so every caller -- ``ssropt evaluate``, every search
strategy, the benchmarks -- goes through one path.

Example:
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> from ssropt.objectives.platforms import load_platform
    >>> model = CostModel(build_model("deit-t", tokens=192), load_platform("vck190"), "int8")
    >>> model.cost_model
    'ssr'
"""

from __future__ import annotations

from ssropt.objectives.charm import evaluate_charm
from ssropt.objectives.design import COST_MODELS, DesignBatch
from ssropt.objectives.energy import energy_j_per_image, power_w
from ssropt.errors import SsroptError
from ssropt.objectives.evaluation import Evaluation
from ssropt.objectives.fpga import FpgaModel, fpga_power_w
from ssropt.objectives.gpu import GpuRoofline
from ssropt.objectives.platforms import Platform
from ssropt.objectives.ssr import SsrModel
from ssropt.objectives.workloads.graph import Workload

MODEL_VERSION = "1"


class CostModel:
    """A workload on a platform in one data type, under one cost model."""

    def __init__(
        self, workload: Workload, platform: Platform, dtype: str = "int8", cost_model: str | None = None
    ) -> None:
        cost_model = cost_model or platform.default_cost_model
        if cost_model not in COST_MODELS:
            raise SsroptError(
                f"unknown cost model {cost_model!r}: known cost models are {', '.join(COST_MODELS)}"
            )
        platform.dtype(dtype)  # validates the data type
        platform.require(cost_model, dtype)
        self.workload = workload
        self.platform = platform
        self.dtype = dtype
        self.cost_model = cost_model
        self._ssr = SsrModel(workload, platform, dtype) if cost_model == "ssr" else None
        self._fpga = FpgaModel(workload, platform, dtype) if cost_model == "fpga" else None
        self._gpu = GpuRoofline(workload, platform, dtype) if cost_model == "gpu-roofline" else None

    @property
    def scheduler(self):
        """The lock-step scheduler (and its cache) of ``ssr`` and ``fpga``; None otherwise."""
        for model in (self._ssr, self._fpga):
            if model is not None:
                return model.scheduler
        return None

    @property
    def single_device(self) -> bool:
        """True when a design is one device holding every node (``gpu-roofline``)."""
        return self._gpu is not None

    def resource_budgets(self) -> dict[str, float]:
        """Chip-wide budgets a design's resource totals must fit, by resource name."""
        if self._fpga is not None:
            return dict(self._fpga.budgets())
        if self._gpu is not None:
            return {}
        budget = self.platform.budget
        return {name: getattr(budget, name) for name in ("aie", "plio_in", "plio_out", "bram", "uram")}

    def evaluate(self, designs: DesignBatch, detail: bool = True) -> Evaluation:
        """Evaluate N designs (vectorised); ``detail=False`` skips the latency breakdown."""
        if designs.cost_model != self.cost_model:
            raise SsroptError(
                f"designs are for cost model {designs.cost_model!r}, not {self.cost_model!r}"
            )
        if designs.assignment.shape[1] != self.workload.n_nodes:
            raise SsroptError(
                f"assignment has {designs.assignment.shape[1]} nodes, "
                f"workload {self.workload.name} has {self.workload.n_nodes}"
            )
        if self._ssr is not None:
            result = self._ssr.evaluate(designs, detail=detail)
        elif self._fpga is not None:
            result = self._fpga.evaluate(designs, detail=detail)
            totals = result.resources()
            result.power_w = fpga_power_w(
                self.platform, self.dtype, dsp=totals["dsp"], bram=totals["bram"], uram=totals["uram"],
                ops_per_s=result.throughput_ops_per_s,
                offchip_bytes_per_s=result.accelerators["streamed_bytes"].sum(axis=1) * result.images_per_s,
            )
            result.energy_j_per_image = energy_j_per_image(
                result.power_w, result.latency_s, designs.batch.astype(float)
            )
            return result
        elif self._gpu is not None:
            return self._gpu.evaluate(designs, detail=detail)  # power and energy included
        else:
            result = evaluate_charm(self.workload, self.platform, self.dtype, designs)
        totals = result.resources()
        result.power_w = power_w(
            self.platform,
            self.dtype,
            aie=totals["aie"],
            ops_per_s=result.throughput_ops_per_s,
            bram=totals["bram"],
            uram=totals["uram"],
            plio=totals["plio_in"] + totals["plio_out"],
        )
        result.energy_j_per_image = energy_j_per_image(
            result.power_w, result.latency_s, designs.batch.astype(float)
        )
        return result
