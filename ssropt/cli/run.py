"""``ssropt run``: create a study and search it in this process (``create-study`` plus one
worker); prints the front at the end.
"""

from __future__ import annotations

import argparse
import sys

from ssropt.cli.args import (
    add_run_options,
    add_search_arguments,
    config_from_args,
    default_study_name,
)


def add_command(sub) -> None:
    """Register ``run`` on the ``ssropt`` sub-command parser."""
    run = sub.add_parser(
        "run",
        help="create a study and search it",
        description="Create a study in Optuna storage and search its space; prints the "
        "latency-throughput Pareto front at the end.",
    )
    add_search_arguments(run)
    add_run_options(run)
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import create_ssropt_study
    from ssropt.storage import open_storage

    config, _ = config_from_args(args)
    storage = open_storage(args.storage)
    name = args.study_name or default_study_name(config)
    study = create_ssropt_study(storage, name, config)
    print(f"study {name!r} in {args.storage}", file=sys.stderr)
    return run_and_report(study, config, args, storage_url=args.storage, name=name)


def run_and_report(study, config, args, storage_url: str, name: str, budget=None) -> int:
    """Run (or resume) ``study`` in this process and print its front (run, resume)."""
    from ssropt.engine.runner import run_study
    from ssropt.outputs.front import format_front, front_rows

    try:
        summary = run_study(study, config, budget=budget, n_jobs=args.n_jobs, progress=not args.quiet)
    except KeyboardInterrupt:
        print(
            f"error: interrupted; every finished generation is stored: resume with "
            f"`ssropt resume --storage {storage_url} --study-name {name}`",
            file=sys.stderr,
        )
        return 130
    print(
        f"{summary.evaluated} designs in {summary.generations} generations, "
        f"{summary.seconds:.1f} s ({summary.model_seconds:.1f} s in the model)",
        file=sys.stderr,
    )
    print(format_front(front_rows(study), config.objectives))
    return 0
