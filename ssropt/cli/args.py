"""Study commands: run, create-study, worker, resume, front, studies, show (Optuna's idiom:
--storage, --study-name).

``run`` is ``create-study`` plus one worker in the same process; ``worker`` joins a study
that exists (any number of them, on any machines sharing the storage); ``resume`` is a
worker that may first raise the study's budget.  The protocol the workers follow is
described in :mod:`ssropt.engine.worker`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from ssropt.errors import SsroptError
from ssropt.spaces.configured import configurator_choices, default_configurator
from ssropt.storage import DEFAULT_STORAGE


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_storage_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--storage",
        default=DEFAULT_STORAGE,
        help=f"a journal file path (default {DEFAULT_STORAGE}) or an Optuna RDB URL "
        "(sqlite:///file.db, postgresql+psycopg://user@host/db)",
    )


def _study_args(p: argparse.ArgumentParser) -> None:
    add_storage_argument(p)
    p.add_argument("--study-name", required=True, help="the study's name")


def add_workload_source_arguments(p: argparse.ArgumentParser) -> None:
    """``--model`` or ``--workload``, with the model's options."""
    work = p.add_argument_group("workload")
    source = work.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a zoo model: deit-t, deit-s, vit-b16, bert-base, ...")
    source.add_argument("--workload", metavar="FILE", help="workload object in JSON or TOML")
    work.add_argument("--tokens", type=positive_int, help="tokens (rows) per image")
    work.add_argument("--blocks", type=positive_int, help="encoder blocks")
    work.add_argument("--no-embed-head", action="store_true", help="block nodes only")


def add_hardware_arguments(p: argparse.ArgumentParser) -> None:
    """``--platform``, ``--dtype`` and ``--cost-model`` (the platform's own by default)."""
    hw = p.add_argument_group("hardware")
    hw.add_argument("--platform", default="vck190", help="platform name or TOML path (default vck190)")
    hw.add_argument("--dtype", default="int8", help="data type: int8, int16, fp32 (default int8)")
    hw.add_argument(
        "--cost-model",
        help="the platform's own by default: ssr on Versal, fpga on FPGAs, gpu-roofline on "
        "GPUs; charm on Versal by request",
    )


def add_workload_arguments(p: argparse.ArgumentParser) -> None:
    """The workload and hardware options (run, create-study, compare, bench)."""
    add_workload_source_arguments(p)
    add_hardware_arguments(p)


def workload_words(args: argparse.Namespace) -> list[str]:
    """The workload options of ``args`` as command-line words (for reproducing commands)."""
    words = ["--model", args.model] if args.model else ["--workload", args.workload]
    for flag, value in (("--tokens", args.tokens), ("--blocks", args.blocks)):
        if value:
            words += [flag, str(value)]
    if args.no_embed_head:
        words.append("--no-embed-head")
    return words


def hardware_words(args: argparse.Namespace) -> list[str]:
    """``--platform``, ``--dtype`` and, when given, ``--cost-model`` as words."""
    words = ["--platform", args.platform, "--dtype", args.dtype]
    return words + (["--cost-model", args.cost_model] if args.cost_model else [])


def add_budget_arguments(group, *, per: str, budget: int, exhaustive_limit: int, exhaustive_help: str,
                         seed: bool = True) -> None:
    """``--budget`` (evaluations ``per`` study), ``--population``, ``--seed`` and
    ``--exhaustive-limit`` (compare, compare-platforms, bench)."""
    group.add_argument(
        "--budget", type=positive_int, default=budget, help=f"evaluations {per} (default {budget})"
    )
    group.add_argument(
        "--population", type=positive_int, default=100, help="designs per generation (default 100)"
    )
    if seed:
        group.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    group.add_argument(
        "--exhaustive-limit", type=non_negative_int, default=exhaustive_limit, metavar="N",
        help=f"{exhaustive_help} (default {exhaustive_limit:,})",
    )


def add_output_arguments(p: argparse.ArgumentParser, *, default_out: str, study_names: str):
    """``--out``, ``--force`` and ``--study-prefix``; returns the group for more."""
    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help=f"output directory (default {default_out})")
    out.add_argument("--force", action="store_true", help="write into a non-empty --out")
    out.add_argument("--study-prefix", help=f"study names {study_names}")
    return out


def add_batch_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch", default="1-8", help="batch sizes: a range 1-8 or a list 1,3,6 (default 1-8)")


