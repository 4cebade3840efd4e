"""optuna-dashboard and the Optuna CLI read an ssropt study right: constraints, metric
names, and best trials that are feasible (``ssropt dashboard``)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import optuna
import pytest
from conftest import in_ci
from dashboard_server import dashboard

from ssropt.engine.runner import run_study
from ssropt.engine.study import StudyConfig, create_ssropt_study
from ssropt.outputs.front import front_rows
from ssropt.outputs.rows import trial_feasible
from ssropt.spaces import SpaceOptions
from ssropt.storage import TrialRecord, open_storage, write_trials

pytestmark = pytest.mark.slow
NAME = "dash"
#: what a test waits for a server at most (a loaded 2-core machine is slow)
READY_S = 120.0


@pytest.fixture(scope="module", autouse=True)
def _optuna_dashboard_installed():
    try:
        import optuna_dashboard  # noqa: F401
    except ImportError:
        reason = 'optuna-dashboard is not installed (pip install -e ".[test]")'
        if in_ci():
            pytest.fail(f"{reason}; CI must run the dashboard tests", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> tuple[str, int]:
    """A small real study plus one infeasible trial that dominates every other design;
    its path and that trial's number."""
    url = str(tmp_path_factory.mktemp("dash") / "studies.log")
    config = StudyConfig(
        workload={"model": "deit-t", "tokens": 32, "blocks": 2, "embed_and_head": False},
        platform="vck190", space=SpaceOptions(batch_sizes=(1, 2, 4)).to_dict(), budget=60,
        population_size=20, seed=2,
    )
    storage = open_storage(url)
    study = create_ssropt_study(storage, NAME, config)
    run_study(study, config, progress=False)
    trials = study.get_trials(deepcopy=False)
    model = next(t for t in trials if not trial_feasible(t))
    best_latency = min(t.values[0] for t in trials)
    best_throughput = max(t.values[1] for t in trials)
    cheat = TrialRecord(
        params=dict(model.params), distributions=dict(model.distributions),
        values=(best_latency / 2, best_throughput * 2),
        constraints={str(i): float(v) for i, v in enumerate(model.system_attrs["constraints"])},
        user_attrs=dict(model.user_attrs),
    )
    write_trials(storage, study._study_id, [cheat])
    return url, len(trials)


def wsgi_get(app, path: str, query: str = "") -> dict:
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "x",
        "SERVER_PORT": "1", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    assert status[0].startswith("200"), status
    return json.loads(body)


def test_optuna_dashboard_alone_calls_an_infeasible_design_best_ssropts_wrapper_does_not(
    study_file, monkeypatch
):
    """Pins the optuna-dashboard behaviour ssropt.outputs.dashboard works around: the day a
    release filters by itself (or renames the function), this test says so."""
    import optuna_dashboard._app as app
    from optuna_dashboard import wsgi

    from ssropt.outputs.dashboard import dashboard_app

    monkeypatch.setattr(app, "get_pareto_front_trials", app.get_pareto_front_trials)  # restored
    url, cheat = study_file
    storage = open_storage(url)
    plain = wsgi_get(wsgi(storage), "/api/studies/0", "after=0")
    assert cheat in [t["number"] for t in plain["best_trials"]]
    fixed = wsgi_get(dashboard_app(storage), "/api/studies/0", "after=0")
    front = [row["trial"] for row in front_rows(optuna.load_study(study_name=NAME, storage=storage))]
    assert sorted(t["number"] for t in fixed["best_trials"]) == sorted(front)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=READY_S) as response:
        return json.loads(response.read())


def test_ssropt_dashboard_serves_feasible_best_trials_constraints_and_metric_names(study_file):
    url, cheat = study_file
    with dashboard(url, timeout=READY_S) as base:
        (summary,) = get_json(base + "/api/studies")["study_summaries"]
        assert summary["study_name"] == NAME
        detail = get_json(f"{base}/api/studies/{summary['study_id']}?after=0")
    study = optuna.load_study(study_name=NAME, storage=open_storage(url))
    stored = {t.number: t for t in study.trials}
    assert detail["objective_names"] == ["latency_s", "throughput_ops_per_s"]
    assert len(detail["trials"]) == len(stored)
    for trial in detail["trials"]:
        assert trial["constraints"] == stored[trial["number"]].system_attrs["constraints"]
        assert len(trial["constraints"]) == len(study.user_attrs["ssropt:constraint_names"])
    best = detail["best_trials"]
    assert best and all(all(c <= 0 for c in t["constraints"]) for t in best)
    assert cheat not in [t["number"] for t in best]
    assert sorted(t["number"] for t in best) == sorted(r["trial"] for r in front_rows(study))


def optuna_cli() -> str:
    candidate = Path(sys.executable).with_name("optuna")
    return str(candidate) if candidate.exists() else (shutil.which("optuna") or "optuna")


