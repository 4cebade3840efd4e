"""Tables of the Versal family (``family = "versal"``): the AIE array, the PL, resources,
power, and the constants and kernels of the ``ssr`` and ``charm`` cost models.

Each frozen dataclass is one TOML table, field by field (see :mod:`.loader`).
"""

from __future__ import annotations

from dataclasses import dataclass

#: the budgets of :class:`Resources` that a design's accelerators share (their totals must
#: fit); ``columns`` bounds each accelerator on its own
SHARED_BUDGETS = ("aie", "plio_in", "plio_out", "bram", "uram")


@dataclass(frozen=True)
class AieArray:
    count: int
    rows: int
    columns: int
    clock_hz: float
    local_memory_bytes: int


@dataclass(frozen=True)
class ProgrammableLogic:
    clock_hz: float
    reference_clock_hz: float
    plio_width_bits: int


@dataclass(frozen=True)
class Resources:
    """Resource counts: the device totals or the budget designs may use."""

    aie: int
    plio_in: int
    plio_out: int
    bram: int
    uram: int
    columns: int


@dataclass(frozen=True)
class SsrConstants:
    launch_cycles: int
    iteration_cycles: int
    cascade_cycles: int
    kernel_prologue_cycles: int
    kernel_epilogue_cycles: int
    array_dim_max: int
    ac_max: int
    ac_both_max: int
    b_multiple_above: int
    b_multiple: int
    partition_max: int
    partition_product_max: int
    relayout_clock_hz: float
    relayout_port_bits: int
    input_bytes_per_image: int
    input_bandwidth_bytes_per_s: float
    ram_type_lhs: int
    ram_type_rhs: int
    ram_type_out: int
    bram_depth: int
    bram_width_bits: int
    uram_depth: int
    uram_width_bits: int
    uram_weight: int


@dataclass(frozen=True)
class CharmConstants:
    plio_in: int
    plio_out: int
    bram: int
    uram: int
    ddr_bytes_per_cycle_lhs: float
    ddr_bytes_per_cycle_rhs: float
    ddr_bytes_per_cycle_out: float
    ddr_bytes_per_cycle_two: float
    ddr_bytes_per_cycle_three: float
    ddr_banks: float
    aie_stream_bytes_per_cycle: int
    bram_width_bits: int
    bram_depth: int
    uram_width_bits: int
    uram_depth: int
    buffer_copies: int
    uram_weight: int


@dataclass(frozen=True)
class SsrKernel:
    """Single-AIE kernel of the SSR estimator for one data type."""

    pi: int
    pk: int
    pj: int
    macs_per_cycle: int
    ii_w1_limits: tuple[int, ...]
    ii_values: tuple[int, ...]
    ii_default: int
    h1_choices: tuple[int, ...]
    w1_choices: tuple[int, ...]
    w2_choices: tuple[int, ...]
    #: ``(rows, cols)`` of the output block the kernel keeps in accumulator registers over
    #: the ``w1`` loop: each MAC loads ``DT (1/rows + 1/cols)`` bytes from AIE data memory;
    #: empty means ``(pi, pj)``
    acc_block: tuple[int, ...] = ()


@dataclass(frozen=True)
class CharmKernel:
    """Single-AIE kernel of CHARM for one data type."""

    h1: int
    w1: int
    w2: int
    pi: int
    pk: int
    pj: int
    macs_per_cycle: int
    kernel_stall_cycles: int
    kernel_tail_cycles: int
    pack_in: int
    pack_out: int
    small_array_aies: int
    plio_bits_lhs: int
    plio_bits_rhs: int
    plio_bits_out: int
    partition_lhs: int
    partition_rhs: int
    partition_out: int


@dataclass(frozen=True)
class PowerConstants:
    """Constants of the Versal power model (``ssropt.objectives.energy``), one per term.

    P = static_w + tile_w * AIEs + mac_j_<dtype> * MAC/s + local_memory_j_per_byte * B/s
        + bram_j_per_byte * B/s + uram_j_per_byte * B/s + plio_j_per_byte * B/s
        + ddr_j_per_byte * B/s, every rate the work of one batch over its latency.
    """

    static_w: float  # device + platform baseline, W
    tile_w: float  # per used AIE tile, clocked, W
    mac_j_int8: float  # J per executed MAC (padding included)
    mac_j_int16: float
    mac_j_fp32: float
    local_memory_j_per_byte: float  # AIE data memory, core loads and DMA writes
    bram_j_per_byte: float  # PL buffer bytes read or written, by the RAM holding them
    uram_j_per_byte: float
    plio_j_per_byte: float  # bytes crossing the AIE-PL boundary
    ddr_j_per_byte: float  # off-chip DRAM bytes, controller, PHY and NoC included
