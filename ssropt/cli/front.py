"""``ssropt front``: print or export the Pareto front of a study (latency-throughput, or
latency-throughput-energy in a three-objective study).

``--csv F`` and ``--json F`` write the front (``-``: standard output, and the table is
not printed), ``--all`` every COMPLETE trial instead (feasible or not, with ``feasible``,
``on_front`` and ``violations``); ``--plot F.png`` draws the front, ``--plot F.html``
writes the interactive report (:mod:`ssropt.outputs.report`).  Every file is written all
or nothing (``ssropt.outputs.files``): all destinations are checked before the study is
read, and either every file appears or none does.
"""

from __future__ import annotations

import argparse
import sys

from ssropt.cli.args import add_study_arguments, limited

HTML_SUFFIXES = (".html", ".htm")


def add_command(sub) -> None:
    """Register ``front`` on the ``ssropt`` sub-command parser."""
    front = sub.add_parser("front", help="print or export a study's Pareto front",
                           description="The Pareto front of a study over its objectives "
                           "(latency and throughput, and energy per image when searched).")
    add_study_arguments(front)
    front.add_argument("--csv", metavar="F.csv", help="write the front as CSV (- for standard output)")
    front.add_argument("--json", metavar="F.json", help="write the front as JSON (- for standard output)")
    front.add_argument("--all", action="store_true",
                       help="--csv/--json export every completed trial, feasible or not")
    front.add_argument("--plot", metavar="F.png|F.html",
                       help="draw the front (.png, .pdf or .svg) or write the interactive "
                       "HTML report (.html)")
    front.add_argument("--batch", type=limited("--batch"), help="restrict to one batch size")
    front.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import config_summary, load_ssropt_study
    from ssropt.outputs.files import (
        FIGURE_SUFFIXES,
        STDOUT,
        check_destinations,
        staged_outputs,
        write_outputs,
    )
    from ssropt.outputs.front import all_rows, csv_output, format_front, front_rows, json_output
    from ssropt.outputs.plots import plot_output
    from ssropt.storage import open_storage

    html = bool(args.plot) and args.plot.lower().endswith(HTML_SUFFIXES)
    check_destinations([(args.csv, (".csv",)), (args.json, (".json",)),
                        (args.plot, (*FIGURE_SUFFIXES, *HTML_SUFFIXES))])
    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    rows = front_rows(study, batch=args.batch)
    exported = all_rows(study, batch=args.batch) if args.all else rows
    outputs = []
    if args.csv:
        outputs.append(csv_output(exported, args.csv))
    if args.json:
        outputs.append(json_output(exported, args.json))
    if args.plot and not html:
        outputs.append(plot_output({args.study_name: rows}, args.plot, title=config_summary(config),
                                   objectives=config.objectives))
    with staged_outputs():
        write_outputs(outputs)
        if html:
            from ssropt.outputs.report import write_study_report

            write_study_report(study, config, args.plot, batch=args.batch)
    if STDOUT in (args.csv, args.json, args.plot):
        return 0  # standard output carries the export
    if not rows and args.batch is not None:
        print(_no_design_at_batch(study, config, args.batch))
    else:
        print(format_front(rows, config.objectives))
    if args.all and (args.csv or args.json):
        print(f"exported {len(exported)} trials ({len(rows)} on the front)", file=sys.stderr)
    return 0


def _batches_found(study) -> str:
    from ssropt.outputs.front import feasible_trials

    found = sorted({t.params.get("batch") for t in feasible_trials(study)} - {None})
    if not found:
        return "the study has no feasible design yet"
    return f"feasible designs exist at batch {', '.join(map(str, found))}"


def _no_design_at_batch(study, config, batch: int) -> str:
    """Why the front at ``batch`` is empty, and which batch sizes have feasible designs."""
    searched = config.space.get("batch_sizes") or []
    if searched and batch not in searched:
        return (
            f"study {study.study_name!r} has no design at batch {batch}: it searches batch "
            f"sizes {', '.join(map(str, searched))}; {_batches_found(study)}"
        )
    return f"no feasible design at batch {batch} yet; {_batches_found(study)}"
