"""The files of a strategy benchmark: plots, CSVs, summary.md and the interactive report.html.

See :mod:`ssropt.harness.bench.run` for how the runs are made and :mod:`ssropt.harness.bench.metrics` for
what is measured; this module only formats and writes.  Every column except the time
columns (``*seconds*``) is the same for the same settings and seeds.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssropt.engine.study import config_summary
from ssropt.harness.bench.metrics import (
    TARGETS,
    ReferenceFront,
    RunMetrics,
    Spread,
    spread,
    step_band,
)
from ssropt.harness.bench.run import BenchPlan
from ssropt.harness.report import markdown_table
from ssropt.outputs.axes import plain_log_axis
from ssropt.outputs.files import open_output, save_figure, staged_outputs, write_text
from ssropt.outputs.html_figures import Curve, curves_figure
from ssropt.outputs.html_page import HtmlReport
from ssropt.outputs.report import add_fronts, rows_of_genomes

OUTPUT_FILES = (
    "hv_vs_evaluations.png",
    "hv_vs_time.png",
    "report.html",
    "results.csv",
    "curves.csv",
    "reference_front.csv",
    "summary.md",
)
RESULT_FIELDS = (
    "strategy", "seed", "study", "evaluations", "generations", "wall_seconds", "model_seconds",
    "overhead_seconds", "final_hv_fraction", "evaluations_to_95", "seconds_to_95",
    "evaluations_to_99", "seconds_to_99", "igd_plus", "front_points",
)
CURVE_FIELDS = (
    "strategy", "seed", "generation", "evaluations", "seconds", "model_seconds", "hv_fraction",
)
CHECK_STRATEGY, CHECK_TARGET, CHECK_SECONDS = "nsga2", 0.99, 60.0
PLOT_DPI = 90
IN_MEMORY = "in memory"  # BenchReport.storage of runs kept in no storage


@dataclass(frozen=True)
class BenchReport:
    """Everything the report needs besides the metrics: how it was run."""

    plan: BenchPlan
    reference: ReferenceFront
    reference_provenance: str
    command: str
    storage: str


def _cell(value: float | int | None, digits: int | None = None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if digits is None:
        return repr(value) if isinstance(value, float) else str(value)
    return f"{value:.{digits}f}"


def _percent(target: float) -> str:
    return f"{round(target * 100)}"


def write_results_csv(metrics: list[RunMetrics], path: Path, stored: bool) -> None:
    with open_output(path) as fh:
        writer = csv.writer(fh)
        writer.writerow(RESULT_FIELDS)
        for m in metrics:
            t = m.trace
            writer.writerow(
                [
                    t.run.strategy, t.run.seed, t.run.study_name if stored else "", t.evaluated,
                    len(t.evaluations), _cell(t.wall_seconds, 4), _cell(t.model_total, 4),
                    _cell(t.wall_seconds - t.model_total, 4), _cell(m.final_fraction),
                    _cell(m.evaluations_to[0.95]), _cell(m.seconds_to[0.95], 4),
                    _cell(m.evaluations_to[0.99]), _cell(m.seconds_to[0.99], 4),
                    _cell(m.igd_plus), m.front_points,
                ]
            )


def write_curves_csv(metrics: list[RunMetrics], path: Path) -> None:
    with open_output(path) as fh:
        writer = csv.writer(fh)
        writer.writerow(CURVE_FIELDS)
        for m in metrics:
            t = m.trace
            for g, (evaluations, seconds, model, fraction) in enumerate(
                zip(t.evaluations, t.seconds, t.model_seconds, m.hv_fraction), start=1
            ):
                writer.writerow(
                    [t.run.strategy, t.run.seed, g, evaluations, _cell(seconds, 4),
                     _cell(model, 4), _cell(float(fraction))]
                )


def write_reference_csv(reference: ReferenceFront, path: Path) -> None:
    with open_output(path) as fh:
        writer = csv.writer(fh)
        writer.writerow(("latency_s", "throughput_ops_per_s", "found_by"))
        for (latency, throughput), who in zip(reference.points, reference.found_by):
            writer.writerow([repr(float(latency)), repr(float(throughput)), who])


def plot_curves(
    metrics: list[RunMetrics], strategies: tuple[str, ...], path: Path, x_of: str, title: str
) -> None:
    """Per strategy the median hv-fraction curve over seeds with a min-max band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.6, 4.4), dpi=PLOT_DPI)
    xs: list[float] = []
    for k, strategy in enumerate(strategies):
        curves = [
            (np.asarray(getattr(m.trace, x_of), dtype=float), np.nan_to_num(m.hv_fraction))
            for m in metrics
            if m.trace.run.strategy == strategy and len(m.hv_fraction)
        ]
        if not curves:
            continue
        grid, median, low, high = step_band(curves)
        xs += grid.tolist()
        color = f"C{k % 10}"
        seeds = f"{len(curves)} seed" + ("s" if len(curves) > 1 else "")
        ax.step(grid, median, where="post", color=color, label=f"{strategy} ({seeds})")
        ax.fill_between(grid, low, high, step="post", color=color, alpha=0.18, linewidth=0)
    for target, style in zip(TARGETS, (":", "--")):
        ax.axhline(target, color="dimgrey", linestyle=style, linewidth=0.9)
    if x_of == "seconds" and xs:
        plain_log_axis(ax, "x", [x for x in xs if x > 0])
        ax.set_xlabel("wall time of the run [s] (log)")
    else:
        ax.set_xlabel("evaluated designs")
    # the target lines are named at the right edge, outside the data
    for target in TARGETS:
        ax.annotate(f"{_percent(target)} %", xy=(1.0, target), xycoords=("axes fraction", "data"),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=7,
                    color="dimgrey")
    ax.set_ylabel("hypervolume / reference front's")
    ax.set_ylim(0, 1.03)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.07, 1.0), frameon=False,
              title="median, band = min-max\nover seeds", title_fontsize=7)
    ax.set_title(title, fontsize=8)
    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)


