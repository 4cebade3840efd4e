"""Does the hybrid front beat the sequential-only and spatial-only fronts?

Runs ``nsga2`` (no seeding) on the ``hybrid``, ``sequential`` and ``spatial`` spaces of
one model on VCK190 INT8 with batch sizes 1-8 and the same budget and seed, then
reports each front, whether the hybrid front weakly dominates each baseline front at
every latency, the hybrid's throughput gain over each baseline at a ladder of latency
ceilings, and the best throughput of each family at batch 6.

Run:
    python benchmarks/hybrid_vs_baselines.py                     # DeiT-T, 20,000 evaluations
    python benchmarks/hybrid_vs_baselines.py --model deit-t --budget 20000 --seed 0 \
        --out benchmarks/results/hybrid_vs_baselines_deit-t.md

Prints the report and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import optuna

from ssropt.front import feasible_trials, front_rows
from ssropt.pareto import dominates_or_equals_at_every_latency, throughput_gain_at_latency
from ssropt.runner import run_study
from ssropt.spaces import SpaceOptions
from ssropt.study import StudyConfig, create_ssropt_study

FAMILIES = ("hybrid", "sequential", "spatial")


def run_family(model: str, family: str, budget: int, seed: int) -> tuple[optuna.Study, float]:
    config = StudyConfig(
        workload={"model": model},
        platform="vck190",
        space=SpaceOptions(family=family).to_dict(),
        strategy="nsga2",
        seed=seed,
        budget=budget,
    )
    study = create_ssropt_study(optuna.storages.InMemoryStorage(), family, config)
    start = time.perf_counter()
    run_study(study, config, progress=False)
    return study, time.perf_counter() - start


def as_array(rows: list[dict]) -> np.ndarray:
    return np.array([[r["latency_s"], r["throughput_ops_per_s"]] for r in rows]).reshape(-1, 2)


def best_at_batch(study: optuna.Study, batch: int) -> float:
    trials = feasible_trials(study, batch=batch)
    return max((t.values[1] for t in trials), default=float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="deit-t")
    parser.add_argument("--budget", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the report (Markdown) here")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    fronts, studies, seconds = {}, {}, {}
    for family in FAMILIES:
        studies[family], seconds[family] = run_family(args.model, family, args.budget, args.seed)
        fronts[family] = front_rows(studies[family])

    lines = [
        f"# Hybrid vs sequential-only vs spatial-only: {args.model}, VCK190 INT8, batch 1-8",
        "",
        f"`nsga2`, {args.budget} evaluations per family, seed {args.seed}, no seeding. "
        f"Command: `python benchmarks/hybrid_vs_baselines.py --model {args.model} "
        f"--budget {args.budget} --seed {args.seed}`",
        "",
        "| family | front points | lowest latency (ms) | best throughput (GOPS) | best at batch 6 (GOPS) | run time (s) |",
        "|---|---|---|---|---|---|",
    ]
    summary: dict = {"model": args.model, "budget": args.budget, "seed": args.seed}
    for family in FAMILIES:
        f = as_array(fronts[family])
        b6 = best_at_batch(studies[family], 6)
        lines.append(
            f"| {family} | {len(f)} | {f[:, 0].min() * 1e3:.4f} | {f[:, 1].max() / 1e9:.0f} | "
            f"{b6 / 1e9:.0f} | {seconds[family]:.1f} |"
        )
        summary[family] = {
            "front": f.tolist(), "best_batch6_ops_per_s": b6, "seconds": seconds[family]
        }
    hybrid = as_array(fronts["hybrid"])
    lines += ["", "| baseline | hybrid dominates or equals it at every latency | hybrid best batch-6 throughput / baseline's |",
              "|---|---|---|"]
    for base in ("sequential", "spatial"):
        ok = dominates_or_equals_at_every_latency(hybrid, as_array(fronts[base]))
        ratio = summary["hybrid"]["best_batch6_ops_per_s"] / summary[base]["best_batch6_ops_per_s"]
        lines.append(f"| {base} | {'yes' if ok else 'no'} | {ratio:.2f} |")
        summary[base]["hybrid_dominates"] = bool(ok)
        summary[base]["batch6_ratio"] = ratio

    ceilings = np.unique(np.concatenate([as_array(fronts[f])[:, 0] for f in FAMILIES]))
    lines += ["", "Throughput at matched latency (best design with latency <= ceiling):", "",
              "| latency ceiling (ms) | hybrid (GOPS) | sequential (GOPS) | spatial (GOPS) | gain vs sequential | gain vs spatial |",
              "|---|---|---|---|---|---|"]
    best = {f: [] for f in FAMILIES}
    for c in ceilings:
        for f in FAMILIES:
            arr = as_array(fronts[f])
            ok = arr[:, 0] <= c
            best[f].append(arr[ok, 1].max() if ok.any() else np.nan)
    gain_seq = throughput_gain_at_latency(hybrid, as_array(fronts["sequential"]), ceilings)
    gain_spa = throughput_gain_at_latency(hybrid, as_array(fronts["spatial"]), ceilings)
    for i, c in enumerate(ceilings):
        cells = [f"{best[f][i] / 1e9:.0f}" if np.isfinite(best[f][i]) else "-" for f in FAMILIES]
        gains = [f"{g:.2f}x" if np.isfinite(g) else "-" for g in (gain_seq[i], gain_spa[i])]
        lines.append(f"| {c * 1e3:.4f} | " + " | ".join(cells + gains) + " |")
    summary["gain_vs_sequential"] = [float(g) for g in gain_seq]
    summary["gain_vs_spatial"] = [float(g) for g in gain_spa]
    summary["ceilings_s"] = ceilings.tolist()
    report = "\n".join(lines)
    print(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
