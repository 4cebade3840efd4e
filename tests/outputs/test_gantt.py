"""The lock-step schedule chart of ``ssropt evaluate --gantt`` and ``ssropt show --gantt``."""

from __future__ import annotations

import itertools
import json

from ssropt.cli import main

NODES = ["q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2"]


def design(cost_model: str = "ssr") -> dict:
    if cost_model == "ssr":
        accelerators = [
            {"a": 1, "b": 4, "c": 6, "dup": 1, "h1": 32, "w1": 48, "w2": 32},
            {"a": 2, "b": 2, "c": 2, "dup": 3, "h1": 48, "w1": 32, "w2": 48},
        ]
    else:
        accelerators = [{"a": 3, "b": 4, "c": 4, "x": 1, "y": 1, "z": 1}] * 2
    return {
        "workload": {"model": "deit-t", "tokens": 192, "blocks": 2, "embed_and_head": False},
        "platform": "vck190",
        "cost_model": cost_model,
        "batch": 3,
        "accelerators": accelerators,
        "assignment": {n: (1 if n.startswith("attn") else 0) for n in NODES},
    }


def test_evaluate_draws_a_png_schedule_chart(tmp_path, capsys):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(design()))
    chart = tmp_path / "schedule.png"
    assert main(["evaluate", str(path), "--gantt", str(chart)]) == 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_size > 5000


def test_charts_need_the_lock_step_schedule_of_the_ssr_model(tmp_path, capsys):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(design("charm")))
    chart = tmp_path / "schedule.png"
    assert main(["evaluate", str(path), "--gantt", str(chart)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "ssr cost model" in err[0]
    assert not chart.exists()


def test_a_chart_into_a_missing_directory_is_an_error(tmp_path, capsys):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(design()))
    assert main(["evaluate", str(path), "--gantt", str(tmp_path / "no" / "s.png")]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_box_labels_fit_their_boxes_and_never_overlap():
    import matplotlib.pyplot as plt

    from ssropt.objectives.design_file import parse_design
    from ssropt.objectives.models import CostModel
    from ssropt.outputs.gantt import gantt_figure, schedule_data

    spec = design()
    spec["batch"] = 6
    parsed = parse_design(spec)
    model = CostModel(parsed.workload, parsed.platform, parsed.dtype, parsed.cost_model)
    schedule = schedule_data(model, parsed.designs, 0)
    fig = gantt_figure(schedule)
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert labels, "no box is wide enough for a label"
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    for text, extent in zip(labels, boxes):
        x, y = ax.transData.transform(text.get_position())
        bar = next(b for b in bars if b.x0 <= x <= b.x1 and b.y0 <= y <= b.y1)
        assert bar.x0 - 1 <= extent.x0 and extent.x1 <= bar.x1 + 1
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["acc 0\n1x4x6, tile 32x48x32", "acc 1\n2x2x2, tile 48x32x48, 3 copies"]
    plt.close(fig)
