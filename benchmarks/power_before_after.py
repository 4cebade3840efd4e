"""Power model before/after, and SSR's tile lists against the native ones (VCK190, INT8).

Run:  python benchmarks/power_before_after.py        (about 5-10 minutes on one core)

Writes ``benchmarks/results/power_before_after.md``:

1. the two DAC'23 points: measured, the previous model, the new one (at the measured
   throughput, which the fit uses, and at the ``charm`` model's own);
2. SSR's one-node-per-accelerator DeiT-T design (the public SSR estimator's configuration
   of that genome at batch 6) term by term, and CHARM's monolithic DeiT-T accelerator;
3. the sensitivity of that design's power to the estimated DDR energy (refit each time);
4. for DeiT-T, DeiT-T-160, DeiT-T-256 and LV-ViT-T (192 tokens, 12 blocks, block nodes only,
   batch 6): every contiguous grouping of the 8 block nodes into accelerators (2^7 = 128
   assignments, SSR's hybrid and spatial ones among them) configured by the SSR configurator
   with ``tiles = "ssr"`` and with ``tiles = "native"``; the fastest feasible design of each,
   its power before and after, images/s/W, and the configuration time.

"Before" is the previous ``[power]`` table of ``vck190.toml`` (git d0b6ba4):
``9.61 W + 40.6 mW * AIE + e_op * ops/s + 2.47 mW * BRAM + 7.0 mW * URAM + 0.88 mW * PLIO``
with ``e_op`` 1.361 / 3.184 / 7.450 pJ (INT8 / INT16 / FP32), the DAC'23 designs taken to
use the CHARM PL budget.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from ssropt.objectives.calibration import (
    DAC23_POINTS,
    fit_vck190_mac_energy,
    point_power_terms,
    point_work,
)
from ssropt.objectives.design import DesignBatch
from ssropt.objectives.energy import TERMS
from ssropt.objectives.models import CostModel
from ssropt.objectives.models.ssr.tiles import (
    fits_local_memory,
    native_tiles,
    tile_values,
    with_tiles,
)
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.zoo import build_model

OUT = Path(__file__).parent / "results" / "power_before_after.md"
MODELS = ("deit-t", "deit-t-160", "deit-t-256", "lv-vit-t")
BATCH = 6
#: SSR estimator (AccelLayer @7c951fb) on the genome [q, k, v, qk, av, proj, fc1, fc2] ->
#: 8 accelerators, DeiT-T 192 tokens, 12 blocks, batch 6: 527,538 ns, 336 AIE, 712 BRAM
SSR_DEIT_T = [(1, 4, 6, 1, 32, 48, 32)] * 3 + [
    (2, 2, 2, 3, 48, 32, 48), (2, 2, 2, 3, 32, 48, 32), (1, 6, 4, 1, 48, 32, 48),
    (1, 4, 24, 1, 32, 48, 32), (1, 16, 6, 1, 32, 48, 32),
]
#: the previous model (git d0b6ba4), see the module docstring
#: the figures of the last line's JSON object
SUMMARY: dict = {}
OLD = {"static": 9.61, "aie": 0.0406, "bram": 0.00247, "uram": 0.0070, "plio": 0.00088,
       "op": {"int8": 1.361e-12, "int16": 3.184e-12, "fp32": 7.450e-12}}


def old_power(dtype, aie, ops_per_s, bram, uram, plio):
    return (OLD["static"] + OLD["aie"] * aie + OLD["op"][dtype] * ops_per_s + OLD["bram"] * bram
            + OLD["uram"] * uram + OLD["plio"] * plio)


def old_power_of(result, dtype="int8"):
    r = result.resources()
    return old_power(dtype, r["aie"], result.throughput_ops_per_s, r["bram"], r["uram"], r["plio_in"] + r["plio_out"])


def terms_row(terms, i=0):
    return " | ".join(f"{float(terms[t][i]):.2f}" for t in TERMS)


# -- 1. calibration points ---------------------------------------------------------------------
def dac23_section(platform) -> list[str]:
    lines = ["## The DAC'23 calibration points (VCK190 GEMM, board power)", "",
             "The designs are CHARM's public hosts on a 6144^3 GEMM; the new model's work is counted "
             "by the `charm` model and spread over the measured time (the fit) or the model's own.", "",
             "| point | measured W | before (CHARM PL budget) | before (design's own PL) | after, measured rate "
             "| after, charm-model rate | " + " | ".join(TERMS) + " |",
             "|---|---|---|---|---|---|" + "---|" * len(TERMS)]
    for point in DAC23_POINTS:
        _, measured_s, evaluation = point_work(platform, point)
        r = evaluation.resources()
        before_budget = old_power(point.dtype, r["aie"][0], point.ops_per_s, 867, 420, 180)
        before_own = old_power(point.dtype, r["aie"][0], point.ops_per_s, r["bram"][0], r["uram"][0],
                               r["plio_in"][0] + r["plio_out"][0])
        at_measured = point_power_terms(platform, point)
        at_model = point_power_terms(platform, point, measured_rate=False)
        after = sum(at_measured.values())[0]
        after_model = sum(at_model.values())[0]
        SUMMARY[f"dac23_{point.dtype}_w"] = {"measured": point.watts, "before": round(float(before_budget), 3),
                                             "after": round(float(after), 3), "after_model_rate": round(float(after_model), 3)}
        lines.append(
            f"| {point.dtype} {point.ops_per_s / 1e12:.3f} T op/s | {point.watts:.2f} | {before_budget:.2f} | "
            f"{before_own:.2f} | {after:.2f} ({(after / point.watts - 1) * 100:+.1f} %) | {after_model:.2f} at "
            f"{evaluation.throughput_ops_per_s[0] / 1e12:.2f} T op/s ({(after_model / point.watts - 1) * 100:+.1f} %) "
            f"| {terms_row(at_measured)} |"
        )
    fitted = fit_vck190_mac_energy(platform)
    lines += ["", "Fitted: " + ", ".join(f"e_mac[{k}] = {v * 1e12:.3f} pJ/MAC" for k, v in fitted.items())
              + " (INT16 by the geometric-mean rule).", ""]
    return lines


# -- 2./3. SSR's DeiT-T design -----------------------------------------------------------------
def ssr_deit_t(platform):
    workload = build_model("deit-t", tokens=192, blocks=12, embed_and_head=False)
    model = CostModel(workload, platform, "int8")
    design = DesignBatch("ssr", np.array([BATCH]), np.arange(8)[None, :], np.array([SSR_DEIT_T]))
    return model, design, model.evaluate(design)


def ssr_design_section(platform) -> list[str]:
    _, _, result = ssr_deit_t(platform)
    before, after = float(old_power_of(result)[0]), float(result.power_w[0])
    ips = float(result.images_per_s[0])
    r = result.resources()
    SUMMARY["ssr_deit_t_w"] = {"before": round(before, 3), "after": round(after, 3)}
    lines = ["## SSR's one-node-per-accelerator DeiT-T design (batch 6)", "",
             f"The SSR estimator's configuration of the genome [q, k, v, attn_qk, attn_av, proj, fc1, fc2]: "
             f"{result.latency_s[0] * 1e3:.4f} ms, {r['aie'][0]} AIE, {r['bram'][0]} BRAM, {r['uram'][0]} URAM, "
             f"PLIO {r['plio_in'][0]}/{r['plio_out'][0]}, {result.throughput_ops_per_s[0] / 1e12:.2f} T op/s, "
             f"{ips:.0f} images/s.", "",
             "| | W | images/s/W | mJ/image | " + " | ".join(TERMS) + " |",
             "|---|---|---|---|" + "---|" * len(TERMS),
             f"| before | {before:.2f} | {ips / before:.1f} | {before / ips * 1e3:.3f} |" + " |" * len(TERMS),
             f"| after | {after:.2f} | {ips / after:.1f} | {after / ips * 1e3:.3f} | {terms_row(result.power_terms)} |",
             ""]
    workload = build_model("deit-t", tokens=192, blocks=12, embed_and_head=False)
    charm = CostModel(workload, platform, "int8", "charm").evaluate(DesignBatch(
        "charm", np.array([BATCH]), np.zeros((1, 8), dtype=np.int64), np.array([[[3, 4, 4, 1, 1, 1, 0, 0]]])))
    c_ips = float(charm.images_per_s[0])
    c_before, c_after = float(old_power_of(charm)[0]), float(charm.power_w[0])
    lines += ["For comparison, CHARM's monolithic DeiT-T accelerator (a, b, c, x, y, z = 3, 4, 4, 1, 1, 1, "
              f"`charm` model, batch 6; {c_ips:.0f} images/s), every operand through DDR:", "",
              "| | W | images/s/W | mJ/image | " + " | ".join(TERMS) + " |",
              "|---|---|---|---|" + "---|" * len(TERMS),
              f"| before | {c_before:.2f} | {c_ips / c_before:.1f} | {c_before / c_ips * 1e3:.3f} |" + " |" * len(TERMS),
              f"| after | {c_after:.2f} | {c_ips / c_after:.1f} | {c_after / c_ips * 1e3:.3f} | "
              f"{terms_row(charm.power_terms)} |", ""]
    lines += ["Sensitivity to the estimated DDR energy (e_mac refitted on the DAC'23 points each time):", "",
              "| e_ddr pJ/bit | e_mac int8 pJ/MAC | e_mac fp32 pJ/MAC | SSR DeiT-T W | images/s/W |",
              "|---|---|---|---|---|"]
    for pj_per_bit in (10, 20, 40, 80):
        power = dataclasses.replace(platform.power, ddr_j_per_byte=pj_per_bit * 8e-12)
        probe = dataclasses.replace(platform, power=power)
        fitted = fit_vck190_mac_energy(probe)
        refit = dataclasses.replace(probe, power=dataclasses.replace(
            power, mac_j_int8=fitted["int8"], mac_j_int16=fitted["int16"], mac_j_fp32=fitted["fp32"]))
        watts = float(ssr_deit_t(refit)[2].power_w[0])
        lines.append(f"| {pj_per_bit} | {fitted['int8'] * 1e12:.3f} | {fitted['fp32'] * 1e12:.3f} | "
                     f"{watts:.2f} | {ips / watts:.1f} |")
    return lines + [""]


# -- 4. the four SSR models, both tile lists ----------------------------------------------------
def contiguous_groupings(n_nodes: int) -> np.ndarray:
    """All 2^(n-1) assignments cutting the node order into contiguous groups."""
    return np.array([np.r_[0, np.cumsum(cuts)] for cuts in itertools.product((0, 1), repeat=n_nodes - 1)])


def best_design(platform, name):
    """The fastest feasible configured design over the contiguous groupings at batch 6."""
    workload = build_model(name, tokens=192, blocks=12, embed_and_head=False)
    model = CostModel(workload, platform, "int8")
    assignments = contiguous_groupings(workload.n_nodes)
    start = time.perf_counter()
    designs, ok = model.configurator().designs(assignments, np.full(len(assignments), BATCH), n_slots=8)
    seconds = (time.perf_counter() - start) / len(assignments)
    result = model.evaluate(designs)
    latency = np.where(ok & result.feasible, result.latency_s, np.inf)
    i = int(np.argmin(latency))
    return {
        "latency": latency, "i": i, "designs": designs, "result": result, "seconds": seconds,
        "n_tiles": int(np.prod([len(v) for k, v in model.values().items() if k in ("h1", "w1", "w2")])),
    }


def models_section(platform) -> list[str]:
    native = with_tiles(platform, "native")
    lines = ["## The four SSR models at batch 6: power before/after, tiles `ssr` and `native`", "",
             "Search: every contiguous grouping of the 8 block nodes (q, k, v, attn_qk, attn_av, proj, fc1, "
             "fc2) into accelerators, 2^7 = 128 assignments (sequential, SSR's {q,k,v}{attn_qk,attn_av}"
             "{proj,fc1,fc2} hybrid and one-node-per-accelerator among them), each configured by the SSR "
             "configurator at batch 6; the fastest feasible design is kept. 192 tokens, 12 blocks, block "
             "nodes only, INT8. Not a full search of the hybrid space (non-contiguous groupings are not "
             "tried), so these are upper bounds on the best latency.", "",
             "| model | tiles (candidates) | best latency ms | images/s | W before | W after | images/s/W before "
             "| images/s/W after | faster / slower groupings than `ssr` | config s per assignment | best design |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in MODELS:
        runs = {"ssr": best_design(platform, name), "native": best_design(native, name)}
        base = runs["ssr"]["latency"]
        for label, run in runs.items():
            i, result, designs = run["i"], run["result"], run["designs"]
            before, after = float(old_power_of(result)[i]), float(result.power_w[i])
            ips = float(result.images_per_s[i])
            n_acc = int(designs.assignment[i].max()) + 1
            groups = designs.assignment[i].tolist()
            params = designs.params[i, :n_acc].tolist()
            faster = int(np.sum(run["latency"] < base - 1e-12))
            slower = int(np.sum(run["latency"] > base + 1e-12))
            compare = "-" if label == "ssr" else f"{faster} / {slower}"
            SUMMARY[f"{name}_{label}"] = {"latency_ms": round(float(run["latency"][i]) * 1e3, 4),
                                          "w_before": round(before, 3), "w_after": round(after, 3)}
            lines.append(
                f"| {name} | {label} ({run['n_tiles']}) | {run['latency'][i] * 1e3:.4f} | {ips:.0f} | {before:.2f} | "
                f"{after:.2f} | {ips / before:.1f} | {ips / after:.1f} | {compare} | {run['seconds']:.2f} | "
                f"{groups} {params} |"
            )
        both = np.minimum(base, runs["native"]["latency"])
        lines.append(f"| {name} | best of both per grouping | {both.min() * 1e3:.4f} | | | | | | | | |")
    sizes = {d: len(native_tiles(native, d)) for d in ("int8", "int16", "fp32")}
    ssr_sizes = {}
    for dtype in sizes:
        grid = np.array(list(itertools.product(*tile_values(platform, dtype).values())))
        ssr_sizes[dtype] = int(fits_local_memory(*grid.T, platform.dtype(dtype).bytes,
                                                 platform.aie.local_memory_bytes).sum())
    lines += ["", f"Tiles that fit the AIE memory: native {sizes}; SSR's lists (4 x 5 x 4 = 80) {ssr_sizes}.", ""]
    return lines


def main() -> int:
    platform = load_platform("vck190")
    start = time.perf_counter()
    lines = ["# Power model before/after and tiles `ssr` vs `native` (VCK190, INT8)", "",
             "Command: `python benchmarks/power_before_after.py`", ""]
    lines += dac23_section(platform)
    lines += ssr_design_section(platform)
    lines += models_section(platform)
    lines.append(f"Run time: {time.perf_counter() - start:.0f} s.")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(OUT.read_text())
    print(json.dumps(SUMMARY, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
