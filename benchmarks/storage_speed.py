"""How long does persisting one evaluated design cost? ``write_trials`` vs Optuna's ``add_trials``.

Each record looks like one of ours: 2 objective values, 17 constraints, 30 parameters
(integers, log-integers, floats, categoricals) and 15 user attributes. Every case writes
into a fresh storage in a temporary directory and reports wall time per trial.

Run:
    python benchmarks/storage_speed.py                 # 2,000 trials per case
    python benchmarks/storage_speed.py --n 500 --batch 100 --repeat 3
    SSROPT_BENCH_POSTGRES_URL=postgresql://u:p@host/db python benchmarks/storage_speed.py

Prints a table and, as the last line, one JSON object {case: seconds per trial, ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from ssropt.storage import TrialRecord, backend_for, open_storage, write_trials

N_CONSTRAINTS = 17
N_USER_ATTRS = 15


def make_distributions() -> dict[str, optuna.distributions.BaseDistribution]:
    distributions: dict[str, optuna.distributions.BaseDistribution] = {}
    for i in range(12):
        distributions[f"acc{i}_size"] = IntDistribution(1, 64)
    for i in range(8):
        distributions[f"layer{i}_acc"] = IntDistribution(0, 11)
    for i in range(4):
        distributions[f"tile{i}"] = IntDistribution(1, 1024, log=True)
    for i in range(3):
        distributions[f"ratio{i}"] = FloatDistribution(0.0, 1.0)
    distributions["dtype"] = CategoricalDistribution(["int8", "fp16", "fp32"])
    distributions["family"] = CategoricalDistribution(["hybrid", "sequential", "spatial"])
    distributions["batch"] = IntDistribution(1, 32)
    return distributions


def make_records(n: int, seed: int = 0) -> list[TrialRecord]:
    rng = np.random.default_rng(seed)
    distributions = make_distributions()
    records = []
    for i in range(n):
        params: dict[str, int | float | str] = {}
        for name, dist in distributions.items():
            if isinstance(dist, IntDistribution):
                params[name] = (
                    int(2 ** rng.integers(0, 11))
                    if dist.log
                    else int(rng.integers(dist.low, dist.high + 1))
                )
            elif isinstance(dist, FloatDistribution):
                params[name] = float(rng.random())
            else:
                params[name] = dist.choices[int(rng.integers(len(dist.choices)))]
        records.append(
            TrialRecord(
                params=params,
                distributions=distributions,
                values=(float(rng.random()), float(rng.random() * 1e4)),
                constraints={f"c{j}": float(rng.normal()) for j in range(N_CONSTRAINTS)},
                user_attrs={f"u{j}": float(rng.random()) for j in range(N_USER_ATTRS)},
                system_attrs={"NSGAIISampler:generation": i // 100},
            )
        )
    return records


def to_frozen(record: TrialRecord) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(
        params=record.params,
        distributions=record.distributions,
        values=record.values,
        constraints=record.constraints,
        user_attrs=record.user_attrs,
        system_attrs=dict(record.system_attrs),  # create_trial adds constraints into it
    )


def new_study(url: str) -> optuna.Study:
    return optuna.create_study(
        storage=open_storage(url), study_name="bench", directions=["minimize", "maximize"]
    )


def time_write_trials(url: str, records: list[TrialRecord], batch: int) -> float:
    study = new_study(url)
    storage = open_storage(url)
    study_id = backend_for(storage).study_id("bench")
    start = time.perf_counter()
    for i in range(0, len(records), batch):
        write_trials(storage, study_id, records[i : i + batch], {"checkpoint": i})
    elapsed = time.perf_counter() - start
    assert len(study.get_trials(deepcopy=False)) == len(records)
    return elapsed


def time_add_trials(url: str, records: list[TrialRecord], batch: int) -> float:
    study = new_study(url)
    frozen = [to_frozen(record) for record in records]  # not timed: the caller's own work
    start = time.perf_counter()
    for i in range(0, len(frozen), batch):
        study.add_trials(frozen[i : i + batch])
    elapsed = time.perf_counter() - start
    assert len(study.get_trials(deepcopy=False)) == len(records)
    return elapsed


def time_load(url: str) -> float:
    start = time.perf_counter()
    study = optuna.load_study(study_name="bench", storage=open_storage(url))
    study.get_trials(deepcopy=False)
    return time.perf_counter() - start


def _fresh_url(scheme: str, tmp: str, postgres: str | None) -> str:
    if scheme == "journal":
        return os.path.join(tmp, "bench.log")
    if scheme == "sqlite":
        return f"sqlite:///{os.path.join(tmp, 'bench.db')}"
    assert postgres is not None
    storage = open_storage(postgres)
    if "bench" in optuna.get_all_study_names(storage):
        optuna.delete_study(study_name="bench", storage=storage)
    return postgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="trials per case")
    parser.add_argument("--batch", type=int, default=100, help="generation size for batched cases")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (fastest kept)")
    parser.add_argument(
        "--n-slow", type=int, default=200, help="trials for the slow sqlite add_trials case"
    )
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    records = make_records(max(args.n, args.n_slow))
    n, batch = args.n, args.batch

    cases: list[tuple[str, Callable[[str], float], str, int]] = []

    def case(
        name: str,
        n_trials: int,
        scheme: str,
        fn: Callable[[str, list, int], float],
        batch_size: int,
    ) -> None:
        cases.append((name, lambda url: fn(url, records[:n_trials], batch_size), scheme, n_trials))

    case(f"journal write_trials (1 batch of {n})", n, "journal", time_write_trials, n)
    case(f"journal write_trials ({batch}/batch)", n, "journal", time_write_trials, batch)
    case(f"journal optuna add_trials ({batch}/batch)", n, "journal", time_add_trials, batch)
    case(f"sqlite write_trials (1 batch of {n})", n, "sqlite", time_write_trials, n)
    case(f"sqlite write_trials ({batch}/batch)", n, "sqlite", time_write_trials, batch)
    case(
        f"sqlite optuna add_trials (n={args.n_slow})", args.n_slow, "sqlite", time_add_trials, batch
    )
    postgres = os.environ.get("SSROPT_BENCH_POSTGRES_URL")
    if postgres:
        case(f"postgres write_trials ({batch}/batch)", n, "postgres", time_write_trials, batch)
        case(
            f"postgres optuna add_trials (n={args.n_slow})",
            args.n_slow,
            "postgres",
            time_add_trials,
            batch,
        )

    results: dict[str, float] = {}
    rows = []
    for name, run, scheme, n_trials in cases:
        timings = []
        for _ in range(args.repeat):  # fresh storage each time; keep the fastest run
            with tempfile.TemporaryDirectory() as tmp:
                url = _fresh_url(scheme, tmp, postgres)
                timings.append((run(url), time_load(url)))
        seconds, load = min(timings)
        per_trial = seconds / n_trials
        results[name] = per_trial
        rows.append((name, n_trials, seconds, per_trial * 1e3, load))

    print(f"{'case':<42} {'trials':>6} {'total s':>8} {'ms/trial':>9} {'reload s':>9}")
    for name, n_trials, seconds, ms, load in rows:
        print(f"{name:<42} {n_trials:>6} {seconds:>8.3f} {ms:>9.3f} {load:>9.3f}")
    print(json.dumps({"seconds_per_trial": results, "n": n, "batch": batch}))


if __name__ == "__main__":
    main()
