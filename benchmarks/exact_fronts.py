"""How long an exact configured front takes: every distinct (partition, batch) of the
configured DeiT-T hybrid space enumerated and evaluated, on one core (192 tokens, SSR's
setting, as ``configure_speed.py``; 12 blocks; batch 1-8; VCK190 INT8).

The ``exhaustive`` strategy numbers the designs; chunks of 2,000 (its default population)
go through ``Space.evaluate`` -- the configurator, the model, repair -- exactly as in a
study, but nothing is stored (``ssropt run --strategy exhaustive`` adds the storage of
every design: see the README).  The front of the feasible designs is kept as it goes.

Run:
    python benchmarks/exact_fronts.py                    # blocks only, then with embedding and head
    python benchmarks/exact_fronts.py --only blocks

Prints one line per space and, as the last line, one JSON object.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # one core: set before numpy is imported

import argparse
import json
import time

import numpy as np

from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.zoo import build_model
from ssropt.pareto import pareto_mask
from ssropt.spaces import Space, SpaceOptions
from ssropt.strategies.exhaustive import CHUNK, Exhaustive, space_size

SPACES = {"blocks": False, "embed-head": True}


def exact_front(embed_and_head: bool) -> dict:
    model = CostModel(build_model("deit-t", tokens=192, embed_and_head=embed_and_head),
                      load_platform("vck190"), "int8")
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=tuple(range(1, 9)), configurator="ssr"))
    size = space_size(space)
    strategy = Exhaustive(space, seed=0, population_size=CHUNK, limit=size)
    front = np.zeros((0, 2))
    wall, cpu = time.perf_counter(), time.process_time()
    feasible = 0
    for start in range(0, size, CHUNK):
        genomes = strategy.genomes(np.arange(start, min(start + CHUNK, size)))
        result = space.evaluate(genomes)
        ok = (result.G <= 0).all(axis=1)
        feasible += int(ok.sum())
        points = np.concatenate([front, result.F[ok]])
        front = np.unique(points[pareto_mask(points)], axis=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"designs": size, "feasible": feasible, "front_points": len(front), "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1), "designs_per_s": round(size / cpu),
            "lowest_latency_ms": round(float(front[:, 0].min()) * 1e3, 4),
            "best_gops": round(float(-front[:, 1].min()) / 1e9, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=tuple(SPACES))
    args = parser.parse_args()
    out = {}
    for name, embed in SPACES.items():
        if args.only and name != args.only:
            continue
        out[name] = exact_front(embed)
        r = out[name]
        print(f"DeiT-T {name}: {r['designs']:,} designs ({r['feasible']:,} feasible) in {r['wall_s']} s wall, "
              f"{r['cpu_s']} s CPU ({r['designs_per_s']:,}/s); front of {r['front_points']} points, "
              f"{r['lowest_latency_ms']} ms to {r['best_gops']:,} GOPS", flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
