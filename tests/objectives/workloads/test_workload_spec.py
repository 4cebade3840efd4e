"""The design file's ``workload`` object."""

from __future__ import annotations

import json
import re

import pytest

from ssropt.objectives.workloads.graph import Role, WorkloadError
from ssropt.objectives.workloads.spec import load_workload_file, workload_from_spec
from ssropt.objectives.workloads.zoo import build_model

BERT_CONFIG = {
    "model_type": "bert",
    "hidden_size": 256,
    "num_attention_heads": 4,
    "intermediate_size": 1024,
    "num_hidden_layers": 4,
    "max_position_embeddings": 512,
}

# The DeiT-T block as a GEMM list (MODEL.md, charm reference numbers).
DEIT_T_GEMMS = [
    {"name": "qkv", "M": 192, "K": 192, "N": 576, "count": 1},
    {"name": "qk", "M": 192, "K": 64, "N": 192, "count": 3},
    {"name": "av", "M": 192, "K": 192, "N": 64, "count": 3},
    {"name": "proj", "M": 192, "K": 192, "N": 192, "count": 1},
    {"name": "fc1", "M": 192, "K": 192, "N": 768, "count": 1},
    {"name": "fc2", "M": 192, "K": 768, "N": 192, "count": 1},
]


def test_model_form_builds_the_zoo_model_with_options():
    spec = {"model": "deit-t", "tokens": 192, "blocks": 12, "embed_and_head": False}
    w = workload_from_spec(spec)
    assert w == build_model("deit-t", tokens=192, blocks=12, embed_and_head=False)
    assert w.describe() == spec
    assert len(w.unrolled_edges()) == 117


def test_model_form_defaults_come_from_the_zoo():
    w = workload_from_spec({"model": "deit-t"})
    assert w.describe() == {"model": "deit-t", "tokens": 197, "blocks": 12, "embed_and_head": True}


def test_hf_config_form_resolves_relative_paths_against_base_dir(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "config.json").write_text(json.dumps(BERT_CONFIG))
    w = workload_from_spec({"hf_config": "models/config.json", "tokens": 64}, base_dir=tmp_path)
    assert w.blocks == 4
    assert [(n.name, n.m, n.k, n.n, n.repeat) for n in w.nodes][3] == ("attn_qk", 64, 64, 64, 4)
    assert workload_from_spec(w.describe()) == w  # the stored path is absolute


def test_gemms_form_is_a_chain_with_count_defaulting_to_one():
    # OPS = 2 * (192*192*576 + 192*64*192*3 + 192*192*64*3 + 192^3 + 2 * 192*192*768)
    #     = 2 * (21,233,664 + 7,077,888 + 7,077,888 + 7,077,888 + 56,623,104)
    #     = 2 * 99,090,432 = 198,180,864
    gemms = [dict(g) for g in DEIT_T_GEMMS]
    del gemms[0]["count"]
    w = workload_from_spec({"gemms": gemms})
    assert w.names == ("qkv", "qk", "av", "proj", "fc1", "fc2")
    assert [n.repeat for n in w.nodes] == [1, 3, 3, 1, 1, 1]
    assert w.blocks == 1
    assert [(d.src, d.dst, d.role) for d in w.dependencies] == [
        ("qkv", "qk", Role.LHS),
        ("qk", "av", Role.LHS),
        ("av", "proj", Role.LHS),
        ("proj", "fc1", Role.LHS),
        ("fc1", "fc2", Role.LHS),
    ]
    assert w.ops_per_image == 198_180_864
    assert w.describe() == {"gemms": DEIT_T_GEMMS}
    assert workload_from_spec(w.describe()) == w


def test_gemm_chain_describe_round_trips_to_an_equal_workload():
    w = workload_from_spec({"gemms": DEIT_T_GEMMS})
    assert workload_from_spec(w.describe()) == w


