"""``ssropt front``: print or export the latency-throughput Pareto front of a study.

``--csv F`` and ``--json F`` write the front (``-``: standard output, and the table is
not printed), ``--all`` every COMPLETE trial instead (feasible or not, with ``feasible``,
``on_front`` and ``violations``); ``--plot F.png`` draws the front, ``--plot F.html``
writes the interactive report (:mod:`ssropt.outputs.report`).
"""

from __future__ import annotations

import argparse
import sys

from ssropt.cli.args import add_study_arguments, positive_int


def add_command(sub) -> None:
    """Register ``front`` on the ``ssropt`` sub-command parser."""
    front = sub.add_parser("front", help="print or export a study's Pareto front",
                           description="The latency-throughput Pareto front of a study.")
    add_study_arguments(front)
    front.add_argument("--csv", metavar="F", help="write the front as CSV (- for stdout)")
    front.add_argument("--json", metavar="F", help="write the front as JSON (- for stdout)")
    front.add_argument("--all", action="store_true",
                       help="--csv/--json export every completed trial, feasible or not")
    front.add_argument("--plot", metavar="F.png|F.html",
                       help="draw the front (PNG, or any matplotlib format) or write the "
                       "interactive HTML report (.html)")
    front.add_argument("--batch", type=positive_int, help="restrict to one batch size")
    front.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import config_summary, load_ssropt_study
    from ssropt.errors import SsroptError
    from ssropt.outputs.front import all_rows, format_front, front_rows, write_csv, write_json
    from ssropt.storage import open_storage

    if args.csv == "-" and args.json == "-":
        raise SsroptError("--csv - and --json - would both write to stdout: pick one")
    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    rows = front_rows(study, batch=args.batch)
    exported = all_rows(study, batch=args.batch) if args.all else rows
    if args.csv:
        write_csv(exported, args.csv)
    if args.json:
        write_json(exported, args.json)
    if args.plot:
        if args.plot.lower().endswith((".html", ".htm")):
            from ssropt.outputs.report import write_study_report

            write_study_report(study, config, args.plot, batch=args.batch)
        else:
            from ssropt.outputs.plots import plot_fronts

            plot_fronts({args.study_name: rows}, args.plot, title=config_summary(config))
    if "-" in (args.csv, args.json):
        return 0  # stdout carries the export
    print(format_front(rows))
    if args.all and (args.csv or args.json):
        print(f"exported {len(exported)} trials ({len(rows)} on the front)", file=sys.stderr)
    return 0
