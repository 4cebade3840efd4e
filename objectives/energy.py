"""Power and energy per image of AIE-array accelerators on Versal, vectorised over designs.

The model
---------
The power drawn while a design runs its batch is a sum of terms that each scale with one
thing the design fixes (all constants live in the platform TOML ``[power]`` table, each
with its public source or derivation)::

    P = P_static                              device + platform baseline        [W]
      + p_aie  * N_aie                        used AIE tiles, clocked           [W / AIE]
      + e_dtype * R                           dynamic energy per operation      [J / op] * [op/s]
      + p_bram * N_bram + p_uram * N_uram     PL on-chip buffers                [W / block]
      + p_plio * N_plio                       AIE<->PL stream ports, in + out   [W / port]

* ``P_static`` is what the device draws whatever the design: leakage, the processing
  system running Linux, NoC/DDR controllers and clocking of the base platform.  Unused AIE
  tiles are clock gated by default (UG1504, "Power Requirements"), so they add nothing.
* ``p_aie`` is the cost of a used AIE tile that is clocked but idle (clock tree, memory
  banks, stream switch).
* ``e_dtype * R`` is the switching energy of the work itself: ``R`` is the achieved
  ops/s over the whole makespan (OPS = 2 MACs), so ``e_dtype * R`` equals the sum over
  used AIEs of ``e_dtype * peak_ops_per_s * utilisation`` -- the "per-active-AIE dynamic
  power scaled by utilisation" of MODEL.md.  Because ``e_dtype`` is calibrated on board it
  also carries the work that scales with throughput outside the AIE array (PL data
  movers, DDR traffic).
* the PL terms charge every BRAM36, URAM288 and PLIO port the design instantiates, at the
  platform's PL clock.

Calibration (VCK190)
--------------------
Fixed from public AMD material (see the TOML comments for the tables used):
``P_static = 9.61 W`` (XPE total on-chip power minus the design's dynamic power, four
designs on the VCK190 base platform), ``p_aie = 40.6 mW`` (XPE intercept of an int16 GEMM
on 119 active tiles), ``p_bram = 2.47 mW``, ``p_uram = 7.0 mW``, ``p_plio = 0.88 mW``
(regression of 15 PL designs' Vivado power, scaled to 230 MHz).

Derived from the two DAC'23 on-board GEMM points, taken to fill the CHARM resource budget
of the platform (``[charm]``: PLIO 100 in + 80 out, BRAM 867, URAM 420, i.e. 5.240 W of PL
terms at both points; equal PL terms cancel in the difference of the two points)::

    e_int8 = (60.96 - 9.61 - 192 * 0.0406 - 5.240) W / 28.150e12 op/s = 1.361 pJ/op
    e_fp32 = (58.34 - 9.61 - 384 * 0.0406 - 5.240) W /  3.745e12 op/s = 7.450 pJ/op

INT16 has no calibration point.  Rule: ``log e`` is linear in ``log`` of the AIE's peak
ops/cycle (INT8 256, INT16 64, FP32 16; AM009).  INT16 sits at the log-midpoint, hence
``e_int16 = sqrt(e_int8 * e_fp32) = 3.184 pJ/op``.  Nothing is tuned to other numbers.

Assumption to keep in mind: ``P_static`` is the device baseline.  Board consumers outside
the Versal rails that do not scale with the design, if the published powers include them,
are absorbed into ``e_int8`` and ``e_fp32`` by the calibration.

Example:
    >>> import numpy as np
    >>> from ssropt.objectives.platforms import load_platform
    >>> vck190 = load_platform("vck190")
    >>> watts = power_w(vck190, "int8", aie=np.array([192.0]), ops_per_s=np.array([28.15e12]),
    ...                 bram=np.array([867.0]), uram=np.array([420.0]), plio=np.array([180.0]))
    >>> round(float(watts[0]), 2)
    60.96
    >>> round(float(energy_j_per_image(watts, np.array([2e-3]), np.array([4.0]))[0]), 4)
    0.0305
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.platforms import PlatformError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ssropt.objectives.evaluation import Evaluation
    from ssropt.objectives.platforms import Platform
    from ssropt.objectives.platforms.versal import PowerConstants

_ENERGY_FIELD_PREFIX = "dynamic_j_per_op_"


def power_w(
    platform: Platform,
    dtype_name: str,
    *,
    aie: ArrayLike,
    ops_per_s: ArrayLike,
    bram: ArrayLike,
    uram: ArrayLike,
    plio: ArrayLike,
) -> np.ndarray:
    """Average power of N designs while they run their batch, in watts.

    Args:
        platform: the chip; its ``power`` table holds every constant.
        dtype_name: data type of the computation (``int8``, ``int16``, ``fp32``).
        aie: ``(n,)`` AIE tiles used (sum of a*b*c*dup over accelerators).
        ops_per_s: ``(n,)`` achieved ops/s over the whole makespan (2 ops per MAC).
        bram: ``(n,)`` BRAM36 blocks used.
        uram: ``(n,)`` URAM288 blocks used.
        plio: ``(n,)`` PLIO ports used, in + out.

    Returns:
        ``(n,)`` power in W.  NaN inputs (e.g. an undefined throughput) give NaN.

    Raises:
        PlatformError: the platform has no energy per op for ``dtype_name``.
        SsroptError: an input is negative.
    """
    constants = platform.power
    energy_per_op = dynamic_j_per_op(constants, dtype_name, platform.name)
    aie_, ops_, bram_, uram_, plio_ = np.broadcast_arrays(
        _non_negative("aie", aie),
        _non_negative("ops_per_s", ops_per_s),
        _non_negative("bram", bram),
        _non_negative("uram", uram),
        _non_negative("plio", plio),
    )
    return baseline_power_w(constants, aie=aie_, bram=bram_, uram=uram_, plio=plio_) + (
        energy_per_op * ops_
    )


def with_versal_power(result: Evaluation, platform: Platform, dtype_name: str, batch: ArrayLike) -> Evaluation:
    """``result`` (of AIE-array accelerators on Versal) with :func:`power_w` and
    :func:`energy_j_per_image` filled in from its resource totals; returns ``result``."""
    totals = result.resources()
    result.power_w = power_w(
        platform,
        dtype_name,
        aie=totals["aie"],
        ops_per_s=result.throughput_ops_per_s,
        bram=totals["bram"],
        uram=totals["uram"],
        plio=totals["plio_in"] + totals["plio_out"],
    )
    result.energy_j_per_image = energy_j_per_image(
        result.power_w, result.latency_s, np.asarray(batch).astype(float)
    )
    return result


def baseline_power_w(
    constants: PowerConstants, *, aie: ArrayLike, bram: ArrayLike, uram: ArrayLike, plio: ArrayLike
) -> np.ndarray:
    """Power of the designs with no work done: static + clocked AIEs + PL blocks, in W."""
    return (
        constants.static_w
        + constants.aie_active_w * np.asarray(aie, dtype=float)
        + constants.bram_w * np.asarray(bram, dtype=float)
        + constants.uram_w * np.asarray(uram, dtype=float)
        + constants.plio_w * np.asarray(plio, dtype=float)
    )


def energy_j_per_image(power_w: ArrayLike, latency_s: ArrayLike, batch: ArrayLike) -> np.ndarray:
    """Energy per image, ``power * latency / batch``, in J.

    Args:
        power_w: ``(n,)`` average power over the makespan, W.
        latency_s: ``(n,)`` makespan of the whole batch, s.
        batch: ``(n,)`` images processed together.

    Raises:
        SsroptError: a batch is not positive, or power or latency is negative.
    """
    batch_ = np.asarray(batch, dtype=float)
    if np.any(batch_ <= 0):
        raise SsroptError(f"energy per image: batch must be positive, got {batch_.min()!r}")
    return _non_negative("power_w", power_w) * _non_negative("latency_s", latency_s) / batch_


def dynamic_j_per_op(constants: PowerConstants, dtype_name: str, platform_name: str = "") -> float:
    """Dynamic energy per operation of ``dtype_name``, in J/op."""
    try:
        return float(getattr(constants, _ENERGY_FIELD_PREFIX + dtype_name))
    except AttributeError:
        known = sorted(
            field.name.removeprefix(_ENERGY_FIELD_PREFIX)
            for field in dataclasses.fields(constants)
            if field.name.startswith(_ENERGY_FIELD_PREFIX)
        )
        where = f" on platform {platform_name}" if platform_name else ""
        raise PlatformError(
            f"no dynamic energy per op for dtype {dtype_name!r}{where}: "
            f"known dtypes are {', '.join(known)}"
        ) from None


def energy_per_op_from_measurement(
    constants: PowerConstants,
    measured_w: float,
    *,
    aie: float,
    ops_per_s: float,
    bram: float,
    uram: float,
    plio: float,
) -> float:
    """Solve the model for ``e_dtype`` at one measured design point, in J/op.

    This is the calibration step: every other constant is fixed, so
    ``e = (measured - baseline) / ops_per_s``.
    """
    if ops_per_s <= 0:
        raise SsroptError(f"calibration needs a positive throughput, got {ops_per_s!r}")
    baseline = float(baseline_power_w(constants, aie=aie, bram=bram, uram=uram, plio=plio))
    energy = (measured_w - baseline) / ops_per_s
    if energy <= 0:
        raise SsroptError(
            f"calibration point {measured_w} W is below the model's baseline {baseline:.3f} W"
        )
    return energy


def _non_negative(name: str, values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if np.any(array < 0):
        raise SsroptError(f"power model: {name} must be >= 0, got {array.min()!r}")
    return array