@pytest.mark.parametrize(
    "spec, message",
    [
        (["deit-t"], "workload must be an object with one of the keys model, hf_config, gemms"),
        ({}, "workload needs one of the keys model, hf_config, gemms; got none"),
        ({"tokens": 192}, "workload needs one of the keys model, hf_config, gemms; got tokens"),
        ({"model": "deit-t", "gemms": []}, "workload has both 'model' and 'gemms'"),
        (
            {"model": "deit-t", "batch": 6},
            (
                "workload ('model' form): unknown key 'batch' (allowed: model, tokens, blocks, "
                "embed_and_head)"
            ),
        ),
        ({"hf_config": "c.json", "heads": 3}, "workload ('hf_config' form): unknown key 'heads'"),
        ({"model": 5}, "workload.model must be a non-empty string, got 5"),
        ({"model": ""}, "workload.model must be a non-empty string"),
        ({"hf_config": None}, "workload.hf_config must be a non-empty string, got None"),
        ({"model": "deit-x"}, "unknown model 'deit-x': known models are deit-t, deit-t-160"),
        ({"model": "deit-t", "tokens": 0}, "workload.tokens must be a positive integer, got 0"),
        ({"model": "deit-t", "tokens": "192"}, "workload.tokens must be a positive integer"),
        ({"model": "deit-t", "blocks": 12.0}, "workload.blocks must be a positive integer"),
        ({"model": "deit-t", "blocks": True}, "workload.blocks must be a positive integer"),
        (
            {"model": "deit-t", "embed_and_head": "no"},
            "workload.embed_and_head must be true or false, got 'no'",
        ),
        ({"gemms": [], "name": "x"}, "workload ('gemms' form): unknown key 'name'"),
        ({"gemms": []}, "workload.gemms must be a non-empty list"),
        ({"gemms": {"name": "l0"}}, "workload.gemms must be a non-empty list"),
        ({"gemms": [[192, 192, 576, 1]]}, "workload.gemms[0] must be an object"),
        (
            {"gemms": [{"name": "l0", "M": 1, "K": 1, "N": 1, "m": 1}]},
            "workload.gemms[0]: unknown key 'm' (allowed: name, M, K, N, count)",
        ),
        ({"gemms": [{"name": "l0", "M": 1, "N": 1}]}, "workload.gemms[0]: missing key 'K'"),
        ({"gemms": [{"M": 1, "K": 1, "N": 1}]}, "workload.gemms[0]: missing key 'name'"),
        (
            {"gemms": [{"name": "", "M": 1, "K": 1, "N": 1}]},
            "workload.gemms[0].name must be a non-empty string",
        ),
        (
            {"gemms": [{"name": "l0", "M": 0, "K": 1, "N": 1}]},
            "workload.gemms[0].M must be a positive integer, got 0",
        ),
        (
            {
                "gemms": [
                    {"name": "l0", "M": 1, "K": 1, "N": 1},
                    {"name": "l1", "M": 1, "K": 1, "N": 1, "count": -1},
                ]
            },
            "workload.gemms[1].count must be a positive integer, got -1",
        ),
        (
            {
                "gemms": [
                    {"name": "l0", "M": 1, "K": 1, "N": 1},
                    {"name": "l0", "M": 1, "K": 1, "N": 1},
                ]
            },
            "workload.gemms[1]: duplicate gemm name 'l0'",
        ),
    ],
)
def test_bad_workload_objects_raise_precise_errors(spec, message):
    with pytest.raises(WorkloadError, match=re.escape(message)):
        workload_from_spec(spec)


def test_missing_hf_config_file_names_it(tmp_path):
    with pytest.raises(WorkloadError, match=re.escape(str(tmp_path / "none.json"))):
        workload_from_spec({"hf_config": "none.json"}, base_dir=tmp_path)


def test_load_workload_file_reads_json_and_toml(tmp_path):
    spec = {"model": "deit-t", "tokens": 192, "blocks": 12, "embed_and_head": False}
    as_json = tmp_path / "w.json"
    as_json.write_text(json.dumps(spec))
    as_toml = tmp_path / "w.toml"
    as_toml.write_text('model = "deit-t"\ntokens = 192\nblocks = 12\nembed_and_head = false\n')
    expected = build_model("deit-t", tokens=192, blocks=12, embed_and_head=False)
    assert load_workload_file(as_json) == expected
    assert load_workload_file(as_toml) == expected


def test_load_workload_file_accepts_a_design_file_and_gemm_tables(tmp_path):
    design = tmp_path / "design.json"
    design.write_text(json.dumps({"workload": {"gemms": DEIT_T_GEMMS}, "batch": 6}))
    assert load_workload_file(design) == workload_from_spec({"gemms": DEIT_T_GEMMS})
    gemm_toml = tmp_path / "gemms.toml"
    gemm_toml.write_text(
        '[[gemms]]\nname = "l0"\nM = 192\nK = 192\nN = 576\n'
        '[[gemms]]\nname = "l1"\nM = 192\nK = 576\nN = 192\ncount = 2\n'
    )
    w = load_workload_file(gemm_toml)
    assert [(n.name, n.m, n.k, n.n, n.repeat) for n in w.nodes] == [
        ("l0", 192, 192, 576, 1),
        ("l1", 192, 576, 192, 2),
    ]


def test_load_workload_file_resolves_hf_config_next_to_the_file(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(BERT_CONFIG))
    spec_file = tmp_path / "workload.toml"
    spec_file.write_text('hf_config = "config.json"\nembed_and_head = false\n')
    w = load_workload_file(spec_file)
    assert w.blocks == 4 and w.nodes[0].m == 128


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("bad.json", '{"model": "deit-t",', "not valid JSON"),
        ("bad.toml", 'model = "deit-t\n', "not valid TOML"),
        ("bad.yaml", "model: deit-t", "a workload file must end in .json or .toml"),
        ("bad2.json", '{"model": "deit-t", "tokens": -1}', "workload.tokens must be a positive"),
    ],
)
def test_load_workload_file_errors_name_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(WorkloadError) as info:
        load_workload_file(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_load_workload_file_reports_a_missing_file(tmp_path):
    with pytest.raises(WorkloadError, match="cannot read workload file"):
        load_workload_file(tmp_path / "absent.json")