def _figure(value: float, digits: int) -> str:
    return "never" if not math.isfinite(value) else f"{value:.{digits}f}"


def spread_text(s: Spread, digits: int) -> str:
    """``median (min-max)`` plus ``; not reached in k of n runs`` when some runs never did."""
    if s.n == 0:
        return "-"
    if s.missing == s.n:
        return f"never (not reached in {s.n} of {s.n} runs)"
    text = f"{_figure(s.median, digits)} ({_figure(s.low, digits)}-{_figure(s.high, digits)})"
    return text + (f"; not reached in {s.missing} of {s.n} runs" if s.missing else "")


def strategy_rows(metrics: list[RunMetrics], strategies: tuple[str, ...]) -> list[list[str]]:
    body = []
    for strategy in strategies:
        runs = [m for m in metrics if m.trace.run.strategy == strategy]
        row = [strategy, str(len(runs)), spread_text(spread([m.trace.evaluated for m in runs]), 0),
               spread_text(spread([m.final_fraction for m in runs]), 4)]
        for target in TARGETS:
            row.append(spread_text(spread([m.evaluations_to[target] for m in runs]), 0))
        for target in TARGETS:
            row.append(spread_text(spread([m.seconds_to[target] for m in runs]), 1))
        row += [
            spread_text(spread([m.igd_plus for m in runs]), 4),
            spread_text(spread([m.trace.model_total for m in runs]), 1),
            spread_text(spread([m.trace.wall_seconds - m.trace.model_total for m in runs]), 1),
            spread_text(spread([m.front_points for m in runs]), 0),
        ]
        body.append(row)
    return body


STRATEGY_HEAD = (
    ["strategy", "runs", "evaluations", "final hv fraction"]
    + [f"evaluations to {_percent(t)} %" for t in TARGETS]
    + [f"seconds to {_percent(t)} %" for t in TARGETS]
    + ["IGD+", "model s", "overhead s", "front points"]
)


def check_line(metrics: list[RunMetrics]) -> str:
    """The verdict on "nsga2 reaches 99 % of the reference hypervolume within 60 s"."""
    claim = (
        f"Check: {CHECK_STRATEGY} reaches {_percent(CHECK_TARGET)} % of the reference "
        f"hypervolume within {CHECK_SECONDS:.0f} s (median over seeds): "
    )
    runs = [m for m in metrics if m.trace.run.strategy == CHECK_STRATEGY]
    if not runs:
        return claim + f"not measured ({CHECK_STRATEGY} was not among the strategies)."
    s = spread([m.seconds_to[CHECK_TARGET] for m in runs])
    final = spread([m.final_fraction for m in runs])
    verdict = "**reached**" if s.median <= CHECK_SECONDS else "**not reached**"
    if math.isfinite(s.median):
        measured = f"median {s.median:.1f} s to {_percent(CHECK_TARGET)} %"
    else:
        measured = f"the median run never reached {_percent(CHECK_TARGET)} %"
    missing = f", not reached in {s.missing} of {s.n} runs" if s.missing else ""
    return claim + f"{verdict} ({measured}{missing}; median final fraction {final.median:.4f})."


