"""``ssropt dashboard``: serve optuna-dashboard on a storage, best trials feasible-only
(:mod:`ssropt.outputs.dashboard`).
"""

from __future__ import annotations

import argparse

from ssropt.cli.args import add_storage_argument


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (0-65535)")
    return value


def add_command(sub) -> None:
    """Register ``dashboard`` on the ``ssropt`` sub-command parser."""
    p = sub.add_parser(
        "dashboard",
        help="serve optuna-dashboard with feasible-only best trials",
        description="Serve optuna-dashboard on a storage (every study in it) until Ctrl-C. "
        "Unlike plain optuna-dashboard, a study's best trials are the Pareto front of its "
        "FEASIBLE designs. Needs optuna-dashboard (pip install -e \".[dashboard]\").",
    )
    add_storage_argument(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ssropt.outputs.dashboard import serve
    from ssropt.storage import open_storage

    serve(open_storage(args.storage, must_exist=True), args.host, args.port)
    return 0
