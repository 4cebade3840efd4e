"""The lock-step schedule chart of one ``ssr`` design.

Accelerators are rows, steps are columns whose width is the step's time (its slowest
job: layer time, plus the DDR input for an image's first layer); each box is labelled
with its node and image.  Re-layout time, zero for designs whose bank partitions follow
the lcm rules, is not drawn.
"""

from __future__ import annotations

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.outputs.files import Output, figure_output, write_outputs

#: the most jobs (boxes) a chart draws: one box takes milliseconds, and more is unreadable
MAX_CHART_JOBS = 10_000


def draw_gantt(model: CostModel, designs: DesignBatch, index: int, path: str) -> None:
    """Draw design ``index`` of ``designs`` to ``path`` (PNG, PDF or SVG), all or nothing."""
    write_outputs([gantt_output(model, designs, index, path)])


def gantt_output(model: CostModel, designs: DesignBatch, index: int, path: str) -> Output:
    """The :class:`~ssropt.outputs.files.Output` of :func:`draw_gantt`; SsroptError for a
    model without a lock-step schedule."""
    check_gantt(model, designs, index)
    return figure_output(path, lambda: gantt_figure(model, designs, index))


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


def gantt_figure(model: CostModel, designs: DesignBatch, index: int):
    """The matplotlib figure of :func:`draw_gantt`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    colors = plt.get_cmap("tab10")

    fig, ax = plt.subplots(figsize=(12, 1.6 + 0.6 * n_acc), dpi=110)
    for k in range(jobs.step.size):
        s, acc, node = int(jobs.step[k]), int(assign[jobs.node[k]]), int(jobs.node[k])
        ax.barh(acc, cost[k] * 1e3, left=start[s] * 1e3, height=0.7,
                color=colors(node % 10), edgecolor="black", linewidth=0.3)
        if n_steps <= 120:
            ax.text((start[s] + cost[k] / 2) * 1e3, acc, f"{workload.names[node]}\ni{jobs.image[k]}",
                    ha="center", va="center", fontsize=5)
    from matplotlib.patches import Patch

    ax.legend(
        handles=[Patch(color=colors(j % 10), label=name) for j, name in enumerate(workload.names)],
        fontsize=6, ncol=min(len(workload.names), 10), loc="upper center",
        bbox_to_anchor=(0.5, -0.35), frameon=False,
    )
    ax.set_yticks(range(n_acc), [f"acc {a}" for a in range(n_acc)])
    ax.invert_yaxis()
    ax.set_xlabel("time [ms]")
    ax.set_title(
        f"{workload.name}, batch {int(one.batch[0])}: {n_steps} lock-step steps, "
        f"latency {result.latency_s[0] * 1e3:.3f} ms", fontsize=9,
    )
    fig.tight_layout()
    return fig
