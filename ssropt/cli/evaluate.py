"""``ssropt evaluate``: evaluate one design file and print tables (or one JSON object)."""

from __future__ import annotations

import argparse
import json


def add_command(sub) -> None:
    """Register ``evaluate`` on the ``ssropt`` sub-command parser."""
    ev = sub.add_parser(
        "evaluate",
        help="evaluate one design file",
        description="Evaluate one design (JSON or TOML design file) with its cost model.",
    )
    ev.add_argument("design", help="design file (.json or .toml)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--gantt", metavar="F.png",
                    help="draw the lock-step schedule chart (.png, .pdf or .svg; - for standard "
                    "output, instead of the report)")
    ev.add_argument(
        "--tiles",
        choices=("ssr", "native"),
        help="single-AIE tiles of the ssr model: SSR's lists and kernel equation (ssr), or those "
        "derived from the native aie::mmul shapes (native); default: the platform's [ssr] tiles",
    )
    ev.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ssropt.objectives.design_file import design_to_spec, load_design
    from ssropt.objectives.models import CostModel
    from ssropt.outputs.design import evaluation_record, format_record
    from ssropt.outputs.files import FIGURE_SUFFIXES, STDOUT, check_destinations, write_outputs
    from ssropt.outputs.gantt import check_gantt, gantt_output

    check_destinations([(args.gantt, FIGURE_SUFFIXES)], what="--gantt")
    parsed = load_design(args.design)
    if args.tiles:
        from dataclasses import replace

        from ssropt.objectives.models.ssr.tiles import with_tiles

        parsed = replace(parsed, platform=with_tiles(parsed.platform, args.tiles))
    model = CostModel(parsed.workload, parsed.platform, parsed.dtype, parsed.cost_model)
    if args.gantt:
        check_gantt(model, parsed.designs)
    result = model.evaluate(parsed.designs)
    record = evaluation_record(model, parsed.designs, result, 0)
    if args.gantt:
        write_outputs([gantt_output(model, parsed.designs, 0, args.gantt)])
        if args.gantt == STDOUT:
            return 0
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        spec = design_to_spec(parsed.workload, parsed.platform, parsed.dtype, parsed.designs)
        print(format_record(record, spec))
    return 0
