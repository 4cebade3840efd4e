"""``ssropt show``: evaluate and print one trial's design, as ``ssropt evaluate`` does, and
write its design file or schedule chart.
"""

from __future__ import annotations

import argparse
import json

from ssropt.cli.args import add_study_arguments, limited


def add_command(sub) -> None:
    """Register ``show`` on the ``ssropt`` sub-command parser."""
    show = sub.add_parser("show", help="evaluate and print one trial's design")
    add_study_arguments(show)
    show.add_argument("--trial", type=limited("--trial"), required=True, help="trial number")
    show.add_argument("--design-out", metavar="F.json",
                      help="write the design file (- for standard output, instead of the report)")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.add_argument("--gantt", metavar="F.png",
                      help="draw the lock-step schedule chart (.png, .pdf or .svg)")
    show.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import numpy as np
    import optuna

    from ssropt.engine.records import GENOME_KEY
    from ssropt.engine.study import StudyError, load_ssropt_study
    from ssropt.objectives.design_file import design_to_spec
    from ssropt.outputs.design import evaluation_record, format_record
    from ssropt.outputs.files import (
        FIGURE_SUFFIXES,
        STDOUT,
        Output,
        check_destinations,
        write_outputs,
    )
    from ssropt.outputs.gantt import check_gantt, gantt_output
    from ssropt.storage import open_storage

    check_destinations([(args.design_out, (".json",)), (args.gantt, FIGURE_SUFFIXES)])
    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    trials = [t for t in study.get_trials(deepcopy=False) if t.number == args.trial]
    if not trials or trials[0].state != optuna.trial.TrialState.COMPLETE:
        raise StudyError(f"study {args.study_name!r} has no completed trial {args.trial}")
    space = config.build_space()
    # the design the search evaluated: decoded, configured and repaired as it was then
    designs = space.evaluate(np.array([trials[0].system_attrs[GENOME_KEY]])).designs
    model = space.model
    if args.gantt:
        check_gantt(model, designs)
    result = model.evaluate(designs)
    record = evaluation_record(model, designs, result, 0)
    spec = design_to_spec(model.workload, model.platform, model.dtype, designs)
    outputs = []
    if args.design_out:
        outputs.append(Output(args.design_out, lambda fh: json.dump(spec, fh, indent=2)))
    if args.gantt:
        outputs.append(gantt_output(model, designs, 0, args.gantt))
    write_outputs(outputs)
    if STDOUT in (args.design_out, args.gantt):
        return 0
    print(json.dumps(record, indent=2) if args.json else format_record(record, spec))
    return 0
