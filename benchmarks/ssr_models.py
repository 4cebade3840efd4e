"""The SSR paper's four models: hybrid vs baselines, and across platforms.

For each of DeiT-T, DeiT-T-160, DeiT-T-256 and LV-ViT-T (INT8, batch 1-8, seed 0) runs
``ssropt compare`` on the VCK190 into ``results/compare_MODEL/`` and ``ssropt
compare-platforms`` on every shipped platform into ``results/platforms_MODEL/``, with
the studies in a throw-away journal file.

Run:
    python benchmarks/ssr_models.py                      # budget 5000 per search
    python benchmarks/ssr_models.py --models deit-t --budget 20000 --what compare
    python benchmarks/ssr_models.py --blocks-only --what compare   # encoder blocks only: the
        # configured hybrid space (33,120 designs) is enumerated, an exact front; -> *_blocks/

Prints each summary and, as the last line, one JSON object with the output folders.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from ssropt.cli import main as ssropt_main

RESULTS = Path(os.path.relpath(Path(__file__).parent / "results"))
MODELS = ("deit-t", "deit-t-160", "deit-t-256", "lv-vit-t")
PLATFORMS = "vck190,vck5000,stratix10nx,u250,zcu102,a10g,t4"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--budget", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--what", choices=("both", "compare", "platforms"), default="both")
    parser.add_argument("--blocks-only", action="store_true",
                        help="the encoder blocks without patch embedding and head (folders *_blocks)")
    args = parser.parse_args()
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        storage = str(Path(tmp) / "studies.log")
        for model in args.models.split(","):
            common = ["--model", model, "--batch", "1-8", "--budget", str(args.budget),
                      "--seed", str(args.seed), "--storage", storage, "--force", "--quiet"]
            suffix = "_blocks" if args.blocks_only else ""
            if args.blocks_only:
                common.append("--no-embed-head")
            jobs = []
            if args.what in ("both", "compare"):
                jobs.append(["compare", "--platform", "vck190", "--study-prefix", f"cmp-{model}{suffix}",
                             "--out", str(RESULTS / f"compare_{model}{suffix}")])
            if args.what in ("both", "platforms"):
                jobs.append(["compare-platforms", "--platforms", PLATFORMS,
                             "--study-prefix", f"plat-{model}{suffix}",
                             "--out", str(RESULTS / f"platforms_{model}{suffix}")])
            for job in jobs:
                start = time.perf_counter()
                code = ssropt_main(job + common)
                if code != 0:
                    return code
                print(f"{job[0]} {model}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
                written.append(job[job.index("--out") + 1])
    print(json.dumps({"written": written}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
