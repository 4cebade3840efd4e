"""Front plots: latency against throughput of one or more fronts, as PNG (matplotlib).

The harness reports draw their own figures (:mod:`ssropt.harness`); this is the plot of
``ssropt front --plot`` and of ``ssropt compare``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssropt.outputs.files import Output, figure_output, write_outputs


def plot_fronts(fronts: dict[str, list[dict]], path: str | Path, title: str = "") -> None:
    """Latency vs throughput of one or more fronts (log axes), written all or nothing (PNG,
    PDF or SVG by the file name's extension)."""
    write_outputs([plot_output(fronts, path, title)])


def plot_output(fronts: dict[str, list[dict]], path: str | Path, title: str = "") -> Output:
    """The :class:`~ssropt.outputs.files.Output` of :func:`plot_fronts`."""
    return figure_output(path, lambda: front_figure(fronts, title))


def front_figure(fronts: dict[str, list[dict]], title: str = ""):
    """The matplotlib figure of :func:`plot_fronts`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    for label, rows in fronts.items():
        if not rows:
            continue
        lat = np.array([r["latency_s"] for r in rows]) * 1e3
        thr = np.array([r["throughput_ops_per_s"] for r in rows]) / 1e9
        ax.step(lat, thr, where="post", alpha=0.6)
        ax.scatter(lat, thr, s=14, label=f"{label} ({len(rows)} points)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("latency of the batch [ms]")
    ax.set_ylabel("throughput [GOPS]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
