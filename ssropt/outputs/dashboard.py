"""``ssropt dashboard``: optuna-dashboard on a storage, with feasible-only best trials.

optuna-dashboard (0.21) reads an ssropt study as it is stored: metric names, params,
user attributes and, from the list-valued ``constraints`` attribute, which trials are
feasible (its plots grey out the others).  One thing no stored data can fix: it computes a
multi-objective study's *best trials* (the "Best Trial" chips, the trial list's best
filter, the Best Trials card) with ``get_pareto_front_trials(trials, directions)`` over
every COMPLETE trial, ignoring constraints, so an infeasible design can be "best".
:func:`feasible_best_trials` wraps that one function so it sees feasible trials only,
which is what Optuna's own ``Study.best_trials`` does.

:func:`faster_study_answers` makes the one answer that carries every trial (``GET
/api/studies/ID``) cheaper to build, with identical content: optuna-dashboard merges every
trial's parameter distributions into the study's search spaces one trial at a time (44
hashes and new distribution objects per trial of 11 params), and serialises each trial's
distributions afresh.  A trial whose numeric distributions equal the previous trial's
cannot change the merged spaces (merging takes the least ``low`` and the largest ``high``,
so merging the same distributions twice is a no-op) and is skipped, as is a trial whose
user attributes have the previous trial's names and types (their sortability); a numeric
distribution's JSON is built once per distinct distribution, and a number or string
attribute is written without the abstract-base-class checks (``numbers.Real``).

The study page asks for that answer and for the parameter importances at the same moment;
both are pure-Python CPU work, so under the GIL each slows the other and the page waits for
both.  :class:`TrialsFirst` serves the trials first: an importance request of a study
waits while that study's trial answer is being built (and up to ``GRACE_S`` for one that
the same page load is about to ask for); :class:`Gzipped` sends large answers
gzip-compressed to a browser that accepts them (36 MB of JSON for 10,000 trials is 3 MB).
The answers are unchanged; only their order and their encoding on the wire are.
Everything else is optuna-dashboard unchanged.

This module is the only place that touches optuna-dashboard internals (the module-level
names ``optuna_dashboard._app.get_pareto_front_trials`` and
``optuna_dashboard._serializer.serialize_distribution`` and ``.serialize_attrs``, and
``optuna_dashboard._inmemory_cache._CachedExtraStudyProperty._update_search_space`` and
``._update_user_attrs``);
``tests/outputs/test_dashboard.py`` pins the behaviour and compares every patched answer
with the original's, so an optuna-dashboard release that renames them (or starts
filtering itself) fails a test rather than serving infeasible best trials or different
data.  optuna-dashboard is an optional dependency: ``pip install -e ".[dashboard]"``.
"""

from __future__ import annotations

import re
import sys
import threading
import time
import zlib
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ssropt.errors import SsroptError
from ssropt.outputs.rows import trial_feasible

INSTALL_HINT = 'optuna-dashboard is not installed: pip install -e ".[dashboard]"'
_PATCHED = "_ssropt_patched"


def _patch(owner: Any, name: str, make: Callable[[Callable], Callable]) -> None:
    """Replace ``owner.name`` by ``make(original)``, once: the replacement is marked, and
    keeps the original as ``__wrapped__`` (the tests' oracle)."""
    original = getattr(owner, name)
    if getattr(original, _PATCHED, False):
        return
    replacement = make(original)
    replacement.__wrapped__ = original
    setattr(replacement, _PATCHED, True)
    setattr(owner, name, replacement)


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

    def make(original):
        def get_pareto_front_trials(trials, directions):
            return original([t for t in trials if trial_feasible(t)], directions)

        return get_pareto_front_trials

    _patch(_dashboard_app_module(), "get_pareto_front_trials", make)


