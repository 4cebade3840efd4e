"""Platforms: the chip a design is built on, loaded from a TOML file.

Every constant of the cost models lives in the platform file, with the public source of
each number in a comment.  A platform is named (``vck190`` -> ``platforms/vck190.toml``
shipped with ssropt) or given as a path to any TOML file with the same keys.

The loader is generic: each TOML table maps onto a frozen dataclass below, field by
field; a missing, unknown or mistyped key raises :class:`PlatformError` naming the file
and the dotted key.  The top-level ``family`` says which tables the file must have
(:data:`FAMILY_SECTIONS`): ``versal`` (AIE array + PL, the ``ssr`` and ``charm`` models),
``fpga`` (DSP or tensor-block fabric, the ``fpga`` template) or ``gpu`` (the
``gpu-roofline`` comparison model).  Each family has a default cost model
(:data:`DEFAULT_COST_MODEL`; a file may name another with ``cost_model = "..."``).

Example:
    >>> p = load_platform("vck190")
    >>> p.budget.aie, p.dtype("int8").ssr.macs_per_cycle, default_cost_model(p)
    (364, 128, 'ssr')
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ssropt.errors import SsroptError

PLATFORM_DIR = Path(__file__).parent / "platforms"


class PlatformError(SsroptError):
    """A platform name or file is unknown or malformed."""


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
class GpuKernel:
    """Peak dense throughput of one data type on a GPU (``[dtype.NAME.gpu]``)."""

    peak_ops_per_s: float  # 2 ops per MAC, dense (no structured sparsity)


@dataclass(frozen=True)
class DataType:
    bytes: int
    ssr: SsrKernel | None = None
    charm: CharmKernel | None = None
    fpga: FpgaKernel | None = None
    gpu: GpuKernel | None = None


@dataclass(frozen=True)
class PowerConstants:
    """Constants of the power model (``ssropt.objectives.energy``), one per term.

    ``dynamic_j_per_op_<dtype>`` names the energy per operation of each data type; the
    PL terms are per block (or port) used, at the platform's PL clock.
    """

    static_w: float  # device + platform baseline, W
    aie_active_w: float  # per used AIE tile, clocked, W
    dynamic_j_per_op_int8: float  # J per op (2 ops per MAC)
    dynamic_j_per_op_int16: float
    dynamic_j_per_op_fp32: float
    bram_w: float  # per BRAM36 used, W
    uram_w: float  # per URAM288 used, W
    plio_w: float  # per PLIO port used (in + out), W


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
    """Constants of the FPGA power model (``ssropt.objectives.fpga.fpga_power_w``).

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


@dataclass(frozen=True)
class GpuConstants:
    """The GPU roofline (``[gpu]``), a comparison platform, not an SSR target."""

    memory_bandwidth_bytes_per_s: float
    compute_efficiency: float  # fraction of peak a matmul kernel reaches (an assumption)
    launch_overhead_s: float  # per kernel
    tdp_w: float
    power_fraction_of_tdp: float  # average power while busy / TDP (an assumption)


#: tables (top level, and per data type) each family must have
FAMILY_SECTIONS: dict[str, tuple[str, ...]] = {
    "versal": ("aie", "pl", "physical", "budget", "ssr", "power"),
    "fpga": ("fpga",),
    "gpu": ("gpu",),
}
FAMILY_DTYPE_SECTIONS: dict[str, tuple[str, ...]] = {
    "versal": ("ssr",),
    "fpga": ("fpga",),
    "gpu": ("gpu",),
}
#: the cost model a platform of each family is evaluated with unless told otherwise
DEFAULT_COST_MODEL: dict[str, str] = {"versal": "ssr", "fpga": "fpga", "gpu": "gpu-roofline"}
#: tables each cost model reads (top level; per data type)
COST_MODEL_SECTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ssr": (("aie", "pl", "physical", "budget", "ssr", "power"), ("ssr",)),
    "charm": (("aie", "pl", "physical", "budget", "charm", "power"), ("charm",)),
    "fpga": (("fpga",), ("fpga",)),
    "gpu-roofline": (("gpu",), ("gpu",)),
}


@dataclass(frozen=True)
class Platform:
    name: str
    description: str
    family: str
    dtypes: dict[str, DataType]
    aie: AieArray | None = None
    pl: ProgrammableLogic | None = None
    physical: Resources | None = None
    budget: Resources | None = None
    ssr: SsrConstants | None = None
    charm: CharmConstants | None = None
    power: PowerConstants | None = None
    fpga: FpgaConstants | None = None
    gpu: GpuConstants | None = None
    cost_model: str = ""
    source: str = ""

    def dtype(self, name: str) -> DataType:
        try:
            return self.dtypes[name]
        except KeyError:
            raise PlatformError(
                f"unknown dtype {name!r} for platform {self.name}: "
                f"known dtypes are {', '.join(sorted(self.dtypes))}"
            ) from None

    @property
    def default_cost_model(self) -> str:
        """The cost model this platform is evaluated with when none is named."""
        return self.cost_model or DEFAULT_COST_MODEL[self.family]

    def require(self, cost_model: str, dtype: str) -> None:
        """Raise PlatformError unless this platform has every table ``cost_model`` reads."""
        top, per_dtype = COST_MODEL_SECTIONS[cost_model]
        data_type = self.dtype(dtype)
        missing = [t for t in top if getattr(self, t) is None]
        missing += [f"dtype.{dtype}.{t}" for t in per_dtype if getattr(data_type, t) is None]
        if missing:
            raise PlatformError(
                f"platform {self.name} ({self.family}) cannot run cost model {cost_model!r}: "
                f"no [{missing[0]}] table in {self.source}; its default cost model is "
                f"{self.default_cost_model!r}"
            )


