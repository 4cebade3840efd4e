"""What the dashboard benchmarks share: start a dashboard on a loopback port, open a study
page in headless Chromium (``tests/chromium.py``) and wait until its Pareto plot holds
every completed trial."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from chromium import Chromium  # noqa: E402
from dashboard_server import dashboard  # noqa: E402,F401 (re-exported to the benchmarks)

#: optuna-dashboard's Pareto plot element (front end of 0.21)
PARETO_ID = "graph-pareto-front"
PARETO_POINTS = f"""(() => {{
  const gd = document.getElementById('{PARETO_ID}');
  if (!gd || !gd._fullData) return -1;
  return gd._fullData.reduce((n, t) => n + (t._length || 0), 0);
}})()"""
PARETO_CARD = f"""(() => {{
  const el = document.getElementById('{PARETO_ID}');
  const card = el.closest('.MuiCard-root') || el;
  const r = card.getBoundingClientRect();
  return {{x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height}};
}})()"""


def study_ids(base: str) -> dict[str, int]:
    with urllib.request.urlopen(base + "/api/studies", timeout=600) as response:
        summaries = json.loads(response.read())["study_summaries"]
    return {s["study_name"]: s["study_id"] for s in summaries}


def complete_trials(storage: str, study_name: str) -> int:
    import optuna

    from ssropt.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))


def open_study_page(browser: Chromium, base: str, study_id: int, n_trials: int,
                    timeout: float = 900.0):
    """Open the study page in a fresh page target; ``(page, seconds until the Pareto plot
    holds every completed trial, seconds until the load event)``."""
    page = browser.page()
    start = time.monotonic()
    load = page.navigate(f"{base}/dashboard/studies/{study_id}", timeout=timeout)
    page.wait_for(f"{PARETO_POINTS} >= {n_trials}", timeout=timeout, interval=0.25)
    return page, time.monotonic() - start, load
