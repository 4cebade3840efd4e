"""``ssropt compare``: hybrid vs sequential-only vs spatial-only on one workload.

Everything is validated (workload, hardware, batch sizes, budget, storage, output
directory, study names) before any study is created or any file is written.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from ssropt.cli_study import (
    add_batch_argument,
    add_budget_arguments,
    add_output_arguments,
    add_storage_argument,
    add_workload_arguments,
    hardware_words,
    run_options,
    workload_from_args,
    workload_label,
    workload_words,
)
from ssropt.errors import SsroptError
from ssropt.harness.compare.analysis import DEFAULT_BUDGET, DEFAULT_EXHAUSTIVE_LIMIT


def add_compare_command(sub) -> None:
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
    run_options(p)
    p.set_defaults(func=_cmd_compare)


def check_out_dir(path: Path, force: bool) -> None:
    """SsroptError unless ``path`` can be created, or is empty, or ``force`` is given."""
    if path.exists():
        if not path.is_dir():
            raise SsroptError(f"--out {str(path)!r} exists and is not a directory")
        if any(path.iterdir()) and not force:
            raise SsroptError(f"--out {str(path)!r} exists and is not empty (use --force)")
        if not os.access(path, os.W_OK):
            raise SsroptError(f"--out {str(path)!r} is not writable")
        return
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK):
        raise SsroptError(
            f"cannot create --out {str(path)!r}: {str(ancestor)!r} is not a writable directory"
        )


def comparison_names(args: argparse.Namespace, kind: str, base) -> tuple[str, Path]:
    """The study-name prefix and output directory of a ``kind`` comparison (``--study-prefix``
    and ``--out``, else ``KIND-MODEL-TIMESTAMP`` and ``KIND-MODEL``)."""
    label = workload_label(base.workload)
    prefix = args.study_prefix or f"{kind}-{label}-{time.strftime('%Y%m%d-%H%M%S')}"
    return prefix, Path(args.out or f"{kind}-{label}")


def prepare_comparison(args: argparse.Namespace, out_dir: Path, plans, describe):
    """Check ``--out`` and that no planned study exists, then create ``--out`` and print
    ``describe(plan)`` for every plan; the open storage."""
    from ssropt.harness.compare.analysis import check_names_free
    from ssropt.storage import open_storage

    check_out_dir(out_dir, args.force)
    storage = open_storage(args.storage)
    check_names_free(storage, plans)
    out_dir.mkdir(parents=True, exist_ok=True)
    for plan in plans:
        print(describe(plan), file=sys.stderr)
    return storage


def _command_line(args: argparse.Namespace, prefix: str, out_dir: Path) -> str:
    """The command with every setting explicit (reproduces the comparison)."""
    return comparison_command("compare", args, hardware_words(args), prefix, out_dir)


def comparison_command(command: str, args: argparse.Namespace, hardware: list[str], prefix: str,
                       out_dir: Path) -> str:
    """``ssropt COMMAND`` with every setting of a comparison explicit (compare and
    compare-platforms reports quote it)."""
    words = ["ssropt", command, *workload_words(args), *hardware]
    words += [
        "--batch", args.batch, "--budget", str(args.budget), "--population", str(args.population),
        "--seed", str(args.seed), "--exhaustive-limit", str(args.exhaustive_limit),
        "--study-prefix", prefix, "--storage", args.storage, "--out", str(out_dir),
    ]
    return shlex.join(words)


def _cmd_compare(args: argparse.Namespace) -> int:
    from ssropt.engine.study import StudyConfig
    from ssropt.harness.compare.analysis import (
        compare_fronts,
        family_fronts,
        plan_families,
        run_families,
    )
    from ssropt.harness.compare.report import OUTPUT_FILES, write_comparison
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
