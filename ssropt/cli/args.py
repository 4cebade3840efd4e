"""The argument helpers every ``ssropt`` command shares.

Argument types (:func:`limited`: every numeric option within its limit in
:data:`OPTION_LIMITS`; :func:`storage_url`; the generic :func:`positive_int`,
:func:`non_negative_int`, :func:`positive_float`),
argument groups (storage and study name, workload, hardware, search space and search,
budget, output, run options), the words that reproduce them on a command line, and what
they build: the workload, the study settings (:func:`config_from_args`) and the names and
output directory of a comparison.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from ssropt.errors import SsroptError
from ssropt.objectives.files import special_file
from ssropt.objectives.validation import LIMITS, Float, Int
from ssropt.spaces.configured import configurator_choices, default_configurator
from ssropt.storage import DEFAULT_STORAGE
from ssropt.strategies.exhaustive import CHUNK as EXHAUSTIVE_CHUNK

#: designs per generation of ``run`` (a population)
DEFAULT_POPULATION = 100

# -- argument types ---------------------------------------------------------------------
#: the limit of every numeric option (listed in the README's error table); workload and
#: batch options share the design file's limits (``ssropt.objectives.validation.LIMITS``)
OPTION_LIMITS: dict[str, Int | Float] = {
    "--tokens": LIMITS["tokens"],
    "--blocks": LIMITS["blocks"],
    "--batch": LIMITS["batch"],
    "--budget": Int(1, 10**9, "evaluations"),
    "--population": Int(1, 100_000, "designs per generation"),
    "--seed": Int(0, 2**32 - 1, "a 32-bit seed"),
    "--seeds": Int(1, 1000, "runs per strategy"),
    "--n-jobs": Int(1, 1024, "processes"),
    "--chunk-size": Int(1, 100_000, "designs per unit of work"),
    "--exhaustive-limit": Int(0, 10**9, "designs enumerated"),
    "--min-accelerators": LIMITS["nodes"],
    "--max-accelerators": LIMITS["nodes"],
    "--trial": Int(0, 2**31 - 1, "a trial number"),
    "--time-limit": Float(0.0, 1e7, low_open=True, why="seconds, about 116 days"),
    "--latency-ceiling": Float(0.0, 1e6, low_open=True, why="seconds"),
    "--power-cap": Float(0.0, 1e5, low_open=True, why="watts, as the platform power terms"),
    "--lease-seconds": Float(0.0, 86400.0, low_open=True, why="seconds, one day"),
}


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _number(text: str, integer: bool) -> int | float | None:
    """The number ``text`` spells (an integer too long for ``int()``: +-inf), or None."""
    try:
        return int(text) if integer else float(text)
    except ValueError:
        digits = text.strip().lstrip("+-")
        if integer and digits.isdigit():  # more than 4,300 digits
            return -math.inf if text.strip().startswith("-") else math.inf
        return None


def bounded(spec: Int | Float):
    """An argparse type: the option's text as a number within ``spec``; one argparse
    error (``expected a positive integer, got '0'``) otherwise."""

    def parse(text: str):
        number = _number(text, integer=isinstance(spec, Int))
        if number is not None:
            try:
                return spec.check(number, "value")
            except SsroptError:
                pass
        wanted = spec.describe()
        if number is not None and spec.high < number and (isinstance(spec, Int) or math.isfinite(number)):
            limit = f"{spec.high:,}" if isinstance(spec, Int) else f"{spec.high:g}"
            wanted += f" at most {limit}" + (f" ({spec.why})" if spec.why else "")
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {_shown(text)}")

    parse.__name__ = "integer" if isinstance(spec, Int) else "number"
    return parse


def limited(option: str):
    """The argparse type of ``option`` (a key of :data:`OPTION_LIMITS`)."""
    return bounded(OPTION_LIMITS[option])


#: generic types for options without a limit of their own
positive_int = bounded(Int(1, 2**53))
non_negative_int = bounded(Int(0, 2**53))
positive_float = bounded(Float(0.0, 1e15, low_open=True))


def storage_url(text: str) -> str:
    """An argparse type: ``--storage`` refused when it names something that is not a
    regular file (a directory, FIFO, device ...): opening a FIFO would block forever."""
    path = text
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if not scheme.lower().startswith("sqlite") or not rest.startswith("/"):
            return text
        path = rest[1:].split("?", 1)[0]
        if not path or path == ":memory:" or path.startswith("file:"):
            return text
    kind = special_file(os.path.expanduser(path))
    if kind is not None:
        raise argparse.ArgumentTypeError(f"{_shown(text)} is {kind}, not a storage file")
    if "://" not in text and not _journal_or_other(os.path.expanduser(path)):
        # a JSON file (a design file, say) is no journal: opening it as one would cut what
        # looks like a torn last entry, i.e. the whole file
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not an Optuna journal file")
    return text


def _journal_or_other(path: str) -> bool:
    """False for an existing file that starts like JSON but not like a journal entry."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip()
    except OSError:
        return True  # missing or unreadable: the storage reports it
    return not head.startswith(b"{") or re.match(rb'\{\s*"op_code"', head) is not None


