"""``ssropt resume``: continue an interrupted or finished study, the budget raised if asked;
the same front as an uninterrupted run.
"""

from __future__ import annotations

import argparse

from ssropt.cli.args import add_run_options, add_study_arguments, positive_int
from ssropt.cli.run import run_and_report


def add_command(sub) -> None:
    """Register ``resume`` on the ``ssropt`` sub-command parser."""
    resume = sub.add_parser(
        "resume", help="continue an interrupted or finished study",
        description="Resume a study from its storage: the same front as an uninterrupted run.",
    )
    add_study_arguments(resume)
    resume.add_argument("--budget", type=positive_int, help="new total evaluation budget")
    add_run_options(resume)
    resume.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ssropt.engine.study import load_ssropt_study
    from ssropt.storage import open_storage

    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    if args.budget is not None:
        config = replace(config, budget=args.budget)
        study.set_user_attr("ssropt:budget", args.budget)
    return run_and_report(study, config, args, args.storage, args.study_name)
