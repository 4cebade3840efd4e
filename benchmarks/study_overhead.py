"""What does persistence cost a study?  The same nsga2 run on the default journal file
storage and on Optuna's in-memory storage.

Runs ``run_study`` twice with the same settings (DeiT-T, VCK190, INT8, hybrid space,
batch 1-8, nsga2, population 100, seed 0) and reports wall time, time in the model and
the ratio journal / in-memory.  Both runs write one trial per evaluated design and a
checkpoint per generation; they differ only in the storage.

Run:
    python benchmarks/study_overhead.py              # 20,000 evaluations
    python benchmarks/study_overhead.py --budget 5000

Prints a table and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import optuna

from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.spaces import SpaceOptions
from ssropt.storage import open_storage


def one_run(storage, config: StudyConfig) -> dict:
    study = create_ssropt_study(storage, "overhead", config)
    start = time.perf_counter()
    summary = run_study(study, config, progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "model_seconds": summary.model_seconds, "evaluated": summary.evaluated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = StudyConfig(
        workload={"model": "deit-t"},
        platform="vck190",
        space=SpaceOptions(family="hybrid").to_dict(),
        strategy="nsga2",
        seed=args.seed,
        budget=args.budget,
    )
    with tempfile.TemporaryDirectory() as tmp:
        journal = one_run(open_storage(str(Path(tmp) / "studies.log")), config)
    memory = one_run(optuna.storages.InMemoryStorage(), config)
    rows = [("journal file (default)", journal), ("in-memory", memory)]
    print(f"nsga2, DeiT-T hybrid, {args.budget} evaluations, seed {args.seed}")
    print(f"{'storage':<24}{'wall s':>10}{'model s':>10}{'other s':>10}")
    for name, r in rows:
        print(f"{name:<24}{r['seconds']:>10.1f}{r['model_seconds']:>10.1f}{r['seconds'] - r['model_seconds']:>10.1f}")
    ratio = journal["seconds"] / memory["seconds"]
    print(f"journal / in-memory wall time: {ratio:.2f}")
    print(json.dumps({"budget": args.budget, "journal_s": journal["seconds"], "memory_s": memory["seconds"],
                      "ratio": ratio, "journal_model_s": journal["model_seconds"],
                      "memory_model_s": memory["model_seconds"]}))


if __name__ == "__main__":
    main()
