"""``ssropt worker``: join a study and search it with the other workers until its budget is
spent (the protocol: :mod:`ssropt.engine.worker`).
"""

from __future__ import annotations

import argparse
import sys

from ssropt.cli.args import add_study_arguments, limited


def add_command(sub) -> None:
    """Register ``worker`` on the ``ssropt`` sub-command parser."""
    worker = sub.add_parser(
        "worker",
        help="join a study and search it with the other workers",
        description="Work on an existing study until its budget is spent (or the strategy "
        "has nothing left, or --time-limit): claim a share of the current generation, "
        "evaluate it, store it, close generations. Start any number of workers on any "
        "machines that share the storage; the result does not depend on how many.",
    )
    add_study_arguments(worker)
    worker.add_argument("--n-jobs", type=limited("--n-jobs"), default=1,
                        help="evaluation processes of this worker (default 1); for more "
                        "cores start more workers")
    worker.add_argument("--no-progress", action="store_true", help="no progress bar")
    worker.add_argument("--lease-seconds", type=limited("--lease-seconds"), default=30.0, metavar="S",
                        help="lease of this worker's claims: a worker that has not renewed "
                        "its claim for S seconds is presumed dead and its work is redone "
                        "(default 30)")
    worker.add_argument("--time-limit", type=limited("--time-limit"), metavar="S",
                        help="stop claiming work after S seconds (default: the study's)")
    worker.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ssropt.engine.runner import run_study
    from ssropt.engine.study import load_ssropt_study
    from ssropt.engine.worker import finished_message
    from ssropt.storage import open_storage

    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    done = finished_message(study, config)
    if done:
        print(f"{done}: nothing to do", file=sys.stderr)
        return 0
    try:
        summary = run_study(
            study,
            config,
            time_limit_s=args.time_limit,
            n_jobs=args.n_jobs,
            progress=not args.no_progress,
            lease_seconds=args.lease_seconds,
        )
    except KeyboardInterrupt:
        print(
            "error: interrupted; every design this worker finished is stored and its "
            "unfinished work goes to the other workers",
            file=sys.stderr,
        )
        return 130
    state = "finished" if summary.finished else "not finished"
    print(
        f"worker: {summary.evaluated_here} designs evaluated here in {summary.seconds:.1f} s "
        f"({summary.model_seconds:.1f} s in the model); study {args.study_name!r}: "
        f"{summary.evaluated} designs in {summary.generations} generations, {state}",
        file=sys.stderr,
    )
    return 0