def test_the_optuna_cli_reads_feasible_best_trials(study_file):
    url, cheat = study_file
    result = subprocess.run(
        [optuna_cli(), "best-trials", "--storage", url, "--study-name", NAME, "-f", "json"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr
    best = json.loads(result.stdout)
    study = optuna.load_study(study_name=NAME, storage=open_storage(url))
    assert sorted(t["number"] for t in best) == sorted(r["trial"] for r in front_rows(study))
    assert cheat not in [t["number"] for t in best]


def _mixed_study() -> optuna.Study:
    """Trials whose distributions repeat, widen, change type and come and go: every case
    the search-space merge and the distribution JSON handle."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    study = optuna.create_study(directions=["minimize", "maximize"])
    x9, x20 = IntDistribution(0, 9), IntDistribution(0, 20)
    y, z = FloatDistribution(0.5, 2.0), IntDistribution(1, 64, log=True)
    kinds = [
        {"x": (3, x9)}, {"x": (4, x9)}, {"x": (5, x9), "y": (1.5, y)}, {"x": (5, x9), "y": (0.7, y)},
        {"x": (15, x20), "y": (1.0, y)}, {"x": (15, x20), "y": (1.0, y), "z": (8, z)},
        {"x": (2, x9), "c": ("b", CategoricalDistribution(["a", "b"]))},
        {"x": (2, x9), "c": ("c", CategoricalDistribution(["b", "c"]))}, {"x": (1, x9)}, {"x": (1, x9)},
    ]
    for i, kind in enumerate(kinds):
        study.add_trial(optuna.trial.create_trial(
            params={k: v for k, (v, _) in kind.items()}, distributions={k: d for k, (_, d) in kind.items()},
            values=[float(i), float(10 - i)],
            user_attrs={"power_w": 1.0 + i, "aie": 4 * i, **({"note": "x"} if i % 4 == 1 else {}),
                        **({"aie": str(i), "ok": True, "tiles": [1, 2], "raw": b"b"} if i == 7 else {})},
        ))
    return study


def test_faster_study_answers_are_identical_to_optuna_dashboards(monkeypatch):
    """ssropt dashboard's cheaper study answer against optuna-dashboard's own functions (the
    oracle): the same JSON, search spaces included."""
    from optuna_dashboard import _inmemory_cache, _serializer, wsgi

    from ssropt.outputs.dashboard import faster_study_answers

    faster_study_answers()
    cached = _inmemory_cache._CachedExtraStudyProperty
    patched = [(cached, "_update_search_space"), (cached, "_update_user_attrs"),
               (_serializer, "serialize_distribution"), (_serializer, "serialize_attrs")]
    assert all(hasattr(getattr(owner, name), "__wrapped__") for owner, name in patched), "not patched"
    study = _mixed_study()
    path = f"/api/studies/{study._study_id}"
    fast = wsgi_get(wsgi(study._storage), path, "after=0")
    for owner, name in patched:
        monkeypatch.setattr(owner, name, getattr(owner, name).__wrapped__)
    slow = wsgi_get(wsgi(study._storage), path, "after=0")
    assert fast == slow
    sortable = {a["key"]: a["sortable"] for a in fast["union_user_attrs"]}
    assert sortable["power_w"] and not sortable["aie"]  # one trial's "aie" is a string
    assert {p["name"] for p in fast["union_search_space"]} == {"x", "y", "z", "c"}
    x = next(p for p in fast["union_search_space"] if p["name"] == "x")
    assert (x["distribution"]["low"], x["distribution"]["high"]) == (0, 20)


def test_large_answers_are_gzipped_for_clients_that_accept_it_and_decode_unchanged():
    import gzip

    from ssropt.outputs.dashboard import GZIP_MIN_BYTES, Gzipped

    big = json.dumps([{"trial": i, "values": [i / 3, i * 7]} for i in range(GZIP_MIN_BYTES // 10)]).encode()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "1")])
        return [big[:1000], big[1000:]] if environ["PATH_INFO"] == "/big" else [b"{}"]

    def get(path, accept):
        seen = []
        body = b"".join(Gzipped(app)({"PATH_INFO": path, "HTTP_ACCEPT_ENCODING": accept},
                                     lambda status, headers, *rest: seen.append(dict(headers))))
        return body, seen[0]

    body, headers = get("/big", "gzip, deflate, br")
    assert headers["Content-Encoding"] == "gzip" and int(headers["Content-Length"]) == len(body)
    assert len(body) < len(big) / 4 and gzip.decompress(body) == big
    assert get("/big", "identity") == (big, {"Content-Type": "application/json", "Content-Length": "1"})
    assert get("/small", "gzip")[0] == b"{}"  # small answers go as they are


def test_an_importance_request_waits_for_the_trial_answer_of_its_study():
    import threading
    import time

    from ssropt.outputs.dashboard import GRACE_S, TrialsFirst

    events: list[str] = []

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        events.append("start " + path)
        if path == "/api/studies/3":
            time.sleep(0.5)
        events.append("end " + path)
        start_response("200 OK", [])
        return [b"{}"]

    served = TrialsFirst(app)

    def get(path):
        return served({"PATH_INFO": path}, lambda *a: None)

    page = threading.Thread(target=get, args=("/api/studies/3",))
    page.start()
    time.sleep(0.1)
    get("/api/studies/3/param_importances")  # asked while the trials are being built
    page.join()
    assert events == ["start /api/studies/3", "end /api/studies/3",
                      "start /api/studies/3/param_importances", "end /api/studies/3/param_importances"]
    start = time.monotonic()
    get("/api/studies/4/param_importances")  # no trial answer coming: waits its grace only
    assert time.monotonic() - start < GRACE_S + 5
    assert events[-1] == "end /api/studies/4/param_importances"
