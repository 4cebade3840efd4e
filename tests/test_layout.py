"""The layout stays as ARCHITECTURE.md draws it: layering, no import cycles, small modules.

Imports are read from the source with ``ast`` (every import, also those inside functions;
not those under ``if TYPE_CHECKING:``, which never run), module names as Python sees
them: ``spaces/space.py`` is ``ssropt.spaces.space``.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: folder -> the import name it is installed as (setup.py)
FOLDERS = {"ssropt": "ssropt", "spaces": "ssropt.spaces", "objectives": "ssropt.objectives"}
MAX_LINES = 500
MODEL_NAMES = ("ssr", "charm", "fpga", "gpu-roofline")


@cache
def modules() -> dict[str, Path]:
    """Import name -> source file of every module of the package."""
    found = {}
    for folder, name in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([name, *parts])] = path
    return found


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


@cache
def imports(module: str) -> frozenset[str]:
    """The ssropt modules ``module`` imports (a package's name for ``from pkg import name``
    unless ``pkg.name`` is itself a module)."""
    known = modules()
    path = known[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
    return frozenset(name for name in out if name in known)


def _layer(prefixes: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    """``module -> imported`` lines of modules under ``prefixes`` that import ``forbidden``."""
    bad = []
    for module in modules():
        if not module.startswith(prefixes):
            continue
        for target in imports(module):
            if target.startswith(forbidden):
                bad.append(f"{module} -> {target}")
    return bad


def test_objectives_import_nothing_from_spaces_or_the_engine():
    engine = tuple(m + "." for m in ("ssropt.spaces", "ssropt.strategies", "ssropt.storage",
                                     "ssropt.engine", "ssropt.cli", "ssropt.harness", "ssropt.outputs"))
    engine += ("ssropt.pareto", "ssropt.spaces", "ssropt.engine", "ssropt.cli", "ssropt.harness")
    assert _layer(("ssropt.objectives",), engine) == []
    outside = [f"{m} -> {t}" for m in modules() if m.startswith("ssropt.objectives")
               for t in imports(m) if not t.startswith(("ssropt.objectives", "ssropt.errors"))]
    assert outside == []


def test_spaces_import_nothing_from_strategies_storage_or_the_engine():
    forbidden = ("ssropt.strategies", "ssropt.storage", "ssropt.engine", "ssropt.cli",
                 "ssropt.harness", "ssropt.outputs")
    assert _layer(("ssropt.spaces",), forbidden) == []


def test_spaces_know_no_cost_model_by_name():
    concrete = tuple(f"ssropt.objectives.models.{m}" for m in ("ssr", "charm", "fpga", "gpu", "lockstep"))
    assert _layer(("ssropt.spaces",), concrete) == []
    named = []
    for module, path in modules().items():
        if module.startswith("ssropt.spaces"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and node.value in MODEL_NAMES:
                    named.append(f"{module}:{node.lineno} {node.value!r}")
    assert named == []


def test_only_the_optuna_adapter_of_the_spaces_imports_optuna():
    users = []
    for module, path in modules().items():
        if module.startswith("ssropt.spaces"):
            for node in _runtime_nodes(ast.parse(path.read_text())):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                    if any(n.split(".")[0] == "optuna" for n in names):
                        users.append(module)
    assert set(users) <= {"ssropt.spaces.optuna_adapter"}


def test_there_are_no_import_cycles():
    graph = {module: imports(module) for module in modules()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_module_is_longer_than_500_lines(module):
    lines = len(modules()[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines"


#: Optuna internals (private attributes and modules) the engine once reached into
OPTUNA_PRIVATE = re.compile(
    r"\._(storage|study_id|trial_id|backend|replay_result|sync_with_backend|thread_lock|lock"
    r"|file_path|CachedStorage|next_study_id|trials|study_id_to_trial_ids)\b"
    r"|optuna(\.\w+)*\._\w+"
)


def test_no_optuna_private_name_outside_the_storage_package():
    """Only ``ssropt/storage/`` touches Optuna internals (behind its backends, with a
    public-API fallback): the rest of the code, benchmarks included, uses the backends."""
    found = []
    for path in sorted([*ROOT.joinpath("ssropt").rglob("*.py"), *ROOT.joinpath("spaces").rglob("*.py"),
                        *ROOT.joinpath("objectives").rglob("*.py"),
                        *ROOT.joinpath("benchmarks").rglob("*.py")]):
        if path.is_relative_to(ROOT / "ssropt" / "storage"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if OPTUNA_PRIVATE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