# -- argument groups --------------------------------------------------------------------
def add_storage_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--storage",
        type=storage_url,
        default=DEFAULT_STORAGE,
        help=f"a journal file path (default {DEFAULT_STORAGE}) or an Optuna RDB URL "
        "(sqlite:///file.db, postgresql+psycopg://user@host/db)",
    )


def add_study_arguments(p: argparse.ArgumentParser) -> None:
    """``--storage`` and ``--study-name`` (worker, resume, front, show)."""
    add_storage_argument(p)
    p.add_argument("--study-name", required=True, help="the study's name")


def add_workload_source_arguments(p: argparse.ArgumentParser) -> None:
    """``--model`` or ``--workload``, with the model's options."""
    work = p.add_argument_group("workload")
    source = work.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a zoo model: deit-t, deit-s, vit-b16, bert-base, ...")
    source.add_argument("--workload", metavar="FILE", help="workload object in JSON or TOML")
    work.add_argument("--tokens", type=limited("--tokens"), help="tokens (rows) per image")
    work.add_argument("--blocks", type=limited("--blocks"), help="encoder blocks")
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


def add_budget_arguments(group, *, per: str, budget: int, exhaustive_limit: int, exhaustive_help: str,
                         seed: bool = True) -> None:
    """``--budget`` (evaluations ``per`` study), ``--population``, ``--seed`` and
    ``--exhaustive-limit`` (compare, compare-platforms, bench)."""
    group.add_argument(
        "--budget", type=limited("--budget"), default=budget, help=f"evaluations {per} (default {budget})"
    )
    group.add_argument(
        "--population", type=limited("--population"), default=100, help="designs per generation (default 100)"
    )
    if seed:
        group.add_argument("--seed", type=limited("--seed"), default=0, help="random seed (default 0)")
    group.add_argument(
        "--exhaustive-limit", type=limited("--exhaustive-limit"), default=exhaustive_limit, metavar="N",
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
        "its share of the chip (the genome is the batch and the assignment); tuned = as ssr "
        "with a searched weight on each accelerator's share; none = searched as genes; auto "
        "(default) = ssr for the hybrid space of a cost model with a configurator (ssr, fpga), "
        "else none",
    )


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """The options that define a study (shared by run and create-study)."""
    add_workload_arguments(p)
    sp = p.add_argument_group("search space")
    sp.add_argument("--space", default="hybrid", help="hybrid (default), sequential or spatial")
    add_batch_argument(sp)
    sp.add_argument("--min-accelerators", type=limited("--min-accelerators"), default=1)
    sp.add_argument("--max-accelerators", type=limited("--max-accelerators"), help="default: one per node group")
    sp.add_argument("--latency-ceiling", type=limited("--latency-ceiling"), metavar="S", help="constraint: latency <= S seconds")
    sp.add_argument("--power-cap", type=limited("--power-cap"), metavar="W",
                    help="constraint: power <= W watts (the design running its batch back to back)")
    sp.add_argument("--group", default="none", help="node grouping: none (default), qkv, attention")
    sp.add_argument("--no-repair", action="store_true", help="evaluate genomes without repair")
    add_configurator_argument(sp)
    sp.add_argument("--objectives", default="latency,throughput",
                    help="the objectives searched: latency,throughput (default) or "
                    "latency,throughput,energy (energy per image, minimised)")
    se = p.add_argument_group("search")
    se.add_argument("--strategy", default="nsga2", help="nsga2 (default), optuna-nsga2, tpe, random, qmc, gp, exhaustive")
    limit = se.add_mutually_exclusive_group()
    limit.add_argument("--budget", type=limited("--budget"),
                       help="evaluations (default 2000; exhaustive: every design of the space)")
    limit.add_argument("--time-limit", type=limited("--time-limit"), metavar="S", help="seconds of search")
    se.add_argument("--population", type=limited("--population"),
                    help=f"designs per generation (default {DEFAULT_POPULATION}; exhaustive: {EXHAUSTIVE_CHUNK:,})")
    se.add_argument("--seed", type=limited("--seed"), default=0, help="random seed (default 0)")
    se.add_argument("--seed-design", action="append", default=[], metavar="F.json",
                    help="a design file to put in the first generation (repeatable)")
    se.add_argument("--chunk-size", type=limited("--chunk-size"), default=25, metavar="N",
                    help="designs per unit of work shared out to workers (default 25; "
                    "results do not depend on it)")
    p.add_argument("--study-name", help="default: MODEL-SPACE-STRATEGY-TIMESTAMP")
    add_storage_argument(p)


