"""The model zoo: transformer encoders built as :class:`Workload` s.

:func:`transformer` builds the matmul graph of one encoder from its dimensions; the zoo
(:data:`MODELS`) holds the published dimensions of the models the CLI knows by name, and
:func:`build_model` builds one of them.

Per image, with T tokens, D embedding, H heads, F MLP width and P patch size, a block is
``q, k, v`` (T×D×D), ``attn_qk`` (T×(D/H)×T, H times), ``attn_av`` (T×T×(D/H), H
times), ``proj`` (T×D×D), ``fc1`` (T×D×F), ``fc2`` (T×F×D).  With ``embed_and_head``
the block is preceded by ``patch_embed`` ((T−e)×(C·P²)×D, e = class/distillation
tokens) and followed by ``head`` (1×D×classes, on the class token).

Choices the published models leave open:

- BERT has no patch-embedding matmul: its embedding is a table lookup (word, position and
  token-type embeddings summed), so a text model's ``pre`` section is empty and
  ``embed_and_head`` only adds the ``head``.  The head is the sequence classifier
  (1×D×2, the two labels of Hugging Face's default ``num_labels``); BERT's pooler
  (1×D×D on the [CLS] token, under 0.01 % of the work) is not modelled.
- BERT's default sequence length is 128, the default ``max_seq_length`` of the
  official fine-tuning scripts (google-research/bert ``run_classifier.py``) and the
  pre-training length of 90 % of BERT's steps (Devlin et al. 2019, appendix A.2).
- Vision models keep one classifier head.  LV-ViT's dense auxiliary head (applied to
  every patch token at inference) and its convolutional stem are not modelled: its
  patch embedding is the plain P×P patch matmul.

Example:
    >>> w = build_model("deit-t", tokens=192, embed_and_head=False)
    >>> [(n.name, n.m, n.k, n.n, n.repeat) for n in w.nodes][3]
    ('attn_qk', 192, 64, 192, 3)
"""

from __future__ import annotations

from dataclasses import dataclass

from ssropt.objectives.validation import LIMITS
from ssropt.objectives.workloads.graph import (
    Dependency,
    MatmulNode,
    NonlinearOp,
    Role,
    Section,
    Workload,
    WorkloadError,
)

BLOCK_NODES = ("q", "k", "v", "attn_qk", "attn_av", "proj", "fc1", "fc2")

#: Default sequence length of text models (BERT ``run_classifier.py`` ``max_seq_length``).
DEFAULT_TEXT_TOKENS = 128


#: the limit of each dimension of :func:`transformer`
DIMENSION_LIMITS = {
    "dim": LIMITS["dimension"], "heads": LIMITS["repeat"], "mlp": LIMITS["dimension"],
    "tokens": LIMITS["tokens"], "blocks": LIMITS["blocks"], "image_channels": LIMITS["patch"],
    "classes": LIMITS["dimension"], "patch": LIMITS["patch"],
}


def _check_positive(model: str, what: str, value: object) -> None:
    DIMENSION_LIMITS[what].check(value, f"model {model!r}: {what}", WorkloadError)


