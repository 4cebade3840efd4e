"""Evaluate one design: the dict behind ``ssropt evaluate --json`` and its text form.

Example:
    >>> from ssropt import evaluate
    >>> result = evaluate({
    ...     "workload": {"model": "deit-t", "tokens": 192, "embed_and_head": False},
    ...     "platform": "vck190", "batch": 1,
    ...     "accelerators": [{"a": 4, "b": 4, "c": 6, "h1": 32, "w1": 48, "w2": 32}],
    ...     "assignment": {n: 0 for n in ["q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2"]}})
    >>> result["steps"]
    96
"""

from __future__ import annotations

import math

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.design_file import parse_design
from ssropt.objectives.evaluation import Evaluation
from ssropt.objectives.models import CostModel


def evaluate(design: dict) -> dict:
    """Evaluate one design object (the design-file format) and return the result dict."""
    parsed = parse_design(design)
    model = CostModel(parsed.workload, parsed.platform, parsed.dtype, parsed.cost_model)
    return evaluation_record(model, parsed.designs, model.evaluate(parsed.designs), 0)


def _num(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def evaluation_record(model: CostModel, designs: DesignBatch, result: Evaluation, i: int) -> dict:
    """The result dict of design ``i``: objectives, breakdown, nodes, accelerators."""
    assign = designs.assignment[i]
    n_acc = int(assign.max()) + 1
    constraints = {name: float(v[i]) for name, v in sorted(result.violations.items())}
    steps = int(result.steps[i])
    return {
        "feasible": bool(result.feasible[i]),
        "violations": {k: v for k, v in constraints.items() if v > 0},
        "constraints": constraints,
        "latency_s": float(result.latency_s[i]),
        "latency_breakdown": {
            "compute_s": _num(result.compute_s[i]),
            "relayout_s": _num(result.relayout_s[i]),
            "input_s": _num(result.input_s[i]),
        },
        "throughput_ops_per_s": float(result.throughput_ops_per_s[i]),
        "images_per_s": float(result.images_per_s[i]),
        "energy_j_per_image": _num(result.energy_j_per_image[i]),
        "power_w": _num(result.power_w[i]),
        "power_terms": {name: _num(value[i]) for name, value in result.power_terms.items()},
        "steps": steps if steps >= 0 else None,
        "batch": int(designs.batch[i]),
        "ops_per_image": model.workload.ops_per_image,
        "cost_model": model.cost_model,
        "nodes": [
            {
                "name": name,
                "accelerator": int(assign[j]),
                "cycles": int(result.node_cycles[i, j]),
                "time_s": float(result.node_time_s[i, j]),
            }
            for j, name in enumerate(model.workload.names)
        ],
        "accelerators": [
            {key: int(result.accelerators[key][i, a]) for key in result.accelerator_fields}
            for a in range(n_acc)
        ],
        "resources": {key: int(result.accelerators[key][i].sum()) for key in result.resource_fields},
    }


def format_record(record: dict, design: dict | None = None) -> str:
    """A readable text report of an evaluation record (tables per accelerator and node)."""
    lines = []
    status = "feasible" if record["feasible"] else "INFEASIBLE"
    lines.append(
        f"{status}: latency {record['latency_s'] * 1e3:.4f} ms, "
        f"throughput {record['throughput_ops_per_s'] / 1e9:.1f} GOPS, "
        f"{record['images_per_s']:.1f} images/s at batch {record['batch']}"
    )
    br = record["latency_breakdown"]
    if br["compute_s"] is not None:
        lines.append(
            f"latency = compute {br['compute_s'] * 1e3:.4f} ms + re-layout "
            f"{br['relayout_s'] * 1e3:.4f} ms + input {br['input_s'] * 1e3:.4f} ms"
            + (f" over {record['steps']} lock-step steps" if record["steps"] else "")
        )
    if record["power_w"] is not None:
        lines.append(
            f"power {record['power_w']:.2f} W, energy {record['energy_j_per_image'] * 1e3:.3f} mJ/image"
        )
    terms = record.get("power_terms") or {}
    if terms and all(v is not None for v in terms.values()):
        lines.append("power = " + " + ".join(f"{name} {value:.2f}" for name, value in terms.items()) + " W")
    for name, value in record["violations"].items():
        lines.append(f"violated: {name} exceeds its limit by {value:g}")
    lines.append("")
    accs = design["accelerators"] if design else [{}] * len(record["accelerators"])
    param_names = list(accs[0]) if accs and accs[0] else []
    fields = list(record["accelerators"][0]) if record["accelerators"] else []
    head = ["acc", *param_names, *fields]
    rows = [
        [str(a), *(str(accs[a][p]) for p in param_names), *(str(acc[k]) for k in fields)]
        for a, acc in enumerate(record["accelerators"])
    ]
    rows.append(["total", *([""] * len(param_names)), *(str(record["resources"].get(k, "")) for k in fields)])
    lines += _table(head, rows)
    lines.append("")
    node_rows = [
        [n["name"], str(n["accelerator"]), str(n["cycles"]), f"{n['time_s'] * 1e6:.3f}"]
        for n in record["nodes"]
    ]
    lines += _table(["node", "acc", "cycles", "time_us"], node_rows)
    return "\n".join(lines)


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return [fmt.format(*head), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in rows)]
