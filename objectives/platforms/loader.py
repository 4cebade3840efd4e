"""The platform loader: a TOML file (shipped by name, or any path) -> a :class:`Platform`.

Every constant of the cost models lives in the platform file, with the public source of
each number in a comment.  A platform is named (``vck190`` -> ``platforms/vck190.toml``
shipped with ssropt) or given as a path to any TOML file with the same keys.

The loader is generic: each TOML table maps onto a frozen dataclass
(:mod:`.platform`, :mod:`.versal`, :mod:`.fpga`, :mod:`.gpu`), field by field; a
missing, unknown or mistyped key raises :class:`PlatformError` naming the file and the
dotted key.  The top-level ``family`` says which tables the file must have and which
cost model it runs by default (:data:`~.platform.FAMILIES`); a file may name another
registered cost model with ``cost_model = "..."``.

Example:
    >>> p = load_platform("vck190")
    >>> p.budget.aie, p.dtype("int8").ssr.macs_per_cycle, p.default_cost_model
    (364, 128, 'ssr')
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import lru_cache
from pathlib import Path

from ssropt.objectives.files import parse_structured, read_text
from ssropt.objectives.platforms.platform import FAMILIES, DataType, Platform, PlatformError
from ssropt.objectives.platforms.rules import check_consistency, field_rule
from ssropt.objectives.validation import show

#: the shipped platform files (``vck190`` -> ``PLATFORM_DIR / "vck190.toml"``)
PLATFORM_DIR = Path(__file__).parent


def known_platforms() -> list[str]:
    return sorted(p.stem for p in PLATFORM_DIR.glob("*.toml"))


def load_platform(name_or_path: str | Path) -> Platform:
    """Load a shipped platform by name, or any platform TOML by path."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or path.exists() or "/" in text:
        if not path.exists():
            raise PlatformError(f"platform file {text!r} does not exist")
        return _load_file(path.resolve())
    shipped = PLATFORM_DIR / f"{text}.toml"
    if not shipped.is_file():
        raise PlatformError(
            f"unknown platform {text!r}: known platforms are {', '.join(known_platforms())} "
            "(or pass a path to a platform TOML file)"
        )
    return _load_file(shipped)


@lru_cache(maxsize=32)
def _load_file(path: Path) -> Platform:
    raw = parse_structured(read_text(path, "platform file", PlatformError), path, PlatformError, toml=True)
    table = dict(raw)
    dtypes = table.pop("dtype", None)
    if not isinstance(dtypes, dict) or not dtypes:
        raise PlatformError(f"{path}: missing key 'dtype' (at least one [dtype.NAME] table)")
    built = {
        name: _build(DataType, value, path, f"dtype.{name}") for name, value in dtypes.items()
    }
    table["dtypes"] = built
    table.setdefault("source", str(path))
    family = table.get("family")
    if family is None:
        raise PlatformError(f"{path}: missing key 'family'")
    if not isinstance(family, str) or family not in FAMILIES:
        raise PlatformError(
            f"{path}: key 'family' must be one of {', '.join(FAMILIES)}, got {show(family)}"
        )
    for section in FAMILIES[family].tables:
        if section not in table:
            raise PlatformError(f"{path}: missing key {section!r} (required by family {family!r})")
    for name, dtype_table in dtypes.items():
        for section in FAMILIES[family].dtype_tables:
            if not isinstance(dtype_table, dict) or section not in dtype_table:
                raise PlatformError(
                    f"{path}: missing key 'dtype.{name}.{section}' (required by family {family!r})"
                )
    platform = _build(Platform, table, path, "", skip={"dtypes"}, given={"dtypes": built})
    broken = check_consistency(raw)
    if broken:
        raise PlatformError(f"{path}: {broken}")
    if platform.cost_model and platform.cost_model not in _cost_model_names():
        raise PlatformError(
            f"{path}: key 'cost_model' must be one of {', '.join(_cost_model_names())}, "
            f"got {platform.cost_model!r}"
        )
    return platform


def _cost_model_names() -> tuple[str, ...]:
    """The registered cost models (imported here, not above: the models read platforms)."""
    from ssropt.objectives.models.registry import cost_model_names

    return cost_model_names()


def _build(cls, table, path: Path, prefix: str, skip=frozenset(), given=None):
    """Map a TOML table onto dataclass ``cls`` with checks that name file and key."""
    where = prefix or "top level"
    if not isinstance(table, dict):
        raise PlatformError(f"{path}: key {prefix!r} must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise PlatformError(f"{path}: unknown key {_dotted(prefix, unknown[0])!r} in {where}")
    values = dict(given or {})
    for name, fld in fields.items():
        if name in skip:
            continue
        key = _dotted(prefix, name)
        if name not in table:
            if fld.default is not dataclasses.MISSING:
                continue
            raise PlatformError(f"{path}: missing key {key!r}")
        values[name] = _convert(hints[name], table[name], path, key)
    return cls(**values)


def _convert(hint, value, path: Path, key: str):
    if typing.get_origin(hint) in (typing.Union, types.UnionType):  # ``X | None``: an optional table
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, path, key)
    origin = typing.get_origin(hint)
    if origin is tuple:
        return field_rule(key, tuple).check(value, f"{path}: key {key!r}", PlatformError)
    if hint in (int, float):
        return field_rule(key, hint).check(value, f"{path}: key {key!r}", PlatformError)
    if hint is str:
        if not isinstance(value, str):
            raise PlatformError(f"{path}: key {key!r} must be a string, got {show(value)}")
        return value
    return value


def _dotted(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
