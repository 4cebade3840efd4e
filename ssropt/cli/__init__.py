"""The ``ssropt`` command line: one module per command, the shared arguments in :mod:`.args`.

Every bad input raises an :class:`~ssropt.errors.SsroptError`; :func:`main` prints its
message on one line to stderr (``error: <message>``) and exits with status 2.  Arguments
argparse refuses are reported the same way, prefixed by the command
(``ssropt run: error: argument --budget: ...``).  Ctrl-C is one line and status 130, also
while the command modules load (this module imports them inside :func:`main`); a closed
standard output (``ssropt evaluate d.json --json | head``) ends quietly with status 141;
anything else unexpected is one ``error: internal error: ...`` line and status 1 (``-v``
shows the traceback).
"""

from __future__ import annotations

import signal
import sys


def _interrupted_while_loading(signum, frame):  # pragma: no cover - timing
    print("error: interrupted", file=sys.stderr)
    raise SystemExit(130)


# Ctrl-C before main() runs (while Python loads this package): one line, status 130
try:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted_while_loading)
except ValueError:  # not the main thread: leave the handler alone
    pass

import argparse  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402

from ssropt import __version__  # noqa: E402
from ssropt.errors import SsroptError, UsageError  # noqa: E402

#: the command modules of :mod:`ssropt.cli`, in the order ``ssropt --help`` lists them
COMMANDS = ("evaluate", "run", "create_study", "worker", "resume", "front", "studies", "show",
            "dashboard", "compare", "compare_platforms", "bench")
#: the exit status after a closed standard output (128 + SIGPIPE, as a shell reports it)
BROKEN_PIPE_STATUS = 141


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
        importlib.import_module(f"ssropt.cli.{command}").add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        if signal.getsignal(signal.SIGINT) is _interrupted_while_loading:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return _main(argv)
    except BrokenPipeError:
        _silence_stdout()
        return BROKEN_PIPE_STATUS
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    words = sys.argv[1:] if argv is None else argv
    verbose = "-v" in words or "--verbose" in words
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
        status = args.func(args)
        sys.stdout.flush()  # a closed pipe fails here, not at exit
        return status
    except UsageError as exc:
        where = f"{exc.command}: error" if exc.command else "error"
        print(f"{where}: {_one_line(exc.message)}", file=sys.stderr)
        return 2
    except SsroptError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug, not bad input: one line, the traceback with -v
        if verbose or logging.getLogger().isEnabledFor(logging.INFO):
            logging.getLogger("ssropt").exception("internal error")
        detail = _one_line(f"{type(exc).__name__}: {exc}")
        print(f"error: internal error (please report it): {detail}", file=sys.stderr)
        return 1


#: the longest message printed: one quoting a huge value is cut in the middle
MAX_MESSAGE = 2000


def _one_line(message: str) -> str:
    """``message`` on one line (a message quoting a file's text may hold line breaks),
    at most :data:`MAX_MESSAGE` characters."""
    if "\n" in message or "\r" in message:
        message = " ".join(message.split())
    if len(message) > MAX_MESSAGE:
        half = MAX_MESSAGE // 2 - 3
        message = f"{message[:half]} ... {message[-half:]}"
    return message


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's final flush of a
    closed pipe raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests)
        pass
