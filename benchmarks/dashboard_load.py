"""How fast optuna-dashboard's study page loads, one journal file against another.

For each file (typically the same 10,000-design study written by an older and by the
current ssropt), per round: a fresh dashboard (cold caches) and a fresh headless Chromium
open ``/dashboard/studies/ID``; measured are the seconds until the Pareto plot holds every
completed trial (the page is usable) and the size and time of the one API answer that
carries every trial (``/api/studies/ID?after=0``).  Separately, in this process, the CPU
seconds optuna-dashboard spends building that answer from a cold cache (robust to other
load on a shared machine).  Rounds alternate between the files so load from other
processes hits both alike.

Each file is served by plain ``optuna-dashboard`` and by ``ssropt dashboard`` (which
builds the trial answer with less work and serves it before the importances), unless
``--server`` picks one.

Run:
    python benchmarks/dashboard_load.py before.log after.log --rounds 3
    python benchmarks/dashboard_load.py s.log --server plain   # plain optuna-dashboard only

Prints a table and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

from _dashboard import complete_trials, dashboard, open_study_page, study_ids
from chromium import Chromium


def api_cpu_seconds(storage: str, study_name: str, server: str) -> tuple[float, int, int]:
    """CPU seconds, bytes and trials of a cold ``?after=0`` answer, in a fresh process (the
    ssropt server's changes are process-wide)."""
    import subprocess

    out = subprocess.run([sys.executable, __file__, "--api-cpu", storage, study_name, server],
                         check=True, capture_output=True, text=True).stdout
    cpu, size, n = out.split()
    return float(cpu), int(size), int(n)


def _api_cpu_here(storage: str, study_name: str, server: str) -> None:
    import optuna
    from optuna_dashboard import wsgi

    from ssropt.outputs.dashboard import dashboard_app
    from ssropt.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    st = open_storage(storage)
    study_id = st.get_study_id_from_name(study_name)
    app = dashboard_app(st) if server == "ssropt" else wsgi(st)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/api/studies/{study_id}",
               "QUERY_STRING": "after=0", "SERVER_NAME": "x", "SERVER_PORT": "1",
               "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr}
    start = time.process_time()
    body = b"".join(app(environ, lambda status, headers, exc_info=None: None))
    print(time.process_time() - start, len(body), len(json.loads(body)["trials"]))


def one_round(storage: str, kind: str) -> dict:
    with dashboard(storage, kind) as base:
        ids = study_ids(base)
        name = next(iter(ids))
        n = complete_trials(storage, name)
        with Chromium() as browser:
            page, ready, _ = open_study_page(browser, base, ids[name], n)
            detail = [t for t in page.timings.values()
                      if "after=0" in t["url"] and "end" in t]
            api = detail[0] if detail else {}
    return {"trials": n, "page_s": ready, "api_s": api.get("end", 0) - api.get("start", 0),
            "api_bytes": api.get("bytes", 0)}


def main() -> None:
    if sys.argv[1:2] == ["--api-cpu"]:  # the child of api_cpu_seconds
        _api_cpu_here(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("storages", nargs="+", help="journal files (or RDB URLs)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", choices=("plain", "ssropt", "both"), default="both",
                        help="plain optuna-dashboard, ssropt dashboard, or both (default)")
    args = parser.parse_args()
    servers = ("plain", "ssropt") if args.server == "both" else (args.server,)
    runs = [(storage, server) for storage in args.storages for server in servers]
    results: dict[tuple[str, str], list[dict]] = {run: [] for run in runs}
    for k in range(args.rounds):
        for storage, server in runs:
            results[storage, server].append(one_round(storage, server))
            print(f"round {k + 1} {Path(storage).name} ({server}): {results[storage, server][-1]}", flush=True)
    summary = {}
    for (storage, server), rounds in results.items():
        import optuna

        from ssropt.storage import open_storage

        name = optuna.get_all_study_summaries(open_storage(storage))[0].study_name
        cpu, size, n = api_cpu_seconds(storage, name, server)
        summary[f"{Path(storage).name} ({server})"] = {
            "trials": n,
            "page_s": [round(r["page_s"], 1) for r in rounds],
            "page_median_s": round(statistics.median(r["page_s"] for r in rounds), 1),
            "api_MB": round(size / 1e6, 1),
            "api_KB_per_trial": round(size / max(n, 1) / 1e3, 2),
            "api_cpu_s": round(cpu, 2),
            "journal_KB_per_trial": round(_journal_trial_bytes(storage) / 1e3, 2),
        }
    print()
    print(f"{'file (server)':<28} {'trials':>7} {'page s (median)':>16} {'rounds':<22} {'API MB':>7} "
          f"{'API KB/trial':>13} {'API CPU s':>10} {'journal KB/trial':>17}")
    for storage, row in summary.items():
        print(f"{storage:<28} {row['trials']:>7} {row['page_median_s']:>16} "
              f"{str(row['page_s']):<22} {row['api_MB']:>7} {row['api_KB_per_trial']:>13} "
              f"{row['api_cpu_s']:>10} {row['journal_KB_per_trial']:>17}")
    print(json.dumps({"server": args.server, "rounds": args.rounds, "results": summary}))


def _journal_trial_bytes(storage: str) -> float:
    """Mean bytes of a journal file's CREATE_TRIAL lines (0 for a database URL)."""
    path = Path(storage)
    if not path.is_file():
        return 0.0
    sizes = [len(line) for line in path.read_bytes().splitlines() if b'"op_code":4,' in line]
    return sum(sizes) / len(sizes) if sizes else 0.0


if __name__ == "__main__":
    main()
