"""``ssropt studies``: list the studies of a storage with their settings and trial counts.
"""

from __future__ import annotations

import argparse

from ssropt.cli.args import add_storage_argument


def add_command(sub) -> None:
    """Register ``studies`` on the ``ssropt`` sub-command parser."""
    studies = sub.add_parser("studies", help="list the studies of a storage")
    add_storage_argument(studies)
    studies.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import optuna

    from ssropt.engine.study import StudyConfig, StudyError, config_summary
    from ssropt.storage import open_storage

    storage = open_storage(args.storage, must_exist=True)
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    if not summaries:
        print("no studies in this storage")
        return 0
    for s in summaries:
        try:
            text = config_summary(StudyConfig.from_attrs(s.user_attrs, s.study_name))
        except (StudyError, TypeError):
            text = "not an ssropt study"
        print(f"{s.study_name}: {s.n_trials} trials; {text}")
    return 0
