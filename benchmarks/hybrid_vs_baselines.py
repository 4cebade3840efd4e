"""Does the hybrid front beat the sequential-only and spatial-only fronts?

Runs the ``sequential``, ``spatial`` and ``hybrid`` spaces of one model on VCK190 INT8
with batch sizes 1-8 and the same budget and seed (``nsga2``; ``exhaustive`` for a space
of at most ``--exhaustive-limit`` designs) in an in-memory storage, then reports what
``ssropt compare`` reports (one implementation: :mod:`ssropt.harness.compare.analysis`): each front, the
hybrid's throughput gain at every latency ceiling, its latency reduction at every
throughput floor, whether it weakly dominates each baseline, and each front's
hypervolume against one common reference point.

Run:
    python benchmarks/hybrid_vs_baselines.py                     # DeiT-T, 20,000 evaluations
    python benchmarks/hybrid_vs_baselines.py --model deit-t --budget 20000 --seed 0 \
        --out benchmarks/results/hybrid_vs_baselines_deit-t.md

Prints the report and, as the last line, one JSON object.  ``ssropt compare`` does the
same with persistent studies and also writes the fronts (CSV, JSON, plot).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import optuna

from ssropt.engine.study import StudyConfig
from ssropt.harness.compare.analysis import compare_fronts
from ssropt.harness.compare.report import comparison_dict, summary_markdown
from ssropt.harness.compare.run import (
    DEFAULT_BUDGET,
    DEFAULT_EXHAUSTIVE_LIMIT,
    family_fronts,
    plan_families,
    run_families,
)
from ssropt.outputs.front import feasible_trials


def _finite(value: float) -> float:
    """Sort key: NaN below every number."""
    return value if value == value else float("-inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="deit-t")
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exhaustive-limit", type=int, default=DEFAULT_EXHAUSTIVE_LIMIT)
    parser.add_argument("--out", help="also write the report (Markdown) here")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    base = StudyConfig(
        workload={"model": args.model}, platform="vck190", seed=args.seed, budget=args.budget
    )
    plans = plan_families(base, args.model, args.exhaustive_limit)
    storage = optuna.storages.InMemoryStorage()
    results = run_families(storage, plans)
    comparison = compare_fronts(family_fronts(results))
    command = shlex.join(["python", "benchmarks/hybrid_vs_baselines.py", *sys.argv[1:]])
    report = summary_markdown(results, comparison, command, "in memory")
    # the best design of each family (over its studies) at batch 6, front or not
    batch6: dict[str, float] = {}
    for r in results:
        study = optuna.load_study(study_name=r.plan.study_name, storage=storage)
        best = max((t.values[1] for t in feasible_trials(study, 6)), default=float("nan"))
        batch6[r.plan.family] = max(batch6.get(r.plan.family, float("nan")), best, key=_finite)
    report += "\n## Batch 6\n\n| family | best throughput at batch 6 (GOPS) | hybrid / family |\n|---|---|---|\n"
    for family, value in batch6.items():
        report += f"| {family} | {value / 1e9:.0f} | {batch6['hybrid'] / value:.2f} |\n"
    print(report, end="")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report)
    print(
        json.dumps(
            {
                "model": args.model,
                "budget": args.budget,
                "seed": args.seed,
                **comparison_dict(results, comparison),
            }
        )
    )


if __name__ == "__main__":
    main()
