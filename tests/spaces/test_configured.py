"""Configured spaces: SSR's rule and the tuned rule with share weights."""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.models import SHARE_WEIGHTS, CostModel
from ssropt.objectives.workloads.zoo import build_model
from ssropt.spaces import Space, SpaceOptions

NEUTRAL = int(np.flatnonzero(SHARE_WEIGHTS == 1.0)[0])


@pytest.fixture(scope="module")
def model(vck190):
    return CostModel(build_model("deit-t", tokens=192, blocks=2, embed_and_head=False), vck190, "int8")


def test_tuned_genes_are_the_batch_the_labels_and_a_weight_per_slot(model):
    ssr = Space(model, SpaceOptions(configurator="ssr"))
    tuned = Space(model, SpaceOptions(configurator="tuned"))
    assert tuned.n_genes == ssr.n_genes + tuned.n_slots
    assert tuned.gene_names[ssr.n_genes :] == [f"acc{s}_weight" for s in range(tuned.n_slots)]
    assert (tuned.upper[ssr.n_genes :] == len(SHARE_WEIGHTS) - 1).all()


def test_neutral_weights_configure_exactly_what_ssr_does(model):
    ssr = Space(model, SpaceOptions(configurator="ssr"))
    tuned = Space(model, SpaceOptions(configurator="tuned"))
    genomes = ssr.sample(80, np.random.default_rng(1))
    weights = np.full((len(genomes), tuned.n_slots), NEUTRAL)
    a, b = ssr.decode(genomes), tuned.decode(np.concatenate([genomes, weights], axis=1))
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.assignment, b.assignment)


def test_weights_move_with_their_labels(model):
    """Renaming accelerators (and their weights with them) is the same design."""
    tuned = Space(model, SpaceOptions(configurator="tuned"))
    rng = np.random.default_rng(2)
    genomes = tuned.sample(60, rng)
    perm = rng.permutation(tuned.n_slots)  # label l becomes perm[l]; its weight moves along
    renamed = genomes.copy()
    labels = genomes[:, tuned.label_genes]
    renamed[:, tuned.label_genes] = perm[labels]
    weights = genomes[:, tuned.param_start :]
    renamed_weights = np.empty_like(weights)
    renamed_weights[:, perm] = weights
    renamed[:, tuned.param_start :] = renamed_weights
    a, b = tuned.decode(genomes), tuned.decode(renamed)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(tuned.canonical(genomes), tuned.canonical(renamed))


def test_a_heavier_accelerator_gets_a_larger_share(model):
    tuned = Space(model, SpaceOptions(configurator="tuned", batch_sizes=(1,)))
    configurator = tuned.configurator
    n_nodes = model.workload.n_nodes
    assignment = np.zeros((2, n_nodes), dtype=np.int64)
    assignment[:, n_nodes // 2 :] = 1
    weights = np.array([[1.0, 1.0], [2.0, 1.0]])
    cfg = configurator.configure_arrays(assignment, np.array([1, 1]), weights)
    assert cfg.shares[1, 0, 0] > cfg.shares[0, 0, 0]  # AIEs of the first accelerator
    assert cfg.shares[1, 0, 3] >= cfg.shares[0, 0, 3]  # and BRAM


def test_configured_evaluation_returns_canonical_genomes(model):
    tuned = Space(model, SpaceOptions(configurator="tuned"))
    genomes = tuned.sample(40, np.random.default_rng(3))
    result = tuned.evaluate(genomes)
    np.testing.assert_array_equal(result.genomes, tuned.canonical(genomes))
    again = tuned.evaluate(result.genomes)
    np.testing.assert_array_equal(again.F, result.F)
