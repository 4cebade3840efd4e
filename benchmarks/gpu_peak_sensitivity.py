"""How much the A10G baseline depends on its unverified tensor peaks.

NVIDIA publishes no A10G data sheet: ``objectives/platforms/a10g.toml`` takes its dense
INT8/FP16 tensor peaks (140 TOPS / 70 TFLOPS) from a third-party write-up, while the A10
data sheet gives 250 TOPS / 125 TFLOPS for the same GA102 die.  This script evaluates the
``gpu-roofline`` model of every model named at batch 1-8 with the shipped file and with
a copy whose peaks are the A10 data sheet's, everything else equal, and prints the best
throughput and energy efficiency of both and their ratio (the compare-platforms ratios
divide by the shipped line).

Run:
    python benchmarks/gpu_peak_sensitivity.py                # the four SSR models
    python benchmarks/gpu_peak_sensitivity.py --models deit-t --dtype fp16

Prints a Markdown table and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import PLATFORM_DIR, load_platform
from ssropt.objectives.workloads.zoo import build_model

A10_PEAKS = {"int8": ("140.0e12", "250.0e12"), "fp16": ("70.0e12", "125.0e12")}


def batch_line(model: CostModel, batches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GOPS and images/s/W of the one-device design at every batch size."""
    n = len(batches)
    designs = DesignBatch("gpu-roofline", batches, np.zeros((n, model.workload.n_nodes), dtype=np.int64),
                          np.zeros((n, 1, 0), dtype=np.int64))
    result = model.evaluate(designs)
    return result.throughput_ops_per_s / 1e9, result.images_per_s / result.power_w


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="deit-t,deit-t-160,deit-t-256,lv-vit-t")
    parser.add_argument("--dtype", default="int8", choices=sorted(A10_PEAKS))
    args = parser.parse_args()
    shipped_peak, sheet_peak = A10_PEAKS[args.dtype]
    text = (PLATFORM_DIR / "a10g.toml").read_text()
    if f"peak_ops_per_s = {shipped_peak}" not in text:
        raise SystemExit(f"a10g.toml no longer has peak_ops_per_s = {shipped_peak}; update this script")
    batches = np.arange(1, 9)
    rows, out = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        variant = Path(tmp) / "a10g-datasheet-peaks.toml"
        variant.write_text(text.replace(f"peak_ops_per_s = {shipped_peak}", f"peak_ops_per_s = {sheet_peak}"))
        for name in args.models.split(","):
            workload = build_model(name)
            shipped = batch_line(CostModel(workload, load_platform("a10g"), args.dtype), batches)
            sheet = batch_line(CostModel(workload, load_platform(variant), args.dtype), batches)
            ratio = sheet[0] / shipped[0]
            out[name] = {"gops_shipped": shipped[0].round(1).tolist(), "gops_datasheet": sheet[0].round(1).tolist()}
            for b in (1, 3, 6, 8):
                i = b - 1
                rows.append(f"| {name} | {b} | {shipped[0][i]:.0f} | {sheet[0][i]:.0f} | {ratio[i]:.3f} |")
    print(f"A10G roofline, {args.dtype}: shipped peaks ({shipped_peak} ops/s) against the A10 data "
          f"sheet's ({sheet_peak} ops/s)\n")
    print("| model | batch | GOPS, shipped | GOPS, A10 peaks | ratio |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
