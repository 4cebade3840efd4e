"""Tables of the FPGA family (``family = "fpga"``): the ``[fpga]`` template constants with
its resources, power and optional off-chip memory, and ``[dtype.NAME.fpga]``.

Each frozen dataclass is one TOML table, field by field (see :mod:`.loader`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FpgaKernel:
    """How one data type maps onto the FPGA's compute blocks (``[dtype.NAME.fpga]``).

    A PE is one MAC per cycle; ``macs_per_block`` PEs share one compute block (DSP slice
    or AI tensor block) and a PE needs ``blocks_per_mac`` blocks (the SSR estimator's
    ``DSP_factor``: 5 for FP32 on DSP48).  Blocks used = ceil(PEs * blocks_per_mac /
    macs_per_block).
    """

    macs_per_block: int
    blocks_per_mac: int


@dataclass(frozen=True)
class FpgaResources:
    """Compute blocks and RAM blocks of an FPGA: device totals or the designs' budget.

    ``dsp`` counts the blocks PEs are built from (DSP48E2 slices; AI tensor blocks on
    Stratix 10 NX); ``bram`` the small RAM blocks (BRAM36, or M20K on Intel devices);
    ``uram`` the large ones (URAM288; 0 where the device has none).
    """

    dsp: int
    bram: int
    uram: int


@dataclass(frozen=True)
class FpgaPower:
    """Constants of the FPGA power model (``ssropt.objectives.models.fpga.model.fpga_power_w``).

    P = static_w + dsp_w * blocks + bram_w * BRAM + uram_w * URAM
        + dynamic_j_per_op_<dtype> * ops/s.
    """

    static_w: float
    dsp_w: float  # per compute block used, clocked, W
    bram_w: float  # per BRAM/M20K used, W
    uram_w: float  # per URAM used, W
    dynamic_j_per_op_int8: float = 0.0
    dynamic_j_per_op_int16: float = 0.0
    dynamic_j_per_op_fp32: float = 0.0


@dataclass(frozen=True)
class FpgaMemory:
    """Off-chip memory an accelerator may stream its weights from (``[fpga.memory]``).

    An accelerator whose ``stream`` parameter is 1 keeps only a double-buffered weight
    panel on chip and reads each layer's weights once per image; the streaming
    accelerators of a design share ``bandwidth_bytes_per_s * efficiency`` equally.
    """

    kind: str  # e.g. "DDR4" or "HBM2"
    bandwidth_bytes_per_s: float  # peak of the memory the PL can reach
    efficiency: float  # sustained fraction of the peak for long sequential reads
    energy_j_per_byte: float  # off-chip access energy, controller and PHY included


@dataclass(frozen=True)
class FpgaConstants:
    """The FPGA template of the SSR estimator (spec section 8), ``[fpga]``.

    ``b`` (the reduction-parallel dimension) is a power of two from
    ``lane_width_bits / (8 DT)`` to ``lane_width_max_bits / (8 DT)``; ``a`` and ``c`` are at
    most ``array_dim_max`` and multiples of one of ``array_dim_factors``.  Buffers are
    ``lane_width_bits`` wide (LHS/RHS) and ``output_width_bits`` (outputs, re-layout of
    LHS moves); a RAM block of type ``r`` is ``bram_width_bits / r`` wide and
    ``bram_depth * r`` deep.
    """

    compute_block: str  # what ``dsp`` counts, e.g. "DSP48E2" or "AI tensor block"
    clock_hz: float
    lane_width_bits: int
    lane_width_max_bits: int
    output_width_bits: int
    array_dim_max: int
    array_dim_factors: tuple[int, ...]
    input_bytes_per_image: int
    input_bandwidth_bytes_per_s: float
    ram_type_lhs: int
    ram_type_rhs: int
    bram_width_bits: int
    bram_depth: int
    uram_width_bits: int
    uram_depth: int
    uram_weight: int
    physical: FpgaResources
    budget: FpgaResources
    power: FpgaPower
    memory: FpgaMemory | None = None  # no table: weights always on chip (the SSR variant)
