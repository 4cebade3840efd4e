"""The lock-step schedule chart of one ``ssr`` design: its data, and the PNG.

Accelerators are rows (labelled with their shape: AIE array ``a x b x c``, single-AIE
tile ``h1 x w1 x w2``, copies ``dup``), steps are columns whose width is the step's time
(its slowest job: layer time, plus the DDR input for an image's first layer); each box
is coloured by its node and labelled with the image (and the node) only where the label
fits inside it.  Re-layout time, zero for designs whose bank partitions follow the lcm
rules, is not drawn.  :func:`schedule_data` is the data the HTML report draws the same
chart from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.outputs.files import Output, figure_output, write_outputs

PNG_DPI = 110
#: the most jobs (boxes) a chart draws: one box takes milliseconds, and more is unreadable
MAX_CHART_JOBS = 10_000


@dataclass(frozen=True)
class Schedule:
    """Every job of one design's lock-step schedule, times in milliseconds.

    ``acc``, ``node``, ``image``, ``start_ms`` and ``duration_ms`` are ``(n_jobs,)``;
    ``shapes[a]`` is accelerator ``a``'s shape text.
    """

    acc: np.ndarray
    node: np.ndarray
    image: np.ndarray
    start_ms: np.ndarray
    duration_ms: np.ndarray
    node_names: tuple[str, ...]
    shapes: tuple[str, ...]
    steps: int
    batch: int
    latency_ms: float
    workload: str

    def to_json(self) -> dict:
        """Compact columns for the HTML report (times rounded to 10 ns)."""
        return {
            "acc": self.acc.tolist(),
            "node": self.node.tolist(),
            "image": self.image.tolist(),
            "start": np.round(self.start_ms, 5).tolist(),
            "dur": np.round(self.duration_ms, 5).tolist(),
            "shapes": list(self.shapes),
            "steps": self.steps,
            "batch": self.batch,
            "latency_ms": self.latency_ms,
        }


def accelerator_shape(params: dict[str, int]) -> str:
    """``7x3x3, tile 32x64x32`` (``, 3 copies`` when ``dup`` > 1) of an ssr accelerator;
    other models' parameters as ``name=value``."""
    if {"a", "b", "c"} <= params.keys():
        text = f"{params['a']}x{params['b']}x{params['c']}"
        if {"h1", "w1", "w2"} <= params.keys():
            text += f", tile {params['h1']}x{params['w1']}x{params['w2']}"
        if params.get("dup", 1) > 1:
            text += f", {params['dup']} copies"
        return text
    return " ".join(f"{k}={v}" for k, v in params.items())


def schedule_data(model: CostModel, designs: DesignBatch, index: int) -> Schedule:
    """The schedule of design ``index`` of ``designs`` (``ssr`` cost model only)."""
    if model.cost_model != "ssr":
        raise SsroptError("schedule charts exist for the ssr cost model only (charm has no lock-step schedule)")
    one = designs.take(slice(index, index + 1))
    result = model.evaluate(one)
    workload, platform = model.workload, model.platform
    assign = one.assignment[0]
    jobs = model.scheduler.jobs(int(one.batch[0]), assign)
    node_time = result.node_time_s[0]
    t_input = platform.ssr.input_bytes_per_image / platform.ssr.input_bandwidth_bytes_per_s
    layer = workload.layer_offset[jobs.node] + jobs.block * workload.layer_stride[jobs.node]
    cost = node_time[jobs.node] + np.where(layer == 0, t_input, 0.0)
    n_steps = int(jobs.step.max()) + 1
    width = np.zeros(n_steps)
    np.maximum.at(width, jobs.step, cost)
    start = np.concatenate([[0.0], np.cumsum(width)[:-1]])
    n_acc = int(assign.max()) + 1
    names = model.param_names
    shapes = tuple(
        accelerator_shape({p: int(one.params[0, a, k]) for k, p in enumerate(names)})
        for a in range(n_acc)
    )
    return Schedule(
        acc=assign[jobs.node].astype(np.int64),
        node=jobs.node.astype(np.int64),
        image=jobs.image.astype(np.int64),
        start_ms=start[jobs.step] * 1e3,
        duration_ms=cost * 1e3,
        node_names=tuple(workload.names),
        shapes=shapes,
        steps=n_steps,
        batch=int(one.batch[0]),
        latency_ms=float(result.latency_s[0] * 1e3),
        workload=workload.name,
    )