def transformer(
    name: str,
    *,
    dim: int,
    heads: int,
    mlp: int,
    tokens: int,
    blocks: int,
    patch: int | None = None,
    image_channels: int = 3,
    classes: int = 1000,
    embed_and_head: bool = True,
    extra_tokens: int = 1,
    options: dict | None = None,
) -> Workload:
    """The matmul graph of one transformer encoder, per image (or sequence).

    Args:
        name: workload name.
        dim: embedding width D; must be divisible by ``heads``.
        heads: attention heads H.
        mlp: MLP hidden width F.
        tokens: token rows T (class and distillation tokens included).
        blocks: encoder blocks.
        patch: patch size P of a vision model; ``None`` for a text model (no
            patch-embedding matmul).
        image_channels: input channels C of the patch embedding.
        classes: outputs of the classifier head.
        embed_and_head: add the ``patch_embed`` (vision only) and ``head`` nodes.
        extra_tokens: tokens that are not patches (1 class token; 2 for distilled DeiT,
            which adds a distillation token); ``patch_embed`` has T − extra_tokens rows.
        options: the design-file workload object that rebuilds this workload (stored as
            :attr:`Workload.options`); ``None`` leaves it empty.
    """
    for what, value in (
        ("dim", dim),
        ("heads", heads),
        ("mlp", mlp),
        ("tokens", tokens),
        ("blocks", blocks),
        ("image_channels", image_channels),
        ("classes", classes),
    ):
        _check_positive(name, what, value)
    if patch is not None:
        _check_positive(name, "patch", patch)
    if not isinstance(extra_tokens, int) or isinstance(extra_tokens, bool) or extra_tokens < 0:
        raise WorkloadError(f"model {name!r}: extra_tokens must be a non-negative integer")
    if dim % heads:
        raise WorkloadError(f"model {name!r}: dim {dim} is not divisible by heads {heads}")
    with_embed = embed_and_head and patch is not None
    if with_embed and tokens <= extra_tokens:
        raise WorkloadError(
            f"model {name!r}: tokens must exceed the {extra_tokens} non-patch token(s), got {tokens}"
        )

    t, d, h, f, hd = tokens, dim, heads, mlp, dim // heads
    pre, post = [], []
    if with_embed:
        pre.append(
            MatmulNode(
                "patch_embed",
                t - extra_tokens,
                image_channels * patch * patch,
                d,
                section=Section.PRE,
            )
        )
    block = [
        MatmulNode("q", t, d, d, attention_input=True),
        MatmulNode("k", t, d, d, attention_input=True),
        MatmulNode("v", t, d, d, attention_input=True),
        MatmulNode("attn_qk", t, hd, t, repeat=h, activation_rhs=True),
        MatmulNode("attn_av", t, t, hd, repeat=h, activation_rhs=True),
        MatmulNode("proj", t, d, d),
        MatmulNode("fc1", t, d, f),
        MatmulNode("fc2", t, f, d),
    ]
    if embed_and_head:
        post.append(MatmulNode("head", 1, d, classes, section=Section.POST))

    deps = [
        Dependency("q", "attn_qk", Role.LHS),
        Dependency("k", "attn_qk", Role.RHS_T),
        Dependency("v", "attn_av", Role.RHS),
        Dependency("attn_qk", "attn_av", Role.LHS),
        Dependency("attn_av", "proj", Role.LHS),
        Dependency("proj", "fc1", Role.LHS),
        Dependency("fc1", "fc2", Role.LHS),
        *(Dependency("fc2", dst, Role.LHS, next_block=True) for dst in ("q", "k", "v")),
    ]
    if with_embed:
        deps += [Dependency("patch_embed", dst, Role.LHS) for dst in ("q", "k", "v")]
    if embed_and_head:
        deps.append(Dependency("fc2", "head", Role.LHS))

    # Per block, in execution order.  ``after`` names the matmul whose output the op
    # reads: the LayerNorm before q/k/v reads the previous block's fc2 output after its
    # residual add (the embedding in block 0); the one before fc1 reads proj's.
    nonlinear = (
        NonlinearOp("ln_attn", "layernorm", t, d, 1, after="fc2"),
        NonlinearOp("softmax", "softmax", t, t, h, after="attn_qk"),
        NonlinearOp("residual_attn", "add", t, d, 1, after="proj"),
        NonlinearOp("ln_mlp", "layernorm", t, d, 1, after="proj"),
        NonlinearOp("gelu", "gelu", t, f, 1, after="fc1"),
        NonlinearOp("residual_mlp", "add", t, d, 1, after="fc2"),
    )
    return Workload(
        name=name,
        nodes=tuple(pre + block + post),
        dependencies=tuple(deps),
        blocks=int(blocks),
        nonlinear=nonlinear,
        options=dict(options) if options else {},
    )


@dataclass(frozen=True)
class ModelSpec:
    """Published dimensions of one model (see :func:`transformer` for their meaning)."""

    dim: int
    heads: int
    mlp: int
    blocks: int
    tokens: int
    patch: int | None = 16
    classes: int = 1000


