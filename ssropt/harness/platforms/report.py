"""The files of a platform comparison: fronts.png, fronts.csv, fronts.json, summary.md and
the interactive report.html.

See :mod:`ssropt.harness.platforms.run` for what is compared; this module formats and writes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ssropt.harness.platforms.run import REPORTED_BATCHES, PlatformResult, batch_ratios, mean_finite
from ssropt.harness.report import markdown_table
from ssropt.outputs.axes import plain_log_axis
from ssropt.outputs.files import save_figure, staged_outputs, write_text
from ssropt.outputs.front import write_csv, write_json
from ssropt.outputs.html_page import HtmlReport
from ssropt.outputs.plots import LINESTYLES, style
from ssropt.outputs.report import add_fronts

PLATFORM_FIELDS = (
    "platform",
    "trial",
    "latency_s",
    "throughput_ops_per_s",
    "images_per_s",
    "power_w",
    "energy_j_per_image",
    "images_per_s_per_w",
    "batch",
    "n_accelerators",
    "groups",
)


def platform_rows(results: list[PlatformResult]) -> list[dict]:
    """Every front point of every platform, with PLATFORM_FIELDS."""
    return [
        {"platform": r.platform, **{k: row[k] for k in PLATFORM_FIELDS[1:]}}
        for r in results
        for row in r.rows
    ]


def _num(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value / scale:.{digits}f}"


def _ratio(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.2f}x"


def summary_markdown(
    results: list[PlatformResult], baseline: str, command: str, storage: str
) -> str:
    """The summary report: platforms, best design per batch, ratios to the baseline."""
    config = results[0].plan.config
    batches = [int(b) for b in config.space["batch_sizes"]]
    work = config.workload
    name = work.get("model") or work.get("hf_config") or "workload"
    lines = [
        f"# Platforms compared: {name} {config.dtype}, batch {','.join(map(str, batches))}",
        "",
        f"Command: `{command}`",
        "",
        f"Storage: `{storage}`; seed {config.seed}; each platform's hybrid space is enumerated "
        "(`exhaustive`) when small enough, else searched with `nsga2`. Every number is the "
        "output of the analytical models (see the README on which inputs are published and "
        "which are estimates); none is a measurement.",
        "",
    ]
    body = []
    for r in results:
        front = np.array([[x["latency_s"], x["throughput_ops_per_s"]] for x in r.rows]).reshape(-1, 2)
        eff = [x["images_per_s_per_w"] for x in r.rows if x["images_per_s_per_w"] is not None]
        body.append(
            [
                r.platform,
                r.description,
                r.plan.config.cost_model,
                r.plan.config.strategy,
                f"{r.plan.space_size:.3g}",
                str(r.evaluated),
                str(len(r.rows)),
                _num(front[:, 0].min() if len(front) else None, 1e-3, 4),
                _num(front[:, 1].max() if len(front) else None, 1e9, 1),
                _num(max(eff) if eff else None, 1.0, 2),
                f"{r.seconds:.1f}",
            ]
        )
    lines += markdown_table(
        [
            "platform",
            "device",
            "cost model",
            "strategy",
            "space size",
            "evaluated",
            "front points",
            "lowest latency (ms)",
            "best throughput (GOPS)",
            "best images/s/W on the front",
            "run time (s)",
        ],
        body,
    )
    lines += [
        "",
        "## Best design per batch size",
        "",
        "For each batch size, the feasible design of highest throughput on each platform: its "
        "throughput (GOPS) / energy efficiency (images/s/W).",
        "",
    ]
    body = [
        [str(b)]
        + [
            f"{_num(r.best[b][0], 1e9, 1)} / {_num(r.best[b][1], 1.0, 2)}" if b in r.best else "-"
            for r in results
        ]
        for b in batches
    ]
    lines += markdown_table(["batch"] + [r.platform for r in results], body)
    ratios = batch_ratios({r.platform: r.best for r in results}, baseline, batches)
    shown = [b for b in REPORTED_BATCHES if b in batches]
    lines += [
        "",
        f"## Ratios to {baseline}",
        "",
        f"Throughput and energy-efficiency ratio of each platform's best design to {baseline}'s "
        "best design at the same batch size; `mean` is the arithmetic mean over every batch "
        "size searched.",
        "",
    ]
    head = ["platform"]
    head += [f"throughput b{b}" for b in shown] + ["throughput mean"]
    head += [f"images/s/W b{b}" for b in shown] + ["images/s/W mean"]
    body = []
    for r in results:
        q = ratios[r.platform]
        row = [r.platform]
        row += [_ratio(q["throughput"][batches.index(b)]) for b in shown]
        row.append(_ratio(mean_finite(q["throughput"])))
        row += [_ratio(q["efficiency"][batches.index(b)]) for b in shown]
        row.append(_ratio(mean_finite(q["efficiency"])))
        body.append(row)
    lines += markdown_table(head, body)
    return "\n".join(lines) + "\n"


def plot_platforms(results: list[PlatformResult], path: str | Path, title: str = "") -> None:
    """Two panels: latency vs throughput, and latency vs images/s/W, one line per platform."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.4), dpi=90)
    shown = [r for r in results if r.rows]
    values: dict[str, list[float]] = {"lat": [], "thr": [], "eff": []}
    for k, r in enumerate(shown):
        lat = np.array([x["latency_s"] for x in r.rows]) * 1e3
        thr = np.array([x["throughput_ops_per_s"] for x in r.rows]) / 1e9
        eff = np.array([np.nan if x["images_per_s_per_w"] is None else x["images_per_s_per_w"] for x in r.rows])
        values["lat"] += lat.tolist()
        values["thr"] += thr.tolist()
        values["eff"] += eff[np.isfinite(eff)].tolist()
        color, mark = f"C{k % 10}", style(k, len(shown))
        left.step(lat, thr, where="post", alpha=0.55, color=color,
                  linestyle=LINESTYLES[k % len(LINESTYLES)])
        left.scatter(lat, thr, label=r.platform, **mark)
        right.plot(lat, eff, color=color, alpha=0.55, linestyle=LINESTYLES[k % len(LINESTYLES)])
        right.scatter(lat, eff, **mark)
    for ax, ylabel, key in ((left, "throughput [GOPS]", "thr"),
                            (right, "energy efficiency [images/s/W]", "eff")):
        if values["lat"]:
            plain_log_axis(ax, "x", values["lat"])
        if values[key]:
            plain_log_axis(ax, "y", values[key])
        ax.set_xlabel("latency of the batch [ms]")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.35)
        ax.grid(True, which="minor", alpha=0.12)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    if shown:  # under both panels, below their axis titles
        rows = -(-len(shown) // 8)
        fig.subplots_adjust(bottom=0.13 + 0.05 * rows)
        fig.legend(*left.get_legend_handles_labels(), loc="lower center", ncol=min(len(shown), 8),
                   fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0))
    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)


def write_platform_comparison(
    out_dir: str | Path, results: list[PlatformResult], baseline: str, command: str, storage: str
) -> str:
    """Write the report files (:data:`ssropt.harness.report.OUTPUT_FILES`) into ``out_dir`` (which must exist); returns the summary text."""
    out = Path(out_dir)
    rows = platform_rows(results)
    with staged_outputs():  # every file appears, or none
        write_csv(rows, out / "fronts.csv", fields=PLATFORM_FIELDS)
        write_json(rows, out / "fronts.json")
        config = results[0].plan.config
        name = config.workload.get("model") or "workload"
        plot_platforms(results, out / "fronts.png", title=f"{name} {config.dtype}: best hybrid front per platform")
        summary = summary_markdown(results, baseline, command, storage)
        write_text(out / "summary.md", summary)
        report = HtmlReport(
            f"Platforms compared: {name} {config.dtype}",
            f"Command: {command}. Hover a point for its design; click it for its schedule "
            "(ssr cost model only).",
        )
        add_fronts(report, [(r.platform, r.plan.config, r.rows, r.genomes) for r in results],
                   title=f"{name} {config.dtype}: best hybrid front per platform", efficiency=True)
        report.details("summary.md", summary)
        report.write(out / "report.html")
    return summary