def add_configurator_argument(group) -> None:
    """``--configurator`` (run, create-study, bench)."""
    group.add_argument(
        "--configurator", default="auto", choices=("auto", *configurator_choices()),
        help="how each accelerator's parameters are chosen: ssr = configured the SSR way for "
        "its share of the chip (the genome is the batch and the assignment), none = searched "
        "as genes; auto (default) = ssr for the hybrid space of the ssr cost model, else none",
    )


def resolve_configurator(choice: str, cost_model: str, family: str) -> str:
    """``auto`` -> the cost model's own configurator for the hybrid space, else ``none``."""
    if choice != "auto":
        return choice
    return default_configurator(cost_model, family)


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """The options that define a study (shared by run and create-study)."""
    add_workload_arguments(p)
    sp = p.add_argument_group("search space")
    sp.add_argument("--space", default="hybrid", help="hybrid (default), sequential or spatial")
    add_batch_argument(sp)
    sp.add_argument("--min-accelerators", type=positive_int, default=1)
    sp.add_argument("--max-accelerators", type=positive_int, help="default: one per node group")
    sp.add_argument("--latency-ceiling", type=positive_float, metavar="S", help="constraint: latency <= S seconds")
    sp.add_argument("--group", default="none", help="node grouping: none (default), qkv, attention")
    sp.add_argument("--no-repair", action="store_true", help="evaluate genomes without repair")
    add_configurator_argument(sp)
    se = p.add_argument_group("search")
    se.add_argument("--strategy", default="nsga2", help="nsga2 (default), optuna-nsga2, tpe, random, qmc, gp, exhaustive")
    limit = se.add_mutually_exclusive_group()
    limit.add_argument("--budget", type=positive_int, help="evaluations (default 2000)")
    limit.add_argument("--time-limit", type=positive_float, metavar="S", help="seconds of search")
    se.add_argument("--population", type=positive_int, default=100, help="designs per generation (default 100)")
    se.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    se.add_argument("--seed-design", action="append", default=[], metavar="F.json",
                    help="a design file to put in the first generation (repeatable)")
    se.add_argument("--chunk-size", type=positive_int, default=25, metavar="N",
                    help="designs per unit of work shared out to workers (default 25; "
                    "results do not depend on it)")
    p.add_argument("--study-name", help="default: MODEL-SPACE-STRATEGY-TIMESTAMP")
    add_storage_argument(p)


def workload_from_args(args: argparse.Namespace):
    """The Workload of ``--model`` (with its options) or ``--workload FILE``."""
    from ssropt.objectives.workloads.spec import load_workload_file, workload_from_spec

    if args.model:
        spec: dict = {"model": args.model}
        if args.tokens:
            spec["tokens"] = args.tokens
        if args.blocks:
            spec["blocks"] = args.blocks
        if args.no_embed_head:
            spec["embed_and_head"] = False
        workload = workload_from_spec(spec)
    else:
        if args.tokens or args.blocks or args.no_embed_head:
            raise SsroptError("--tokens, --blocks and --no-embed-head go with --model, not --workload")
        workload = load_workload_file(args.workload)
    return workload


def config_from_args(args: argparse.Namespace):
    """Validate the search options and build the StudyConfig (nothing is written)."""
    from ssropt.engine.study import StudyConfig
    from ssropt.objectives.design_file import load_design
    from ssropt.spaces import SpaceOptions, group_preset, parse_batch_sizes
    from ssropt.strategies import available_strategies, make_strategy

    workload = workload_from_args(args)
    if args.strategy not in available_strategies():
        raise SsroptError(
            f"unknown strategy {args.strategy!r}: known strategies are {', '.join(available_strategies())}"
        )
    options = SpaceOptions(
        family=args.space,
        batch_sizes=parse_batch_sizes(args.batch),
        min_accelerators=args.min_accelerators,
        max_accelerators=args.max_accelerators,
        latency_ceiling_s=args.latency_ceiling,
        groups=group_preset(args.group),
        repair=not args.no_repair,
    )
    budget = None if args.time_limit else (args.budget or 2000)
    config = StudyConfig(
        workload=workload.describe(),
        platform=args.platform,
        dtype=args.dtype,
        cost_model=args.cost_model,  # None: the platform's own
        space=options.to_dict(),
        strategy=args.strategy,
        seed=args.seed,
        budget=budget,
        time_limit_s=args.time_limit,
        population_size=args.population,
        chunk_size=args.chunk_size,
    )
    seed_designs = []
    for path in args.seed_design:
        parsed = load_design(path)
        if parsed.workload.names != workload.names or parsed.cost_model != config.cost_model:
            raise SsroptError(f"seed design {path!r} is for another workload or cost model")
        from ssropt.objectives.design_file import design_to_spec

        seed_designs.append(design_to_spec(parsed.workload, parsed.platform, parsed.dtype, parsed.designs))
    config = replace(config, seed_designs=seed_designs)
    configurator = resolve_configurator(args.configurator, config.cost_model, options.family)
    config = replace(config, space=replace(options, configurator=configurator).to_dict())
    space = config.build_space()  # validates platform, dtype, cost model and the space
    space.check_feasible()
    # refuses, before any study exists, an exhaustive search of a too large space or
    # more seed designs than the first generation holds
    make_strategy(config.strategy, space, config.seed, config.population_size,
                  config.initial_genomes(space))
    return config, space


