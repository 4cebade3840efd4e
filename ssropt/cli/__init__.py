"""The ``ssropt`` command line.

Every bad input raises an :class:`~ssropt.errors.SsroptError`; ``main``
prints its message on one line to stderr and exits with status 2.  Argument errors
from argparse are reported the same way.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from ssropt.errors import SsroptError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (status 2) instead of usage + message."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from ssropt.objectives.design_file import design_to_spec, load_design
    from ssropt.objectives.models import CostModel
    from ssropt.outputs.design import evaluation_record, format_record

    parsed = load_design(args.design)
    model = CostModel(parsed.workload, parsed.platform, parsed.dtype, parsed.cost_model)
    result = model.evaluate(parsed.designs)
    record = evaluation_record(model, parsed.designs, result, 0)
    if args.gantt:
        from ssropt.outputs.gantt import draw_gantt

        draw_gantt(model, parsed.designs, 0, args.gantt)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        spec = design_to_spec(parsed.workload, parsed.platform, parsed.dtype, parsed.designs)
        print(format_record(record, spec))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ssropt",
        description=(
            "Design-space exploration for spatial-sequential hybrid (SSR) transformer "
            "accelerators: evaluate designs with analytical models, search them with "
            "NSGA-II and Optuna samplers, store studies in Optuna storage."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    ev = sub.add_parser(
        "evaluate",
        help="evaluate one design file",
        description="Evaluate one design (JSON or TOML design file) with its cost model.",
    )
    ev.add_argument("design", help="design file (.json or .toml)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--gantt", metavar="F.png", help="draw the lock-step schedule chart")
    ev.set_defaults(func=_cmd_evaluate)

    from ssropt.cli_study import add_study_commands

    add_study_commands(sub)
    from ssropt.platform_cli import add_compare_platforms_command

    add_compare_platforms_command(sub)
    from ssropt.bench_cli import add_bench_command

    add_bench_command(sub)
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
    except SsroptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