def draw_gantt(model: CostModel, designs: DesignBatch, index: int, path: str) -> None:
    """Draw design ``index`` of ``designs`` to ``path`` (PNG, PDF or SVG), all or nothing."""
    write_outputs([gantt_output(model, designs, index, path)])


def gantt_output(model: CostModel, designs: DesignBatch, index: int, path: str) -> Output:
    """The :class:`~ssropt.outputs.files.Output` of :func:`draw_gantt`; SsroptError for a
    model without a lock-step schedule or a chart of too many jobs."""
    check_gantt(model, designs, index)
    return figure_output(path, lambda: gantt_figure(schedule_data(model, designs, index)))


def check_gantt(model: CostModel, designs: DesignBatch, index: int = 0) -> None:
    """SsroptError unless design ``index`` has a lock-step schedule of at most
    :data:`MAX_CHART_JOBS` jobs to chart."""
    if model.cost_model != "ssr":
        raise SsroptError("schedule charts exist for the ssr cost model only (charm has no lock-step schedule)")
    jobs = int(designs.batch[index]) * model.workload.n_layers
    if jobs > MAX_CHART_JOBS:
        raise SsroptError(
            f"a schedule chart draws at most {MAX_CHART_JOBS:,} jobs (batch x layers); this design "
            f"has {jobs:,}: chart a smaller batch or fewer blocks"
        )


def gantt_figure(schedule: Schedule):
    """The matplotlib figure of a schedule (the caller saves and closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    n_acc = len(schedule.shapes)
    colors = plt.get_cmap("tab10")
    width_in, axes_share = 12.0, 0.78  # the axes' share of the figure width (legend at the right)
    fig, ax = plt.subplots(figsize=(width_in, 1.3 + 0.55 * n_acc), dpi=PNG_DPI)
    total = float((schedule.start_ms + schedule.duration_ms).max())
    px_per_ms = width_in * axes_share * PNG_DPI / total
    font = 6.0
    char_px = 0.6 * font * PNG_DPI / 72  # a character's width, roughly
    for k in range(schedule.acc.size):
        acc, node = int(schedule.acc[k]), int(schedule.node[k])
        left, dur = float(schedule.start_ms[k]), float(schedule.duration_ms[k])
        ax.barh(acc, dur, left=left, height=0.7, color=colors(node % 10),
                edgecolor="black", linewidth=0.3)
        room = dur * px_per_ms - 2
        name, image = schedule.node_names[node], f"i{schedule.image[k]}"
        label = next((t for t in (f"{name} {image}", image) if len(t) * char_px <= room), None)
        if label:
            ax.text(left + dur / 2, acc, label, ha="center", va="center", fontsize=font)
    used = sorted(set(schedule.node.tolist()))
    ax.legend(
        handles=[Patch(color=colors(j % 10), label=schedule.node_names[j]) for j in used],
        fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
        title="node", title_fontsize=7,
    )
    ax.set_yticks(range(n_acc), [f"acc {a}\n{shape}" for a, shape in enumerate(schedule.shapes)],
                  fontsize=7)
    ax.set_ylim(n_acc - 0.5, -0.5)
    ax.set_xlim(0, total * 1.005)
    ax.set_xlabel("time [ms]  (box label: node and image, where it fits)")
    ax.set_title(
        f"{schedule.workload}, batch {schedule.batch}: {schedule.steps} lock-step steps, "
        f"latency {schedule.latency_ms:.3f} ms", fontsize=9,
    )
    ax.grid(True, axis="x", alpha=0.3)
    fig.subplots_adjust(left=0.13, right=0.13 + axes_share - 0.02)
    return fig
