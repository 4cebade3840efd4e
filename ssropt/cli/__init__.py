"""The ``ssropt`` command line: one module per command, the shared arguments in :mod:`.args`.

Every bad input raises an :class:`~ssropt.errors.SsroptError`; :func:`main` prints its
message on one line to stderr (``error: <message>``) and exits with status 2.  Arguments
argparse refuses are reported the same way, prefixed by the command
(``ssropt run: error: argument --budget: ...``).
"""

from __future__ import annotations

import argparse
import logging
import sys

from ssropt import __version__
from ssropt.cli import (
    bench,
    compare,
    compare_platforms,
    create_study,
    dashboard,
    evaluate,
    front,
    resume,
    run,
    show,
    studies,
    worker,
)
from ssropt.errors import SsroptError, UsageError

#: the commands, in the order ``ssropt --help`` lists them
COMMANDS = (evaluate, run, create_study, worker, resume, front, studies, show, dashboard,
            compare, compare_platforms, bench)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (status 2) instead of usage + message."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message, command=self.prog)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ssropt",
        description=(
            "Design-space exploration for spatial-sequential hybrid (SSR) transformer "
            "accelerators: evaluate designs with analytical models, search them with "
            "NSGA-II and Optuna samplers, store studies in Optuna storage."
        ),
    )
    parser.add_argument("--version", action="version", version=f"ssropt {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        import optuna

        optuna.logging.set_verbosity(optuna.logging.INFO if args.verbose else optuna.logging.WARNING)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return args.func(args)
    except UsageError as exc:
        where = f"{exc.command}: error" if exc.command else "error"
        print(f"{where}: {exc.message}", file=sys.stderr)
        return 2
    except SsroptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
