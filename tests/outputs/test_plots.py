"""Front plots read plainly: ticks in ms and GOPS without exponents, labelled points,
fronts that share points both visible, the legend off the data."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt

from ssropt.outputs.axes import log_ticks, plain
from ssropt.outputs.plots import front_figure


def rows(points: list[tuple[float, float, int, int]]) -> list[dict]:
    return [
        {"latency_s": ms * 1e-3, "throughput_ops_per_s": gops * 1e9, "batch": b, "n_accelerators": n}
        for ms, gops, b, n in points
    ]


FRONT = rows([(0.30, 8286.0, 1, 2), (0.51, 9910.0, 2, 6), (0.64, 15681.0, 4, 10)])


def tick_texts(ax, which: str) -> list[str]:
    labels = ax.get_xticklabels() if which == "x" else ax.get_yticklabels()
    return [t.get_text() for t in labels if t.get_text()]


def test_ticks_are_plain_numbers_inside_the_data():
    fig = front_figure({"study": FRONT})
    fig.canvas.draw()
    ax = fig.axes[0]
    for which in ("x", "y"):
        texts = tick_texts(ax, which)
        assert len(texts) >= 3
        assert all(re.fullmatch(r"[0-9][0-9,]*(\.[0-9]+)?", t) for t in texts), texts
    assert "10,000" in tick_texts(ax, "y") and "0.5" in tick_texts(ax, "x")
    plt.close(fig)


def test_front_points_are_labelled_batch_over_accelerators():
    fig = front_figure({"study": FRONT})
    assert [t.get_text() for t in fig.axes[0].texts] == ["1/2", "2/6", "4/10"]
    plt.close(fig)


def test_fronts_sharing_points_stay_distinguishable_and_the_legend_is_below_the_axes():
    fig = front_figure({"a": FRONT, "b": FRONT[:2]})
    fig.canvas.draw()
    ax = fig.axes[0]
    first, second = ax.collections[:2]
    assert first.get_sizes()[0] > second.get_sizes()[0]  # the earlier one drawn around
    assert first.get_paths()[0] != second.get_paths()[0] or len(first.get_facecolors()) == 0
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.y1 < ax.get_window_extent(renderer).y0
    plt.close(fig)


def test_log_ticks_and_plain_labels():
    assert log_ticks([0.27, 2.4]) == [0.3, 0.5, 1.0, 2.0]
    assert [plain(v) for v in (0.005, 12.5, 8000.0, 20000.0)] == ["0.005", "12.5", "8,000", "20,000"]
    assert log_ticks([]) == []
