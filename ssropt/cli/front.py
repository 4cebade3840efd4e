"""``ssropt front``: print or export the latency-throughput Pareto front of a study.
"""

from __future__ import annotations

import argparse

from ssropt.cli.args import add_study_arguments, positive_int


def add_command(sub) -> None:
    """Register ``front`` on the ``ssropt`` sub-command parser."""
    front = sub.add_parser("front", help="print or export a study's Pareto front",
                           description="The latency-throughput Pareto front of a study.")
    add_study_arguments(front)
    front.add_argument("--csv", metavar="F")
    front.add_argument("--json", metavar="F")
    front.add_argument("--plot", metavar="F.png")
    front.add_argument("--batch", type=positive_int, help="restrict to one batch size")
    front.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import config_summary, load_ssropt_study
    from ssropt.outputs.front import format_front, front_rows, write_csv, write_json
    from ssropt.outputs.plots import plot_fronts
    from ssropt.storage import open_storage

    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    rows = front_rows(study, batch=args.batch)
    if args.csv:
        write_csv(rows, args.csv)
    if args.json:
        write_json(rows, args.json)
    if args.plot:
        plot_fronts({args.study_name: rows}, args.plot, title=config_summary(config))
    print(format_front(rows))
    return 0