def summary_markdown(report: BenchReport, metrics: list[RunMetrics]) -> str:
    plan, reference = report.plan, report.reference
    base = plan.base
    title = config_summary(base).split(", space")[0]
    batches = ",".join(map(str, base.space.get("batch_sizes", ())))
    limit = f"{base.budget} evaluations" if base.budget is not None else "no evaluation limit"
    if base.time_limit_s is not None:
        limit += f", at most {base.time_limit_s:g} s each"
    lines = [
        f"# Strategy benchmark: {title}, {base.space.get('family')} space, batch {batches}",
        "",
        f"Command: `{report.command}`",
        "",
        "## Settings",
        "",
        f"- strategies: {', '.join(plan.strategies)}; seeds {plan.seeds[0]}..{plan.seeds[-1]} "
        f"({len(plan.seeds)} per strategy); budget per run: {limit}; population "
        f"{base.population_size}",
        f"- space: {base.space.get('family')}, batch sizes {batches}, "
        f"{plan.space_size:.3g} distinct designs",
        f"- storage: {report.storage}",
        "- times are wall-clock seconds of each run's search loop on a shared machine; "
        "everything else is the same for the same settings and seeds"
        + (" (not with a time limit, which makes the evaluations depend on speed)"
           if base.time_limit_s is not None else ""),
        "",
        "## Reference front",
        "",
        f"{report.reference_provenance} It has {len(reference.points)} points "
        "(`reference_front.csv`, column `found_by`) and hypervolume "
        f"{reference.hypervolume / 1e9:.6g} GOP against the reference point "
        f"[{reference.hv_reference[0]:.6g} s, 0 ops/s] = [1.1 x its worst latency, 0], "
        "in minimisation form [latency, -throughput]. Every hypervolume below is a fraction "
        "of the reference front's. IGD+ is taken with latency divided by the reference "
        "point's latency and throughput by the reference front's best throughput.",
        "",
        "## Per strategy",
        "",
        "Each cell: median (min-max) over seeds; `never` = the target was not reached (such "
        "runs count as infinitely late in the median). Overhead = wall - model seconds "
        "(strategy, storage, bookkeeping).",
        "",
    ]
    lines += markdown_table(STRATEGY_HEAD, strategy_rows(metrics, plan.strategies))
    lines += ["", check_line(metrics), ""]
    return "\n".join(lines)


def write_bench(out_dir: str | Path, report: BenchReport, metrics: list[RunMetrics]) -> str:
    """Write OUTPUT_FILES into ``out_dir`` (which must exist); returns the summary text."""
    out = Path(out_dir)
    stored = report.storage != IN_MEMORY
    with staged_outputs():  # every file appears, or none
        write_results_csv(metrics, out / "results.csv", stored)
        write_curves_csv(metrics, out / "curves.csv")
        write_reference_csv(report.reference, out / "reference_front.csv")
        title = config_summary(report.plan.base).split(", strategy")[0]
        plot_curves(metrics, report.plan.strategies, out / "hv_vs_evaluations.png", "evaluations",
                    title)
        plot_curves(metrics, report.plan.strategies, out / "hv_vs_time.png", "seconds", title)
        summary = summary_markdown(report, metrics)
        write_text(out / "summary.md", summary)
        write_bench_html(out / "report.html", report, metrics, title, summary)
    return summary


def median_run(metrics: list[RunMetrics], strategy: str) -> RunMetrics | None:
    """The run of ``strategy`` whose final hypervolume fraction is the (lower) median."""
    runs = sorted((m for m in metrics if m.trace.run.strategy == strategy),
                  key=lambda m: (m.final_fraction, m.trace.run.seed))
    return runs[(len(runs) - 1) // 2] if runs else None


def write_bench_html(path: Path, report: BenchReport, metrics: list[RunMetrics], title: str,
                     summary: str) -> None:
    """report.html: the hypervolume curves, the reference front with each strategy's
    median run's final front (hover, linked schedules), and the summary."""
    plan = report.plan
    page = HtmlReport(f"Strategy benchmark: {title}",
                      f"Command: {report.command}. Curves: median over seeds, band = min-max.")
    for x_of, x_title, log_x in (("evaluations", "evaluated designs", False),
                                 ("seconds", "wall time of the run [s]", True)):
        curves = []
        for strategy in plan.strategies:
            runs = [(np.asarray(getattr(m.trace, x_of), dtype=float), np.nan_to_num(m.hv_fraction))
                    for m in metrics if m.trace.run.strategy == strategy and len(m.hv_fraction)]
            if runs:
                grid, median, low, high = step_band(runs)
                curves.append(Curve(f"{strategy} ({len(runs)} seeds)", grid, median, low, high))
        page.heading(f"Hypervolume against {x_title.split(' [')[0]}")
        page.figure(curves_figure(curves, x_title, log_x, TARGETS,
                                  title="hypervolume / reference front's"))
    reference = [
        {"latency_s": float(lat), "throughput_ops_per_s": float(thr), "found_by": who}
        for (lat, thr), who in zip(report.reference.points, report.reference.found_by)
    ]
    fronts: list = [("reference front", plan.base, reference, [None] * len(reference))]
    for strategy in plan.strategies:
        run = median_run(metrics, strategy)
        genomes = run.trace.front_genomes if run is not None else None
        if genomes is None or not len(genomes):
            continue
        config = run.trace.run.config
        rows = rows_of_genomes(config, genomes)
        fronts.append((f"{strategy} seed {run.trace.run.seed}", config, rows, list(genomes)))
    add_fronts(page, fronts, title=f"{title}: reference front and each strategy's median run")
    page.details("summary.md", summary)
    page.write(path)
