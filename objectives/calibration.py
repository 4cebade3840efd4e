"""The calibration of the Versal power model: the DAC'23 board points and the fit of ``e_mac``.

CHARM's DAC'23 paper measured the board power of two VCK190 GEMM designs (MODEL.md):
INT8 28,150 GOPS at 60.96 W and FP32 3,745 GFLOPS at 58.34 W.  The designs are the
public CHARM hosts (``arc-research-lab/CHARM``, ``example_new/INT8/SGEMM/host/host.cpp``:
a, b, c = 8, 4, 6, x, y, z = 4, 1, 8, 192 AIEs; ``example_new/FP32/host/host.cpp``:
12, 4, 8 and 4, 1, 4, 384 AIEs -- the AIE counts the paper gives).

Every term of the model except ``e_mac`` has a public source or is an estimate; the two
points fix ``e_mac[int8]`` and ``e_mac[fp32]``, one unknown each
(:func:`~ssropt.objectives.energy.fit_mac_energy`).  The work per operation comes from
the ``charm`` model's counting (:mod:`ssropt.objectives.models.charm.traffic`) on a
6144^3 GEMM -- the GEMM size of the measurement is not published with the numbers, and
6144 is the smallest cube both designs tile without padding (the hosts' default 4096^3
pads N for INT8 and M for FP32) -- spread over the *measured* time, so the fit does not
inherit the timing model's error.  ``e_mac[int16]`` has no point: ``log e`` is taken
linear in ``log`` of the peak MACs/cycle (INT8 128, INT16 32, FP32 8; AM009), which puts
INT16 at the geometric mean.

Example:
    >>> from ssropt.objectives.platforms import load_platform
    >>> fitted = fit_vck190_mac_energy(load_platform("vck190"))
    >>> sorted(fitted)
    ['fp32', 'int16', 'int8']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.energy import Activity, fit_mac_energy, power_terms
from ssropt.objectives.workloads.graph import gemm_chain

if TYPE_CHECKING:
    from ssropt.objectives.evaluation import Evaluation
    from ssropt.objectives.platforms import Platform

#: the GEMM both DAC'23 designs tile without padding
CALIBRATION_GEMM = (6144, 6144, 6144)


@dataclass(frozen=True)
class BoardPoint:
    """A published board measurement of one ``charm`` design running one GEMM."""

    dtype: str
    accelerator: tuple[int, int, int, int, int, int]  # a, b, c, x, y, z
    ops_per_s: float  # measured
    watts: float  # measured board power
    source: str


DAC23_POINTS = (
    BoardPoint("int8", (8, 4, 6, 4, 1, 8), 28.150e12, 60.96,
               "DAC'23 (CHARM) VCK190 INT8 GEMM; example_new/INT8/SGEMM/host/host.cpp"),
    BoardPoint("fp32", (12, 4, 8, 4, 1, 4), 3.745e12, 58.34,
               "DAC'23 (CHARM) VCK190 FP32 GEMM; example_new/FP32/host/host.cpp"),
)


def point_model(platform: Platform, point: BoardPoint):
    """The ``charm`` model of the calibration GEMM and the point's one-design batch."""
    from ssropt.objectives.models import CostModel

    workload = gemm_chain([("gemm", *CALIBRATION_GEMM, 1)])
    model = CostModel(workload, platform, point.dtype, "charm")
    params = np.array([[[*point.accelerator, 0, 0]]])
    design = DesignBatch("charm", np.array([1]), np.zeros((1, 1), dtype=np.int64), params)
    return model, design


def point_work(platform: Platform, point: BoardPoint) -> tuple[Activity, float, Evaluation]:
    """The point's work per GEMM, the measured time of one GEMM (s) and the model's
    evaluation of the design (its own, modelled time)."""
    model, design = point_model(platform, point)
    measured_s = model.workload.ops_per_image / point.ops_per_s
    return model.activity(design), measured_s, model.evaluate(design)


def point_power_terms(platform: Platform, point: BoardPoint, measured_rate: bool = True) -> dict[str, np.ndarray]:
    """The model's power terms of a point, at the measured throughput (default) or at the
    ``charm`` model's own."""
    activity, measured_s, evaluation = point_work(platform, point)
    latency = np.array([measured_s]) if measured_rate else evaluation.latency_s
    return power_terms(platform.power, point.dtype, activity, latency, platform.name)


def fit_vck190_mac_energy(platform: Platform, points: tuple[BoardPoint, ...] = DAC23_POINTS) -> dict[str, float]:
    """``e_mac`` (J/MAC) of INT8 and FP32 fitted to ``points``, INT16 by the rule above."""
    rows = []
    for point in points:
        activity, measured_s, _ = point_work(platform, point)
        rows.append((point.dtype, activity, measured_s, point.watts))
    fitted = fit_mac_energy(platform.power, rows)
    if "int8" in fitted and "fp32" in fitted:
        fitted["int16"] = math.sqrt(fitted["int8"] * fitted["fp32"])
    return fitted
