"""The lock-step schedule (spec section 3.1) and the buffer simulation along it (section 4).

Reference step counts are MODEL.md's; the small cases are derived by hand in comments.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ssropt.objectives.models.lockstep.schedule import LockStepScheduler
from ssropt.objectives.workloads.zoo import build_model

# node order of a block: q k v attn_qk attn_av proj fc1 fc2
SEQUENTIAL = (0, 0, 0, 0, 0, 0, 0, 0)
HYBRID = (0, 0, 0, 1, 1, 2, 2, 2)  # {q,k,v} {attn_qk,attn_av} {proj,fc1,fc2}
SPATIAL = (0, 1, 2, 3, 4, 5, 6, 7)


@pytest.fixture(scope="module")
def deit12():
    return LockStepScheduler(build_model("deit-t", tokens=192, embed_and_head=False))


@pytest.fixture(scope="module")
def deit1():
    return LockStepScheduler(build_model("deit-t", tokens=192, blocks=1, embed_and_head=False))


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [(SEQUENTIAL, (96, 288, 576)), (HYBRID, (84, 153, 246)), (SPATIAL, (72, 74, 77))],
    ids=["sequential", "hybrid", "spatial"],
)
def test_deit_t_block_only_step_counts_match_model_md(deit12, assignment, expected):
    steps = tuple(deit12.summary(b, np.array(assignment)).steps for b in (1, 3, 6))
    assert steps == expected


def test_step_counts_hold_when_computed_together_with_other_keys(deit12):
    # the scheduler simulates several (batch, assignment) keys at once; a fresh
    # scheduler asked for all nine keys in one call must give the same numbers
    fresh = LockStepScheduler(deit12.workload)
    batch = np.repeat([1, 3, 6], 3)
    assign = np.array([SEQUENTIAL, HYBRID, SPATIAL] * 3)
    steps = [s.steps for s in fresh.summaries(batch, assign)]
    assert steps == [96, 84, 72, 288, 153, 74, 576, 246, 77]


def test_step_kind_counts_add_up_to_the_steps(deit12):
    for assignment in (SEQUENTIAL, HYBRID, SPATIAL):
        summary = deit12.summary(6, np.array(assignment))
        assert summary.counts.sum() == summary.steps
        # every node of one image runs 12 copies x 6 images = 72 times
        busy = (summary.variants > 0) * summary.counts[:, None]
        assert busy.sum(axis=0).tolist() == [72] * 8


def _random_assignments(rng, n, n_nodes=8, n_acc=4):
    """Random assignments whose accelerators are 0..k-1, all used."""
    out = []
    for _ in range(n):
        raw = rng.integers(0, rng.integers(1, n_acc + 1), size=n_nodes)
        out.append(np.unique(raw, return_inverse=True)[1].ravel())
    return out


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_relabelling_accelerators_never_changes_the_schedule(deit1, batch):
    rng = np.random.default_rng(7)
    for assignment in [np.array(HYBRID)] + _random_assignments(rng, 6):
        n_acc = int(assignment.max()) + 1
        reference = deit1.jobs(batch, assignment)
        ref_summary = deit1.summary(batch, assignment)
        ref_steps = {
            (i, j, b): s
            for i, j, b, s in zip(reference.image, reference.node, reference.block, reference.step)
        }
        for perm in itertools.permutations(range(n_acc)):
            relabelled = np.array(perm)[assignment]
            jobs = deit1.jobs(batch, relabelled)
            steps = {
                (i, j, b): s for i, j, b, s in zip(jobs.image, jobs.node, jobs.block, jobs.step)
            }
            assert steps == ref_steps
            summary = deit1.summary(batch, relabelled)
            assert summary.steps == ref_summary.steps
            assert sorted(summary.lhs_buffers) == sorted(ref_summary.lhs_buffers)
            assert sorted(summary.rhs_buffers) == sorted(ref_summary.rhs_buffers)
            # and the buffer counts follow their accelerator
            assert summary.lhs_buffers[list(perm)].tolist() == ref_summary.lhs_buffers.tolist()


def test_relabelling_the_12_block_hybrid_keeps_its_steps(deit12):
    for perm in itertools.permutations(range(3)):
        relabelled = np.array(perm)[np.array(HYBRID)]
        assert [deit12.summary(b, relabelled).steps for b in (1, 3, 6)] == [84, 153, 246]


# One block, batch 2, accelerator 0 runs q k v proj fc1 fc2, accelerator 1 runs attn_qk
# attn_av.  Pools (image-major, then layer order):
#   acc 0: q0 k0 v0 proj0 fc1_0 fc2_0 q1 k1 v1 proj1 fc1_1 fc2_1
#   acc 1: qk0 av0 qk1 av1
# A job is ready when all its predecessors ran in *earlier* steps:
#   step 0: acc0 q0                       acc1 -  (qk0 needs q0 and k0)
#   step 1: acc0 k0                       acc1 -
#   step 2: acc0 v0                       acc1 qk0 (q0@0, k0@1)
#   step 3: acc0 q1  (proj0 not ready)    acc1 av0 (qk0@2, v0@2)
#   step 4: acc0 proj0 (av0@3)            acc1 -  (qk1 needs k1)
#   step 5: acc0 fc1_0                    acc1 -
#   step 6: acc0 fc2_0                    acc1 -
#   step 7: acc0 k1                       acc1 -
#   step 8: acc0 v1                       acc1 qk1 (q1@3, k1@7)
#   step 9: acc0 -   (proj1 needs av1)    acc1 av1 (qk1@8, v1@8)
#   step 10: proj1, 11: fc1_1, 12: fc2_1  -> 13 steps
Q, K, V, QK, AV, PROJ, FC1, FC2 = range(8)
HAND_SCHEDULE = {
    (0, Q): 0, (0, K): 1, (0, V): 2, (0, QK): 2, (1, Q): 3, (0, AV): 3, (0, PROJ): 4,
    (0, FC1): 5, (0, FC2): 6, (1, K): 7, (1, V): 8, (1, QK): 8, (1, AV): 9,
    (1, PROJ): 10, (1, FC1): 11, (1, FC2): 12,
}  # fmt: skip
TWO_ACC = np.array([0, 0, 0, 1, 1, 0, 0, 0])


def test_jobs_of_one_block_batch_2_on_two_accelerators_match_hand_schedule(deit1):
    jobs = deit1.jobs(2, TWO_ACC)
    got = {(int(i), int(j)): int(s) for i, j, s in zip(jobs.image, jobs.node, jobs.step)}
    assert got == HAND_SCHEDULE
    assert (jobs.block == 0).all()
    # the order jobs come out in is step order
    assert (np.diff(jobs.step) >= 0).all()
    assert deit1.summary(2, TWO_ACC).steps == 13


# Buffers of the same case.  A buffer lives on its consumer's accelerator from the
# producer's step (own step when read from DDR) to one step after the consumer, both
# ends inclusive; q, k, v on one accelerator share one input buffer.
#   acc 0 LHS: qkv image 0 [0, 3], proj0 [3, 5], fc1_0 [4, 6], fc2_0 [5, 7],
#              qkv image 1 [3, 9], proj1 [9, 11], fc1_1 [10, 12], fc2_1 [11, 13]
#              -> at step 5: proj0, fc1_0, fc2_0, qkv1 = 4 (the peak)
#   acc 1 LHS: qk0 [0, 3], av0 [2, 4], qk1 [3, 9], av1 [8, 10] -> step 3: 3
#   acc 1 RHS: k0->qk0 [1, 3], v0->av0 [2, 4], k1->qk1 [7, 9], v1->av1 [8, 10] -> 2
def test_buffer_peaks_of_hand_worked_case(deit1):
    summary = deit1.summary(2, TWO_ACC)
    assert summary.lhs_buffers.tolist() == [4, 3]
    assert summary.rhs_buffers.tolist() == [0, 2]


# Sequential, one block, batch 1: one job per step q k v qk av proj fc1 fc2 (0..7).
#   LHS: qkv [0, 3], qk [0, 4], av [3, 5], proj [4, 6], fc1 [5, 7], fc2 [6, 8] -> 3
#   RHS: k->qk [1, 4], v->av [2, 5] -> 2
def test_buffer_peaks_sequential_one_image(deit1):
    summary = deit1.summary(1, np.zeros(8, dtype=int))
    assert summary.steps == 8
    assert summary.lhs_buffers.tolist() == [3]
    assert summary.rhs_buffers.tolist() == [2]


def test_qkv_share_one_input_buffer_only_on_one_accelerator(deit1):
    # q, k, v on three accelerators, everything else on acc 3 (one image):
    # steps q k v 0, qk 1, av 2, proj 3, fc1 4, fc2 5.  Each of q, k, v has its own
    # DDR buffer [0, 1]; acc 3: qk [0, 2], av [1, 3], proj [2, 4], fc1 [3, 5],
    # fc2 [4, 6] -> 3 live at steps 2, 3, 4.
    summary = deit1.summary(1, np.array([0, 1, 2, 3, 3, 3, 3, 3]))
    assert summary.steps == 6
    assert summary.lhs_buffers.tolist() == [1, 1, 1, 3]
    assert summary.rhs_buffers.tolist() == [0, 0, 0, 2]


def test_spatial_batch_6_needs_three_lhs_buffers_per_weight_accelerator(deit12):
    # spec section 4: spatial DeiT-T at batch 6 gives mem_num ~ (3, 0, 3) for each weight
    # accelerator and (3, 3-4, 3) for attn_qk and attn_av
    summary = deit12.summary(6, np.array(SPATIAL))
    assert summary.lhs_buffers.tolist() == [3] * 8
    weight_accs = [Q, K, V, PROJ, FC1, FC2]
    assert summary.rhs_buffers[weight_accs].tolist() == [0] * 6
    assert summary.rhs_buffers[[QK, AV]].tolist() == [3, 4]


def test_schedule_cache_returns_the_same_summary(deit12):
    first = deit12.summary(3, np.array(HYBRID))
    again = deit12.summary(3, np.array(HYBRID))
    assert again is first
