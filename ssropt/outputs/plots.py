"""Front plots: latency against throughput of one or more fronts, as PNG (matplotlib).

A three-objective front (latency, throughput, energy) is shown in the same latency-
throughput view with every point coloured by its energy per image (a colour bar beside
the plot) and no staircase line: points that look dominated in this view are better in
energy.

Axes are logarithmic with plain round ticks in ms and GOPS (:mod:`.axes`); every front
has its own marker, colour and line style, drawn hollow and a little larger the earlier
it is listed, so fronts that share points stay visible; front points are labelled
``batch/accelerators`` (when there are few enough to read); the legend sits under the
plot, never over the data.  The harness reports draw their other figures themselves
(:mod:`ssropt.harness`); this is the plot of ``ssropt front --plot`` and of
``ssropt compare``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssropt.outputs.axes import plain_log_axis
from ssropt.outputs.files import Output, figure_output, write_outputs
from ssropt.spaces import ObjectiveSet

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
LINESTYLES = ("-", "--", "-.", ":")
#: at most this many points are labelled ``batch/accelerators``
MAX_LABELLED = 40
PNG_DPI = 110


def style(k: int, n: int) -> dict:
    """Marker style of the ``k``-th of ``n`` series: own marker and colour, hollow and
    larger for earlier series so later ones show through them."""
    return {
        "marker": MARKERS[k % len(MARKERS)],
        "s": 26 + 14 * (n - 1 - k),
        "facecolors": "none" if k < n - 1 else f"C{k % 10}",
        "edgecolors": f"C{k % 10}",
        "linewidths": 1.2,
        "zorder": 3 + k,
    }


def point_label(row: dict) -> str:
    """``batch/accelerators`` of a front row (``4/10``: batch 4 on 10 accelerators)."""
    return f"{row['batch']}/{row['n_accelerators']}"


#: how an objective beyond latency and throughput colours the points: label, unit conversion
COLOUR_SCALES = {"energy_j_per_image": ("energy per image [mJ]", 1e3)}


def plot_fronts(fronts: dict[str, list[dict]], path: str | Path, title: str = "",
                objectives: ObjectiveSet = ObjectiveSet()) -> None:
    """Latency vs throughput of one or more fronts (log axes), written all or nothing (PNG,
    PDF or SVG by the file name's extension); a third objective colours the points."""
    write_outputs([plot_output(fronts, path, title, objectives)])


def plot_output(fronts: dict[str, list[dict]], path: str | Path, title: str = "",
                objectives: ObjectiveSet = ObjectiveSet()) -> Output:
    """The :class:`~ssropt.outputs.files.Output` of :func:`plot_fronts`."""
    return figure_output(path, lambda: front_figure(fronts, title, objectives))


def front_figure(fronts: dict[str, list[dict]], title: str = "",
                 objectives: ObjectiveSet = ObjectiveSet()):
    """The matplotlib figure of :func:`plot_fronts` (the caller saves and closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = {label: rows for label, rows in fronts.items() if rows}
    fig, ax = plt.subplots(figsize=(7.2, 5.2), dpi=PNG_DPI)
    total = sum(len(rows) for rows in shown.values())
    colour_by = objectives.names[2] if objectives.count > 2 else None
    colours, norm = _colours(shown, colour_by)
    all_lat, all_thr = [], []
    for k, (label, rows) in enumerate(shown.items()):
        lat = np.array([r["latency_s"] for r in rows]) * 1e3
        thr = np.array([r["throughput_ops_per_s"] for r in rows]) / 1e9
        all_lat += lat.tolist()
        all_thr += thr.tolist()
        color = f"C{k % 10}"
        marker = style(k, len(shown))
        if colour_by is None:
            ax.step(lat, thr, where="post", color=color, alpha=0.55, linewidth=1.0,
                    linestyle=LINESTYLES[k % len(LINESTYLES)], zorder=2)
        else:
            marker.update(c=colours[label], norm=norm, cmap="viridis")
            marker.pop("facecolors")
            marker.pop("edgecolors")
        points = ax.scatter(lat, thr, label=f"{label} ({len(rows)} point{'s' if len(rows) > 1 else ''})", **marker)
        if total <= MAX_LABELLED:
            for x, y, row in zip(lat, thr, rows):
                ax.annotate(point_label(row), (x, y), xytext=(5, -9), textcoords="offset points",
                            fontsize=6.5, color=color)
    if colour_by is not None and all_lat:
        fig.colorbar(points, ax=ax, label=COLOUR_SCALES[colour_by][0], pad=0.02)
    if all_lat:
        plain_log_axis(ax, "x", all_lat)
        plain_log_axis(ax, "y", all_thr)
    ax.set_xlabel("latency of the batch [ms]")
    ax.set_ylabel("throughput [GOPS]")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    note = "point labels: batch/accelerators" if total <= MAX_LABELLED else ""
    if shown:
        ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                  ncol=2 if len(shown) > 1 else 1, frameon=False, title=note or None,
                  title_fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def _colours(fronts: dict[str, list[dict]], name: str | None) -> tuple[dict, object]:
    """Per front, the colour values of its points (``name`` converted to its plot unit,
    a missing value as NaN), and one colour scale over every front."""
    if name is None:
        return {}, None
    from matplotlib.colors import Normalize

    scale = COLOUR_SCALES[name][1]
    out = {
        label: np.array([np.nan if r.get(name) is None else r[name] * scale for r in rows], dtype=float)
        for label, rows in fronts.items()
    }
    finite = np.concatenate([v[np.isfinite(v)] for v in out.values()] or [np.zeros(0)])
    return out, Normalize(*(finite.min(), finite.max()) if len(finite) else (0.0, 1.0))
