"""``ssropt dashboard``: optuna-dashboard on a storage, with feasible-only best trials.

optuna-dashboard (0.21) reads an ssropt study as it is stored: metric names, params,
user attributes and, from the list-valued ``constraints`` attribute, which trials are
feasible (its plots grey out the others).  One thing no stored data can fix: it computes a
multi-objective study's *best trials* (the "Best Trial" chips, the trial list's best
filter, the Best Trials card) with ``get_pareto_front_trials(trials, directions)`` over
every COMPLETE trial, ignoring constraints, so an infeasible design can be "best".
:func:`feasible_best_trials` wraps that one function so it sees feasible trials only,
which is what Optuna's own ``Study.best_trials`` does; everything else is
optuna-dashboard unchanged.

This module is the only place that touches optuna-dashboard internals (the module-level
name ``optuna_dashboard._app.get_pareto_front_trials``, read by ``get_study_detail`` at
every request); ``tests/outputs/test_dashboard.py`` pins the behaviour, so an
optuna-dashboard release that renames it (or starts filtering itself) fails a test rather
than serving infeasible best trials.  optuna-dashboard is an optional dependency:
``pip install -e ".[dashboard]"``.
"""

from __future__ import annotations

import sys
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ssropt.errors import SsroptError
from ssropt.outputs.rows import trial_feasible

INSTALL_HINT = 'optuna-dashboard is not installed: pip install -e ".[dashboard]"'
_MARK = "_ssropt_feasible_only"


def _dashboard_app_module() -> Any:
    try:
        import optuna_dashboard._app as app
    except ImportError:
        raise SsroptError(INSTALL_HINT) from None
    if not callable(getattr(app, "get_pareto_front_trials", None)):
        raise SsroptError(
            "this optuna-dashboard has no optuna_dashboard._app.get_pareto_front_trials: "
            "ssropt cannot make its best trials feasible-only (tested with 0.21)"
        )
    return app


def feasible_best_trials() -> None:
    """Make optuna-dashboard's best trials of multi-objective studies the Pareto front of
    the feasible trials (idempotent; affects this process only)."""
    app = _dashboard_app_module()
    original = app.get_pareto_front_trials
    if getattr(original, _MARK, False):
        return

    def get_pareto_front_trials(trials, directions):
        return original([t for t in trials if trial_feasible(t)], directions)

    setattr(get_pareto_front_trials, _MARK, True)
    app.get_pareto_front_trials = get_pareto_front_trials


def dashboard_app(storage) -> Any:
    """optuna-dashboard's WSGI application on ``storage``, best trials feasible-only."""
    feasible_best_trials()
    from optuna_dashboard import wsgi

    return wsgi(storage)


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # the page asks several things at once
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


def serve(storage, host: str = "127.0.0.1", port: int = 8080, *, announce: bool = True) -> None:
    """Serve :func:`dashboard_app` on ``host:port`` until interrupted (Ctrl-C)."""
    app = dashboard_app(storage)
    try:
        server = make_server(host, port, app, server_class=_ThreadedServer,
                             handler_class=_QuietHandler)
    except OSError as error:
        raise SsroptError(f"cannot serve on {host}:{port}: {error.strerror or error}") from None
    if announce:
        shown = f"[{host}]" if ":" in host else host
        print(f"optuna-dashboard (best trials: feasible only) at http://{shown}:{port}/ "
              "-- Ctrl-C stops it", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
