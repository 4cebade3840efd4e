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
    #: which single-AIE tiles the ``ssr`` model offers: ``"ssr"`` (the SSR estimator's lists
    #: ``h1/w1/w2_choices``, its kernel-time equation) or ``"native"`` (every tile on the
    #: ``tile_granule`` grid within the bounds that some native ``aie::mmul`` shape tiles and
    #: whose double-buffered operands fit the AIE local memory; the kernel-time equation per
    #: native micro-block, see ``ssropt.objectives.models.ssr.tiles``)
    tiles: str = "ssr"
    tile_granule: int = 8
    tile_h1_bounds: tuple[int, ...] = (16, 64)
    tile_w1_bounds: tuple[int, ...] = (32, 96)
    tile_w2_bounds: tuple[int, ...] = (16, 64)
    #: extra cycles per 16 compute cycles of a micro-block narrower than the kernel's
    #: ``pi x pj`` (``tiles = "native"`` only): 0 is SSR's II table unchanged, 4 CHARM's
    #: measured INT8 8 x 4 block
    narrow_block_stall_per_16: float = 0.0


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
    #: native ``aie::mmul<M, K, N>`` shapes of the data type (``tiles = "native"``)
    native_mmul: tuple[tuple[int, ...], ...] = ()
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
