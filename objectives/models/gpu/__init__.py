"""The ``gpu-roofline`` cost model: a GPU as a comparison point (a roofline per kernel)."""

from ssropt.objectives.models.gpu.model import GpuRoofline

__all__ = ["GpuRoofline"]
