"""The :class:`Platform` type: one chip, its tables, and the family that says which tables
it must have and which cost model it runs by default.

A platform is one TOML file (see :mod:`.loader`); each table maps onto a frozen dataclass
of :mod:`.versal`, :mod:`.fpga` or :mod:`.gpu`.  The top-level ``family`` names a
:class:`Family` of :data:`FAMILIES`: ``versal`` (AIE array + PL, the ``ssr`` and
``charm`` models), ``fpga`` (DSP or tensor-block fabric, the ``fpga`` template) or
``gpu`` (the ``gpu-roofline`` comparison model).  A file may name another cost model
than its family's default with ``cost_model = "..."``.  Which tables a cost model
reads is the model's own knowledge (``CostModel.platform_tables``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ssropt.errors import SsroptError
from ssropt.objectives.platforms.fpga import FpgaConstants, FpgaKernel
from ssropt.objectives.platforms.gpu import GpuConstants, GpuKernel
from ssropt.objectives.platforms.versal import (
    AieArray,
    CharmConstants,
    CharmKernel,
    PowerConstants,
    ProgrammableLogic,
    Resources,
    SsrConstants,
    SsrKernel,
)


class PlatformError(SsroptError):
    """A platform name or file is unknown or malformed."""


@dataclass(frozen=True)
class Family:
    """What a ``family`` asks of a platform file, and the cost model it runs by default.

    Attributes:
        tables: top-level tables every file of the family must have.
        dtype_tables: tables every ``[dtype.NAME]`` of the family must have.
        default_cost_model: the cost model used when none is named.
    """

    tables: tuple[str, ...]
    dtype_tables: tuple[str, ...]
    default_cost_model: str


#: the platform families, by the name a TOML file gives in ``family``
FAMILIES: dict[str, Family] = {
    "versal": Family(("aie", "pl", "physical", "budget", "ssr", "power"), ("ssr",), "ssr"),
    "fpga": Family(("fpga",), ("fpga",), "fpga"),
    "gpu": Family(("gpu",), ("gpu",), "gpu-roofline"),
}


@dataclass(frozen=True)
class DataType:
    bytes: int
    ssr: SsrKernel | None = None
    charm: CharmKernel | None = None
    fpga: FpgaKernel | None = None
    gpu: GpuKernel | None = None


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
        return self.cost_model or FAMILIES[self.family].default_cost_model

    def missing_tables(self, tables: tuple[str, ...], dtype_tables: tuple[str, ...], dtype: str) -> list[str]:
        """The dotted names of ``tables`` (top level) and ``dtype_tables`` (of ``dtype``) this
        platform lacks, in that order; PlatformError for an unknown data type."""
        data_type = self.dtype(dtype)
        missing = [t for t in tables if getattr(self, t) is None]
        return missing + [f"dtype.{dtype}.{t}" for t in dtype_tables if getattr(data_type, t) is None]


def default_cost_model(platform: Platform) -> str:
    """The cost model ``platform`` is evaluated with when none is named."""
    return platform.default_cost_model
