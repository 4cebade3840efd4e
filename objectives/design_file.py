"""The design file: one complete design as JSON (or TOML), parsed and checked.

Keys (the public format): ``workload``, ``platform``, ``dtype`` (default ``int8``),
``cost_model`` (default: the platform's own -- ``ssr`` on Versal, ``fpga`` on FPGAs,
``gpu-roofline`` on GPUs), ``batch``, ``accelerators`` (a list of parameter objects) and
``assignment`` (node name -> accelerator index).  A ``gpu-roofline`` design is one device
with no parameters: its ``accelerators`` and ``assignment`` may be omitted.  Every
problem raises :class:`DesignError` with a message naming the key.

Example:
    >>> spec = {"workload": {"gemms": [{"name": "l0", "M": 64, "K": 64, "N": 64}]},
    ...         "platform": "vck190", "batch": 1,
    ...         "accelerators": [{"a": 1, "b": 1, "c": 1, "h1": 32, "w1": 32, "w2": 32}],
    ...         "assignment": {"l0": 0}}
    >>> design = parse_design(spec)
    >>> design.designs.params.shape
    (1, 1, 7)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.design import DesignBatch
from ssropt.objectives.files import parse_structured, read_text
from ssropt.objectives.models import cost_model_names, model_class
from ssropt.objectives.platforms import Platform, load_platform
from ssropt.objectives.validation import LIMITS, Int, check_jobs
from ssropt.objectives.workloads.graph import Workload
from ssropt.objectives.workloads.spec import workload_from_spec

#: an optional parameter whose default is 0 (e.g. ``pack_in``: 0 = the kernel's own)
_PARAMETER_OR_ZERO = Int(0, LIMITS["parameter"].high, LIMITS["parameter"].why)

TOP_KEYS = ("workload", "platform", "dtype", "cost_model", "batch", "accelerators", "assignment")
REQUIRED = ("workload", "platform", "batch", "accelerators", "assignment")


class DesignError(SsroptError):
    """A design file or design object is invalid."""


@dataclass(frozen=True)
class ParsedDesign:
    """A design file resolved into model objects and a one-design batch."""

    workload: Workload
    platform: Platform
    dtype: str
    cost_model: str
    designs: DesignBatch


def read_structured_file(path: str | Path, what: str = "file") -> dict:
    """Read a JSON or TOML object; an unreadable, special, non-UTF-8 or malformed file
    raises DesignError naming it."""
    path = Path(path)
    data = parse_structured(read_text(path, what, DesignError), path, DesignError)
    if not isinstance(data, dict):
        raise DesignError(f"{path}: the {what} must be an object")
    return data


def load_design(path: str | Path) -> ParsedDesign:
    """Parse a design file (``.json`` or ``.toml``)."""
    path = Path(path)
    return parse_design(read_structured_file(path, "design file"), base_dir=path.parent)


def parse_design(spec: dict, base_dir: Path | None = None) -> ParsedDesign:
    """Parse a design object (the design file's content)."""
    if not isinstance(spec, dict):
        raise DesignError("a design must be an object")
    extra = sorted(set(spec) - set(TOP_KEYS))
    if extra:
        raise DesignError(f"unknown design key {extra[0]!r}: keys are {', '.join(TOP_KEYS)}")
    for key in ("workload", "platform"):
        if key not in spec:
            raise DesignError(f"design is missing key {key!r}")
    cost_model = spec.get("cost_model")
    if cost_model is not None and cost_model not in cost_model_names():
        raise DesignError(f"unknown cost_model {cost_model!r}: known are {', '.join(cost_model_names())}")
    if not isinstance(spec["workload"], dict):
        raise DesignError("design key 'workload' must be an object")
    workload = workload_from_spec(spec["workload"], base_dir=base_dir)
    platform = _platform(spec["platform"], base_dir)
    cost_model = cost_model or platform.default_cost_model
    model = model_class(cost_model)
    if not model.param_names:  # one device, no parameters: everything on it
        spec = {"accelerators": [{}], "assignment": dict.fromkeys(workload.names, 0), **spec}
    for key in REQUIRED:
        if key not in spec:
            raise DesignError(f"design is missing key {key!r}")
    dtype = spec.get("dtype", "int8")
    if not isinstance(dtype, str):
        raise DesignError("design key 'dtype' must be a string")
    platform.dtype(dtype)
    batch = LIMITS["batch"].check(spec["batch"], "design key 'batch'", DesignError)
    check_jobs(workload.n_layers, batch, DesignError)
    model.check_platform(platform, dtype)
    params = _accelerators(spec["accelerators"], cost_model, workload.n_nodes)
    assignment = _assignment(spec["assignment"], workload, len(params))
    designs = DesignBatch(
        cost_model=cost_model,
        batch=np.array([batch], dtype=np.int64),
        assignment=assignment[None, :],
        params=np.array(params, dtype=np.int64).reshape(1, len(params), len(model.param_names)),
    )
    return ParsedDesign(workload, platform, dtype, cost_model, designs)


def positive_int(value, key: str) -> int:
    """``value`` as an accelerator parameter (1 .. the ``parameter`` limit)."""
    return LIMITS["parameter"].check(value, f"design key {key!r}", DesignError)


def _platform(value, base_dir: Path | None) -> Platform:
    if not isinstance(value, str):
        raise DesignError("design key 'platform' must be a platform name or a TOML path")
    if value.endswith(".toml") and base_dir is not None and not Path(value).is_absolute():
        value = str(base_dir / value)
    return load_platform(value)


def _accelerators(value, cost_model: str, n_nodes: int) -> list[list[int]]:
    if not isinstance(value, list) or not value:
        raise DesignError("design key 'accelerators' must be a non-empty list")
    if len(value) > n_nodes:
        raise DesignError(
            f"design key 'accelerators' lists {len(value)} accelerators but the workload has "
            f"{n_nodes} nodes (every accelerator needs one)"
        )
    model = model_class(cost_model)
    names = model.param_names
    if not names and len(value) != 1:
        raise DesignError(f"a {cost_model} design has exactly one accelerator (the device), got {len(value)}")
    optional = model.param_defaults
    rows = []
    for i, acc in enumerate(value):
        where = f"accelerators[{i}]"
        if not isinstance(acc, dict):
            raise DesignError(f"design key {where!r} must be an object")
        extra = sorted(set(acc) - set(names))
        if extra:
            raise DesignError(
                f"unknown key {extra[0]!r} in {where} ({cost_model} accelerators have "
                f"{', '.join(names)})"
            )
        row = []
        for name in names:
            if name in acc:
                if name in optional and optional[name] == 0:  # 0: the model's default
                    row.append(_PARAMETER_OR_ZERO.check(acc[name], f"design key '{where}.{name}'", DesignError))
                    continue
                row.append(positive_int(acc[name], f"{where}.{name}"))
            elif name in optional:
                row.append(optional[name])
            else:
                raise DesignError(f"{where} is missing key {name!r}")
        rows.append(row)
    return rows


def _assignment(value, workload: Workload, n_accelerators: int) -> np.ndarray:
    if not isinstance(value, dict):
        raise DesignError("design key 'assignment' must be an object of node -> accelerator")
    for name in value:
        if name not in workload.names:
            raise DesignError(
                f"assignment names unknown node {name!r}: nodes of {workload.name} are "
                f"{', '.join(workload.names)}"
            )
    missing = [name for name in workload.names if name not in value]
    if missing:
        raise DesignError(f"assignment is missing node {missing[0]!r}")
    out = np.zeros(workload.n_nodes, dtype=np.int64)
    for j, name in enumerate(workload.names):
        acc = value[name]
        if isinstance(acc, bool) or not isinstance(acc, int) or not 0 <= acc < n_accelerators:
            raise DesignError(
                f"assignment of {name!r} must be an accelerator index 0..{n_accelerators - 1}, "
                f"got {acc!r}"
            )
        out[j] = acc
    empty = sorted(set(range(n_accelerators)) - set(out.tolist()))
    if empty:
        raise DesignError(f"accelerator {empty[0]} has no node assigned")
    return out


def design_to_spec(
    workload: Workload, platform: Platform, dtype: str, designs: DesignBatch, index: int = 0
) -> dict:
    """The design-file object of design ``index`` of a batch."""
    names = model_class(designs.cost_model).param_names
    assign = designs.assignment[index]
    n_acc = int(assign.max()) + 1
    platform_ref = platform.name if Path(platform.source).parent.name == "platforms" else platform.source
    return {
        "workload": workload.describe(),
        "platform": platform_ref,
        "dtype": dtype,
        "cost_model": designs.cost_model,
        "batch": int(designs.batch[index]),
        "accelerators": [
            {name: int(designs.params[index, a, p]) for p, name in enumerate(names)}
            for a in range(n_acc)
        ],
        "assignment": {name: int(assign[j]) for j, name in enumerate(workload.names)},
    }
