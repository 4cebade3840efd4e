"""``ssropt bench``: every strategy x seed on one space with one budget, hypervolume curves.

Everything (workload, hardware, space, strategies, seeds, budget, reference file,
output directory, storage, study names) is validated before any run starts or any file
is written.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ssropt.cli.args import (
    add_batch_argument,
    add_budget_arguments,
    add_configurator_argument,
    add_output_arguments,
    add_run_options,
    add_workload_arguments,
    comparison_names,
    hardware_words,
    limited,
    resolve_configurator,
    storage_url,
    workload_from_args,
    workload_words,
)
from ssropt.harness.bench.run import DEFAULT_BUDGET, DEFAULT_SEEDS, default_strategies
from ssropt.harness.report import check_names_free, check_out_dir, command_line


def add_command(sub) -> None:
    """Register ``bench`` on the ``ssropt`` sub-command parser."""
    from ssropt.strategies.exhaustive import DEFAULT_LIMIT

    p = sub.add_parser(
        "bench",
        help="benchmark search strategies: hypervolume vs evaluations and time over seeds",
        description="Run every strategy with seeds 0..S-1 on the same space with the same "
        "budget (each run an ssropt study), record each run's front after every generation, "
        "and write hv_vs_evaluations.png, hv_vs_time.png, results.csv, curves.csv, "
        "reference_front.csv and summary.md to --out. Hypervolumes are fractions of a "
        "reference front's: the exact front when the space can be enumerated, else the "
        "union of all runs' fronts (and --reference).",
    )
    add_workload_arguments(p)
    sp = p.add_argument_group("search space")
    sp.add_argument("--space", default="hybrid", help="hybrid (default), sequential or spatial")
    add_configurator_argument(sp)
    add_batch_argument(sp)
    se = p.add_argument_group("benchmark")
    se.add_argument(
        "--strategies",
        help="comma-separated strategies (default: every available one except exhaustive "
        f"and gp, here {','.join(default_strategies())})",
    )
    se.add_argument(
        "--seeds", type=limited("--seeds"), default=DEFAULT_SEEDS,
        help=f"runs per strategy, with seeds 0..S-1 (default {DEFAULT_SEEDS})",
    )
    se.add_argument(
        "--time-limit", type=limited("--time-limit"), metavar="S",
        help="also stop each run after S seconds (the evaluations then depend on speed)",
    )
    add_budget_arguments(
        se, per="per run", budget=DEFAULT_BUDGET, exhaustive_limit=DEFAULT_LIMIT, seed=False,
        exhaustive_help="enumerate the space for an exact reference front when it has at most N "
        "designs; 0: never",
    )
    se.add_argument(
        "--reference", metavar="FILE",
        help="a CSV with latency_s and throughput_ops_per_s columns (e.g. an earlier "
        "reference_front.csv) merged into the reference front",
    )
    out = add_output_arguments(
        p, default_out="bench-MODEL", study_names="PREFIX-STRATEGY-seedK (default bench-MODEL-TIMESTAMP)"
    )
    out.add_argument(
        "--storage", type=storage_url,
        help="keep every run as a study in this storage (a journal file path or an Optuna RDB "
        "URL); default: each run in memory, not kept",
    )
    add_run_options(p)
    p.set_defaults(func=_run)


def _command_line(args: argparse.Namespace, strategies: tuple[str, ...], out_dir: Path,
                  prefix: str) -> str:
    """The command with every setting explicit (reproduces the benchmark)."""
    words = [*workload_words(args), *hardware_words(args)]
    words += [
        "--space", args.space, "--configurator", args.configurator, "--batch", args.batch, "--strategies", ",".join(strategies),
        "--seeds", str(args.seeds), "--budget", str(args.budget),
    ]
    if args.time_limit:
        words += ["--time-limit", f"{args.time_limit:g}"]
    words += ["--population", str(args.population), "--exhaustive-limit",
              str(args.exhaustive_limit)]
    if args.reference:
        words += ["--reference", args.reference]
    if args.storage:
        words += ["--storage", args.storage, "--study-prefix", prefix]
    words += ["--out", str(out_dir)]
    return command_line("bench", words)


def _run_line(trace, done: int, total: int) -> None:
    front = trace.front
    print(
        f"[{done}/{total}] {trace.run.label}: {trace.evaluated} designs in "
        f"{trace.wall_seconds:.1f} s ({trace.model_total:.1f} s in the model), "
        f"{len(front)} front points",
        file=sys.stderr,
    )


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import StudyConfig
    from ssropt.harness.bench.metrics import plan_reference, run_metrics
    from ssropt.harness.bench.report import IN_MEMORY, OUTPUT_FILES, BenchReport, write_bench
    from ssropt.harness.bench.run import plan_bench, run_bench
    from ssropt.spaces import SpaceOptions, parse_batch_sizes

    workload = workload_from_args(args)
    base = StudyConfig(
        workload=workload.describe(),
        platform=args.platform,
        dtype=args.dtype,
        cost_model=args.cost_model,
        space=SpaceOptions(family=args.space, batch_sizes=parse_batch_sizes(args.batch)).to_dict(),
        budget=args.budget,
        time_limit_s=args.time_limit,
        population_size=args.population,
    )
    configurator = resolve_configurator(args.configurator, base.cost_model, args.space)
    base = replace(base, space={**base.space, "configurator": configurator})
    prefix, out_dir = comparison_names(args, "bench", base)
    strategies = args.strategies if args.strategies is not None else default_strategies()
    plan = plan_bench(base, strategies, args.seeds, prefix, args.exhaustive_limit, args.reference)
    check_out_dir(out_dir, args.force)
    storage = None
    if args.storage:
        from ssropt.storage import open_storage

        storage = open_storage(args.storage)
        check_names_free(storage, [run.study_name for run in plan.runs], list_all=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    where = f"studies {prefix}-* in {args.storage}" if storage is not None else "in memory"
    print(
        f"{len(plan.runs)} runs ({len(plan.strategies)} strategies x {len(plan.seeds)} seeds), "
        f"{args.budget} designs each, {where}",
        file=sys.stderr,
    )
    traces = run_bench(plan, storage, n_jobs=args.n_jobs, progress=not args.quiet,
                       on_run=_run_line)
    if plan.enumerable:
        print(f"enumerating all {plan.space_size:,} designs for the exact front", file=sys.stderr)
    reference, provenance = plan_reference(plan, traces, n_jobs=args.n_jobs,
                                           progress=not args.quiet)
    metrics = [run_metrics(t, reference) for t in traces]
    report = BenchReport(
        plan, reference, provenance, _command_line(args, plan.strategies, out_dir, prefix),
        args.storage or IN_MEMORY,
    )
    summary = write_bench(out_dir, report, metrics)
    print(summary, end="")
    print(f"wrote {', '.join(str(out_dir / name) for name in OUTPUT_FILES)}", file=sys.stderr)
    return 0
