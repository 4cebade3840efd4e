"""``ssropt create-study``: create a study with every search setting, evaluate nothing; the
``ssropt worker`` processes then search it together.
"""

from __future__ import annotations

import argparse
import sys

from ssropt.cli.args import add_search_arguments, config_from_args, default_study_name


def add_command(sub) -> None:
    """Register ``create-study`` on the ``ssropt`` sub-command parser."""
    create = sub.add_parser(
        "create-study",
        help="create a study for workers to search",
        description="Create a study in Optuna storage with every search setting (the options "
        "of `ssropt run`), evaluate nothing, and print its name; `ssropt worker` processes "
        "then search it together.",
    )
    add_search_arguments(create)
    create.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import create_ssropt_study
    from ssropt.storage import open_storage

    config, _ = config_from_args(args)
    storage = open_storage(args.storage)
    name = args.study_name or default_study_name(config)
    create_ssropt_study(storage, name, config)
    print(
        f"study {name!r} created in {args.storage}; start workers with "
        f"`ssropt worker --storage {args.storage} --study-name {name}`",
        file=sys.stderr,
    )
    print(name)
    return 0
