"""Shared fixtures: the VCK190 platform, one DeiT-T block on it, and a throw-away
PostgreSQL server for the tests that need one.

Tests mirror the package folders (``tests/objectives/models/ssr/`` tests
``objectives/models/ssr/`` ...); test file names are unique across folders.  Tests that
take seconds (subprocesses, several workers, whole comparisons) are marked ``slow``:
``python -m pytest -m "not slow"`` is the quick subset, ``python -m pytest`` runs all.

``postgres_url`` is ``$SSROPT_TEST_POSTGRES_URL`` when that is set, otherwise the URL of
the ``postgres_server`` this session starts (see ``tests/postgres_server.py``). Without the
PostgreSQL binaries (or the psycopg driver) those tests are skipped locally, but fail when
``CI`` is set: CI must never skip them silently.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import NoReturn

import pytest
from postgres_server import PostgresServer, PostgresUnavailable

from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import Platform, load_platform
from ssropt.objectives.workloads import build_model

POSTGRES_URL_VARIABLE = "SSROPT_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def vck190() -> Platform:
    """The AMD Versal VCK190, the platform most tests price designs on."""
    return load_platform("vck190")


@pytest.fixture(scope="session")
def block_model(vck190: Platform) -> CostModel:
    """One DeiT-T encoder block (192 tokens, no embedding or head) on the VCK190 in INT8,
    under its default (``ssr``) cost model."""
    return CostModel(build_model("deit-t", tokens=192, blocks=1, embed_and_head=False), vck190, "int8")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(
            f"{reason} (CI is set: tests that need PostgreSQL must run there, not skip)",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_page():
    """One page of a headless Chromium for this session (``tests/chromium.py``); the
    browser tests skip without chromium locally, and fail in CI."""
    from chromium import Chromium, ChromiumMissing

    missing = None
    if importlib.util.find_spec("websocket") is None:
        missing = "websocket-client is not installed: pip install -e '.[test]'"
    else:
        try:
            browser = Chromium()
        except ChromiumMissing as error:
            missing = str(error)
    if missing is not None:
        if in_ci():
            pytest.fail(f"{missing} (CI is set: the browser tests must run there)", pytrace=False)
        pytest.skip(missing)
    try:
        yield browser.page()
    finally:
        browser.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server started for this session, with ``.url``, ``.stop()``, ``.start()``.

    Always a local throw-away server (even if ``$SSROPT_TEST_POSTGRES_URL`` is set), so a
    test may stop and restart it; ``.url`` stays valid across that.
    """
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("the psycopg driver is not installed: pip install -e '.[postgres]'")
    try:
        server = PostgresServer.launch()
    except PostgresUnavailable as error:
        missing = str(error)
    else:
        missing = None
    if missing is not None:  # outside the except: no chained traceback in the report
        _unavailable(missing)
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> str:
    """A ``postgresql+psycopg://`` URL of a database the tests may create studies in."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if url:
        return url
    return request.getfixturevalue("postgres_server").url
