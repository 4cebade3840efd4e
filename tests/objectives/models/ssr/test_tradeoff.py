"""SSR's trade-off: the lowest-latency design is not the highest-throughput design.

DeiT-T (192 tokens, 12 blocks, block-only), INT8 on the VCK190.  The designs below were
found by a genetic search over ``Space`` genomes of each kind (sequential: one
accelerator; hybrid: {q,k,v} {attn_qk,attn_av} {proj,fc1,fc2}; spatial: one node per
accelerator), once minimising latency at batch 1 and once maximising throughput at
batch 6; their parameters are written here literally.  The test asserts feasibility and
the ordering property, not the numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.zoo import build_model

SEQUENTIAL = (0, 0, 0, 0, 0, 0, 0, 0)
HYBRID = (0, 0, 0, 1, 1, 2, 2, 2)
SPATIAL = (0, 1, 2, 3, 4, 5, 6, 7)

# name -> (kind, batch it was tuned for, assignment, accelerators (a, b, c, dup, h1, w1, w2))
DESIGNS = {
    # the sequential search found the same array for both objectives
    "sequential": ("sequential", (1, 6), SEQUENTIAL, [(6, 6, 6, 1, 32, 32, 32)]),
    "hybrid_latency": (
        "hybrid", (1,), HYBRID,
        [(4, 3, 6, 1, 48, 32, 32), (6, 2, 2, 3, 32, 32, 32), (6, 3, 6, 1, 32, 64, 32)],
    ),
    "hybrid_throughput": (
        "hybrid", (6,), HYBRID,
        [(4, 3, 6, 1, 48, 32, 32), (4, 4, 2, 3, 48, 32, 32), (4, 3, 6, 1, 48, 64, 32)],
    ),
    "spatial_latency": (
        "spatial", (1,), SPATIAL,
        [(3, 2, 3, 1, 64, 48, 64), (4, 1, 3, 1, 48, 64, 32), (3, 1, 4, 1, 32, 64, 48),
         (6, 3, 4, 1, 32, 32, 48), (6, 3, 2, 1, 32, 32, 32), (4, 2, 3, 1, 48, 48, 32),
         (6, 3, 4, 1, 32, 64, 32), (4, 4, 3, 1, 48, 64, 32)],
    ),
    "spatial_throughput": (
        "spatial", (6,), SPATIAL,
        [(4, 3, 2, 1, 48, 64, 48), (4, 3, 2, 1, 64, 32, 32), (2, 3, 2, 1, 48, 64, 32),
         (4, 2, 3, 1, 48, 32, 64), (4, 3, 2, 1, 48, 32, 32), (4, 2, 3, 1, 48, 64, 64),
         (4, 3, 4, 1, 48, 64, 32), (4, 4, 3, 1, 48, 64, 32)],
    ),
}  # fmt: skip
NAMES = list(DESIGNS)


@pytest.fixture(scope="module")
def results():
    """Evaluation of every design at batch 1 and at batch 6."""
    model = CostModel(
        build_model("deit-t", tokens=192, embed_and_head=False), load_platform("vck190"), "int8"
    )
    out = {}
    for batch in (1, 6):
        params = np.zeros((len(NAMES), 8, 7), dtype=np.int64)
        for d, name in enumerate(NAMES):
            accs = DESIGNS[name][3]
            params[d, : len(accs)] = accs
        designs = DesignBatch(
            "ssr",
            np.full(len(NAMES), batch),
            np.array([DESIGNS[n][2] for n in NAMES], dtype=np.int64),
            params,
        )
        out[batch] = model.evaluate(designs)
    return out


def test_every_design_is_feasible_at_the_batch_it_was_tuned_for(results):
    for d, name in enumerate(NAMES):
        for batch in DESIGNS[name][1]:
            assert results[batch].feasible[d], (name, batch)


def test_kinds_have_the_advertised_accelerator_counts(results):
    counts = {"sequential": 1, "hybrid": 3, "spatial": 8}
    for d, name in enumerate(NAMES):
        used = (results[1].accelerators["aie"][d] > 0).sum()
        assert used == counts[DESIGNS[name][0]], name


def test_lowest_latency_at_batch_1_is_not_highest_throughput_at_batch_6(results):
    ok1, ok6 = results[1].feasible, results[6].feasible
    latency = np.where(ok1, results[1].latency_s, np.inf)
    throughput = np.where(ok6, results[6].throughput_ops_per_s, -np.inf)
    fastest = NAMES[int(np.argmin(latency))]
    busiest = NAMES[int(np.argmax(throughput))]
    assert fastest != busiest
    # the two winners are of different kinds: a single large array answers one image
    # fastest, a spatial pipeline keeps the most work in flight for six
    assert DESIGNS[fastest][0] == "sequential"
    assert DESIGNS[busiest][0] == "spatial"


def test_the_two_winners_trade_latency_for_throughput(results):
    # evaluated at both batch sizes, each winner loses the other's objective
    fast = NAMES.index("sequential")
    busy = NAMES.index("spatial_throughput")
    for batch in (1, 6):
        assert results[batch].feasible[[fast, busy]].all()
    assert results[1].latency_s[fast] < results[1].latency_s[busy]
    assert results[6].throughput_ops_per_s[busy] > results[6].throughput_ops_per_s[fast]
    # at batch 1 the latency and the throughput agree; the batch is what separates them
    assert results[1].throughput_ops_per_s[fast] > results[1].throughput_ops_per_s[busy]
