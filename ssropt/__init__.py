"""ssropt: design-space exploration for spatial-sequential hybrid transformer accelerators.

``ssropt.evaluate(design)`` evaluates one design object (the design-file format) and
returns the same dict as ``ssropt evaluate --json`` (:mod:`ssropt.outputs.design`).
``ssropt.create_study``, ``run``, ``load_study``, ``load_front`` and ``front_dataframe``
create, search, resume and read studies of one ``ssropt.StudyConfig`` (:mod:`ssropt.api`).

The package map: ``ssropt.objectives`` (workloads, platforms, cost models),
``ssropt.spaces`` (search spaces), ``ssropt.strategies``, ``ssropt.engine`` (studies and
workers), ``ssropt.storage``, ``ssropt.outputs`` (fronts, plots, one design's report),
``ssropt.harness`` (compare, compare-platforms, bench) and ``ssropt.cli``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
#: the Python API (:mod:`ssropt.api`): name -> the module that defines it
_API = {
    "evaluate": "ssropt.outputs.design",
    "StudyConfig": "ssropt.api",
    "SpaceOptions": "ssropt.api",
    "create_study": "ssropt.api",
    "load_study": "ssropt.api",
    "run": "ssropt.api",
    "load_front": "ssropt.api",
    "front_dataframe": "ssropt.api",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    # imported on first use: ``import ssropt`` (and ``ssropt --version``) stays cheap, and
    # the objectives, which import ``ssropt.errors``, never wait for the engine
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'ssropt' has no attribute {name!r}")