def faster_study_answers() -> None:
    """Build optuna-dashboard's study answers with less work and identical content (see
    the module docstring; idempotent; affects this process only)."""
    try:
        from optuna.distributions import FloatDistribution, IntDistribution
        from optuna_dashboard import _inmemory_cache, _serializer
    except ImportError:
        raise SsroptError(INSTALL_HINT) from None
    cached = getattr(_inmemory_cache, "_CachedExtraStudyProperty", None)
    targets = [(cached, "_update_search_space"), (cached, "_update_user_attrs"),
               (_serializer, "serialize_distribution"), (_serializer, "serialize_attrs")]
    if not all(callable(getattr(owner, name, None)) for owner, name in targets):
        raise SsroptError("this optuna-dashboard has no _CachedExtraStudyProperty._update_search_space, "
                          "._update_user_attrs, _serializer.serialize_distribution or .serialize_attrs: "
                          "ssropt cannot serve it (tested with 0.21)")
    numeric = (FloatDistribution, IntDistribution)

    def merge_search_space(merge):
        def update_search_space(self, trial) -> None:
            distributions = trial.distributions
            if distributions == getattr(self, "_ssropt_merged", None):
                return  # merged already: merging it again changes nothing
            merge(self, trial)
            plain = all(type(d) in numeric for d in distributions.values())
            self._ssropt_merged = dict(distributions) if plain else None

        return update_search_space

    def merge_user_attrs(merge):
        def update_user_attrs(self, trial) -> None:
            attrs = trial.user_attrs
            signature = tuple(attrs), tuple(map(type, attrs.values()))
            if signature == getattr(self, "_ssropt_attrs", None):
                return  # same names, same types (so the same sortability): merged already
            merge(self, trial)
            self._ssropt_attrs = signature

        return update_user_attrs

    def distribution_json(serialize):
        memo: dict[tuple, dict] = {}

        def serialize_distribution(distribution):
            if type(distribution) not in numeric:
                return serialize(distribution)
            d = distribution
            key = (type(d), d.low, d.high, d.step, d.log)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = serialize(distribution)
            return hit  # shared: the answer is only encoded, never changed

        return serialize_distribution

    def attrs_json(serialize):
        def serialize_attrs(attrs):
            out = []
            for k, v in attrs.items():
                kind = type(v)
                if kind is float or kind is int:  # numbers.Real, not bool: str(v), as the original
                    out.append({"key": k, "value": str(v)})
                elif kind is str:
                    out.append({"key": k, "value": v})
                else:
                    out.extend(serialize({k: v}))
            return out

        return serialize_attrs

    for (owner, name), make in zip(targets, (merge_search_space, merge_user_attrs, distribution_json,
                                             attrs_json)):
        _patch(owner, name, make)


#: how long an importance request waits for the trial answer the same page asks for
GRACE_S = 0.5
#: an importance request never waits longer than this for trial answers
MAX_WAIT_S = 120.0
#: answers at least this long go gzip-compressed to clients that accept it (10,000
#: trials: 36 MB of JSON in 3 MB, compressed in about 0.1 s; the page's script 1.9 MB)
GZIP_MIN_BYTES = 64 * 1024
_TRIALS = re.compile(r"^/api/studies/(\d+)$")
_IMPORTANCES = re.compile(r"^/api/studies/(\d+)/param_importances$")


class TrialsFirst:
    """WSGI middleware: a study's parameter importances wait for its trial answer (see the
    module docstring)."""

    def __init__(self, app) -> None:
        self.app = app
        self.changed = threading.Condition()
        self.building: dict[str, int] = {}  # study id -> trial answers in progress
        self.asked: dict[str, float] = {}  # study id -> when a trial answer was last asked for

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        trials = _TRIALS.match(path)
        if trials:
            return self._trial_answer(trials.group(1), environ, start_response)
        importances = _IMPORTANCES.match(path)
        if importances:
            self._wait_for_trials(importances.group(1))
        return self.app(environ, start_response)

    def _trial_answer(self, study: str, environ, start_response):
        with self.changed:
            self.building[study] = self.building.get(study, 0) + 1
            self.asked[study] = time.monotonic()
        try:
            return list(self.app(environ, start_response))  # built here, within the count
        finally:
            with self.changed:
                self.building[study] -= 1
                self.changed.notify_all()

    def _wait_for_trials(self, study: str) -> None:
        start = time.monotonic()
        with self.changed:
            while time.monotonic() - start < MAX_WAIT_S:
                if self.building.get(study, 0):
                    self.changed.wait(timeout=1.0)
                elif self.asked.get(study, -1.0) < start and time.monotonic() - start < GRACE_S:
                    self.changed.wait(timeout=GRACE_S / 10)  # the page's trial request may be on its way
                else:
                    return


class Gzipped:
    """WSGI middleware: answers of at least ``GZIP_MIN_BYTES`` go gzip-compressed to clients
    that accept it (the page's script and the trial answer; unchanged once decoded)."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return self.app(environ, start_response)
        answer: list = []
        parts = self.app(environ, lambda *args: answer.append(args))
        try:
            body = b"".join(parts)
        finally:
            close = getattr(parts, "close", None)
            if close is not None:
                close()
        status, headers, *rest = answer[-1]
        named = {k.lower() for k, _ in headers}
        if (status.startswith("200") and len(body) >= GZIP_MIN_BYTES
                and not named & {"content-encoding", "content-range"}):
            packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip, the fastest level
            body = packer.compress(body) + packer.flush()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body))),
                        ("Vary", "Accept-Encoding")]
        start_response(status, headers, *rest)
        return [body]


def dashboard_app(storage) -> Any:
    """optuna-dashboard's WSGI application on ``storage``: best trials feasible-only, study
    answers built faster, trials before importances, large answers compressed."""
    feasible_best_trials()
    faster_study_answers()
    from optuna_dashboard import wsgi

    return Gzipped(TrialsFirst(wsgi(storage)))


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
