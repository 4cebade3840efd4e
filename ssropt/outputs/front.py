"""The Pareto front of a stored study: rows, table, CSV and JSON (plots: :mod:`.plots`).

The front is computed here from the stored trials (feasible, COMPLETE), over latency
(lower is better) and throughput (higher is better), never through Optuna's
``best_trials`` which is slow on large studies.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import optuna

from ssropt.outputs.files import Output, check_destinations, write_outputs
from ssropt.outputs.files import open_output as open_output  # all or nothing, re-exported
from ssropt.pareto import latency_throughput_front

FRONT_FIELDS = (
    "trial", "latency_s", "throughput_ops_per_s", "images_per_s", "batch", "n_accelerators",
    "assignment", "groups",
)


def feasible_trials(study: optuna.Study, batch: int | None = None) -> list[optuna.trial.FrozenTrial]:
    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    out = [
        t for t in trials
        if t.values is not None and all(v <= 0 for v in (t.constraints or {}).values())
    ]
    if batch is not None:
        out = [t for t in out if t.params.get("batch") == batch]
    return out


def front_rows(study: optuna.Study, batch: int | None = None) -> list[dict]:
    """Front points sorted by latency, each a dict with FRONT_FIELDS."""
    trials = feasible_trials(study, batch)
    if not trials:
        return []
    latency = np.array([t.values[0] for t in trials])
    throughput = np.array([t.values[1] for t in trials])
    rows = []
    for i in latency_throughput_front(latency, throughput):
        t = trials[int(i)]
        assignment = {k[len("acc_of_"):]: v for k, v in t.params.items() if k.startswith("acc_of_")}
        rows.append(
            {
                "trial": t.number,
                "latency_s": t.values[0],
                "throughput_ops_per_s": t.values[1],
                "images_per_s": t.user_attrs.get("images_per_s"),
                "batch": t.params.get("batch"),
                "n_accelerators": t.user_attrs.get("n_accelerators", len(set(assignment.values()))),
                "assignment": assignment,
                "groups": assignment_summary(assignment),
            }
        )
    return rows


def assignment_summary(assignment: dict[str, int]) -> str:
    """``{q,k,v}{attn_qk,attn_av}...``: the nodes of each accelerator in index order."""
    groups: dict[int, list[str]] = {}
    for node, acc in assignment.items():
        groups.setdefault(acc, []).append(node)
    return "".join("{" + ",".join(groups[a]) + "}" for a in sorted(groups))


def format_front(rows: list[dict]) -> str:
    if not rows:
        return "no feasible design in this study yet"
    head = ["trial", "latency_ms", "GOPS", "images/s", "batch", "accs", "accelerator groups"]
    body = [
        [
            str(r["trial"]), f"{r['latency_s'] * 1e3:.4f}", f"{r['throughput_ops_per_s'] / 1e9:.1f}",
            f"{r['images_per_s']:.1f}", str(r["batch"]), str(r["n_accelerators"]), r["groups"],
        ]
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(h.rjust(w) if i < 6 else h for i, (h, w) in enumerate(zip(head, widths)))]
    lines += ["  ".join(c.rjust(w) if i < 6 else c for i, (c, w) in enumerate(zip(row, widths))) for row in body]
    return "\n".join(lines)


def csv_output(rows: list[dict], path: str | Path, fields: tuple[str, ...] = FRONT_FIELDS) -> Output:
    """One row per front point with the columns ``fields`` (the assignment as JSON)."""

    def write(fh) -> None:
        writer = csv.writer(fh)
        writer.writerow(fields)
        for r in rows:
            writer.writerow([json.dumps(r[k]) if k == "assignment" else r[k] for k in fields])

    return Output(path, write)


def json_output(rows: list[dict], path: str | Path) -> Output:
    """The rows as one JSON list."""
    return Output(path, lambda fh: json.dump(rows, fh, indent=2))


def write_csv(rows: list[dict], path: str | Path, fields: tuple[str, ...] = FRONT_FIELDS) -> None:
    """:func:`csv_output` written all or nothing (``-``: standard output)."""
    write_outputs([csv_output(rows, path, fields)])


def write_json(rows: list[dict], path: str | Path) -> None:
    """:func:`json_output` written all or nothing (``-``: standard output)."""
    write_outputs([json_output(rows, path)])


def check_output_path(path: str | Path) -> None:
    """OutputError unless a file can be written at ``path`` (see ``check_destinations``)."""
    check_destinations([path])
