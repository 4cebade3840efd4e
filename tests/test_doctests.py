"""Every example in a module docstring of ssropt runs and prints what it shows.

Modules are imported by their ``ssropt.`` names (``ssropt.spaces.space``, never a
top-level ``spaces``), one test per module.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("ssropt", "ssropt.objectives", "ssropt.spaces")
#: modules whose examples run a small study or benchmark
SLOW = {"ssropt.harness.bench.run"}


def module_names() -> list[str]:
    names = set(PACKAGES)
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        for info in pkgutil.walk_packages(path, package + "."):
            if not info.name.endswith("__main__"):  # running it would run the CLI
                names.add(info.name)
    return sorted(names)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in module_names()]
)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
