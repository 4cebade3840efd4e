"""ssropt: design-space exploration for spatial-sequential hybrid transformer accelerators.

``ssropt.evaluate(design)`` evaluates one design object (the design-file format) and
returns the same dict as ``ssropt evaluate --json`` (:mod:`ssropt.outputs.design`).

The package map: ``ssropt.objectives`` (workloads, platforms, cost models),
``ssropt.spaces`` (search spaces), ``ssropt.strategies``, ``ssropt.engine`` (studies and
workers), ``ssropt.storage``, ``ssropt.outputs`` (fronts, plots, one design's report),
``ssropt.harness`` (compare, compare-platforms, bench) and ``ssropt.cli``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "evaluate"]


def __getattr__(name: str) -> Any:
    # imported on first use: ``import ssropt`` (and ``ssropt --version``) stays cheap, and
    # the objectives, which import ``ssropt.errors``, never wait for the engine
    if name == "evaluate":
        from ssropt.outputs.design import evaluate

        return evaluate
    raise AttributeError(f"module 'ssropt' has no attribute {name!r}")
