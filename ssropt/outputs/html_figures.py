"""The plotly figures of the HTML reports: fronts with hover, hypervolume curves.

Every figure opens on logarithmic axes with the plain round ticks of :mod:`.axes` and has
``log axes`` / ``linear axes`` buttons.  Front points carry their row in ``customdata``
(the first item is the key the report's schedule section knows them by) and a hover
card: trial, batch, accelerators, node groups, latency, throughput, power, images/s/W,
energy and resources.

Example:
    >>> fig = front_figure([FrontSeries("study", [{"trial": 3, "latency_s": 0.002,
    ...     "throughput_ops_per_s": 4e12, "images_per_s": 1000.0, "power_w": 50.0,
    ...     "energy_j_per_image": 0.1, "images_per_s_per_w": 20.0, "batch": 2,
    ...     "n_accelerators": 2, "groups": "{q}{k}", "accelerators": [], "resources": {}}])])
    >>> [trace.name for trace in fig.data if trace.showlegend is not False]
    ['study (1 point)']
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ssropt.outputs.axes import log_ticks, plain
from ssropt.outputs.gantt import accelerator_shape

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
SYMBOLS = ("circle-open", "square-open", "triangle-up-open", "diamond-open", "triangle-down-open",
           "cross-open", "x-open", "star-open", "hexagon-open", "pentagon-open")
TEMPLATE = "plotly_white"
#: at most this many front points get a ``batch/accelerators`` label
MAX_LABELLED = 40


@dataclass
class FrontSeries:
    """One front of a report: a name, its rows (:mod:`.rows` fields; ``trial`` may be
    ``None``) and, optionally, the other feasible designs as a grey cloud."""

    name: str
    rows: list[dict]
    cloud: tuple[np.ndarray, np.ndarray] | None = None  # (latency_s, throughput) arrays
    keys: list[str] = field(default_factory=list)  # one per row, set by the report
    #: join the points by a staircase in the latency-throughput view: a front over more
    #: objectives than the view shows is no staircase in it
    staircase: bool = True


@dataclass
class Curve:
    """A median curve over seeds with its min-max band."""

    name: str
    x: Sequence[float]
    median: Sequence[float]
    low: Sequence[float]
    high: Sequence[float]


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}g}"


def hover_card(row: dict, series: str) -> str:
    """The hover text of one front point (HTML, as plotly shows it); a point known only by
    its objectives (a reference front's) shows those and who found it."""
    if "batch" not in row:
        found = f"<br>found by {html.escape(str(row['found_by']))}" if row.get("found_by") else ""
        return (f"<b>{html.escape(series)}</b><br>latency {_num(row['latency_s'] * 1e3)} ms, "
                f"throughput {_num(row['throughput_ops_per_s'] / 1e9)} GOPS{found}")
    trial = "" if row.get("trial") is None else f"trial {row['trial']}, "
    accelerators = row.get("accelerators") or []
    shapes = "".join(
        f"<br>&nbsp;&nbsp;acc {a}: {html.escape(accelerator_shape(p))}"
        for a, p in enumerate(accelerators)
    )
    resources = " ".join(f"{k} {v:,}" for k, v in (row.get("resources") or {}).items())
    return (
        f"<b>{html.escape(series)}</b>: {trial}batch {row['batch']}<br>"
        f"latency {_num(row['latency_s'] * 1e3)} ms, throughput "
        f"{_num(row['throughput_ops_per_s'] / 1e9)} GOPS<br>"
        f"{_num(row.get('images_per_s'))} images/s, power {_num(row.get('power_w'))} W, "
        f"{_num(row.get('images_per_s_per_w'))} images/s/W, "
        f"energy {_num(_mj(row.get('energy_j_per_image')))} mJ/image<br>"
        f"{row['n_accelerators']} accelerators: {html.escape(str(row.get('groups', '')))}"
        f"{shapes}" + (f"<br>resources: {resources}" if resources else "")
    )


def _mj(joules: float | None) -> float | None:
    return None if joules is None else joules * 1e3


def axis_switch(figure, x_values: Sequence[float], y_values: Sequence[float] | None,
                log_x: bool = True, log_y: bool = True, y: float = 1.01) -> None:
    """Log axes with plain ticks now, and buttons that switch to linear axes and back
    (``y_values=None``: the y axis stays as it is, only x switches)."""
    def log_axis(values: Sequence[float]) -> dict:
        ticks = log_ticks(values)
        return {"type": "log", "tickmode": "array", "tickvals": ticks,
                "ticktext": [plain(t) for t in ticks]}

    linear = {"type": "linear", "tickmode": "auto", "tickformat": ",.4~g"}
    x_log = log_axis(x_values) if log_x else linear
    figure.update_xaxes(**x_log)
    y_log = None
    if y_values is not None:  # the y axis switches too
        y_log = log_axis(y_values) if log_y else linear
        figure.update_yaxes(**y_log)

    def relayout(x_axis: dict, y_axis: dict | None) -> dict:
        args = {f"xaxis.{k}": v for k, v in x_axis.items()} | {"xaxis.autorange": True}
        if y_axis is not None:
            args |= {f"yaxis.{k}": v for k, v in y_axis.items()} | {"yaxis.autorange": True}
        return args

    figure.update_layout(updatemenus=[{
        "type": "buttons", "direction": "right", "x": 0.0, "xanchor": "left", "y": y,
        "yanchor": "bottom", "showactive": True, "pad": {"b": 4}, "active": 0 if log_x else 1,
        "buttons": [
            {"label": "log axes", "method": "relayout", "args": [relayout(x_log, y_log)]},
            {"label": "linear axes", "method": "relayout",
             "args": [relayout(linear, None if y_log is None else linear)]},
        ],
    }])


#: what a front figure can put on its y axis: the value of a row (None: unknown), the title
Y_AXES = {
    "throughput": (lambda r: r["throughput_ops_per_s"] / 1e9, "throughput [GOPS]"),
    "efficiency": (lambda r: r.get("images_per_s_per_w"), "energy efficiency [images/s/W]"),
    "energy": (lambda r: _mj(r.get("energy_j_per_image")), "energy per image [mJ]"),
}


def front_figure(series: list[FrontSeries], y_of: str = "throughput", title: str = ""):
    """Latency against throughput (``y_of="throughput"``, GOPS), energy efficiency
    (``"efficiency"``, images/s/W) or energy per image (``"energy"``, mJ) of every
    series, with hover and the axis switch."""
    import plotly.graph_objects as go

    fig = go.Figure()
    xs: list[float] = []
    ys: list[float] = []
    total = sum(len(s.rows) for s in series)
    for k, s in enumerate(series):
        if s.cloud is not None and len(s.cloud[0]) and y_of == "throughput":
            xs += (np.asarray(s.cloud[0]) * 1e3).tolist()
            ys += (np.asarray(s.cloud[1]) / 1e9).tolist()
            fig.add_trace(go.Scattergl(
                x=np.asarray(s.cloud[0]) * 1e3, y=np.asarray(s.cloud[1]) / 1e9, mode="markers",
                name=f"{s.name}: other feasible designs ({len(s.cloud[0]):,})",
                marker={"size": 4, "color": "rgba(120,120,120,0.28)"}, hoverinfo="skip",
            ))
        if not s.rows:
            continue
        x = [r["latency_s"] * 1e3 for r in s.rows]
        y_value = Y_AXES[y_of][0]
        y = [np.nan if y_value(r) is None else y_value(r) for r in s.rows]
        xs += x
        ys += [v for v in y if np.isfinite(v)]
        color = COLORS[k % len(COLORS)]
        staircase = y_of == "throughput" and s.staircase
        if staircase or y_of == "efficiency":
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", hoverinfo="skip", showlegend=False,
                line={"shape": "hv" if staircase else "linear", "color": color,
                      "width": 1, "dash": ("solid", "dash", "dot", "dashdot")[k % 4]},
                opacity=0.6,
            ))
        labelled = total <= MAX_LABELLED and all("batch" in r for r in s.rows)
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="markers+text" if labelled else "markers",
            name=f"{s.name} ({len(s.rows)} point{'s' if len(s.rows) > 1 else ''})",
            text=[f"{r['batch']}/{r['n_accelerators']}" for r in s.rows] if labelled else None,
            textposition="bottom right", textfont={"size": 9, "color": color},
            customdata=[[key] for key in s.keys] or None,
            hovertext=[hover_card(r, s.name) for r in s.rows], hoverinfo="text",
            marker={"symbol": SYMBOLS[k % len(SYMBOLS)], "size": 9 + 3 * (len(series) - 1 - k),
                    "color": color, "line": {"width": 1.6, "color": color}},
        ))
    y_title = Y_AXES[y_of][1]
    legend = {"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0}
    if total <= MAX_LABELLED:
        legend["title"] = {"text": "point labels: batch/accelerators", "side": "top left",
                           "font": {"size": 10, "color": "#555"}}
    fig.update_layout(
        template=TEMPLATE, height=580, margin={"l": 70, "r": 30, "t": 100, "b": 60},
        title={"text": html.escape(title), "font": {"size": 14}, "y": 0.97},
        xaxis_title="latency of the batch [ms]", yaxis_title=y_title, legend=legend,
        hoverlabel={"align": "left"}, clickmode="event",
    )
    axis_switch(fig, xs, ys)
    return fig


def curves_figure(curves: list[Curve], x_title: str, log_x: bool, targets: Sequence[float],
                  title: str = ""):
    """Median hypervolume-fraction curves with min-max bands and labelled target lines."""
    import plotly.graph_objects as go

    fig = go.Figure()
    xs: list[float] = []
    for k, c in enumerate(curves):
        color = COLORS[k % len(COLORS)]
        rgb = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
        x = list(map(float, c.x))
        xs += x
        fig.add_trace(go.Scatter(x=x, y=list(c.high), mode="lines", line={"width": 0,
                                 "shape": "hv"}, hoverinfo="skip", showlegend=False,
                                 legendgroup=c.name))
        fig.add_trace(go.Scatter(x=x, y=list(c.low), mode="lines", line={"width": 0, "shape": "hv"},
                                 fill="tonexty", fillcolor=f"rgba{(*rgb, 0.18)}",
                                 hoverinfo="skip", showlegend=False, legendgroup=c.name))
        fig.add_trace(go.Scatter(
            x=x, y=list(c.median), mode="lines", name=c.name, legendgroup=c.name,
            line={"color": color, "shape": "hv", "width": 2},
            hovertemplate=f"{html.escape(c.name)}<br>%{{x:,.4~g}}: median %{{y:.4f}}<extra></extra>",
        ))
    for target, dash in zip(targets, ("dot", "dash")):
        fig.add_hline(y=target, line={"dash": dash, "color": "#666", "width": 1},
                      annotation_text=f"{round(target * 100)} %", annotation_position="right",
                      annotation_font={"size": 11, "color": "#444"})
    fig.update_layout(
        template=TEMPLATE, height=480, margin={"l": 70, "r": 60, "t": 100, "b": 60},
        title={"text": html.escape(title), "font": {"size": 14}, "y": 0.97},
        xaxis_title=x_title, yaxis_title="hypervolume / reference front's",
        yaxis_range=[0, 1.03], legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0},
    )
    axis_switch(fig, [v for v in xs if v > 0], None, log_x=log_x)
    return fig