def default_cost_model(platform: Platform) -> str:
    """The cost model ``platform`` is evaluated with when none is named."""
    return platform.default_cost_model


def known_platforms() -> list[str]:
    return sorted(p.stem for p in PLATFORM_DIR.glob("*.toml"))


def load_platform(name_or_path: str | Path) -> Platform:
    """Load a shipped platform by name, or any platform TOML by path."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or path.exists() or "/" in text:
        if not path.is_file():
            raise PlatformError(f"platform file {text!r} does not exist")
        return _load_file(path.resolve())
    shipped = PLATFORM_DIR / f"{text}.toml"
    if not shipped.is_file():
        raise PlatformError(
            f"unknown platform {text!r}: known platforms are {', '.join(known_platforms())} "
            "(or pass a path to a platform TOML file)"
        )
    return _load_file(shipped)


@lru_cache(maxsize=32)
def _load_file(path: Path) -> Platform:
    try:
        with path.open("rb") as fh:
            table = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PlatformError(f"{path}: malformed TOML: {exc}") from None
    except OSError as exc:
        raise PlatformError(f"{path}: cannot read: {exc.strerror}") from None
    table = dict(table)
    dtypes = table.pop("dtype", None)
    if not isinstance(dtypes, dict) or not dtypes:
        raise PlatformError(f"{path}: missing key 'dtype' (at least one [dtype.NAME] table)")
    built = {
        name: _build(DataType, value, path, f"dtype.{name}") for name, value in dtypes.items()
    }
    table["dtypes"] = built
    table.setdefault("source", str(path))
    family = table.get("family")
    if family is None:
        raise PlatformError(f"{path}: missing key 'family'")
    if family not in FAMILY_SECTIONS:
        raise PlatformError(
            f"{path}: key 'family' must be one of {', '.join(FAMILY_SECTIONS)}, got {family!r}"
        )
    for section in FAMILY_SECTIONS[family]:
        if section not in table:
            raise PlatformError(f"{path}: missing key {section!r} (required by family {family!r})")
    for name, dtype_table in dtypes.items():
        for section in FAMILY_DTYPE_SECTIONS[family]:
            if not isinstance(dtype_table, dict) or section not in dtype_table:
                raise PlatformError(
                    f"{path}: missing key 'dtype.{name}.{section}' (required by family {family!r})"
                )
    platform = _build(Platform, table, path, "", skip={"dtypes"}, given={"dtypes": built})
    memory = platform.fpga.memory if platform.fpga else None
    if memory is not None and not 0.0 < memory.efficiency <= 1.0:
        raise PlatformError(
            f"{path}: key 'fpga.memory.efficiency' must be in (0, 1], got {memory.efficiency!r}"
        )
    if platform.cost_model and platform.cost_model not in COST_MODEL_SECTIONS:
        raise PlatformError(
            f"{path}: key 'cost_model' must be one of {', '.join(COST_MODEL_SECTIONS)}, "
            f"got {platform.cost_model!r}"
        )
    return platform


def _build(cls, table, path: Path, prefix: str, skip=frozenset(), given=None):
    """Map a TOML table onto dataclass ``cls`` with checks that name file and key."""
    where = prefix or "top level"
    if not isinstance(table, dict):
        raise PlatformError(f"{path}: key {prefix!r} must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise PlatformError(f"{path}: unknown key {_dotted(prefix, unknown[0])!r} in {where}")
    values = dict(given or {})
    for name, fld in fields.items():
        if name in skip:
            continue
        key = _dotted(prefix, name)
        if name not in table:
            if fld.default is not dataclasses.MISSING:
                continue
            raise PlatformError(f"{path}: missing key {key!r}")
        values[name] = _convert(hints[name], table[name], path, key)
    return cls(**values)


def _convert(hint, value, path: Path, key: str):
    if typing.get_origin(hint) in (typing.Union, types.UnionType):  # ``X | None``: an optional table
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, path, key)
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list):
            raise PlatformError(f"{path}: key {key!r} must be a list")
        item = typing.get_args(hint)[0]
        return tuple(_convert(item, v, path, f"{key}[{i}]") for i, v in enumerate(value))
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PlatformError(f"{path}: key {key!r} must be a non-negative integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise PlatformError(f"{path}: key {key!r} must be a non-negative number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise PlatformError(f"{path}: key {key!r} must be a string")
        return value
    return value


def _dotted(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
