"""Workloads from Hugging Face ``config.json`` files."""

from __future__ import annotations

import json

import pytest

from ssropt.objectives.workloads.graph import WorkloadError
from ssropt.objectives.workloads.hf_config import from_hf_config
from ssropt.objectives.workloads.spec import workload_from_spec
from ssropt.objectives.workloads.zoo import BLOCK_NODES, build_model

# Key subsets of the published configs (bert-base-uncased, google/vit-base-patch16-224,
# facebook/deit-tiny-distilled-patch16-224).
BERT_BASE = {
    "architectures": ["BertForMaskedLM"],
    "model_type": "bert",
    "hidden_size": 768,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "max_position_embeddings": 512,
    "vocab_size": 30522,
    "hidden_act": "gelu",
}
VIT_B16 = {
    "model_type": "vit",
    "hidden_size": 768,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "image_size": 224,
    "patch_size": 16,
    "num_channels": 3,
    "id2label": {str(i): f"class{i}" for i in range(1000)},
}
DEIT_TINY_DISTILLED = {
    "model_type": "deit",
    "hidden_size": 192,
    "num_attention_heads": 3,
    "intermediate_size": 768,
    "num_hidden_layers": 12,
    "image_size": 224,
    "patch_size": 16,
    "num_channels": 3,
    "num_labels": 1000,
}


def write(tmp_path, config, folder="model"):
    path = tmp_path / folder / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config) if isinstance(config, dict) else config)
    return path


def shapes(workload):
    return {n.name: (n.m, n.k, n.n, n.repeat) for n in workload.nodes}


def test_bert_config_matches_the_zoo_bert_base(tmp_path):
    w = from_hf_config(write(tmp_path, BERT_BASE, "bert-base-uncased"))
    zoo = build_model("bert-base")
    assert w.name == "bert-base-uncased"  # the folder of config.json
    assert w.nodes == zoo.nodes and w.dependencies == zoo.dependencies
    assert w.blocks == 12 and w.nonlinear == zoo.nonlinear
    assert shapes(w)["attn_qk"] == (128, 64, 128, 12)  # 128 tokens, head dim 768/12
    assert shapes(w)["head"] == (1, 768, 2, 1)  # no labels in the file: HF default 2


def test_vit_config_matches_the_zoo_vit_b16(tmp_path):
    w = from_hf_config(write(tmp_path, VIT_B16))
    zoo = build_model("vit-b16")
    assert w.nodes == zoo.nodes and w.dependencies == zoo.dependencies
    assert shapes(w)["patch_embed"] == (196, 768, 768, 1)  # 14*14 patches, 3*16*16
    assert shapes(w)["head"] == (1, 768, 1000, 1)  # len(id2label)


def test_distilled_deit_has_a_distillation_token(tmp_path):
    w = from_hf_config(write(tmp_path, DEIT_TINY_DISTILLED))
    s = shapes(w)
    assert s["q"] == (198, 192, 192, 1)  # 196 patches + class + distillation token
    assert s["patch_embed"] == (196, 768, 192, 1)
    assert s["attn_qk"] == (198, 64, 198, 3)


def test_image_and_patch_sizes_may_be_pairs_and_channels_count(tmp_path):
    config = dict(VIT_B16, image_size=[384, 192], patch_size=[32, 32], num_channels=1)
    s = shapes(from_hf_config(write(tmp_path, config)))
    assert s["patch_embed"] == (72, 1024, 768, 1)  # (384/32)*(192/32) = 12*6 = 72; 1*32*32
    assert s["q"][0] == 73


def test_text_tokens_are_capped_by_max_position_embeddings(tmp_path):
    w = from_hf_config(write(tmp_path, dict(BERT_BASE, max_position_embeddings=64)))
    assert shapes(w)["q"] == (64, 768, 768, 1)


