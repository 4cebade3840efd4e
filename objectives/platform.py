"""Platforms: the chip a design is built on, loaded from a TOML file.

Every constant of the cost models lives in the platform file, with the public source of
each number in a comment.  A platform is named (``vck190`` -> ``platforms/vck190.toml``
shipped with ssropt) or given as a path to any TOML file with the same keys.

The loader is generic: each TOML table maps onto a frozen dataclass below, field by
field; a missing, unknown or mistyped key raises :class:`PlatformError` naming the file
and the dotted key.

Example:
    >>> p = load_platform("vck190")
    >>> p.budget.aie, p.dtype("int8").ssr.macs_per_cycle
    (364, 128)
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ssropt.objectives.errors import SsroptError

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
class DataType:
    bytes: int
    ssr: SsrKernel
    charm: CharmKernel


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
class Platform:
    name: str
    description: str
    family: str
    aie: AieArray
    pl: ProgrammableLogic
    physical: Resources
    budget: Resources
    ssr: SsrConstants
    charm: CharmConstants
    dtypes: dict[str, DataType]
    power: PowerConstants
    source: str = ""

    def dtype(self, name: str) -> DataType:
        try:
            return self.dtypes[name]
        except KeyError:
            raise PlatformError(
                f"unknown dtype {name!r} for platform {self.name}: "
                f"known dtypes are {', '.join(sorted(self.dtypes))}"
            ) from None


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
    return _build(Platform, table, path, "", skip={"dtypes"}, given={"dtypes": built})


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
