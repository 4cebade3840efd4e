"""Screenshots of optuna-dashboard on an ssropt study, and of the study's HTML report.

Runs a small study (DeiT-T, VCK190 INT8, hybrid space with configured accelerators, batch
1-8, 400 designs, seed 0) in a temporary journal file -- or takes ``--storage`` and
``--study`` -- serves it with ``ssropt dashboard`` on a loopback port and, in headless
Chromium (``tests/chromium.py``; Debian's ``chromium`` and ``websocket-client``):

* ``study.png``  -- the study page, once its Pareto plot holds every completed trial;
* ``pareto.png`` -- the Pareto plot card alone (infeasible designs grey, best trials marked);
* ``report.png`` -- the top of ``ssropt front --plot report.html`` (the interactive report).

Run:
    python benchmarks/dashboard_screenshot.py                     # -> benchmarks/results/dashboard/
    python benchmarks/dashboard_screenshot.py --storage s.log --study NAME --out shots

Prints the seconds the study page took and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _dashboard import PARETO_CARD, complete_trials, dashboard, open_study_page, study_ids
from chromium import Chromium

HERE = Path(__file__).resolve().parent


def make_study(storage: str) -> str:
    import ssropt

    config = ssropt.StudyConfig(
        workload={"model": "deit-t"}, platform="vck190",
        space=ssropt.SpaceOptions(configurator="ssr"), budget=400, seed=0,
    )
    ssropt.run(ssropt.create_study(config, "deit-t-hybrid", storage=storage))
    return "deit-t-hybrid"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", help="a journal file or RDB URL (default: a new study)")
    parser.add_argument("--study", help="the study to show (default: the first)")
    parser.add_argument("--out", default=str(HERE / "results" / "dashboard"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        storage = args.storage or str(Path(tmp) / "studies.log")
        name = args.study or (make_study(storage) if not args.storage else None)
        with dashboard(storage) as base:
            ids = study_ids(base)
            name = name or next(iter(ids))
            n_trials = complete_trials(storage, name)
            with Chromium(args.width, args.height) as browser:
                page, ready, load = open_study_page(browser, base, ids[name], n_trials)
                page.pump(3.0)  # the importance and history cards finish drawing
                page.screenshot(str(out / "study.png"))
                page.screenshot(str(out / "pareto.png"), clip=page.evaluate(PARETO_CARD))
                errors = list(page.errors)
        report = Path(tmp) / "report.html"
        from ssropt.cli import main as ssropt_main

        ssropt_main(["front", "--storage", storage, "--study-name", name, "--plot", str(report)])
        with Chromium(args.width, args.height) as browser:
            page = browser.page()
            page.navigate(report.resolve().as_uri())
            page.wait_for("document.querySelectorAll('.js-plotly-plot').length >= 4")
            page.pump(1.0)
            page.screenshot(str(out / "report.png"),
                            clip={"x": 0, "y": 0, "width": args.width, "height": 1500})
    print(f"study {name!r}: {n_trials} trials; page loaded in {load:.1f} s, Pareto plot "
          f"complete after {ready:.1f} s; screenshots in {out}")
    print(json.dumps({"study": name, "trials": n_trials, "load_s": round(load, 2),
                      "pareto_ready_s": round(ready, 2), "js_errors": errors,
                      "files": sorted(p.name for p in out.glob("*.png"))}))


if __name__ == "__main__":
    main()
