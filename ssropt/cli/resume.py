"""``ssropt resume``: continue an interrupted or finished study, the budget raised if asked;
the same front as an uninterrupted run.
"""

from __future__ import annotations

import argparse

from ssropt.cli.args import add_run_options, add_study_arguments, limited
from ssropt.cli.run import run_and_report


def add_command(sub) -> None:
    """Register ``resume`` on the ``ssropt`` sub-command parser."""
    resume = sub.add_parser(
        "resume", help="continue an interrupted or finished study",
        description="Resume a study from its storage: the same front as an uninterrupted run.",
    )
    add_study_arguments(resume)
    resume.add_argument("--budget", type=limited("--budget"),
                        help="new total evaluation budget (at least the designs already evaluated)")
    add_run_options(resume)
    resume.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import sys
    from dataclasses import replace

    import optuna

    from ssropt.engine.study import StudyError, load_ssropt_study
    from ssropt.storage import open_storage

    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    if args.budget is not None:
        evaluated = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
        if args.budget < evaluated:
            raise StudyError(
                f"--budget {args.budget} is below the {evaluated} designs study "
                f"{args.study_name!r} has already evaluated: give at least {evaluated}"
            )
        if config.budget is not None and args.budget < config.budget:
            print(f"the study's budget is lowered from {config.budget} to {args.budget}", file=sys.stderr)
        config = replace(config, budget=args.budget)
        study.set_user_attr("ssropt:budget", args.budget)
    return run_and_report(study, config, args, args.storage, args.study_name)
