"""Single-AIE kernel tiles of the ``ssr`` model: SSR's lists, or derived from the hardware.

The platform's ``[ssr] tiles`` chooses (``with_tiles`` switches a loaded platform):

* ``"ssr"`` (default) -- the SSR estimator's lists (``h1/w1/w2_choices`` of
  ``[dtype.NAME.ssr]``: 16..64 x 32..96 x 16..64 in steps of 16) and its kernel-time
  equation, exactly as the public estimator.
* ``"native"`` -- every tile ``(h1, w1, w2)`` that

  1. lies on the ``tile_granule`` grid (8) within ``tile_h1/w1/w2_bounds`` (SSR's measured
     ranges): the kernel-time equation rests on measured micro-blocks of 16 (SSR) and
     8 x 4 (CHARM), so 8 is the finest granule it covers;
  2. is a whole number of one native ``aie::mmul<M, K, N>`` product of the data type
     (``native_mmul``: AIE API User Guide UG1529, "Matrix Multiplication", the AIE row of
     the supported-shapes table) -- on the 8-grid this always holds for the AIE1 shapes
     (every M and N divides 8, every K divides 16, and the INT8 shapes with K = 8 take any
     multiple of 8);
  3. fits the AIE local memory double-buffered: ``2 (h1 w1 + w1 w2) DT <=
     local_memory_bytes`` (SSR's kernels stream their output through the cascade, so it
     needs no window; the hardened-weights case stays per accelerator, as before).

  Each tile is priced per native micro-block (``accelerator.kernel_cycles``): ``PI = pi``
  when it divides ``h1``, else the granule, likewise ``PJ`` with ``w2``.

The value tables of a search are per parameter, so for ``"native"`` they are the values
the allowed tiles take on each axis; a combination that breaks rule 3 is rejected by the
configurator and flagged by the model (``aie_memory``), one off the grid or outside the
bounds by the model (``kernel_tile``).

Example:
    >>> from ssropt.objectives.platforms import load_platform
    >>> native = with_tiles(load_platform("vck190"), "native")
    >>> len(native_tiles(native, "int8")), len(native_tiles(native, "fp32"))
    (441, 158)
    >>> tile_values(native, "int8")["h1"].tolist()
    [16, 24, 32, 40, 48, 56, 64]
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from ssropt.objectives.platforms import PlatformError

if TYPE_CHECKING:
    from ssropt.objectives.platforms import Platform

TILE_MODES = ("ssr", "native")
AXES = ("h1", "w1", "w2")


def tile_mode(platform: Platform) -> str:
    """The platform's ``[ssr] tiles`` (``"ssr"`` or ``"native"``); PlatformError otherwise."""
    mode = platform.ssr.tiles
    if mode not in TILE_MODES:
        raise PlatformError(
            f"{platform.source}: key 'ssr.tiles' must be one of {', '.join(TILE_MODES)}, got {mode!r}"
        )
    return mode


def with_tiles(platform: Platform, mode: str) -> Platform:
    """``platform`` with ``[ssr] tiles = mode`` (its ``source`` tagged, so caches keyed by
    the platform file tell the two apart)."""
    if mode not in TILE_MODES:
        raise PlatformError(f"tiles must be one of {', '.join(TILE_MODES)}, got {mode!r}")
    if platform.ssr is None:
        raise PlatformError(f"platform {platform.name} has no [ssr] table: it has no AIE kernel tiles")
    if platform.ssr.tiles == mode:
        return platform
    source = platform.source.split("#tiles=")[0]
    return dataclasses.replace(
        platform,
        ssr=dataclasses.replace(platform.ssr, tiles=mode),
        source=source if mode == "ssr" else f"{source}#tiles={mode}",
    )


def expressible(h1, w1, w2, shapes) -> np.ndarray:
    """Rule 2: the tile is a whole number of one of the native ``(M, K, N)`` ``shapes``."""
    h1, w1, w2 = np.broadcast_arrays(*(np.asarray(v) for v in (h1, w1, w2)))
    ok = np.zeros(h1.shape, dtype=bool)
    for m0, k0, n0 in shapes:
        ok |= (h1 % m0 == 0) & (w1 % k0 == 0) & (w2 % n0 == 0)
    return ok


def fits_local_memory(h1, w1, w2, dtype_bytes: int, local_memory_bytes: int) -> np.ndarray:
    """Rule 3: double-buffered LHS and RHS windows in the AIE data memory."""
    return 2 * (np.asarray(h1) * w1 + np.asarray(w1) * w2) * dtype_bytes <= local_memory_bytes


def on_grid(platform: Platform, h1, w1, w2) -> np.ndarray:
    """Rule 1: on the granule grid and within the bounds."""
    s = platform.ssr
    ok = np.ones(np.broadcast(h1, w1, w2).shape, dtype=bool)
    for value, (low, high) in zip((h1, w1, w2), (s.tile_h1_bounds, s.tile_w1_bounds, s.tile_w2_bounds)):
        value = np.asarray(value)
        ok &= (value % s.tile_granule == 0) & (value >= low) & (value <= high)
    return ok


def native_shapes(platform: Platform, dtype: str) -> tuple[tuple[int, ...], ...]:
    """The data type's native ``aie::mmul`` shapes; PlatformError when the platform has none."""
    shapes = platform.dtype(dtype).ssr.native_mmul
    if not shapes or any(len(shape) != 3 or min(shape) < 1 for shape in shapes):
        raise PlatformError(
            f"{platform.source}: tiles = \"native\" needs dtype.{dtype}.ssr.native_mmul, a list of "
            f"[M, K, N] shapes (got {list(shapes)!r})"
        )
    return shapes


def native_tiles(platform: Platform, dtype: str) -> np.ndarray:
    """``(n, 3)`` every allowed ``(h1, w1, w2)`` of ``tiles = "native"`` (rules 1-3)."""
    s = platform.ssr
    axes = [
        np.arange(low + (-low) % s.tile_granule, high + 1, s.tile_granule)
        for low, high in (s.tile_h1_bounds, s.tile_w1_bounds, s.tile_w2_bounds)
    ]
    h1, w1, w2 = (g.ravel() for g in np.meshgrid(*axes, indexing="ij"))
    keep = expressible(h1, w1, w2, native_shapes(platform, dtype)) & fits_local_memory(
        h1, w1, w2, platform.dtype(dtype).bytes, platform.aie.local_memory_bytes
    )
    if not keep.any():
        raise PlatformError(f"{platform.source}: no native {dtype} tile fits the bounds and the AIE memory")
    return np.stack([h1[keep], w1[keep], w2[keep]], axis=1)


def tile_values(platform: Platform, dtype: str) -> dict[str, np.ndarray]:
    """``h1``, ``w1``, ``w2`` value tables: SSR's lists, or the values the native tiles take."""
    if tile_mode(platform) == "ssr":
        kernel = platform.dtype(dtype).ssr
        return {"h1": np.array(kernel.h1_choices), "w1": np.array(kernel.w1_choices),
                "w2": np.array(kernel.w2_choices)}
    tiles = native_tiles(platform, dtype)
    return {axis: np.unique(tiles[:, i]) for i, axis in enumerate(AXES)}


def kernel_tile_violations(platform: Platform, dtype: str, h1, w1, w2) -> np.ndarray:
    """``tiles = "native"``: True where a tile is off the grid, outside the bounds or not a
    whole number of native products (the memory rule is the model's ``aie_memory``)."""
    return ~(on_grid(platform, h1, w1, w2) & expressible(h1, w1, w2, native_shapes(platform, dtype)))
