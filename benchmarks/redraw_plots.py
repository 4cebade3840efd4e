"""Redraw the PNGs of ``benchmarks/results/`` from their stored data, without searching again.

After a change to how plots are drawn, the stored reports' pictures are redrawn from
their own ``fronts.json`` (``compare_MODEL/``, ``platforms_MODEL/``) and ``curves.csv``
(``strategy_bench_*/``) with the same functions ``ssropt compare``, ``compare-platforms``
and ``bench`` use; every number stays what the searches found.

Run:
    python benchmarks/redraw_plots.py            # every report under benchmarks/results/

Prints one line per file written and, as the last line, one JSON object.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ssropt.harness.bench.report import plot_curves
from ssropt.harness.platforms.report import plot_platforms
from ssropt.outputs.plots import plot_fronts

RESULTS = Path(__file__).resolve().parent / "results"


def model_of(folder: Path) -> str:
    return folder.name.split("_", 1)[1]


def redraw_compare(folder: Path) -> Path:
    rows = json.loads((folder / "fronts.json").read_text())
    fronts: dict[str, list[dict]] = {}
    for row in rows:  # in the report's order: family by family
        label = row["family"] if row["configurator"] == "none" else (
            f"{row['family']} ({row['configurator']}-configured)")
        fronts.setdefault(label, []).append(row)
    path = folder / "fronts.png"
    plot_fronts(fronts, path, title=f"{model_of(folder)} on vck190 int8 (ssr)")
    return path


def redraw_platforms(folder: Path) -> Path:
    rows = json.loads((folder / "fronts.json").read_text())
    by_platform: dict[str, list[dict]] = {}
    for row in rows:
        by_platform.setdefault(row["platform"], []).append(row)
    results = [SimpleNamespace(platform=p, rows=r) for p, r in by_platform.items()]
    path = folder / "fronts.png"
    plot_platforms(results, path, title=f"{model_of(folder)} int8: best hybrid front per platform")
    return path


def redraw_bench(folder: Path) -> list[Path]:
    runs: dict[tuple[str, int], SimpleNamespace] = {}
    with open(folder / "curves.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["strategy"], int(row["seed"]))
            run = runs.setdefault(key, SimpleNamespace(evaluations=[], seconds=[], hv=[]))
            run.evaluations.append(int(row["evaluations"]))
            run.seconds.append(float(row["seconds"]))
            run.hv.append(float(row["hv_fraction"]))
    metrics = [
        SimpleNamespace(
            trace=SimpleNamespace(run=SimpleNamespace(strategy=s), evaluations=r.evaluations,
                                  seconds=r.seconds),
            hv_fraction=np.array(r.hv),
        )
        for (s, _), r in runs.items()
    ]
    strategies = tuple(dict.fromkeys(s for s, _ in runs))
    summary = (folder / "summary.md").read_text().splitlines()[0]
    title = summary.split(": ", 1)[1].split(", batch")[0]  # "deit-t on vck190 int8 (ssr), ..."
    paths = []
    for x_of, name in (("evaluations", "hv_vs_evaluations.png"), ("seconds", "hv_vs_time.png")):
        plot_curves(metrics, strategies, folder / name, x_of, title)
        paths.append(folder / name)
    return paths


def main() -> None:
    written: list[Path] = []
    for folder in sorted(RESULTS.glob("compare_*")):
        written.append(redraw_compare(folder))
    for folder in sorted(RESULTS.glob("platforms_*")):
        written.append(redraw_platforms(folder))
    for folder in sorted(RESULTS.glob("strategy_bench_*")):
        written += redraw_bench(folder)
    for path in written:
        print(path.relative_to(RESULTS.parent))
    print(json.dumps({"redrawn": [str(p.relative_to(RESULTS.parent)) for p in written]}))


if __name__ == "__main__":
    main()
