"""``ssropt front --plot F.html``: one self-contained interactive report that renders in a
browser (headless Chromium) with no JavaScript error and no network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from chromium import report_problems

from ssropt.cli import main
from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.spaces import SpaceOptions
from ssropt.storage import open_storage

pytestmark = pytest.mark.slow
#: front, efficiency, schedule, hypervolume
STUDY_PLOTS = 4


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    url = str(tmp / "studies.log")
    config = StudyConfig(
        workload={"model": "deit-t", "tokens": 32, "blocks": 2, "embed_and_head": False},
        platform="vck190", space=SpaceOptions(batch_sizes=(1, 2, 4), configurator="ssr").to_dict(),
        budget=80, population_size=20, seed=3,
    )
    study = create_ssropt_study(open_storage(url), "r", config)
    run_study(study, config, progress=False)
    path = tmp / "front.html"
    assert main(["front", "--storage", url, "--study-name", "r", "--plot", str(path)]) == 0
    return path


def test_the_report_is_one_file_with_plotly_inside_and_nothing_to_fetch(report):
    text = report.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text
    assert "Plotly.newPlot" in text and len(text) > 3_000_000  # plotly.js itself is embedded
    assert not re.search(r"https?://(?!www\.w3\.org)", text.split("<script>", 1)[0])


def test_the_report_renders_with_hover_data_and_links_front_points_to_schedules(
    report, chromium_page
):
    assert report_problems(chromium_page, report, STUDY_PLOTS) == []
    hover = chromium_page.evaluate(
        "document.getElementById('fig-1').data.find(t => t.hovertext).hovertext[0]")
    for fact in ("trial", "batch", "latency", "GOPS", "images/s/W", "W", "accelerators",
                 "resources", "aie"):
        assert fact in hover
    buttons = chromium_page.evaluate(
        "document.getElementById('fig-1').layout.updatemenus[0].buttons.map(b => b.label)")
    assert buttons == ["log axes", "linear axes"]
    chromium_page.evaluate(  # the linear button relayouts without an error
        "Plotly.relayout('fig-1', document.getElementById('fig-1').layout.updatemenus[0]"
        ".buttons[1].args[0]).then(() => true)")
    chromium_page.pump(0.3)
    assert chromium_page.evaluate("document.getElementById('fig-1').layout.xaxis.type") == "linear"
    assert chromium_page.errors == []


def test_the_browser_check_catches_a_broken_report(report, chromium_page, tmp_path):
    text = report.read_text(encoding="utf-8")
    broken = tmp_path / "broken.html"
    broken.write_text(text.replace("</body>", "<script>undefinedFunction();</script></body>"),
                      encoding="utf-8")
    assert any("undefinedFunction" in p for p in report_problems(chromium_page, broken, STUDY_PLOTS))
    empty = tmp_path / "empty.html"
    spec = json.dumps({"data": [], "layout": {}})
    empty.write_text(re.sub(r'(<script type="application/json" id="fig-2-data">).*?(</script>)',
                            lambda m: m[1] + spec + m[2], text, count=1, flags=re.S),
                     encoding="utf-8")
    assert any("empty plot" in p for p in report_problems(chromium_page, empty, STUDY_PLOTS))
    remote = tmp_path / "remote.html"
    remote.write_text(text.replace("</body>", '<img src="http://127.0.0.1:9/x.png"></body>'),
                      encoding="utf-8")
    assert any("network request" in p for p in report_problems(chromium_page, remote, STUDY_PLOTS))
