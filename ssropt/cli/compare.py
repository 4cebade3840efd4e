"""``ssropt compare``: hybrid vs sequential-only vs spatial-only on one workload.

Everything is validated (workload, hardware, batch sizes, budget, storage, output
directory, study names) before any study is created or any file is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ssropt.cli.args import (
    add_batch_argument,
    add_budget_arguments,
    add_output_arguments,
    add_run_options,
    add_storage_argument,
    add_workload_arguments,
    comparison_names,
    comparison_words,
    hardware_words,
    prepare_comparison,
    workload_from_args,
    workload_words,
)
from ssropt.harness.compare.run import DEFAULT_BUDGET, DEFAULT_EXHAUSTIVE_LIMIT


def add_command(sub) -> None:
    """Register ``compare`` on the ``ssropt`` sub-command parser."""
    p = sub.add_parser(
        "compare",
        help="compare the hybrid, sequential and spatial fronts of one workload",
        description="Search the sequential, spatial and hybrid spaces of one workload with the "
        "same batch sizes and seed (exhaustive when a space is small, else nsga2), each as its "
        "own study, and write fronts.png, fronts.csv, fronts.json and summary.md to --out.",
    )
    add_workload_arguments(p)
    se = p.add_argument_group("search")
    add_batch_argument(se)
    add_budget_arguments(
        se, per="per family's nsga2 search", budget=DEFAULT_BUDGET, exhaustive_limit=DEFAULT_EXHAUSTIVE_LIMIT,
        exhaustive_help="enumerate a family whose space has at most N designs",
    )
    out = add_output_arguments(
        p, default_out="compare-MODEL", study_names="PREFIX-sequential, ... (default compare-MODEL-TIMESTAMP)"
    )
    add_storage_argument(out)
    add_run_options(p)
    p.set_defaults(func=_run)



def _command_line(args: argparse.Namespace, prefix: str, out_dir: Path) -> str:
    """The command with every setting explicit (reproduces the comparison)."""
    from ssropt.harness.report import command_line

    words = [*workload_words(args), *hardware_words(args), *comparison_words(args, prefix, out_dir)]
    return command_line("compare", words)


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import StudyConfig
    from ssropt.harness.compare.analysis import compare_fronts
    from ssropt.harness.compare.report import write_comparison
    from ssropt.harness.compare.run import family_fronts, plan_families, run_families
    from ssropt.harness.report import OUTPUT_FILES
    from ssropt.spaces import SpaceOptions, parse_batch_sizes

    workload = workload_from_args(args)
    base = StudyConfig(
        workload=workload.describe(),
        platform=args.platform,
        dtype=args.dtype,
        cost_model=args.cost_model,
        space=SpaceOptions(batch_sizes=parse_batch_sizes(args.batch)).to_dict(),
        seed=args.seed,
        budget=args.budget,
        population_size=args.population,
    )
    prefix, out_dir = comparison_names(args, "compare", base)
    plans = plan_families(base, prefix, args.exhaustive_limit)
    storage = prepare_comparison(
        args, out_dir, plans,
        lambda plan: f"{plan.family}: study {plan.study_name!r} in {args.storage}, "
        f"{plan.config.strategy}, {plan.config.budget} designs",
    )
    results = run_families(storage, plans, n_jobs=args.n_jobs, progress=not args.quiet)
    comparison = compare_fronts(family_fronts(results))
    summary = write_comparison(
        out_dir, results, comparison, _command_line(args, prefix, out_dir), args.storage
    )
    print(summary, end="")
    print(f"wrote {', '.join(str(out_dir / name) for name in OUTPUT_FILES)}", file=sys.stderr)
    return 0