def workload_label(workload: dict) -> str:
    """A short name of a workload spec: the zoo model, the HF config's folder, or gemms."""
    return workload.get("model") or Path(str(workload.get("hf_config", "gemms"))).parent.name or "workload"


def _default_name(config) -> str:
    model = workload_label(config.workload)
    return f"{model}-{config.space['family']}-{config.strategy}-{time.strftime('%Y%m%d-%H%M%S')}"


def _cmd_run(args: argparse.Namespace) -> int:
    from ssropt.engine.study import create_ssropt_study
    from ssropt.storage import open_storage

    config, _ = config_from_args(args)
    storage = open_storage(args.storage)
    name = args.study_name or _default_name(config)
    study = create_ssropt_study(storage, name, config)
    print(f"study {name!r} in {args.storage}", file=sys.stderr)
    return _run_and_report(study, config, args, storage_url=args.storage, name=name)


def _cmd_create_study(args: argparse.Namespace) -> int:
    from ssropt.engine.study import create_ssropt_study
    from ssropt.storage import open_storage

    config, _ = config_from_args(args)
    storage = open_storage(args.storage)
    name = args.study_name or _default_name(config)
    create_ssropt_study(storage, name, config)
    print(
        f"study {name!r} created in {args.storage}; start workers with "
        f"`ssropt worker --storage {args.storage} --study-name {name}`",
        file=sys.stderr,
    )
    print(name)
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from ssropt.engine.runner import run_study
    from ssropt.engine.study import load_ssropt_study
    from ssropt.engine.work import finished_message
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


def _run_and_report(study, config, args, storage_url: str, name: str, budget=None) -> int:
    from ssropt.engine.runner import run_study
    from ssropt.outputs.front import format_front, front_rows

    try:
        summary = run_study(study, config, budget=budget, n_jobs=args.n_jobs, progress=not args.quiet)
    except KeyboardInterrupt:
        print(
            f"error: interrupted; every finished generation is stored: resume with "
            f"`ssropt resume --storage {storage_url} --study-name {name}`",
            file=sys.stderr,
        )
        return 130
    print(
        f"{summary.evaluated} designs in {summary.generations} generations, "
        f"{summary.seconds:.1f} s ({summary.model_seconds:.1f} s in the model)",
        file=sys.stderr,
    )
    print(format_front(front_rows(study)))
    return 0


