"""The lock-step schedule chart of ``ssropt evaluate --gantt`` and ``ssropt show --gantt``."""

from __future__ import annotations

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