# Vision models are at 224×224 input, patch 16: 14·14 = 196 patches + 1 class token
# = 197 tokens; ImageNet-1k classifier (1000 classes).
MODELS: dict[str, ModelSpec] = {
    # DeiT-Ti: Touvron et al., "Training data-efficient image transformers", ICML 2021
    # (arXiv:2012.12877), Table 1; facebookresearch/deit models.py deit_tiny_patch16_224
    # (embed_dim 192, depth 12, heads 3, mlp_ratio 4).
    "deit-t": ModelSpec(dim=192, heads=3, mlp=768, blocks=12, tokens=197),
    # DeiT-T-160 / DeiT-T-256: width variants of DeiT-T evaluated in SSR (Zhuang et al.,
    # FPGA 2024, doi:10.1145/3626202.3637569) with D 160 / 256 and 4 heads; depth 12 and
    # MLP ratio 4 as in DeiT-T (the paper gives no other values).
    "deit-t-160": ModelSpec(dim=160, heads=4, mlp=640, blocks=12, tokens=197),
    "deit-t-256": ModelSpec(dim=256, heads=4, mlp=1024, blocks=12, tokens=197),
    # LV-ViT-T: Jiang et al., "All Tokens Matter: Token Labeling for Training Better
    # Vision Transformers", NeurIPS 2021; zihangJiang/TokenLabeling tlt/models/lvvit.py
    # lvvit_t (embed_dim 240, depth 12, num_heads 4, mlp_ratio 3, patch 16).
    "lv-vit-t": ModelSpec(dim=240, heads=4, mlp=720, blocks=12, tokens=197),
    # DeiT-S / DeiT-B: Touvron et al. 2021, Table 1 (384/6/12 and 768/12/12, mlp_ratio 4).
    "deit-s": ModelSpec(dim=384, heads=6, mlp=1536, blocks=12, tokens=197),
    "deit-b": ModelSpec(dim=768, heads=12, mlp=3072, blocks=12, tokens=197),
    # ViT-B/16, ViT-L/16: Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021,
    # Table 1 (Base: 12 layers, D 768, MLP 3072, 12 heads; Large: 24, 1024, 4096, 16);
    # google/vit-base-patch16-224 config.json (image 224, 1000 labels).
    "vit-b16": ModelSpec(dim=768, heads=12, mlp=3072, blocks=12, tokens=197),
    "vit-l16": ModelSpec(dim=1024, heads=16, mlp=4096, blocks=24, tokens=197),
    # BERT-base / BERT-large: Devlin et al., "BERT", NAACL 2019, §3 (L 12, H 768, A 12;
    # L 24, H 1024, A 16; feed-forward 4H); 128 tokens (google-research/bert
    # run_classifier.py max_seq_length); sequence classifier with 2 labels.
    "bert-base": ModelSpec(
        dim=768, heads=12, mlp=3072, blocks=12, tokens=DEFAULT_TEXT_TOKENS, patch=None, classes=2
    ),
    "bert-large": ModelSpec(
        dim=1024, heads=16, mlp=4096, blocks=24, tokens=DEFAULT_TEXT_TOKENS, patch=None, classes=2
    ),
}


def known_models() -> list[str]:
    """Names :func:`build_model` accepts, in zoo order."""
    return list(MODELS)


def build_model(
    name: str,
    *,
    tokens: int | None = None,
    blocks: int | None = None,
    embed_and_head: bool | None = None,
) -> Workload:
    """Build zoo model ``name``; ``None`` options take the published defaults.

    Defaults: the model's published tokens and depth, ``embed_and_head=True``.  The
    workload's ``options`` (and :meth:`Workload.describe`) is the resolved workload
    object, e.g. ``{"model": "deit-t", "tokens": 192, "blocks": 12, "embed_and_head":
    False}``.
    """
    spec = MODELS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise WorkloadError(f"unknown model {name!r}: known models are {', '.join(MODELS)}")
    tokens = spec.tokens if tokens is None else tokens
    blocks = spec.blocks if blocks is None else blocks
    embed_and_head = True if embed_and_head is None else embed_and_head
    if not isinstance(embed_and_head, bool):
        raise WorkloadError(f"model {name!r}: embed_and_head must be true or false")
    options = {"model": name, "tokens": tokens, "blocks": blocks, "embed_and_head": embed_and_head}
    return transformer(
        name,
        dim=spec.dim,
        heads=spec.heads,
        mlp=spec.mlp,
        tokens=tokens,
        blocks=blocks,
        patch=spec.patch,
        classes=spec.classes,
        embed_and_head=embed_and_head,
        options=options,
    )
