"""The model zoo and the transformer builder."""

from __future__ import annotations

import re

import pytest

from ssropt.objectives.workloads.graph import Role, Section, WorkloadError
from ssropt.objectives.workloads.spec import workload_from_spec
from ssropt.objectives.workloads.zoo import BLOCK_NODES, build_model, known_models, transformer


def shapes(workload):
    return {n.name: (n.m, n.k, n.n, n.repeat) for n in workload.nodes}


def test_deit_t_block_nodes_at_192_tokens_have_the_ssr_shapes():
    w = build_model("deit-t", tokens=192, embed_and_head=False)
    assert w.names == BLOCK_NODES
    assert shapes(w) == {
        "q": (192, 192, 192, 1),
        "k": (192, 192, 192, 1),
        "v": (192, 192, 192, 1),
        "attn_qk": (192, 64, 192, 3),
        "attn_av": (192, 192, 64, 3),
        "proj": (192, 192, 192, 1),
        "fc1": (192, 192, 768, 1),
        "fc2": (192, 768, 192, 1),
    }
    assert w.blocks == 12
    flags = {n.name: (n.attention_input, n.activation_rhs) for n in w.nodes}
    assert flags["q"] == flags["k"] == flags["v"] == (True, False)
    assert flags["attn_qk"] == flags["attn_av"] == (False, True)
    assert flags["proj"] == flags["fc1"] == flags["fc2"] == (False, False)
    assert all(n.section == Section.BLOCK for n in w.nodes)


def test_deit_t_block_only_ops_per_image_at_192_tokens():
    # MACs per block, T = 192, D = 192, H = 3, D/H = 64, F = 768:
    #   q, k, v, proj: 4 * 192*192*192      = 4 * 7,077,888  = 28,311,552
    #   attn_qk, attn_av: 2 * 192*64*192*3  = 2 * 7,077,888  = 14,155,776
    #   fc1, fc2: 2 * 192*192*768            = 2 * 28,311,552 = 56,623,104
    #   block total                                             99,090,432
    # 12 blocks: 1,189,085,184 MACs -> OPS = 2 * MACs = 2,378,170,368
    w = build_model("deit-t", tokens=192, blocks=12, embed_and_head=False)
    assert w.ops_per_image == 2_378_170_368


def test_deit_t_published_size_with_embed_and_head():
    # T = 197: q, k, v, proj 4 * 197*192*192 = 29,048,832; attn 2 * 197*64*197*3 =
    # 14,902,656; fc1, fc2 2 * 197*192*768 = 58,097,664; block 102,049,152; x12 =
    # 1,224,589,824.  patch_embed 196*768*192 = 28,901,376; head 192*1000 = 192,000.
    # Total 1,253,683,200 MACs (DeiT paper: 1.3 GFLOPs, counted as multiply-adds).
    w = build_model("deit-t")
    assert w.names == ("patch_embed", *BLOCK_NODES, "head")
    assert shapes(w)["patch_embed"] == (196, 768, 192, 1)
    assert shapes(w)["head"] == (1, 192, 1000, 1)
    assert w.ops_per_image == 2 * 1_253_683_200


def test_block_only_twelve_blocks_unroll_to_117_edges():
    w = build_model("deit-t", tokens=192, blocks=12, embed_and_head=False)
    assert len(w.unrolled_edges()) == 7 + 10 * 11 == 117


def test_embed_and_head_add_three_embed_edges_and_one_head_edge():
    w = build_model("deit-t", tokens=192, blocks=12, embed_and_head=True)
    edges = w.unrolled_edges()
    assert len(edges) == 117 + 3 + 1
    # patch_embed is layer 0 and feeds q, k, v of block 0 (layers 1, 2, 3) as LHS;
    # fc2 of the last block is layer 1 + 11*8 + 7 = 96 and feeds head (layer 97).
    rows = {tuple(int(x) for x in row) for row in edges}
    assert {(0, 1, 0), (0, 2, 0), (0, 3, 0), (96, 97, 0)} <= rows
    assert shapes(w)["patch_embed"] == (191, 768, 192, 1)  # T - 1 rows of 3*16*16


def test_one_block_edges_carry_the_operand_roles():
    w = build_model("deit-t", tokens=192, blocks=2, embed_and_head=False)
    lhs, rhs, rhs_t = 0, 1, 2
    block0 = [
        (0, 3, lhs),
        (1, 3, rhs_t),
        (2, 4, rhs),
        (3, 4, lhs),
        (4, 5, lhs),
        (5, 6, lhs),
        (6, 7, lhs),
    ]
    to_block1 = [(7, 8, lhs), (7, 9, lhs), (7, 10, lhs)]
    block1 = [(s + 8, d + 8, r) for s, d, r in block0]
    assert [tuple(int(x) for x in row) for row in w.unrolled_edges()] == sorted(
        block0 + to_block1 + block1
    )
    roles = {(d.src, d.dst): (d.role, d.next_block) for d in w.dependencies}
    assert roles[("k", "attn_qk")] == (Role.RHS_T, False)
    assert roles[("v", "attn_av")] == (Role.RHS, False)
    assert roles[("fc2", "q")] == (Role.LHS, True)


def test_nonlinear_ops_of_a_block():
    w = build_model("deit-t", tokens=192, embed_and_head=False)
    ops = {op.name: (op.kind, op.rows, op.cols, op.count, op.after) for op in w.nonlinear}
    assert ops == {
        "ln_attn": ("layernorm", 192, 192, 1, "fc2"),
        "softmax": ("softmax", 192, 192, 3, "attn_qk"),
        "residual_attn": ("add", 192, 192, 1, "proj"),
        "ln_mlp": ("layernorm", 192, 192, 1, "proj"),
        "gelu": ("gelu", 192, 768, 1, "fc1"),
        "residual_mlp": ("add", 192, 192, 1, "fc2"),
    }


