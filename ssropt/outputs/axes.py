"""Readable log axes: ticks at round numbers inside the data's range, written plainly.

Matplotlib's log axes label decades as ``10^4`` and minor ticks as ``3x10^-1``; a
latency of 0.3 ms and a throughput of 8,000 GOPS read better as ``0.3`` and ``8,000``.
:func:`log_ticks` picks round values (1-2-5 and denser when the range is short);
:func:`plain` writes them; :func:`plain_log_axis` applies both to a matplotlib axis.
The HTML report uses the same ticks.

Example:
    >>> log_ticks([0.3, 0.7])
    [0.3, 0.4, 0.5, 0.6, 0.8]
    >>> log_ticks([8300.0, 17900.0])
    [8000.0, 9000.0, 10000.0, 12000.0, 15000.0, 20000.0]
    >>> log_ticks([1187.0, 1451.0])
    [1200.0, 1300.0, 1400.0]
    >>> [plain(t) for t in log_ticks([800.0, 18000.0])]
    ['1,000', '2,000', '5,000', '10,000', '20,000']
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: mantissas tried in turn, sparsest first
_MANTISSAS = (
    (1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0),
    (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0),
)
#: ticks may lie this factor outside the data (in the axis margins; outside the view they are not drawn)
_MARGIN = 1.15
#: ticks this close to the data are surely in view (they count towards ``min_ticks``)
_INSIDE = 1.03


def log_ticks(values: Iterable[float], min_ticks: int = 4, max_ticks: int = 9) -> list[float]:
    """Round tick values covering the positive finite ``values``: the sparsest mantissa
    set giving at least ``min_ticks`` ticks (at most ``max_ticks`` where possible)."""
    positive = [float(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    if not positive:
        return []
    lo, hi = min(positive), max(positive)
    first, last = math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1
    best: list[float] = []
    for mantissas in _MANTISSAS:
        ticks = [
            float(f"{m * 10.0**e:.12g}")
            for e in range(first, last + 1)
            for m in mantissas
            if lo / _MARGIN <= m * 10.0**e <= hi * _MARGIN
        ]
        if len(ticks) > max_ticks and best:
            break
        best = ticks
        inside = [t for t in ticks if lo / _INSIDE <= t <= hi * _INSIDE]  # surely in view
        if len(inside) >= min_ticks:
            break
    if len([t for t in best if lo / _INSIDE <= t <= hi * _INSIDE]) < 3:  # a range too short for round mantissas: evenly spaced round values
        best = _linear_ticks(lo, hi) or best
    return best


def _linear_ticks(lo: float, hi: float, target: int = 4) -> list[float]:
    """Multiples of a round step (1, 2, 2.5 or 5 x 10^k) inside ``[lo, hi]``."""
    if hi <= lo:
        return [float(f"{lo:.3g}")]
    raw = (hi - lo) / target
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(lo / step)
    return [float(f"{k * step:.12g}") for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def plain(value: float) -> str:
    """``0.3``, ``12.5``, ``8,000``: a tick label without exponents."""
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.6g}"


def plain_log_axis(ax, which: str, values: Iterable[float]) -> None:
    """Make ``ax``'s ``which`` (``"x"`` or ``"y"``) axis logarithmic with plain round ticks
    covering ``values`` (and unlabelled minor ticks)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    ticks = log_ticks(values)
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _: plain(v)))
    axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
    axis.set_minor_formatter(NullFormatter())