def add_run_options(p: argparse.ArgumentParser) -> None:
    """--n-jobs and --quiet (run, resume, compare)."""
    p.add_argument("--n-jobs", type=limited("--n-jobs"), default=1, help="evaluation processes (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


# -- what the arguments build -----------------------------------------------------------
def resolve_configurator(choice: str, cost_model: str, family: str) -> str:
    """``auto`` -> the cost model's own configurator for the hybrid space, else ``none``."""
    if choice != "auto":
        return choice
    return default_configurator(cost_model, family)


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
    from ssropt.api import check_config
    from ssropt.engine.study import StudyConfig
    from ssropt.objectives.design_file import load_design
    from ssropt.spaces import ObjectiveSet, SpaceOptions, group_preset, parse_batch_sizes
    from ssropt.strategies import available_strategies, space_size

    workload = workload_from_args(args)
    if args.population is None:  # an enumeration's generation is a chunk: larger is cheaper
        args.population = EXHAUSTIVE_CHUNK if args.strategy == "exhaustive" else DEFAULT_POPULATION
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
        power_cap_w=args.power_cap,
        groups=group_preset(args.group),
        repair=not args.no_repair,
        objectives=ObjectiveSet.parse(args.objectives).keys,
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
    # validates platform, dtype, cost model and the space, and refuses, before any study
    # exists, an exhaustive search of a too large space or more seed designs than the
    # first generation holds
    space = check_config(config)
    if config.strategy == "exhaustive" and args.budget is None and not args.time_limit:
        config = replace(config, budget=space_size(space))  # the whole space by default
    return config, space


def workload_label(workload: dict) -> str:
    """A short name of a workload spec: the zoo model, the HF config's folder, or gemms."""
    return workload.get("model") or Path(str(workload.get("hf_config", "gemms"))).parent.name or "workload"


def default_study_name(config) -> str:
    """``MODEL-SPACE-STRATEGY-TIMESTAMP``: the name of a study run without ``--study-name``."""
    model = workload_label(config.workload)
    return f"{model}-{config.space['family']}-{config.strategy}-{time.strftime('%Y%m%d-%H%M%S')}"


# -- the words that reproduce them ------------------------------------------------------
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


def comparison_names(args: argparse.Namespace, kind: str, base) -> tuple[str, Path]:
    """The study-name prefix and output directory of a ``kind`` comparison (``--study-prefix``
    and ``--out``, else ``KIND-MODEL-TIMESTAMP`` and ``KIND-MODEL``)."""
    label = workload_label(base.workload)
    prefix = args.study_prefix or f"{kind}-{label}-{time.strftime('%Y%m%d-%H%M%S')}"
    return prefix, Path(args.out or f"{kind}-{label}")


def prepare_comparison(args: argparse.Namespace, out_dir: Path, plans, describe):
    """Check ``--out`` and that no planned study exists, then create ``--out`` and print
    ``describe(plan)`` for every plan; the open storage."""
    from ssropt.harness.report import check_names_free, check_out_dir
    from ssropt.storage import open_storage

    check_out_dir(out_dir, args.force)
    storage = open_storage(args.storage)
    check_names_free(storage, [plan.study_name for plan in plans])
    out_dir.mkdir(parents=True, exist_ok=True)
    for plan in plans:
        print(describe(plan), file=sys.stderr)
    return storage


def comparison_words(args: argparse.Namespace, prefix: str, out_dir: Path) -> list[str]:
    """The search, storage and output settings of a comparison (``compare``,
    ``compare-platforms``) as command-line words, every one explicit."""
    return [
        "--batch", args.batch, "--budget", str(args.budget), "--population", str(args.population),
        "--seed", str(args.seed), "--exhaustive-limit", str(args.exhaustive_limit),
        "--study-prefix", prefix, "--storage", args.storage, "--out", str(out_dir),
    ]