def _cmd_resume(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ssropt.engine.study import load_ssropt_study
    from ssropt.storage import open_storage

    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    if args.budget is not None:
        config = replace(config, budget=args.budget)
        study.set_user_attr("ssropt:budget", args.budget)
    return _run_and_report(study, config, args, args.storage, args.study_name)


def _cmd_front(args: argparse.Namespace) -> int:
    from ssropt.engine.study import config_summary, load_ssropt_study
    from ssropt.outputs.front import format_front, front_rows, write_csv, write_json
    from ssropt.outputs.plots import plot_fronts
    from ssropt.storage import open_storage

    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    rows = front_rows(study, batch=args.batch)
    if args.csv:
        write_csv(rows, args.csv)
    if args.json:
        write_json(rows, args.json)
    if args.plot:
        plot_fronts({args.study_name: rows}, args.plot, title=config_summary(config))
    print(format_front(rows))
    return 0


def _cmd_studies(args: argparse.Namespace) -> int:
    import optuna

    from ssropt.engine.study import StudyConfig, StudyError, config_summary
    from ssropt.storage import open_storage

    storage = open_storage(args.storage, must_exist=True)
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    if not summaries:
        print("no studies in this storage")
        return 0
    for s in summaries:
        try:
            text = config_summary(StudyConfig.from_attrs(s.user_attrs, s.study_name))
        except (StudyError, TypeError):
            text = "not an ssropt study"
        print(f"{s.study_name}: {s.n_trials} trials; {text}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    import numpy as np
    import optuna

    from ssropt.engine.records import GENOME_KEY
    from ssropt.engine.study import StudyError, load_ssropt_study
    from ssropt.objectives.design_file import design_to_spec
    from ssropt.outputs.design import evaluation_record, format_record
    from ssropt.storage import open_storage

    storage = open_storage(args.storage, must_exist=True)
    study, config = load_ssropt_study(storage, args.study_name)
    trials = [t for t in study.get_trials(deepcopy=False) if t.number == args.trial]
    if not trials or trials[0].state != optuna.trial.TrialState.COMPLETE:
        raise StudyError(f"study {args.study_name!r} has no completed trial {args.trial}")
    space = config.build_space()
    # the design the search evaluated: decoded, configured and repaired as it was then
    designs = space.evaluate(np.array([trials[0].system_attrs[GENOME_KEY]])).designs
    model = space.model
    result = model.evaluate(designs)
    record = evaluation_record(model, designs, result, 0)
    spec = design_to_spec(model.workload, model.platform, model.dtype, designs)
    if args.design_out:
        from ssropt.outputs.front import open_output

        with open_output(args.design_out) as fh:
            json.dump(spec, fh, indent=2)
    if args.gantt:
        from ssropt.outputs.gantt import draw_gantt

        draw_gantt(model, designs, 0, args.gantt)
    print(json.dumps(record, indent=2) if args.json else format_record(record, spec))
    return 0


def add_study_commands(sub) -> None:
    """Register the study sub-commands on the ``ssropt`` parser."""
    run = sub.add_parser(
        "run",
        help="create a study and search it",
        description="Create a study in Optuna storage and search its space; prints the "
        "latency-throughput Pareto front at the end.",
    )
    add_search_arguments(run)
    run_options(run)
    run.set_defaults(func=_cmd_run)

    create = sub.add_parser(
        "create-study",
        help="create a study for workers to search",
        description="Create a study in Optuna storage with every search setting (the options "
        "of `ssropt run`), evaluate nothing, and print its name; `ssropt worker` processes "
        "then search it together.",
    )
    add_search_arguments(create)
    create.set_defaults(func=_cmd_create_study)

    worker = sub.add_parser(
        "worker",
        help="join a study and search it with the other workers",
        description="Work on an existing study until its budget is spent (or the strategy "
        "has nothing left, or --time-limit): claim a share of the current generation, "
        "evaluate it, store it, close generations. Start any number of workers on any "
        "machines that share the storage; the result does not depend on how many.",
    )
    _study_args(worker)
    worker.add_argument("--n-jobs", type=positive_int, default=1,
                        help="evaluation processes of this worker (default 1); for more "
                        "cores start more workers")
    worker.add_argument("--no-progress", action="store_true", help="no progress bar")
    worker.add_argument("--lease-seconds", type=positive_float, default=30.0, metavar="S",
                        help="lease of this worker's claims: a worker that has not renewed "
                        "its claim for S seconds is presumed dead and its work is redone "
                        "(default 30)")
    worker.add_argument("--time-limit", type=positive_float, metavar="S",
                        help="stop claiming work after S seconds (default: the study's)")
    worker.set_defaults(func=_cmd_worker)

    resume = sub.add_parser(
        "resume", help="continue an interrupted or finished study",
        description="Resume a study from its storage: the same front as an uninterrupted run.",
    )
    _study_args(resume)
    resume.add_argument("--budget", type=positive_int, help="new total evaluation budget")
    run_options(resume)
    resume.set_defaults(func=_cmd_resume)

    front = sub.add_parser("front", help="print or export a study's Pareto front",
                           description="The latency-throughput Pareto front of a study.")
    _study_args(front)
    front.add_argument("--csv", metavar="F")
    front.add_argument("--json", metavar="F")
    front.add_argument("--plot", metavar="F.png")
    front.add_argument("--batch", type=positive_int, help="restrict to one batch size")
    front.set_defaults(func=_cmd_front)

    studies = sub.add_parser("studies", help="list the studies of a storage")
    add_storage_argument(studies)
    studies.set_defaults(func=_cmd_studies)

    show = sub.add_parser("show", help="evaluate and print one trial's design")
    _study_args(show)
    show.add_argument("--trial", type=non_negative_int, required=True, help="trial number")
    show.add_argument("--design-out", metavar="F.json", help="write the design file")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.add_argument("--gantt", metavar="F.png", help="draw the lock-step schedule chart")
    show.set_defaults(func=_cmd_show)

    from ssropt.compare_cli import add_compare_command

    add_compare_command(sub)


def run_options(p: argparse.ArgumentParser) -> None:
    """--n-jobs and --quiet (run, resume, compare)."""
    p.add_argument("--n-jobs", type=positive_int, default=1, help="evaluation processes (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
