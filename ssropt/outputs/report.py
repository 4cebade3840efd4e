"""The interactive HTML report of a study (``ssropt front --plot front.html``), and the
pieces the harness reports share: rows and schedules of genomes.

A study's report holds its front over a grey cloud of its other feasible designs (hover:
every figure of a design; log/linear switch), the front's energy efficiency, the
hypervolume of the feasible front against evaluations, the lock-step schedule of the
front design clicked (or picked), and a table of the front.  One file, opened from disk
with no network (:mod:`.html_page`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import optuna

from ssropt.engine.records import (
    ASSIGNMENT_PARAMS_KEY,
    GENOME_KEY,
    record_layout,
    trial_records,
)
from ssropt.engine.study import StudyConfig, config_summary
from ssropt.outputs.front import feasible_trials, front_trials
from ssropt.outputs.gantt import schedule_data
from ssropt.outputs.html_figures import Curve, FrontSeries, curves_figure
from ssropt.outputs.html_page import HtmlReport
from ssropt.outputs.rows import StudyLayout, study_objectives, trial_row
from ssropt.pareto import hypervolume, nondominated_indices
from ssropt.spaces import ObjectiveSet

#: the most schedules a report embeds (about 5-40 KB each)
MAX_SCHEDULES = 40
HV_TARGETS = (0.95, 0.99)


def rows_of_genomes(config: StudyConfig, genomes: Sequence[Sequence[int]]) -> list[dict]:
    """The rows (:mod:`.rows`) of designs given by their genomes, evaluated afresh through
    the study's space and read as trials would be (``trial`` is ``None``)."""
    if not len(genomes):
        return []
    space = config.build_space()
    result = space.evaluate(np.asarray(genomes, dtype=np.int64))
    names = list(result.constraint_names)
    view = StudyLayout(
        tuple(names), record_layout(space, names)[ASSIGNMENT_PARAMS_KEY], space.objectives
    )
    rows = []
    for record in trial_records(space, result, 0, 0):
        trial = optuna.trial.create_trial(
            values=list(record.values), params=record.params, distributions=record.distributions,
            user_attrs=record.user_attrs, system_attrs={"constraints": list(record.constraints.values())},
        )
        rows.append({**trial_row(trial, view), "trial": None})
    return rows


def add_schedules(report: HtmlReport, config: StudyConfig, keyed: list[tuple[str, str, list[int]]],
                  limit: int = MAX_SCHEDULES) -> None:
    """Embed the schedules of ``(key, label, genome)`` designs of ``config``'s study (the
    ``ssr`` cost model only; at most ``limit``, spread evenly when there are more)."""
    if config.cost_model != "ssr" or not keyed:
        return
    if len(keyed) > limit:
        keyed = [keyed[int(i)] for i in np.linspace(0, len(keyed) - 1, limit).round()]
    space = config.build_space()
    designs = space.evaluate(np.array([g for _, _, g in keyed], dtype=np.int64)).designs
    nodes = list(space.model.workload.names)
    for i, (key, label, _) in enumerate(keyed):
        report.schedule(key, label, schedule_data(space.model, designs, i).to_json(), nodes)


def design_label(series: str, row: dict) -> str:
    """How a front design is listed: series, trial, latency, throughput, batch."""
    trial = "" if row.get("trial") is None else f" trial {row['trial']}"
    return (f"{series}{trial}: {row['latency_s'] * 1e3:.4g} ms, "
            f"{row['throughput_ops_per_s'] / 1e9:,.1f} GOPS, batch {row['batch']}, "
            f"{row['n_accelerators']} accelerators")


def front_table(report: HtmlReport, series: list[FrontSeries]) -> None:
    """One table of every series' front designs."""
    head = ["series", "trial", "latency ms", "GOPS", "images/s", "W", "images/s/W", "batch",
            "accs", "groups"]

    def num(value, spec):
        return "-" if value is None else format(value, spec)

    body = [
        [s.name, "-" if r.get("trial") is None else r["trial"], f"{r['latency_s'] * 1e3:.4g}",
         f"{r['throughput_ops_per_s'] / 1e9:,.1f}", num(r.get("images_per_s"), ",.1f"),
         num(r.get("power_w"), ".2f"), num(r.get("images_per_s_per_w"), ".2f"),
         r.get("batch", "-"), r.get("n_accelerators", "-"), r.get("groups", "-")]
        for s in series for r in s.rows
    ]
    report.table(head, body, left=1)