def test_overrides_and_options_round_trip(tmp_path):
    path = write(tmp_path, dict(BERT_BASE, num_labels=3))
    w = from_hf_config(path, tokens=256, blocks=2, embed_and_head=False)
    assert w.names == BLOCK_NODES
    assert w.blocks == 2
    assert shapes(w)["fc1"] == (256, 768, 3072, 1)
    assert w.options == {
        "hf_config": str(path.resolve()),
        "tokens": 256,
        "blocks": 2,
        "embed_and_head": False,
    }
    assert workload_from_spec(w.describe()) == w
    with_head = from_hf_config(path)
    assert shapes(with_head)["head"] == (1, 768, 3, 1)  # num_labels
    assert workload_from_spec(with_head.describe()) == with_head


@pytest.mark.parametrize(
    "key", ["hidden_size", "num_attention_heads", "intermediate_size", "num_hidden_layers"]
)
def test_missing_required_key_names_the_file_and_key(tmp_path, key):
    config = dict(BERT_BASE)
    del config[key]
    path = write(tmp_path, config)
    with pytest.raises(WorkloadError) as info:
        from_hf_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message and f"missing required key '{key}'" in message


@pytest.mark.parametrize("key", ["image_size", "patch_size"])
def test_vision_config_needs_image_and_patch_size(tmp_path, key):
    config = dict(VIT_B16)
    del config[key]
    with pytest.raises(WorkloadError, match=f"missing required key '{key}'"):
        from_hf_config(write(tmp_path, config))


@pytest.mark.parametrize(
    "key, value",
    [
        ("hidden_size", "768"),
        ("num_hidden_layers", 0),
        ("intermediate_size", 3072.0),
        ("num_attention_heads", True),
        ("max_position_embeddings", -1),
        ("num_labels", 0),
    ],
)
def test_bad_values_name_the_key(tmp_path, key, value):
    path = write(tmp_path, dict(BERT_BASE, **{key: value}))
    with pytest.raises(WorkloadError, match=f"key '{key}' must be a positive integer"):
        from_hf_config(path)


@pytest.mark.parametrize("value", ["224", [224], [224, 0], 0])
def test_bad_image_size_names_the_key(tmp_path, value):
    with pytest.raises(WorkloadError, match="key 'image_size' must be a positive integer"):
        from_hf_config(write(tmp_path, dict(VIT_B16, image_size=value)))


def test_non_square_or_oversized_patches_are_rejected(tmp_path):
    with pytest.raises(WorkloadError, match="'patch_size' must be square"):
        from_hf_config(write(tmp_path, dict(VIT_B16, patch_size=[16, 8])))
    with pytest.raises(WorkloadError, match="'patch_size' 448 exceeds 'image_size'"):
        from_hf_config(write(tmp_path, dict(VIT_B16, patch_size=448)))


def test_hidden_size_not_divisible_by_heads(tmp_path):
    path = write(tmp_path, dict(BERT_BASE, hidden_size=770))
    with pytest.raises(
        WorkloadError, match="'hidden_size' 770 is not divisible by 'num_attention_heads' 12"
    ):
        from_hf_config(path)


def test_empty_id2label_is_rejected(tmp_path):
    with pytest.raises(WorkloadError, match="key 'id2label' must be a non-empty object"):
        from_hf_config(write(tmp_path, dict(VIT_B16, id2label={})))


def test_malformed_json_names_the_file(tmp_path):
    path = write(tmp_path, '{"hidden_size": 768,')
    with pytest.raises(WorkloadError) as info:
        from_hf_config(path)
    assert str(info.value).startswith(f"{path}: not valid JSON")
    assert "\n" not in str(info.value)


def test_json_that_is_not_an_object_is_rejected(tmp_path):
    path = write(tmp_path, "[1, 2]")
    with pytest.raises(WorkloadError, match="must hold a JSON object"):
        from_hf_config(path)


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nowhere" / "config.json"
    with pytest.raises(WorkloadError, match="cannot read Hugging Face config"):
        from_hf_config(path)


def test_bad_override_names_the_option_and_the_file(tmp_path):
    path = write(tmp_path, BERT_BASE)
    with pytest.raises(WorkloadError, match="tokens must be a positive integer") as info:
        from_hf_config(path, tokens=0)
    assert str(info.value).startswith(str(path))
