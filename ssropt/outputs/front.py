"""The Pareto front of a stored study: rows, table, CSV and JSON (plots: :mod:`.plots`).

The front is computed here from the stored trials (feasible, COMPLETE), over the study's
objectives (latency, lower is better, and throughput, higher is better; and energy per
image, lower is better, in a three-objective study: the non-dominated set in three
dimensions), never through Optuna's ``best_trials`` which is slow on large studies.
Rows are :mod:`.rows`; :func:`all_rows` adds every other COMPLETE trial, feasible or
not.  Every file is written all or nothing (:mod:`ssropt.outputs.files`), where ``-`` is
standard output.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from ssropt.engine.records import GENOME_KEY
from ssropt.outputs.files import Output, write_outputs
from ssropt.outputs.rows import (
    ROW_FIELDS,
    STATUS_FIELDS,
    StudyLayout,
    assignment_summary,
    flat_row,
    status_fields,
    study_objectives,
    trial_feasible,
    trial_row,
)
from ssropt.pareto import nondominated_indices
from ssropt.spaces import ObjectiveSet

__all__ = [
    "FRONT_FIELDS", "all_rows", "assignment_summary", "csv_output", "feasible_trials",
    "format_front", "front_genomes", "front_rows", "front_trials", "json_output", "write_csv",
    "write_json",
]

#: the fields of a front row (:data:`ssropt.outputs.rows.ROW_FIELDS`)
FRONT_FIELDS = ROW_FIELDS


def complete_trials(study: optuna.Study, batch: int | None = None) -> list[optuna.trial.FrozenTrial]:
    """The study's COMPLETE trials with values (at one batch size if ``batch``)."""
    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    out = [t for t in trials if t.values is not None]
    if batch is not None:
        out = [t for t in out if t.params.get("batch") == batch]
    return out


def feasible_trials(study: optuna.Study, batch: int | None = None) -> list[optuna.trial.FrozenTrial]:
    """The study's feasible COMPLETE trials (at one batch size if ``batch``)."""
    return [t for t in complete_trials(study, batch) if trial_feasible(t)]


def front_trials(study: optuna.Study, batch: int | None = None) -> list[optuna.trial.FrozenTrial]:
    """The trials of the feasible front over the study's objectives, by latency (then
    throughput, energy)."""
    trials = feasible_trials(study, batch)
    if not trials:
        return []
    F = study_objectives(study).minimised([t.values for t in trials])
    return [trials[int(i)] for i in nondominated_indices(F)]


def front_genomes(study: optuna.Study, batch: int | None = None) -> dict[int, list[int]]:
    """Trial number -> genome of the front's trials (what their schedules are drawn from)."""
    return {
        t.number: t.system_attrs[GENOME_KEY]
        for t in front_trials(study, batch) if GENOME_KEY in t.system_attrs
    }


def front_rows(study: optuna.Study, batch: int | None = None) -> list[dict]:
    """Front points sorted by latency, each a dict with :data:`FRONT_FIELDS`."""
    layout = StudyLayout.of(study)
    return [trial_row(t, layout) for t in front_trials(study, batch)]


def all_rows(study: optuna.Study, batch: int | None = None) -> list[dict]:
    """Every COMPLETE trial by number, feasible or not: :data:`FRONT_FIELDS` plus
    ``feasible``, ``on_front`` and ``violations`` (budget -> excess)."""
    layout = StudyLayout.of(study)
    on_front = {t.number for t in front_trials(study, batch)}
    return [
        {**trial_row(t, layout), **status_fields(t, layout, t.number in on_front)}
        for t in complete_trials(study, batch)
    ]


#: how each objective is printed: column head, unit conversion, format
OBJECTIVE_COLUMNS = {
    "latency_s": ("latency_ms", lambda s: s * 1e3, ".4f"),
    "throughput_ops_per_s": ("GOPS", lambda ops: ops / 1e9, ".1f"),
    "energy_j_per_image": ("mJ/image", lambda j: j * 1e3, ".4f"),
}


def format_front(rows: list[dict], objectives: ObjectiveSet = ObjectiveSet()) -> str:
    """The front as a text table: trial, one column per objective, then the rest."""
    if not rows:
        return "no feasible design in this study yet"
    columns = [OBJECTIVE_COLUMNS[name] for name in objectives.names]
    head = ["trial", *(c[0] for c in columns), "images/s", "W", "images/s/W", "batch",
            "accs", "accelerator groups"]
    body = [
        [
            str(r["trial"]),
            *(_maybe(None if r.get(name) is None else unit(r[name]), spec)
              for name, (_, unit, spec) in zip(objectives.names, columns)),
            f"{r['images_per_s']:.1f}", _maybe(r.get("power_w"), ".1f"),
            _maybe(r.get("images_per_s_per_w"), ".2f"), str(r["batch"]), str(r["n_accelerators"]),
            r["groups"],
        ]
        for r in rows
    ]
    right = len(head) - 1
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(h.rjust(w) if i < right else h for i, (h, w) in enumerate(zip(head, widths)))]
    lines += ["  ".join(c.rjust(w) if i < right else c for i, (c, w) in enumerate(zip(row, widths))) for row in body]
    return "\n".join(lines)


def _maybe(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def csv_fields(rows: Sequence[dict], fields: Sequence[str] = FRONT_FIELDS) -> list[str]:
    """The CSV columns of ``rows``: ``fields`` with ``resources`` replaced by one column
    per resource (in order of first appearance), then the status fields rows carry."""
    columns: list[str] = []
    for name in fields:
        if name == "resources":
            columns += list(dict.fromkeys(k for r in rows for k in r.get("resources", {})))
        else:
            columns.append(name)
    extra = [f for f in STATUS_FIELDS if f not in columns and rows and f in rows[0]]
    return columns + extra


def csv_output(rows: list[dict], path: str | Path, fields: Sequence[str] = FRONT_FIELDS) -> Output:
    """One row per point with the columns of :func:`csv_fields` (nested fields flattened
    by :func:`ssropt.outputs.rows.flat_row`)."""
    columns = csv_fields(rows, fields)

    def write(fh) -> None:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            flat = flat_row(row)
            writer.writerow([flat.get(k) for k in columns])

    return Output(path, write)


def json_output(rows: list[Any], path: str | Path) -> Output:
    """``rows`` as an indented JSON list (non-finite numbers as null)."""

    def write(fh) -> None:
        json.dump(_finite(rows), fh, indent=2)
        fh.write("\n")

    return Output(path, write)


def write_csv(rows: list[dict], path: str | Path, fields: Sequence[str] = FRONT_FIELDS) -> None:
    """:func:`csv_output` written all or nothing (``-``: standard output)."""
    write_outputs([csv_output(rows, path, fields)])


def write_json(rows: list[Any], path: str | Path) -> None:
    """:func:`json_output` written all or nothing (``-``: standard output)."""
    write_outputs([json_output(rows, path)])


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value

