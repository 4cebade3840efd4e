"""Build a transformer :class:`Workload` from a Hugging Face ``config.json``.

BERT-, ViT- and DeiT-style keys are read:

- ``hidden_size`` (D), ``num_attention_heads`` (H), ``intermediate_size`` (F),
  ``num_hidden_layers`` (blocks): required.
- Vision models (``model_type`` ``vit``/``deit``, or any config with ``image_size``):
  ``image_size`` and ``patch_size`` (an int or ``[height, width]``) are required,
  ``num_channels`` defaults to 3.  Tokens = patches + 1 class token; ``deit`` (the
  distilled DeiT of Hugging Face, which adds a distillation token) has + 2.  Only one
  classifier head is modelled.
- Text models: no patch-embedding matmul (the embedding is a lookup).  Tokens default to
  128 (:data:`~ssropt.objectives.workloads.zoo.DEFAULT_TEXT_TOKENS`), capped by
  ``max_position_embeddings`` when the file gives it.
- Classes: ``num_labels``, else the size of ``id2label``, else 2 (Hugging Face's
  ``PretrainedConfig`` default).

Example:
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "config.json"
    >>> _ = path.write_text(json.dumps({"model_type": "bert", "hidden_size": 768,
    ...     "num_attention_heads": 12, "intermediate_size": 3072, "num_hidden_layers": 12}))
    >>> w = from_hf_config(path, embed_and_head=False)
    >>> w.nodes[-1].k, w.blocks
    (3072, 12)
"""

from __future__ import annotations

from pathlib import Path

from ssropt.objectives.files import parse_structured, read_text
from ssropt.objectives.validation import LIMITS, Int
from ssropt.objectives.workloads.graph import Workload, WorkloadError
from ssropt.objectives.workloads.zoo import DEFAULT_TEXT_TOKENS, transformer

REQUIRED_KEYS = ("hidden_size", "num_attention_heads", "intermediate_size", "num_hidden_layers")
VISION_TYPES = ("vit", "deit")
#: the limit of every number read from a config.json (default: a model dimension)
KEY_LIMITS = {
    "num_attention_heads": LIMITS["repeat"],
    "num_hidden_layers": LIMITS["blocks"],
    "num_channels": LIMITS["patch"],
    "max_position_embeddings": Int(1, 2**31 - 1),
}


def _read_config(path: Path) -> dict:
    text = read_text(path, "Hugging Face config", WorkloadError)
    config = parse_structured(text, path, WorkloadError, toml=False)
    if not isinstance(config, dict):
        raise WorkloadError(f"{path}: a Hugging Face config.json must hold a JSON object")
    return config


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _require(config: dict, path: Path, key: str) -> object:
    if key not in config:
        raise WorkloadError(
            f"{path}: missing required key {key!r} (BERT/ViT/DeiT-style config.json expected)"
        )
    return config[key]


def _positive_int(config: dict, path: Path, key: str) -> int:
    limit = KEY_LIMITS.get(key, LIMITS["dimension"])
    return limit.check(_require(config, path, key), f"{path}: key {key!r}", WorkloadError)


def _pair(config: dict, path: Path, key: str) -> tuple[int, int]:
    """An int or ``[height, width]`` key (``image_size``, ``patch_size``)."""
    value = _require(config, path, key)
    if isinstance(value, list) and len(value) == 2 and all(map(_is_positive_int, value)):
        return tuple(LIMITS["dimension"].check(v, f"{path}: key {key!r}", WorkloadError) for v in value)
    if _is_positive_int(value):
        value = LIMITS["dimension"].check(value, f"{path}: key {key!r}", WorkloadError)
        return value, value
    raise WorkloadError(
        f"{path}: key {key!r} must be a positive integer or [height, width], got {value!r}"
    )


def _classes(config: dict, path: Path) -> int:
    if "num_labels" in config:
        return _positive_int(config, path, "num_labels")
    if "id2label" in config:
        labels = config["id2label"]
        if not isinstance(labels, dict) or not labels:
            raise WorkloadError(f"{path}: key 'id2label' must be a non-empty object")
        return len(labels)
    return 2


def _workload_name(config: dict, path: Path) -> str:
    named = config.get("_name_or_path")
    if isinstance(named, str) and named:
        return named
    return path.parent.name if path.name == "config.json" and path.parent.name else path.stem


def from_hf_config(
    path: str | Path,
    *,
    tokens: int | None = None,
    blocks: int | None = None,
    embed_and_head: bool | None = None,
) -> Workload:
    """The encoder described by the Hugging Face ``config.json`` at ``path``.

    ``tokens``, ``blocks`` and ``embed_and_head`` override the file's values (defaults:
    the file's token count and ``num_hidden_layers``, ``embed_and_head=True``).  The
    workload's ``options`` is ``{"hf_config": <absolute path>, "tokens", "blocks",
    "embed_and_head"}``.  Every problem is a one-line :class:`WorkloadError` naming the
    file and the key.
    """
    path = Path(path).resolve()
    config = _read_config(path)
    dims = {key: _positive_int(config, path, key) for key in REQUIRED_KEYS}
    if dims["hidden_size"] % dims["num_attention_heads"]:
        raise WorkloadError(
            f"{path}: 'hidden_size' {dims['hidden_size']} is not divisible by "
            f"'num_attention_heads' {dims['num_attention_heads']}"
        )
    model_type = config.get("model_type", "")
    vision = model_type in VISION_TYPES or "image_size" in config or "patch_size" in config

    patch = None
    channels = 3
    extra_tokens = 2 if model_type == "deit" else 1
    if vision:
        image_h, image_w = _pair(config, path, "image_size")
        patch_h, patch_w = _pair(config, path, "patch_size")
        if patch_h != patch_w:
            raise WorkloadError(f"{path}: key 'patch_size' must be square, got {patch_h}x{patch_w}")
        patches = (image_h // patch_h) * (image_w // patch_w)
        if patches == 0:
            raise WorkloadError(f"{path}: key 'patch_size' {patch_h} exceeds 'image_size'")
        patch = patch_h
        if "num_channels" in config:
            channels = _positive_int(config, path, "num_channels")
        default_tokens = patches + extra_tokens
    else:
        default_tokens = DEFAULT_TEXT_TOKENS
        if "max_position_embeddings" in config:
            default_tokens = min(
                default_tokens, _positive_int(config, path, "max_position_embeddings")
            )

    tokens = default_tokens if tokens is None else tokens
    blocks = dims["num_hidden_layers"] if blocks is None else blocks
    embed_and_head = True if embed_and_head is None else embed_and_head
    if not isinstance(embed_and_head, bool):
        raise WorkloadError(f"{path}: embed_and_head must be true or false")
    options = {
        "hf_config": str(path),
        "tokens": tokens,
        "blocks": blocks,
        "embed_and_head": embed_and_head,
    }
    try:
        return transformer(
            _workload_name(config, path),
            dim=dims["hidden_size"],
            heads=dims["num_attention_heads"],
            mlp=dims["intermediate_size"],
            tokens=tokens,
            blocks=blocks,
            patch=patch,
            image_channels=channels,
            classes=_classes(config, path),
            embed_and_head=embed_and_head,
            extra_tokens=extra_tokens,
            options=options,
        )
    except WorkloadError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise WorkloadError(f"{path}: {exc}") from None