# name: (D, H, F, blocks, tokens, patch_embed rows x K or None, classes)
PUBLISHED = {
    "deit-t": (192, 3, 768, 12, 197, (196, 768), 1000),
    "deit-t-160": (160, 4, 640, 12, 197, (196, 768), 1000),
    "deit-t-256": (256, 4, 1024, 12, 197, (196, 768), 1000),
    "lv-vit-t": (240, 4, 720, 12, 197, (196, 768), 1000),
    "deit-s": (384, 6, 1536, 12, 197, (196, 768), 1000),
    "deit-b": (768, 12, 3072, 12, 197, (196, 768), 1000),
    "vit-b16": (768, 12, 3072, 12, 197, (196, 768), 1000),
    "vit-l16": (1024, 16, 4096, 24, 197, (196, 768), 1000),
    "bert-base": (768, 12, 3072, 12, 128, None, 2),
    "bert-large": (1024, 16, 4096, 24, 128, None, 2),
}


def test_known_models_lists_the_zoo_in_order():
    assert known_models() == list(PUBLISHED)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_every_zoo_model_builds_with_its_published_dimensions(name):
    dim, heads, mlp, blocks, tokens, embed, classes = PUBLISHED[name]
    w = build_model(name)
    s = shapes(w)
    assert w.blocks == blocks
    assert s["q"] == (tokens, dim, dim, 1)
    assert s["attn_qk"] == (tokens, dim // heads, tokens, heads)
    assert s["attn_av"] == (tokens, tokens, dim // heads, heads)
    assert s["fc1"] == (tokens, dim, mlp, 1)
    assert s["fc2"] == (tokens, mlp, dim, 1)
    assert s["head"] == (1, dim, classes, 1)
    if embed is None:
        assert "patch_embed" not in s
        assert len(w.unrolled_edges()) == 7 + 10 * (blocks - 1) + 1
    else:
        assert s["patch_embed"] == (*embed, dim, 1)
        assert len(w.unrolled_edges()) == 7 + 10 * (blocks - 1) + 3 + 1
    assert w.describe() == {
        "model": name,
        "tokens": tokens,
        "blocks": blocks,
        "embed_and_head": True,
    }
    rebuilt = workload_from_spec(w.describe())
    assert rebuilt == w
    assert rebuilt.describe() == w.describe()


def test_build_model_options_override_the_defaults():
    w = build_model("bert-base", tokens=512, blocks=2, embed_and_head=False)
    assert w.blocks == 2
    assert w.names == BLOCK_NODES
    assert shapes(w)["attn_qk"] == (512, 64, 512, 12)
    assert w.options == {"model": "bert-base", "tokens": 512, "blocks": 2, "embed_and_head": False}


def test_bert_embed_and_head_adds_only_the_head():
    w = build_model("bert-base")
    assert w.names == (*BLOCK_NODES, "head")
    assert w.nodes[-1].section == Section.POST


def test_unknown_model_lists_the_known_ones():
    expected = (
        "unknown model 'deit-x': known models are deit-t, deit-t-160, deit-t-256, lv-vit-t, "
        "deit-s, deit-b, vit-b16, vit-l16, bert-base, bert-large"
    )
    with pytest.raises(WorkloadError) as info:
        build_model("deit-x")
    assert str(info.value) == expected


def test_transformer_rejects_dim_not_divisible_by_heads():
    with pytest.raises(WorkloadError, match="dim 190 is not divisible by heads 3"):
        transformer("odd", dim=190, heads=3, mlp=768, tokens=197, blocks=12, patch=16)


@pytest.mark.parametrize(
    "field, value",
    [
        ("dim", 0),
        ("heads", -1),
        ("mlp", 0),
        ("tokens", 0),
        ("blocks", 0),
        ("classes", 0),
        ("image_channels", 0),
        ("patch", 0),
        ("tokens", 1.5),
        ("blocks", True),
    ],
)
def test_transformer_rejects_non_positive_sizes_naming_the_field(field, value):
    kwargs = {"dim": 192, "heads": 3, "mlp": 768, "tokens": 197, "blocks": 12, "patch": 16}
    kwargs[field] = value
    with pytest.raises(WorkloadError, match=re.escape(f"{field} must be a positive integer")):
        transformer("bad", **kwargs)


def test_transformer_needs_a_patch_row_besides_the_class_token():
    with pytest.raises(WorkloadError, match="tokens must exceed"):
        transformer("tiny", dim=192, heads=3, mlp=768, tokens=1, blocks=1, patch=16)
    # without the embedding one token row is fine
    w = transformer(
        "tiny", dim=192, heads=3, mlp=768, tokens=1, blocks=1, patch=16, embed_and_head=False
    )
    assert shapes(w)["attn_qk"] == (1, 64, 1, 3)


def test_build_model_rejects_a_non_boolean_embed_and_head():
    with pytest.raises(WorkloadError, match="embed_and_head"):
        build_model("deit-t", embed_and_head="yes")


def test_transformer_without_options_describes_itself_as_gemms():
    w = transformer("custom", dim=64, heads=2, mlp=128, tokens=16, blocks=1)
    assert w.options == {}
    assert [g["name"] for g in w.describe()["gemms"]] == [*BLOCK_NODES, "head"]
