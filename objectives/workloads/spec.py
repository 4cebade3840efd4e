"""The ``workload`` object of a design file, parsed into a :class:`Workload`.

Three forms (see ``MODEL.md``, "The design file"):

- ``{"model": NAME, "tokens"?, "blocks"?, "embed_and_head"?}``: a zoo model
  (:func:`~ssropt.objectives.workloads.zoo.build_model`);
- ``{"hf_config": PATH, "tokens"?, "blocks"?, "embed_and_head"?}``: a Hugging Face
  ``config.json`` (:func:`~ssropt.objectives.workloads.hf_config.from_hf_config`); a relative
  PATH is resolved against ``base_dir`` (the design file's folder);
- ``{"gemms": [{"name", "M", "K", "N", "count"?}, ...]}``: a chain of GEMMs, each
  output the next one's LHS; ``count`` (repeat) defaults to 1.

Parsing is strict: unknown keys, wrong types, non-positive sizes and duplicate GEMM names
raise :class:`WorkloadError` with the offending key.  ``Workload.describe()`` returns an
object of one of these forms, so ``workload_from_spec(w.describe())`` rebuilds ``w``.

Example:
    >>> w = workload_from_spec({"gemms": [{"name": "l0", "M": 192, "K": 192, "N": 576}]})
    >>> w.ops_per_image
    42467328
"""

from __future__ import annotations

from pathlib import Path

from ssropt.objectives.files import parse_structured, read_text
from ssropt.objectives.validation import LIMITS, Text
from ssropt.objectives.workloads.graph import Workload, WorkloadError, gemm_chain
from ssropt.objectives.workloads.hf_config import from_hf_config
from ssropt.objectives.workloads.zoo import build_model

FORMS = ("model", "hf_config", "gemms")
OPTION_KEYS = ("tokens", "blocks", "embed_and_head")
GEMM_KEYS = ("name", "M", "K", "N", "count")
#: the limit of each number of a workload object
FIELD_LIMITS = {
    "tokens": LIMITS["tokens"], "blocks": LIMITS["blocks"], "M": LIMITS["dimension"],
    "K": LIMITS["dimension"], "N": LIMITS["dimension"], "count": LIMITS["repeat"],
}


def _check_keys(where: str, given: dict, allowed: tuple[str, ...]) -> None:
    for key in given:
        if key not in allowed:
            raise WorkloadError(f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})")


def _options(spec: dict, form: str) -> dict:
    """``tokens``, ``blocks``, ``embed_and_head`` of a model / hf_config workload."""
    _check_keys(f"workload ({form!r} form)", spec, (form, *OPTION_KEYS))
    options = {}
    for key in ("tokens", "blocks"):
        if key in spec:
            options[key] = FIELD_LIMITS[key].check(spec[key], f"workload.{key}", WorkloadError)
    if "embed_and_head" in spec:
        if not isinstance(spec["embed_and_head"], bool):
            raise WorkloadError(
                f"workload.embed_and_head must be true or false, got {spec['embed_and_head']!r}"
            )
        options["embed_and_head"] = spec["embed_and_head"]
    return options


def _gemms(entries: object) -> Workload:
    if not isinstance(entries, list) or not entries:
        raise WorkloadError("workload.gemms must be a non-empty list of GEMM objects")
    if len(entries) > LIMITS["nodes"].high:
        raise WorkloadError(
            f"workload.gemms lists {len(entries)} GEMMs: at most {LIMITS['nodes'].high} "
            f"({LIMITS['nodes'].why})"
        )
    rows, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"workload.gemms[{i}]"
        if not isinstance(entry, dict):
            raise WorkloadError(f"{where} must be an object with keys {', '.join(GEMM_KEYS)}")
        _check_keys(where, entry, GEMM_KEYS)
        for key in ("name", "M", "K", "N"):
            if key not in entry:
                raise WorkloadError(f"{where}: missing key {key!r}")
        name = Text().check(entry["name"], f"{where}.name", WorkloadError)
        if name in seen:
            raise WorkloadError(f"{where}: duplicate gemm name {name!r}")
        seen.add(name)
        sizes = []
        for key in ("M", "K", "N", "count"):
            sizes.append(FIELD_LIMITS[key].check(entry.get(key, 1), f"{where}.{key}", WorkloadError))
        rows.append((name, *sizes))
    return gemm_chain(rows)


def workload_from_spec(spec: dict, base_dir: Path | None = None) -> Workload:
    """Build the workload of a design file's ``workload`` object (see the module doc)."""
    if not isinstance(spec, dict):
        raise WorkloadError(
            f"workload must be an object with one of the keys {', '.join(FORMS)}, "
            f"got {type(spec).__name__}"
        )
    forms = [form for form in FORMS if form in spec]
    if not forms:
        raise WorkloadError(
            f"workload needs one of the keys {', '.join(FORMS)}; got {', '.join(spec) or 'none'}"
        )
    if len(forms) > 1:
        raise WorkloadError(f"workload has both {forms[0]!r} and {forms[1]!r}; give only one")
    form = forms[0]

    if form == "gemms":
        _check_keys("workload ('gemms' form)", spec, ("gemms",))
        return _gemms(spec["gemms"])

    options = _options(spec, form)
    value = spec[form]
    if not isinstance(value, str) or not value:
        raise WorkloadError(f"workload.{form} must be a non-empty string, got {value!r}")
    if form == "model":
        return build_model(value, **options)
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return from_hf_config(path, **options)


def load_workload_file(path: str | Path) -> Workload:
    """Read a workload object from a ``.json`` or ``.toml`` file and build it.

    The file holds the workload object itself, or a whole design file whose ``workload``
    key holds it.  A relative ``hf_config`` path is resolved against the file's folder.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise WorkloadError(f"{path}: a workload file must end in .json or .toml")
    data = parse_structured(read_text(path, "workload file", WorkloadError), path, WorkloadError)
    if isinstance(data, dict) and isinstance(data.get("workload"), dict):
        data = data["workload"]
    try:
        return workload_from_spec(data, base_dir=path.parent)
    except WorkloadError as exc:
        raise WorkloadError(f"{path}: {exc}") from None
