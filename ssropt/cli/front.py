"""``ssropt front``: print or export the latency-throughput Pareto front of a study.

Every file is written all or nothing (``ssropt.outputs.files``): all destinations are
checked before the study is read, and either every file appears or none does.
"""

from __future__ import annotations

import argparse

from ssropt.cli.args import add_study_arguments, limited


def add_command(sub) -> None:
    """Register ``front`` on the ``ssropt`` sub-command parser."""
    front = sub.add_parser("front", help="print or export a study's Pareto front",
                           description="The latency-throughput Pareto front of a study.")
    add_study_arguments(front)
    front.add_argument("--csv", metavar="F.csv", help="write the front as CSV (- for standard output)")
    front.add_argument("--json", metavar="F.json", help="write the front as JSON (- for standard output)")
    front.add_argument("--plot", metavar="F.png", help="plot the front (.png, .pdf or .svg)")
    front.add_argument("--batch", type=limited("--batch"), help="restrict to one batch size")
    front.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import config_summary, load_ssropt_study
    from ssropt.outputs.files import FIGURE_SUFFIXES, STDOUT, check_destinations, write_outputs
    from ssropt.outputs.front import csv_output, format_front, front_rows, json_output
    from ssropt.outputs.plots import plot_output
    from ssropt.storage import open_storage

    destinations = [(args.csv, (".csv",)), (args.json, (".json",)), (args.plot, FIGURE_SUFFIXES)]
    check_destinations(destinations)
    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    rows = front_rows(study, batch=args.batch)
    outputs = []
    if args.csv:
        outputs.append(csv_output(rows, args.csv))
    if args.json:
        outputs.append(json_output(rows, args.json))
    if args.plot:
        outputs.append(plot_output({args.study_name: rows}, args.plot, title=config_summary(config)))
    write_outputs(outputs)
    if STDOUT not in (args.csv, args.json, args.plot):
        if not rows and args.batch is not None:
            print(_no_design_at_batch(study, config, args.batch))
        else:
            print(format_front(rows))
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
