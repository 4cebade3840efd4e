"""The fast SSR configurator chooses exactly what the reference implementation chooses.

``reference_configurator.py`` configures one design at a time, each accelerator an
enumeration of the whole candidate grid: the rule as SSR's specification states it.  The
fast configurator must agree with it on every configuration -- parameters, feasibility,
shares, resources used and the head-replication hint -- over more than 10,000 random
assignments and batch sizes: several workloads, no grouping and both ``--group``
presets, INT8, INT16 and FP32, full value tables and narrowed ones (which the reference
prices much faster, so many more designs fit in the test's time).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_configurator import SsrConfigurator as ReferenceConfigurator  # noqa: E402

from ssropt.objectives.models import CostModel  # noqa: E402
from ssropt.objectives.models.ssr.configurator import SsrConfigurator  # noqa: E402
from ssropt.objectives.workloads.zoo import build_model  # noqa: E402
from ssropt.spaces import Space, SpaceOptions, group_preset  # noqa: E402

NARROW = {"a": (1, 2, 3, 4, 6, 8), "b": (1, 2, 4, 8), "c": (1, 2, 3, 4, 6, 8), "h1": (16, 32), "w1": (32, 64),
          "w2": (16, 32)}

#: (model, dtype, grouping, embedding and head, blocks, value tables, designs, seed)
CASES = [
    ("deit-t", "int8", "none", True, 12, None, 400, 0),
    ("deit-t", "fp32", "none", False, 2, None, 200, 1),
    ("deit-t", "int8", "qkv", True, 12, None, 200, 2),
    ("deit-t", "int8", "attention", False, 12, None, 200, 3),
    ("deit-t-160", "int8", "none", False, 12, None, 200, 4),
    ("deit-t", "int8", "none", True, 12, NARROW, 2500, 10),
    ("deit-t", "fp32", "none", True, 1, NARROW, 1500, 11),
    ("deit-t", "int8", "qkv", True, 2, NARROW, 1500, 12),
    ("deit-t", "int16", "attention", True, 12, NARROW, 1200, 13),
    ("lv-vit-t", "int8", "none", False, 1, NARROW, 1200, 14),
    ("bert-base", "int8", "qkv", False, 2, NARROW, 1000, 15),
]


def _random_designs(model, grouping, values, n, seed):
    options = SpaceOptions(family="hybrid", batch_sizes=tuple(range(1, 9)), groups=group_preset(grouping),
                           values=values or {})
    space = Space(model, options)
    genomes = space.sample(n, np.random.default_rng(seed))
    return space, genomes[:, 1 : 1 + space.n_label_genes][:, space.group_of_node], space.batch_values[genomes[:, 0]]


def test_the_cases_cover_ten_thousand_designs():
    assert sum(case[6] for case in CASES) >= 10_000


@pytest.mark.slow
@pytest.mark.parametrize("name,dtype,grouping,embed,blocks,values,n,seed", CASES)
def test_fast_configurator_chooses_what_the_reference_chooses(vck190, name, dtype, grouping, embed, blocks, values, n, seed):
    model = CostModel(build_model(name, blocks=blocks, embed_and_head=embed), vck190, dtype)
    space, assignments, batches = _random_designs(model, grouping, values, n, seed)
    fast = SsrConfigurator(model, space.values).configure_many(assignments, batches)
    reference = ReferenceConfigurator(model, space.values).configure_many(assignments, batches)
    mismatches = []
    for i, (got, want) in enumerate(zip(fast, reference)):
        same = (
            got.feasible == want.feasible
            and np.array_equal(got.params, want.params)
            and np.array_equal(got.shares, want.shares)
            and np.array_equal(got.used, want.used)
            and got.dup_hint == want.dup_hint
            and np.array_equal(got.assignment, want.assignment)
        )
        if not same:
            mismatches.append((i, want.assignment.tolist(), int(want.batch)))
    assert not mismatches, f"{len(mismatches)} of {n} designs differ, first: {mismatches[:3]}"
    assert sum(cfg.feasible for cfg in fast) > 0
