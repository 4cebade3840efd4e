"""The files of a family comparison: fronts.png, fronts.csv, fronts.json, summary.md and
the interactive report.html.

See :mod:`ssropt.harness.compare.analysis` for what is compared and how the ladders and the hypervolume
reference are chosen; this module only formats and writes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ssropt.engine.study import config_summary
from ssropt.harness.compare.analysis import (
    BASELINES,
    CANDIDATE,
    FAMILIES,
    Comparison,
    front_hypervolume,
)
from ssropt.harness.compare.run import FamilyResult
from ssropt.harness.report import markdown_table
from ssropt.outputs.files import staged_outputs, write_text
from ssropt.outputs.front import write_csv, write_json
from ssropt.outputs.html_page import HtmlReport
from ssropt.outputs.plots import plot_fronts
from ssropt.outputs.report import add_fronts

COMPARE_FIELDS = (
    "family",
    "configurator",
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


def comparison_rows(results: list[FamilyResult]) -> list[dict]:
    """Every front point of every family, with COMPARE_FIELDS, family by family."""
    return [
        {"family": r.plan.family, "configurator": r.plan.configurator, **{k: row[k] for k in COMPARE_FIELDS[2:]}}
        for r in results
        for row in r.rows
    ]


def _number(value: float, scale: float, digits: int) -> str:
    return "-" if not math.isfinite(value) else f"{value / scale:.{digits}f}"


def _ratio(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.4f}x"


def summary_markdown(
    results: list[FamilyResult], comparison: Comparison, command: str, storage: str
) -> str:
    """The summary report (Markdown): families, ceilings, floors, hypervolumes."""
    config = results[0].plan.config
    batches = ",".join(map(str, config.space.get("batch_sizes", ())))
    title = config_summary(config).split(", space")[0]
    best_hv = max(comparison.hypervolume.values()) or 1.0
    lines = [
        f"# Hybrid vs sequential-only vs spatial-only: {title}, batch {batches}",
        "",
        f"Command: `{command}`",
        "",
        f"Storage: `{storage}`; seed {config.seed}; a family is enumerated (`exhaustive`) "
        "when its space is small enough, else searched with `nsga2`.",
        "",
    ]
    body = []
    for r in results:
        front, family = r.front, r.plan.family
        hv = front_hypervolume(front, comparison.reference)
        body.append(
            [
                family,
                r.plan.configurator,
                f"`{r.plan.study_name}`",
                r.plan.config.strategy,
                f"{r.plan.space_size:.3g}",
                str(r.evaluated),
                str(len(front)),
                _number(front[:, 0].min() if len(front) else math.nan, 1e-3, 4),
                _number(front[:, 1].max() if len(front) else math.nan, 1e9, 1),
                f"{hv / 1e9:.6g}",
                f"{hv / best_hv:.4f}",
                f"{r.seconds:.1f}",
            ]
        )
    lines += markdown_table(
        [
            "family",
            "configurator",
            "study",
            "strategy",
            "space size",
            "evaluated",
            "front points",
            "lowest latency (ms)",
            "best throughput (GOPS)",
            "hypervolume (GOP)",
            "hypervolume / largest",
            "run time (s)",
        ],
        body,
    )
    lines.append("")
    for base in BASELINES:
        verdict = "yes" if comparison.dominates[base] else "no"
        lines.append(f"- {CANDIDATE} weakly dominates {base} at every latency: {verdict}")
    ref_latency = comparison.reference[0]
    lines += [
        "",
        "Hypervolume: area dominated by each front in minimisation form [latency, -throughput] "
        f"up to ONE common reference point [{ref_latency:.6g} s, 0 ops/s] = "
        "[1.1 x the worst front latency of all families, 0]; unit s x ops/s = ops.",
        "",
        "## Throughput at latency ceilings",
        "",
        "Ceilings: the union of the three fronts' latencies (every step of every family's "
        "best-throughput curve). Best = highest throughput of a family's front points with "
        "latency <= ceiling; gain = hybrid / baseline; `-` where the baseline has no point "
        "within the ceiling, 0 where only the baseline has one.",
        "",
    ]
    body = [
        [f"{c * 1e3:.6g}"]
        + [_number(comparison.best_throughput[f][i], 1e9, 1) for f in FAMILIES]
        + [_ratio(comparison.throughput_gain[b][i]) for b in BASELINES]
        for i, c in enumerate(comparison.ceilings)
    ]
    lines += markdown_table(
        ["latency ceiling (ms)"]
        + [f"{f} (GOPS)" for f in FAMILIES]
        + [f"gain vs {b}" for b in BASELINES],
        body,
    )
    lines += [
        "",
        "## Latency at throughput floors",
        "",
        "Floors: the union of the three fronts' throughputs. Lowest = lowest latency of a "
        "family's front points with throughput >= floor; reduction = baseline latency / "
        "hybrid latency (> 1: the hybrid is faster); `-` where the baseline reaches no floor, "
        "0 where only the baseline reaches it.",
        "",
    ]
    body = [
        [f"{t / 1e9:.6g}"]
        + [_number(comparison.lowest_latency[f][i], 1e-3, 4) for f in FAMILIES]
        + [_ratio(comparison.latency_reduction[b][i]) for b in BASELINES]
        for i, t in enumerate(comparison.floors)
    ]
    lines += markdown_table(
        ["throughput floor (GOPS)"]
        + [f"{f} (ms)" for f in FAMILIES]
        + [f"reduction vs {b}" for b in BASELINES],
        body,
    )
    return "\n".join(lines) + "\n"


def write_comparison(
    out_dir: str | Path,
    results: list[FamilyResult],
    comparison: Comparison,
    command: str,
    storage: str,
) -> str:
    """Write the report files (:data:`ssropt.harness.report.OUTPUT_FILES`) into ``out_dir`` (which must exist); returns the summary text."""
    out = Path(out_dir)
    rows = comparison_rows(results)
    with staged_outputs():  # every file appears, or none
        write_csv(rows, out / "fronts.csv", fields=COMPARE_FIELDS)
        write_json(rows, out / "fronts.json")
        title = config_summary(results[0].plan.config).split(", space")[0]
        plot_fronts({r.plan.label: r.rows for r in results}, out / "fronts.png", title=title)
        summary = summary_markdown(results, comparison, command, storage)
        write_text(out / "summary.md", summary)
        write_comparison_html(out / "report.html", results, title, command, summary)
    return summary


def write_comparison_html(
    path: Path, results: list[FamilyResult], title: str, command: str, summary: str
) -> None:
    """report.html: every study's front (hover, log/linear), linked schedules, a table."""
    report = HtmlReport(
        f"Hybrid vs sequential-only vs spatial-only: {title}",
        f"Command: {command}. Hover a point for its design; click it for its schedule.",
    )
    add_fronts(report, [(r.plan.label, r.plan.config, r.rows, r.genomes) for r in results],
               title=f"{title}: every family's front")
    report.details("summary.md", summary)
    report.write(path)


def comparison_dict(results: list[FamilyResult], comparison: Comparison) -> dict:
    """A JSON-ready dict of the comparison (NaN as None)."""

    def listed(values: np.ndarray) -> list:
        return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]

    return {
        "studies": {
            r.plan.study_name: {
                "family": r.plan.family,
                "configurator": r.plan.configurator,
                "study": r.plan.study_name,
                "strategy": r.plan.config.strategy,
                "space_size": r.plan.space_size,
                "evaluated": r.evaluated,
                "seconds": r.seconds,
                "front": r.front.tolist(),
                "hypervolume": front_hypervolume(r.front, comparison.reference),
            }
            for r in results
        },
        "family_fronts": {f: a.tolist() for f, a in comparison.fronts.items()},
        "family_hypervolume": dict(comparison.hypervolume),
        "reference": comparison.reference.tolist(),
        "ceilings_s": listed(comparison.ceilings),
        "floors_ops_per_s": listed(comparison.floors),
        "throughput_gain": {b: listed(g) for b, g in comparison.throughput_gain.items()},
        "latency_reduction": {b: listed(g) for b, g in comparison.latency_reduction.items()},
        "hybrid_dominates": dict(comparison.dominates),
    }