def add_fronts(report: HtmlReport, fronts: list[tuple[str, StudyConfig, list[dict], dict | list]],
               title: str, efficiency: bool = False) -> list[FrontSeries]:
    """The front figure (and, with ``efficiency``, the images/s/W figure) of several
    studies' fronts, then their linked schedules and a table.

    ``fronts``: ``(name, config, rows, genomes)`` per study, ``genomes`` mapping a row's
    trial number to its genome, or a list of genomes aligned with the rows (rows without
    one get no schedule).
    """
    series = [FrontSeries(name, rows) for name, _, rows, _ in fronts]
    report.heading("Latency-throughput fronts")
    report.fronts(series, title=title)
    if efficiency:
        report.heading("Energy efficiency")
        report.fronts(series, y_of="efficiency", title="images/s per W of the front designs")
    report.schedule_section()
    per_study = max(4, MAX_SCHEDULES // max(1, len(fronts)))
    for (name, config, rows, genomes), s in zip(fronts, series):
        if isinstance(genomes, dict):
            genomes = [genomes.get(row.get("trial")) for row in rows]
        add_schedules(report, config, [
            (key, design_label(name, row), genome)
            for key, row, genome in zip(s.keys, rows, genomes) if genome is not None
        ], limit=per_study)
    report.heading("Front designs")
    front_table(report, series)
    return series


def hypervolume_curve(trials: list[optuna.trial.FrozenTrial], feasible: set[int],
                      objectives: ObjectiveSet = ObjectiveSet()) -> Curve:
    """Hypervolume of the feasible front of the first n trials (by number), as a fraction
    of the final one, at every generation's end (or every 100 trials), over the study's
    objectives (see :func:`hypervolume_reference`)."""
    trials = sorted(trials, key=lambda t: t.number)
    ends, last = [], None
    for k, t in enumerate(trials):
        generation = t.system_attrs.get("ssropt:generation", k // 100)
        if last is not None and generation != last:
            ends.append(k)
        last = generation
    ends.append(len(trials))
    F = objectives.minimised([t.values for t in trials])
    ok = np.array([t.number in feasible for t in trials], dtype=bool)
    reference = hypervolume_reference(F[ok], objectives) if ok.any() else None
    volumes = []
    for end in ends:
        mask = ok[:end]
        if reference is None or not mask.any():
            volumes.append(0.0)
            continue
        chosen = F[:end][mask]
        volumes.append(hypervolume(chosen[nondominated_indices(chosen)], reference))
    final = volumes[-1] or 1.0
    fractions = [v / final for v in volumes]
    return Curve("this study", ends, fractions, fractions, fractions)


def hypervolume_reference(F: np.ndarray, objectives: ObjectiveSet) -> np.ndarray:
    """The reference point of a study's hypervolume in minimised ``F``: 1.1 x the worst
    value of every minimised objective (latency, energy), 0 for a maximised one
    (``-throughput``)."""
    worst = np.where(np.isfinite(F), F, np.nan)
    return np.where(objectives.signs > 0, 1.1 * np.nanmax(worst, axis=0), 0.0)


def _reference_text(objectives: ObjectiveSet) -> str:
    """``[latency, -throughput] against [1.1 x the worst feasible latency, 0]`` (and
    energy)."""
    axes = [name if o.sign > 0 else f"-{name}" for name, o in zip(objectives.keys, objectives.objectives)]
    point = [f"1.1 x the worst feasible {name}" if o.sign > 0 else "0"
             for name, o in zip(objectives.keys, objectives.objectives)]
    return f"[{', '.join(axes)}] against [{', '.join(point)}]"


def write_study_report(study: optuna.Study, config: StudyConfig, path: str | Path,
                       batch: int | None = None) -> None:
    """The HTML report of a study (module docstring) to ``path``."""
    layout = StudyLayout.of(study)
    objectives = study_objectives(study)
    front = front_trials(study, batch)
    feasible = feasible_trials(study, batch)
    on_front = {t.number for t in front}
    others = [t for t in feasible if t.number not in on_front]
    cloud = (np.array([t.values[0] for t in others]), np.array([t.values[1] for t in others]))
    series = FrontSeries(study.study_name, [trial_row(t, layout) for t in front], cloud,
                         staircase=objectives.count == 2)
    complete = [t for t in study.get_trials(deepcopy=False,
                                           states=(optuna.trial.TrialState.COMPLETE,))
                if t.values is not None and (batch is None or t.params.get("batch") == batch)]
    scope = "" if batch is None else f" at batch {batch}"
    report = HtmlReport(
        f"{study.study_name}: latency-throughput front{scope}",
        f"{config_summary(config)}. {len(complete):,} designs evaluated, {len(feasible):,} "
        f"feasible, {len(front)} on the front. Hover a point for its design; click it for its "
        "schedule; the buttons switch between log and linear axes.",
    )
    report.heading("Latency-throughput front")
    report.fronts([series], title=f"{study.study_name}{scope}")
    if "energy_j_per_image" in objectives.names:
        report.heading("Latency-energy view of the front")
        report.fronts([series], y_of="energy", title="energy per image of the front designs")
    report.heading("Energy efficiency of the front")
    report.fronts([series], y_of="efficiency", title="images/s per W of the front designs")
    report.schedule_section()
    add_schedules(report, config, [
        (key, design_label(series.name, row), t.system_attrs[GENOME_KEY])
        for key, row, t in zip(series.keys, series.rows, front) if GENOME_KEY in t.system_attrs
    ])
    if complete:
        report.heading("Hypervolume against evaluations")
        report.paragraph(
            "Hypervolume of the feasible front found after each generation, as a fraction of "
            f"the final front's, in {_reference_text(objectives)}.")
        curve = hypervolume_curve(complete, {t.number for t in feasible}, objectives)
        report.figure(curves_figure([curve], "evaluated designs", False, HV_TARGETS,
                                    title="hypervolume of the front so far / final"))
    report.heading("Front designs")
    front_table(report, [series])
    report.write(path)
