"""What every number of a platform TOML may be: field rules and consistency rules.

The loader (:mod:`.loader`) checks each value against the first rule whose pattern
matches its dotted key (``fnmatch`` patterns: ``*clock_hz`` matches ``aie.clock_hz`` and
``fpga.clock_hz``), else against the default of its type: an integer is a count, a size
or a cycle constant (1 .. 2^31 - 1), a float a positive finite quantity.  A new table or
field is covered by the defaults; give it a rule here when zero is a valid value, the
value is a fraction, or its magnitude needs a tighter bound.

Then the consistency rules check the file as a whole (:func:`check_consistency`): budgets
within the physical totals, lists whose lengths must match, widths that hold an element.

Example:
    >>> field_rule("aie.clock_hz", float).check(0.0, "aie.clock_hz")
    Traceback (most recent call last):
    ...
    ssropt.errors.SsroptError: aie.clock_hz must be a positive number, got 0.0
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterator

from ssropt.objectives.validation import Float, Int, Seq

#: the tables of a value (``h1_choices`` ...): positive, strictly ascending (the search
#: snaps a value to a table by bisection)
_TABLE = Seq(Int(1, 4096, "a value-table entry"), min_len=1, max_len=256, ascending=True)

_FRACTION = Float(0.0, 1.0, low_open=True, interval=True)

#: integer fields: (pattern, rule), the first match wins
INT_RULES: tuple[tuple[str, Int], ...] = (
    ("dtype.*.bytes", Int(1, 16, "bytes per element")),
    ("*uram", Int(0, 2**31 - 1)),  # a device without URAM has 0
    ("*uram_weight", Int(0, 10**6)),
    ("*input_bytes_per_image", Int(0, 2**32)),  # 0: no image input is charged
    ("*_cycles", Int(0, 10**9)),
    ("*ram_type*", Int(1, 8, "a RAM aspect ratio")),
    ("*_bits", Int(8, 65536, "a port or word width")),
    ("*_bits_*", Int(8, 65536, "a port or word width")),
    ("*array_dim_max", Int(1, 4096, "an array dimension")),
    ("*_depth", Int(1, 2**24, "words of one RAM block")),
    ("*ii_*", Int(1, 4096)),
)
#: float fields: (pattern, rule), the first match wins
FLOAT_RULES: tuple[tuple[str, Float], ...] = (
    ("*clock_hz", Float(0.0, 1e11, low_open=True, why="100 GHz")),
    ("*bandwidth_bytes_per_s", Float(0.0, 1e15, low_open=True, why="1 PB/s")),
    ("*peak_ops_per_s", Float(0.0, 1e19, low_open=True, why="10 EOPS")),
    ("*efficiency", _FRACTION),
    ("*fraction*", _FRACTION),
    ("*_j_per_*", Float(0.0, 1e-6, why="1 uJ")),
    ("*static_w", Float(0.0, 1e5, low_open=True, why="100 kW")),  # power stays > 0
    ("*tdp_w", Float(0.0, 1e5, low_open=True, why="100 kW")),
    ("*_w", Float(0.0, 1e5, why="100 kW")),
    ("*_s", Float(0.0, 1.0, why="one second")),
    ("*_stall_per_16", Float(0.0, 16.0, why="extra cycles per 16")),  # 0: no stall
)
#: list fields: (pattern, rule), the first match wins
SEQ_RULES: tuple[tuple[str, Seq], ...] = (
    ("*_choices", _TABLE),
    ("*ii_w1_limits", Seq(Int(1, 4096), max_len=256, ascending=True)),
    ("*ii_values", Seq(Int(1, 4096), max_len=256)),
    ("*_factors", Seq(Int(1, 4096), min_len=1, max_len=256)),
    # the native aie::mmul shapes [M, K, N] of a data type (may be empty: none known)
    ("*native_mmul", Seq(Seq(Int(1, 256, "a matrix dimension"), min_len=3, max_len=3), max_len=64)),
    ("*_bounds", Seq(Int(1, 4096), min_len=2, max_len=2, ascending=True)),
)
DEFAULT_INT = Int(1, 2**31 - 1, "a count, size or cycle constant")
DEFAULT_FLOAT = Float(0.0, 1e18, low_open=True)
DEFAULT_SEQ = Seq(DEFAULT_INT)

#: ``(smaller, larger)``: the first may not exceed the second.  A side is a dotted key or a
#: product of keys and integers (``8 * dtype.*.bytes``); ``*`` stands for every key of that
#: table, the same one on both sides.  A rule whose tables the file lacks is skipped.
NOT_ABOVE: tuple[tuple[str, str], ...] = (
    ("budget.*", "physical.*"),
    ("fpga.budget.*", "fpga.physical.*"),
    ("physical.aie", "aie.count"),
    ("physical.columns", "aie.columns"),
    ("aie.count", "aie.rows * aie.columns"),
    ("charm.plio_in", "physical.plio_in"),
    ("charm.plio_out", "physical.plio_out"),
    ("charm.bram", "physical.bram"),
    ("charm.uram", "physical.uram"),
    ("8 * dtype.*.bytes", "pl.plio_width_bits"),
    ("8 * dtype.*.bytes", "ssr.relayout_port_bits"),
    ("8 * dtype.*.bytes", "fpga.lane_width_bits"),
    ("fpga.lane_width_bits", "fpga.lane_width_max_bits"),
    ("dtype.*.charm.pi", "dtype.*.charm.h1"),
    ("dtype.*.charm.pk", "dtype.*.charm.w1"),
    ("dtype.*.charm.pj", "dtype.*.charm.w2"),
)
#: groups of list keys whose lengths must be equal
SAME_LENGTH: tuple[tuple[str, ...], ...] = (
    ("dtype.*.ssr.ii_w1_limits", "dtype.*.ssr.ii_values"),
)


def field_rule(key: str, kind: type) -> Int | Float | Seq:
    """The rule of the value at dotted ``key`` of type ``kind`` (int, float or tuple)."""
    rules, default = {int: (INT_RULES, DEFAULT_INT), float: (FLOAT_RULES, DEFAULT_FLOAT),
                      tuple: (SEQ_RULES, DEFAULT_SEQ)}[kind]
    plain = _without_index(key)
    return next((rule for pattern, rule in rules if fnmatch.fnmatchcase(plain, pattern)), default)


def check_consistency(table: dict) -> str | None:
    """The first consistency rule the raw TOML ``table`` (every field already checked)
    breaks, as a message; None when it keeps them all."""
    for smaller, larger in NOT_ABOVE:
        for name in _bindings(table, smaller, larger):
            left, right = _bind(smaller, name), _bind(larger, name)
            low, high = _value(table, left), _value(table, right)
            if low is not None and high is not None and low > high:
                return f"{left} ({_num(low)}) must not exceed {right} ({_num(high)})"
    for group in SAME_LENGTH:
        for name in _bindings(table, *group):
            keys = [_bind(key, name) for key in group]
            lengths = [_get(table, key) for key in keys]
            if any(value is None for value in lengths):
                continue
            if len({len(value) for value in lengths}) > 1:
                sizes = ", ".join(f"{key} has {len(v)}" for key, v in zip(keys, lengths))
                return f"{' and '.join(keys)} must have the same number of entries ({sizes})"
    return None


def _without_index(key: str) -> str:
    return key.split("[", 1)[0]


def _bind(side: str, name: str) -> str:
    """``side`` with its wildcard key ``*`` (not the product's `` * ``) replaced by ``name``."""
    return " * ".join(".".join(name if part == "*" else part for part in term.split("."))
                      for term in side.split(" * "))


def _bindings(table: dict, *sides: str) -> Iterator[str]:
    """The names ``*`` takes: the keys of the table holding it in the first side that has
    one (one empty name when no side has a ``*``)."""
    for side in sides:
        for path in side.split(" * "):
            parts = path.split(".")
            if "*" in parts:
                parent = _get(table, ".".join(parts[: parts.index("*")]))
                yield from (sorted(parent) if isinstance(parent, dict) else ())
                return
    yield ""


def _get(table: dict, dotted: str):
    node = table
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _value(table: dict, expression: str) -> float | None:
    """A product of dotted keys and integers; None when a key is missing or not a number."""
    result = 1.0
    for term in expression.split(" * "):
        value = int(term) if term.isdigit() else _get(table, term)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        result *= value
    return result


def _num(value: float) -> str:
    return str(int(value)) if math.isfinite(value) and value == int(value) else f"{value:g}"
