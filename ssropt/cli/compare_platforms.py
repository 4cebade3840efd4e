"""``ssropt compare-platforms``: the best hybrid front of one workload on several platforms.

Everything (workload, every platform and its data type, batch sizes, budget, storage,
output directory, study names) is validated before any study is created or any file
is written.
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
    add_workload_source_arguments,
    comparison_names,
    comparison_words,
    prepare_comparison,
    workload_from_args,
    workload_words,
)
from ssropt.errors import SsroptError
from ssropt.harness.compare.run import DEFAULT_BUDGET, DEFAULT_EXHAUSTIVE_LIMIT

DEFAULT_PLATFORMS = "vck190,vck5000,stratix10nx,a10g"


def add_command(sub) -> None:
    """Register ``compare-platforms`` on the ``ssropt`` sub-command parser."""
    p = sub.add_parser(
        "compare-platforms",
        help="compare the best hybrid front of one workload across platforms",
        description="Search the hybrid space of one workload on each platform (its default "
        "cost model: the SSR Versal model, the FPGA PE-array template, or a GPU roofline) "
        "with the same batch sizes, seed and budget, each as its own study, and write "
        "fronts.png (latency vs throughput and vs images/s/W), fronts.csv, fronts.json and "
        "summary.md (best design per batch size; throughput and energy-efficiency ratios to "
        "a baseline platform at batch 1, 3, 6 and on average) to --out.",
    )
    add_workload_source_arguments(p)
    hw = p.add_argument_group("hardware")
    hw.add_argument(
        "--platforms",
        default=DEFAULT_PLATFORMS,
        help=f"comma-separated platform names or TOML paths (default {DEFAULT_PLATFORMS})",
    )
    hw.add_argument("--dtype", default="int8", help="data type on every platform (default int8)")
    hw.add_argument(
        "--baseline",
        help="platform the ratios are taken against (default: the first GPU platform listed, "
        "else the first platform)",
    )
    se = p.add_argument_group("search")
    add_batch_argument(se)
    add_budget_arguments(
        se, per="per platform's nsga2 search", budget=DEFAULT_BUDGET, exhaustive_limit=DEFAULT_EXHAUSTIVE_LIMIT,
        exhaustive_help="enumerate a space of at most N designs",
    )
    out = add_output_arguments(
        p, default_out="platforms-MODEL", study_names="PREFIX-PLATFORM (default platforms-MODEL-TIMESTAMP)"
    )
    add_storage_argument(out)
    add_run_options(p)
    p.set_defaults(func=_run, cost_model=None, platform=None)


def parse_platform_list(text: str) -> list[str]:
    """``"vck190,a10g"`` -> ``["vck190", "a10g"]``; SsroptError when empty or repeated."""
    names = [t.strip() for t in text.split(",")]
    if not text.strip() or any(not n for n in names):
        raise SsroptError(f"--platforms {text!r}: give comma-separated platform names")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SsroptError(f"--platforms {text!r}: {repeated[0]!r} is listed twice")
    return names


def choose_baseline(platforms, requested: str | None) -> str:
    """The baseline platform's name (see ``--baseline``); SsroptError when not listed."""
    names = [p.name for p in platforms]
    if requested is not None:
        if requested not in names:
            raise SsroptError(
                f"--baseline {requested!r} is not one of the compared platforms ({', '.join(names)})"
            )
        return requested
    gpus = [p.name for p in platforms if p.family == "gpu"]
    return gpus[0] if gpus else names[0]


def _command_line(args: argparse.Namespace, prefix: str, out_dir: Path, baseline: str) -> str:
    """The command with every setting explicit (reproduces the comparison)."""
    from ssropt.harness.report import command_line

    hardware = ["--platforms", args.platforms, "--dtype", args.dtype, "--baseline", baseline]
    return command_line(
        "compare-platforms", [*workload_words(args), *hardware, *comparison_words(args, prefix, out_dir)]
    )


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import StudyConfig
    from ssropt.harness.platforms.report import write_platform_comparison
    from ssropt.harness.platforms.run import plan_platforms, run_platforms
    from ssropt.harness.report import OUTPUT_FILES
    from ssropt.objectives.platforms import load_platform
    from ssropt.spaces import SpaceOptions, parse_batch_sizes

    names = parse_platform_list(args.platforms)
    platforms = [load_platform(n) for n in names]
    labels = [p.name for p in platforms]
    if len(set(labels)) != len(labels):
        raise SsroptError(f"--platforms {args.platforms!r} names one platform twice")
    baseline = choose_baseline(platforms, args.baseline)
    workload = workload_from_args(args)
    base = StudyConfig(
        workload=workload.describe(),
        platform=names[0],
        dtype=args.dtype,
        space=SpaceOptions(batch_sizes=parse_batch_sizes(args.batch)).to_dict(),
        seed=args.seed,
        budget=args.budget,
        population_size=args.population,
    )
    prefix, out_dir = comparison_names(args, "platforms", base)
    plans = plan_platforms(base, names, prefix, args.exhaustive_limit)
    storage = prepare_comparison(
        args, out_dir, plans,
        lambda plan: f"{plan.config.platform}: study {plan.study_name!r}, {plan.config.cost_model} "
        f"model, {plan.config.strategy}, {plan.config.budget} designs",
    )
    results = run_platforms(storage, plans, n_jobs=args.n_jobs, progress=not args.quiet)
    command = _command_line(args, prefix, out_dir, baseline)
    summary = write_platform_comparison(out_dir, results, baseline, command, args.storage)
    print(summary, end="")
    print(f"wrote {', '.join(str(out_dir / name) for name in OUTPUT_FILES)}", file=sys.stderr)
    return 0
