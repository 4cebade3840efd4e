"""Power and energy per image of AIE-array accelerators on Versal, from the work they do.

The model
---------
Power is a sum of terms, each a physical quantity the design's batch moves or computes,
times the energy of one unit (constants in the platform TOML ``[power]`` table, each with
its public source or marked as an estimate)::

    P = P_static                                   device + platform baseline        [W]
      + p_tile   * N_aie                           used (clocked) AIE tiles          [W / tile]
      + e_mac[d] * R_mac                           MACs executed, data type d        [J/MAC * MAC/s]
      + e_lm     * R_lm                            AIE data-memory bytes             [J/B * B/s]
      + e_bram   * R_bram  + e_uram * R_uram       PL buffer bytes read and written  [J/B * B/s]
      + e_plio   * R_plio                          bytes crossing the AIE-PL boundary [J/B * B/s]
      + e_ddr    * R_ddr                           off-chip DDR bytes (DDRMC, NoC)   [J/B * B/s]

* ``P_static``: leakage, the processing system, NoC/DDR controllers and clocking of the
  base platform; it does not depend on the design.  Unused AIE tiles are clock gated
  (UG1504, "Power Requirements") and cost nothing.
* ``p_tile``: a used tile's clock tree, stream switch and idle core.
* every other term is ``energy per unit * (units of one batch) / (batch latency)``.  Each
  (image, layer) job of a schedule runs exactly once per batch, so the cost model counts
  the *work* of a batch (:class:`Activity`) from its per-layer quantities and the schedule
  only sets the time it is spread over.  MACs are the executed ones, padding included.

The cost models count the work: ``ssr`` (:mod:`ssropt.objectives.models.ssr.traffic`:
weights and activations on chip, the image read from and the result written to DDR) and
``charm`` (:mod:`ssropt.objectives.models.charm.traffic`: every operand through DDR).
:func:`power_terms` returns one ``(n,)`` array per term; their sum is ``power_w``
exactly, and energy per image is ``P * latency / batch``.

Calibration
-----------
Every constant but ``e_mac`` has a public source or is an estimate (platform TOML).
``e_mac[int8]`` and ``e_mac[fp32]`` are fitted to the two DAC'23 on-board VCK190 GEMM
points, one unknown per point (:mod:`ssropt.objectives.calibration`); ``e_mac[int16]``
has no point and follows a rule (the geometric mean).  Nothing is tuned to other numbers.

Example:
    >>> import numpy as np
    >>> from ssropt.objectives.platforms import load_platform
    >>> vck190 = load_platform("vck190")
    >>> idle = Activity.zeros(1)
    >>> terms = power_terms(vck190.power, "int8", idle, np.array([1e-3]))
    >>> round(float(sum(terms.values())[0]), 2)
    9.61
    >>> round(float(energy_j_per_image(np.array([50.0]), np.array([2e-3]), np.array([4.0]))[0]), 4)
    0.025
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.platforms import PlatformError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ssropt.objectives.evaluation import Evaluation
    from ssropt.objectives.platforms import Platform
    from ssropt.objectives.platforms.versal import PowerConstants

#: the terms of the Versal power model, in report order
TERMS = ("static", "tiles", "compute", "local_memory", "bram", "uram", "plio", "ddr")
_MAC_FIELD_PREFIX = "mac_j_"


@dataclass(frozen=True)
class Activity:
    """The work of one batch of N designs, ``(n,)`` float arrays.

    Attributes:
        aie: AIE tiles used (clocked while the batch runs).
        macs: MACs executed, padding included.
        local_memory_bytes: AIE data-memory bytes: core operand loads and DMA writes.
        bram_bytes, uram_bytes: PL buffer bytes read and written, by the RAM holding them.
        plio_bytes: bytes crossing the AIE-PL boundary, in and out.
        ddr_bytes: off-chip DDR bytes, read and written.
    """

    aie: np.ndarray
    macs: np.ndarray
    local_memory_bytes: np.ndarray
    bram_bytes: np.ndarray
    uram_bytes: np.ndarray
    plio_bytes: np.ndarray
    ddr_bytes: np.ndarray

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name, _non_negative(field.name, getattr(self, field.name)))

    @classmethod
    def zeros(cls, n: int) -> Activity:
        """No work at all for ``n`` designs."""
        return cls(*(np.zeros(n) for _ in dataclasses.fields(cls)))

    def replace(self, **changes: ArrayLike) -> Activity:
        """A copy with some quantities replaced."""
        return dataclasses.replace(self, **changes)


def power_terms(
    constants: PowerConstants, dtype_name: str, activity: Activity, latency_s: ArrayLike, platform_name: str = ""
) -> dict[str, np.ndarray]:
    """Power of every term of :data:`TERMS`, ``name -> (n,)`` W; their sum is the power.

    Args:
        constants: the platform's ``power`` table.
        dtype_name: data type of the MACs (``int8``, ``int16``, ``fp32``).
        activity: the work of one batch of each design.
        latency_s: ``(n,)`` latency of the batch; NaN gives NaN dynamic terms.

    Raises:
        PlatformError: the platform has no energy per MAC for ``dtype_name``.
        SsroptError: a latency is not positive.
    """
    e_mac = mac_energy_j(constants, dtype_name, platform_name)
    latency = np.asarray(latency_s, dtype=float)
    if np.any(latency <= 0):
        raise SsroptError(f"power model: latency must be > 0, got {np.nanmin(latency)!r}")
    n = activity.aie.shape[0]
    return {
        "static": np.full(n, constants.static_w),
        "tiles": constants.tile_w * activity.aie,
        "compute": e_mac * activity.macs / latency,
        "local_memory": constants.local_memory_j_per_byte * activity.local_memory_bytes / latency,
        "bram": constants.bram_j_per_byte * activity.bram_bytes / latency,
        "uram": constants.uram_j_per_byte * activity.uram_bytes / latency,
        "plio": constants.plio_j_per_byte * activity.plio_bytes / latency,
        "ddr": constants.ddr_j_per_byte * activity.ddr_bytes / latency,
    }


def total_power_w(terms: dict[str, np.ndarray]) -> np.ndarray:
    """The sum of the terms, ``(n,)`` W (in :data:`TERMS` order, so always the same sum)."""
    names = [t for t in TERMS if t in terms] + [t for t in terms if t not in TERMS]
    total = np.zeros_like(terms[names[0]], dtype=float)
    for name in names:
        total = total + terms[name]
    return total


def with_power_terms(result: Evaluation, terms: dict[str, np.ndarray], batch: ArrayLike) -> Evaluation:
    """``result`` with ``power_terms``, ``power_w`` (their sum) and ``energy_j_per_image``
    filled in; returns ``result``."""
    result.power_terms = terms
    result.power_w = total_power_w(terms)
    result.energy_j_per_image = energy_j_per_image(
        result.power_w, result.latency_s, np.asarray(batch).astype(float)
    )
    return result


def with_versal_power(
    result: Evaluation, platform: Platform, dtype_name: str, batch: ArrayLike, activity: Activity
) -> Evaluation:
    """``result`` (of AIE-array accelerators on Versal) with the power of ``activity`` over
    its latency, term by term (:func:`power_terms`); returns ``result``."""
    terms = power_terms(platform.power, dtype_name, activity, result.latency_s, platform.name)
    return with_power_terms(result, terms, batch)


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


def mac_energy_j(constants: PowerConstants, dtype_name: str, platform_name: str = "") -> float:
    """Energy of one executed MAC of ``dtype_name``, in J."""
    try:
        return float(getattr(constants, _MAC_FIELD_PREFIX + dtype_name))
    except AttributeError:
        known = sorted(
            field.name.removeprefix(_MAC_FIELD_PREFIX)
            for field in dataclasses.fields(constants)
            if field.name.startswith(_MAC_FIELD_PREFIX)
        )
        where = f" on platform {platform_name}" if platform_name else ""
        raise PlatformError(
            f"no energy per MAC for dtype {dtype_name!r}{where}: known dtypes are {', '.join(known)}"
        ) from None


def fit_mac_energy(
    constants: PowerConstants, points: list[tuple[str, Activity, float, float]]
) -> dict[str, float]:
    """Solve the model for ``e_mac`` of each data type at measured points, in J/MAC.

    Each point ``(dtype, activity of one batch, latency_s, measured W)`` gives one linear
    equation ``measured = known(point) + e_mac[dtype] * MAC/s``, every other constant
    fixed.  A data type's points are solved by least squares (exactly with one point).

    Raises:
        SsroptError: a point lies at or below the power of its sourced terms.
    """
    probe = dataclasses.replace(constants, **{f.name: 0.0 for f in dataclasses.fields(constants)
                                              if f.name.startswith(_MAC_FIELD_PREFIX)})
    rows: dict[str, list[tuple[float, float]]] = {}
    for dtype, activity, latency, measured in points:
        known = float(total_power_w(power_terms(probe, dtype, activity, np.array([latency])))[0])
        rate = float(activity.macs[0]) / latency
        if rate <= 0:
            raise SsroptError(f"calibration point ({dtype}) executes no MACs")
        rows.setdefault(dtype, []).append((rate, measured - known))
    fitted = {}
    for dtype, equations in rows.items():
        rate, rest = (np.array(v) for v in zip(*equations))
        energy = float(rate @ rest / (rate @ rate))
        if energy <= 0:
            raise SsroptError(
                f"calibration: the {dtype} point is at or below the model's sourced terms "
                f"({min(rest):.3f} W left for the MACs)"
            )
        fitted[dtype] = energy
    return fitted


def sum_columns(values: np.ndarray) -> np.ndarray:
    """``(n,)`` the sum over the second axis of ``(n, k)`` ``values``, column by column, so
    that a design's sum never depends on the other designs evaluated with it (numpy's
    pairwise reduction may order the additions differently for different ``n``)."""
    values = np.asarray(values)
    total = np.zeros(values.shape[0], dtype=np.result_type(values.dtype, float))
    for column in range(values.shape[1]):
        total = total + values[:, column]
    return total


def _non_negative(name: str, values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if np.any(array < 0):
        raise SsroptError(f"power model: {name} must be >= 0, got {array.min()!r}")
    return array
