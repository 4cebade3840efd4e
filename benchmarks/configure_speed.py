"""How many designs per second does the configurator configure, on one core?

Workload: DeiT-T, 192 tokens, 12 blocks with patch embedding and head (10 node groups),
batch sizes 1-8.  Designs: random assignments of the hybrid space (accelerator counts
uniform, as ``Space.sample`` draws them).

- cold: a fresh cost model (empty schedule cache) and a fresh configurator configure
  ``--n`` designs in one call (``Configurator.designs``), node-set tables, candidate
  times and schedules all built on the way (the compiled search is loaded first, as
  imports are: ``compiled_load_s`` is that one-time cost of a process -- loading numba's
  on-disk cache, or compiling it, several seconds, on the first run after an install);
- warm: the same configurator configures ``--n`` other random designs (its tables built,
  schedules of the new designs not);
- generations: ``--n`` designs in calls of 100 (a population), fresh configurator;
- in a study: ``ssropt``'s own run loop (nsga2, population 100, in-memory storage) on the
  configured space for ``--study-budget`` evaluations: evaluations per wall second,
  everything included (strategy, configuration, model, storage);
- fpga: the same as cold on the Stratix 10 NX with the ``fpga`` template.

Run:
    python benchmarks/configure_speed.py                 # 5,000 designs, study of 5,000
    python benchmarks/configure_speed.py --n 2000 --study-budget 2000

Prints a table and, as the last line, one JSON object with ``configured_designs_per_s``
(cold), ``warm_designs_per_s``, ``generation_designs_per_s``, ``study_designs_per_s``,
``compiled_load_s`` and ``fpga_configured_designs_per_s``.  CPU seconds (``time.process_time``) measure the
configurator, wall seconds the study.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # one core: set before numpy is imported

import argparse
import json
import time

import numpy as np
import optuna

from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.zoo import build_model
from ssropt.spaces.options import SpaceOptions
from ssropt.spaces.space import Space

WORKLOAD = {"model": "deit-t", "tokens": 192, "blocks": 12, "embed_and_head": True}


def random_assignments(platform: str, n: int, seed: int):
    """``n`` random hybrid assignments and batch sizes of DeiT-T on ``platform``."""
    model = CostModel(build_model("deit-t", tokens=192, embed_and_head=True), load_platform(platform), "int8")
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=tuple(range(1, 9))))
    genomes = space.sample(n, np.random.default_rng(seed))
    return genomes[:, 1 : 1 + space.n_label_genes][:, space.group_of_node], space.batch_values[genomes[:, 0]]


def fresh_configurator(platform: str):
    model = CostModel(build_model("deit-t", tokens=192, embed_and_head=True), load_platform(platform), "int8")
    configurator = model.configurator()
    if configurator is None:
        raise SystemExit(f"the {model.cost_model} model of {platform} has no configurator")
    return type(configurator)(model, model.values())


def rate(configurator, assignments, batches, chunk: int | None = None) -> float:
    start = time.process_time()
    step = chunk or len(batches)
    for i in range(0, len(batches), step):
        configurator.designs(assignments[i : i + step], batches[i : i + step])
    return len(batches) / (time.process_time() - start)


def study_rate(budget: int, seed: int) -> float:
    config = StudyConfig(workload=WORKLOAD, platform="vck190", space=SpaceOptions(configurator="ssr").to_dict(),
                         strategy="nsga2", seed=seed, budget=budget, population_size=100)
    storage = optuna.storages.InMemoryStorage()
    study = create_ssropt_study(storage, "speed", config)
    start = time.perf_counter()
    summary = run_study(study, config, progress=False)
    return summary.evaluated / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="designs per measurement")
    parser.add_argument("--study-budget", type=int, default=5000, help="evaluations of the study")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-fpga", action="store_true", help="skip the fpga measurement")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    assignments, batches = random_assignments("vck190", 2 * args.n, args.seed)
    first, second = slice(0, args.n), slice(args.n, 2 * args.n)
    load = time.perf_counter()
    fresh_configurator("vck190").designs(assignments[:50], batches[:50])  # loads the compiled code
    load = time.perf_counter() - load
    configurator = fresh_configurator("vck190")
    cold = rate(configurator, assignments[first], batches[first])
    warm = rate(configurator, assignments[second], batches[second])
    generations = rate(fresh_configurator("vck190"), assignments[first], batches[first], chunk=100)
    study = study_rate(args.study_budget, args.seed)
    results = {
        "configured_designs_per_s": round(cold),
        "warm_designs_per_s": round(warm),
        "generation_designs_per_s": round(generations),
        "study_designs_per_s": round(study),
        "compiled_load_s": round(load, 2),
    }
    if not args.no_fpga:
        fa, fb = random_assignments("stratix10nx", args.n, args.seed)
        results["fpga_configured_designs_per_s"] = round(rate(fresh_configurator("stratix10nx"), fa, fb))
    rows = [
        ("configured, cold (fresh model and configurator)", results["configured_designs_per_s"]),
        ("configured, warm configurator (new designs)", results["warm_designs_per_s"]),
        ("configured in calls of 100, fresh", results["generation_designs_per_s"]),
        (f"nsga2 study, {args.study_budget} evaluations (wall)", results["study_designs_per_s"]),
    ]
    if "fpga_configured_designs_per_s" in results:
        rows.append(("fpga on stratix10nx, cold", results["fpga_configured_designs_per_s"]))
    print(f"DeiT-T with embedding and head, 12 blocks, batch 1-8, {args.n} random designs, INT8")
    print(f"  compiled code loaded (and 50 designs configured) in {load:.2f} s")
    for label, value in rows:
        print(f"  {label:<50} {value:>8,} designs/s")
    results["n_designs"] = args.n
    print(json.dumps(results))


if __name__ == "__main__":
    main()
