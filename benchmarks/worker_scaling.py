"""Evaluations per second of one study searched by 1, 2 and 4 worker processes on PostgreSQL.

For each accelerator configurator (``none``: every accelerator parameter is a gene, the
model costs under 2 ms per DeiT-T design here; ``ssr``: parameters configured the SSR
way per design, about 10-30 ms per design) and each worker count: a study is created
(DeiT-T, VCK190, INT8, hybrid space, batch 1-8, nsga2, population 100, chunks of 25,
seed 0), then that many ``ssropt worker`` processes are started together.  Reported:

* ``wall s``: from starting the processes to the last one exiting (Python start-up and
  imports included, about 2 s per process here);
* ``stored s``: from the first to the last trial stored (the steady state);
* evaluations per second: the budget over ``wall s``, and the trials stored after the
  first batch over ``stored s``; the speed-up is that of the stored rate over 1 worker;

and every run is checked to have stored the same ``(generation, individual, genome,
values)`` as the one-worker run of its configurator (the protocol's promise).  On a
2-core machine more than two processes only share the cores, and the database server
competes for them too: read the 4-worker rows as "the protocol holds and costs this
much", not as a scaling figure.

Run:
    python benchmarks/worker_scaling.py                     # throw-away local server
    python benchmarks/worker_scaling.py --url postgresql+psycopg://user@host/db
    python benchmarks/worker_scaling.py --budget 1000 --workers 1,2 --configurator none

Prints a table and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna

from ssropt.engine.records import GENERATION_KEY, GENOME_KEY, INDIVIDUAL_KEY
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.spaces import SpaceOptions
from ssropt.storage import open_storage

ROOT = Path(__file__).resolve().parent.parent
SSROPT = [sys.executable, "-m", "ssropt.cli"]


def study_contents(url: str, name: str) -> tuple[dict, float, int, int]:
    """individual -> (generation, genome, values); seconds from the first to the last
    trial stored; trials stored after the first batch; trial count."""
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    contents = {
        t.system_attrs[INDIVIDUAL_KEY]: (
            t.system_attrs[GENERATION_KEY],
            tuple(t.system_attrs[GENOME_KEY]),
            tuple(t.values),
        )
        for t in complete
    }
    stamps = sorted(t.datetime_complete for t in complete)
    stored = (stamps[-1] - stamps[0]).total_seconds() if stamps else 0.0
    after_first = sum(stamp > stamps[0] for stamp in stamps)  # stored after the first batch
    return contents, stored, after_first, len(trials)


def one_run(url: str, workers: int, configurator: str, args: argparse.Namespace) -> dict:
    name = f"scaling-{configurator}-{workers}-{uuid.uuid4().hex[:8]}"
    config = StudyConfig(
        workload={"model": args.model},
        platform="vck190",
        space=SpaceOptions(family="hybrid", configurator=configurator).to_dict(),
        strategy="nsga2",
        seed=args.seed,
        budget=args.budget,
        population_size=args.population,
        chunk_size=args.chunk_size,
    )
    create_ssropt_study(open_storage(url), name, config)  # what `ssropt create-study` does
    command = [*SSROPT, "worker", "--storage", url, "--study-name", name, "--no-progress"]
    began = time.perf_counter()
    processes = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    errors = [p.communicate()[1] for p in processes]
    wall = time.perf_counter() - began
    for process, err in zip(processes, errors):
        if process.returncode != 0:
            raise SystemExit(f"a worker failed (exit {process.returncode}):\n{err}")
    contents, stored, after_first, n_trials = study_contents(url, name)
    return {
        "configurator": configurator,
        "workers": workers,
        "study": name,
        "wall_s": wall,
        "stored_s": stored,
        "trials": n_trials,
        "evals_per_s_wall": args.budget / wall,
        "evals_per_s_stored": after_first / stored if stored else float("nan"),
        "contents": contents,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (default: start a throw-away server)")
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--chunk-size", type=int, default=25)
    parser.add_argument("--model", default="deit-t")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--configurator", default="both", choices=("none", "ssr", "both"))
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    counts = [int(n) for n in args.workers.split(",")]
    configurators = ["none", "ssr"] if args.configurator == "both" else [args.configurator]

    server = None
    url = args.url
    if url is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from postgres_server import PostgresServer

        server = PostgresServer.launch()
        url = server.url
    try:
        runs = [one_run(url, n, c, args) for c in configurators for n in counts]
    finally:
        if server is not None:
            server.cleanup()

    for r in runs:  # the protocol's promise: the same study whatever the worker count
        base = next(q for q in runs if q["configurator"] == r["configurator"])
        r["same_as_1_worker"] = r["contents"] == base["contents"]
    identical = all(r["same_as_1_worker"] for r in runs)
    print(
        f"nsga2, {args.model} hybrid on vck190, {args.budget} evaluations, population "
        f"{args.population}, chunks of {args.chunk_size}, seed {args.seed}; PostgreSQL "
        f"{'at --url' if args.url else '(local throw-away server)'}; {os.cpu_count()} CPUs"
    )
    print(
        f"{'configurator':<14}{'workers':>8}{'wall s':>9}{'evals/s':>9}{'stored s':>10}"
        f"{'evals/s':>9}{'speed-up':>10}{'same study':>12}"
    )
    for r in runs:
        base = next(q for q in runs if q["configurator"] == r["configurator"])
        print(
            f"{r['configurator']:<14}{r['workers']:>8}{r['wall_s']:>9.1f}"
            f"{r['evals_per_s_wall']:>9.0f}{r['stored_s']:>10.1f}"
            f"{r['evals_per_s_stored']:>9.0f}"
            f"{r['evals_per_s_stored'] / base['evals_per_s_stored']:>10.2f}"
            f"{'yes' if r['same_as_1_worker'] else 'NO':>12}"
        )
    print(f"every run stored the same (generation, individual, genome, values) as the "
          f"1-worker run: {'yes' if identical else 'NO'}")
    print(
        json.dumps(
            {
                "budget": args.budget,
                "population": args.population,
                "chunk_size": args.chunk_size,
                "identical": identical,
                "runs": [{k: v for k, v in r.items() if k != "contents"} for r in runs],
            }
        )
    )
    if not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
