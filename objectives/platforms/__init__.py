"""Platforms: the chip a design is built on, one TOML file each (shipped here, or any path).

* :mod:`.platform` -- :class:`Platform`, :class:`DataType`, the families and
  :class:`PlatformError`;
* :mod:`.versal`, :mod:`.fpga`, :mod:`.gpu` -- the tables of each family;
* :mod:`.loader` -- :func:`load_platform`: TOML -> Platform, with errors naming file and key;
* ``*.toml`` -- the shipped platforms (``vck190``, ``stratix10nx``, ``a10g`` ...).

A user adds a platform by writing one TOML file; a new family needs its tables here and a
cost model that reads them (``ssropt.objectives.models``).

Example:
    >>> load_platform("stratix10nx").default_cost_model
    'fpga'
"""

from ssropt.objectives.platforms.loader import PLATFORM_DIR, known_platforms, load_platform
from ssropt.objectives.platforms.platform import (
    FAMILIES,
    DataType,
    Family,
    Platform,
    PlatformError,
    default_cost_model,
)

__all__ = [
    "FAMILIES",
    "PLATFORM_DIR",
    "DataType",
    "Family",
    "Platform",
    "PlatformError",
    "default_cost_model",
    "known_platforms",
    "load_platform",
]
