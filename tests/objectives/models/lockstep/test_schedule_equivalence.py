"""The fast lock-step scheduler against the step-by-step reference
(``reference_schedule.py``, the slow oracle): bit-identical summaries, kind tables and
jobs on random keys of many workloads, groupings and batch sizes, plus the MODEL.md step
counts, hand-worked schedules and buffer peaks on the fast one.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_schedule import LockStepScheduler as Old  # noqa: E402

import ssropt.objectives.models.lockstep.schedule as schedule_fast  # noqa: E402
from ssropt.objectives.design import relabel_by_first_use  # noqa: E402
from ssropt.objectives.models import CostModel  # noqa: E402
from ssropt.objectives.models.lockstep.schedule import LockStepScheduler as New  # noqa: E402
from ssropt.objectives.platforms import load_platform  # noqa: E402
from ssropt.objectives.workloads.graph import Dependency, MatmulNode, Role, Workload  # noqa: E402
from ssropt.objectives.workloads.spec import workload_from_spec  # noqa: E402
from ssropt.objectives.workloads.zoo import build_model  # noqa: E402
from ssropt.spaces import Space, SpaceOptions  # noqa: E402

QKV_ATTENTION = (("q", "k", "v"), ("attn_qk", "attn_av"))
GEMMS = {"gemms": [{"name": f"g{i}", "M": 64, "K": 64 + i, "N": 32, "count": 1 + i % 3} for i in range(6)]}
LONG_GEMMS = {"gemms": [{"name": f"g{i}", "M": 8, "K": 8, "N": 8} for i in range(20)]}  # 9**20 > 2**52

WORKLOADS = {
    "deit-t+embed": lambda: build_model("deit-t", tokens=192, embed_and_head=True),
    "deit-t": lambda: build_model("deit-t", tokens=192, embed_and_head=False),
    "deit-t-1block": lambda: build_model("deit-t", tokens=192, blocks=1, embed_and_head=False),
    "deit-t-2blocks+embed": lambda: build_model("deit-t", tokens=192, blocks=2, embed_and_head=True),
    "bert-base": lambda: build_model("bert-base"),
    "gemm-chain": lambda: workload_from_spec(GEMMS),
    "gemm-chain-20": lambda: workload_from_spec(LONG_GEMMS),
}

# (workload, space groups, keys drawn by Space.sample, purely random keys, batch sizes)
CASES = [
    ("deit-t+embed", (), 1200, 300, range(1, 9)),
    ("deit-t+embed", QKV_ATTENTION, 500, 0, range(1, 9)),
    ("deit-t", (), 700, 300, range(1, 9)),
    ("deit-t", QKV_ATTENTION, 400, 0, range(1, 9)),
    ("deit-t-1block", (), 300, 300, range(1, 9)),
    ("deit-t-2blocks+embed", (), 300, 200, range(1, 9)),
    ("bert-base", (), 500, 200, range(1, 9)),
    ("bert-base", QKV_ATTENTION, 200, 0, range(1, 9)),
    ("gemm-chain", (), 300, 200, range(1, 9)),
    ("gemm-chain-20", (), 100, 100, range(1, 9)),
    ("deit-t+embed", (), 30, 10, (16,)),
    ("deit-t", QKV_ATTENTION, 3, 0, (64,)),
    ("bert-base", (), 3, 2, (16, 64)),
]
assert sum(c[2] + c[3] for c in CASES) >= 5000


@pytest.fixture(scope="module")
def platform():
    return load_platform("vck190")


def space_keys(workload, platform, n, rng, batches, groups=()):
    """Keys as a study draws them: ``Space.sample`` genomes, canonical assignments."""
    model = CostModel(workload, platform, "int8")
    space = Space(model, SpaceOptions(family="hybrid", batch_sizes=tuple(batches), groups=groups))
    g = space.sample(n, rng)
    assign, _ = relabel_by_first_use(g[:, 1 : 1 + space.n_label_genes][:, space.group_of_node])
    return space.batch_values[g[:, 0]], assign


def random_keys(n_nodes, n, rng, batches):
    """Arbitrary labels 0..9: not canonical, maybe with unused accelerators."""
    return rng.choice(np.array(list(batches)), size=n), rng.integers(0, rng.integers(1, 11, size=(n, 1)), size=(n, n_nodes))


def assert_same_summary(old, new):
    assert type(new.steps) is int and new.steps == old.steps
    assert new.first_kind == old.first_kind
    for field in ("lhs_buffers", "rhs_buffers", "variants", "counts"):
        a, b = getattr(old, field), getattr(new, field)
        assert (a.dtype, a.shape) == (b.dtype, b.shape), field
        assert np.array_equal(a, b), field


def assert_same_kind_tables(old, new):
    for a, b in zip(old.kind_table(), new.kind_table()):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def assert_same_jobs(old, new, batch, row):
    a, b = old.jobs(batch, row), new.jobs(batch, row)
    for field in ("key", "image", "node", "block", "step"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and np.array_equal(x, y), field


def compare(workload, batch, assign):
    old, new = Old(workload), New(workload)
    half = batch.size // 2  # a first call, then one mixing cached and new keys
    for rows in (slice(0, half), slice(None)):
        for a, b in zip(old.summaries(batch[rows], assign[rows]), new.summaries(batch[rows], assign[rows])):
            assert_same_summary(a, b)
        assert_same_kind_tables(old, new)
    assert len(old._cache) == len(new._cache)
    return old, new


@pytest.mark.parametrize(("name", "groups", "n_space", "n_random", "batches"), CASES)
def test_summaries_match_the_current_scheduler(platform, name, groups, n_space, n_random, batches):
    workload = WORKLOADS[name]()
    rng = np.random.default_rng(abs(hash((name, groups, tuple(batches)))) % 2**32)
    b1, a1 = space_keys(workload, platform, n_space, rng, batches, groups)
    b2, a2 = random_keys(workload.n_nodes, n_random, rng, batches)
    batch, assign = np.concatenate([b1, b2]), np.concatenate([a1, a2])
    old, new = compare(workload, batch, assign)
    for k in rng.choice(batch.size, size=min(batch.size, 8), replace=False):
        assert_same_jobs(old, new, int(batch[k]), assign[k])


def test_chunks_and_pieces_do_not_change_anything(platform, monkeypatch):
    workload = WORKLOADS["deit-t+embed"]()
    batch, assign = space_keys(workload, platform, 300, np.random.default_rng(11), range(1, 9))
    reference = New(workload).summaries(batch, assign)
    monkeypatch.setattr(schedule_fast, "_CHUNK_JOBS", 3000)  # a few keys per simulation
    monkeypatch.setattr(schedule_fast, "_PIECE_JOBS", 1000)  # one key per summary piece
    for a, b in zip(reference, New(workload).summaries(batch, assign)):
        assert_same_summary(a, b)


def assert_kind_rows_match(scheduler, summaries):
    """Each summary's rows of the kind table are its own step kinds."""
    index, count = scheduler.kind_table()
    offsets = np.arange(scheduler.n_nodes) * schedule_fast.N_VARIANTS
    for s in summaries:
        rows = slice(s.first_kind, s.first_kind + s.counts.size)
        assert np.array_equal(index[rows], s.variants + offsets) and np.array_equal(count[rows], s.counts)


def test_cache_overflow_keeps_kind_numbering(platform):
    workload = WORKLOADS["deit-t"]()
    old, new = Old(workload, max_cache=120), New(workload, max_cache=120)
    batch, assign = random_keys(8, 400, np.random.default_rng(5), range(1, 5))
    _, first = np.unique(np.column_stack([batch, assign]), axis=0, return_index=True)
    batch, assign = batch[np.sort(first)], assign[np.sort(first)]  # distinct keys
    for rows in np.split(np.arange(280), [50, 110, 150, 250]):  # each call: new keys only
        batch_rows, assign_rows = batch[rows], assign[rows]  # (else the old code raises)
        for a, b in zip(old.summaries(batch_rows, assign_rows), new.summaries(batch_rows, assign_rows)):
            assert_same_summary(a, b)
        assert_same_kind_tables(old, new)
        assert len(old._cache) == len(new._cache)


def test_cache_overflow_with_cached_keys_in_the_call(platform):
    # the old code raised KeyError here: the cache was cleared under this call's hits
    workload = WORKLOADS["deit-t-1block"]()
    new = New(workload, max_cache=100)
    batch, assign = space_keys(workload, platform, 200, np.random.default_rng(3), range(1, 9))
    new.summaries(batch[:80], assign[:80])
    got = new.summaries(batch[40:], assign[40:])  # 40 hits, then an overflow
    for a, b in zip(New(workload).summaries(batch[40:], assign[40:]), got):
        assert a.steps == b.steps and np.array_equal(a.counts, b.counts)
    assert_kind_rows_match(new, got)
    assert_kind_rows_match(new, new.summaries(batch[40:], assign[40:]))


def test_non_topological_graph_falls_back_to_the_step_loop():
    # b feeds a inside one block: layer order is not a topological order
    nodes = (MatmulNode("a", 8, 8, 8), MatmulNode("b", 8, 8, 8), MatmulNode("c", 8, 8, 8))
    deps = (Dependency("b", "a"), Dependency("a", "c", Role.RHS), Dependency("c", "b", next_block=True))
    workload = Workload("loop", nodes, deps, blocks=3)
    assert not New(workload)._topological
    rng = np.random.default_rng(2)
    batch, assign = random_keys(3, 200, rng, range(1, 7))
    old, new = compare(workload, batch, assign)
    for k in range(10):
        assert_same_jobs(old, new, int(batch[k]), assign[k])


@pytest.mark.parametrize("name", ["deit-t-1block", "gemm-chain-20"])
@pytest.mark.parametrize("chunk_jobs", [8, 1 << 20])  # one key per chunk, or all together
def test_batch_zero_keys_mixed_with_others(monkeypatch, name, chunk_jobs):
    workload = WORKLOADS[name]()
    batch, assign = random_keys(workload.n_nodes, 12, np.random.default_rng(4), range(1, 4))
    batch[::2] = 0  # no images: 0 steps, no kinds, no buffers
    monkeypatch.setattr(schedule_fast, "_CHUNK_JOBS", chunk_jobs)
    for a, b in zip(Old(workload).summaries(batch, assign), New(workload).summaries(batch, assign)):
        assert_same_summary(a, b)


def test_empty_and_duplicate_calls():
    workload = WORKLOADS["deit-t-1block"]()
    new = New(workload)
    assert new.summaries(np.zeros(0, dtype=np.int64), np.zeros((0, 8), dtype=np.int64)) == []
    batch, assign = np.array([3, 3, 2, 3]), np.array([[0, 1, 0, 1, 2, 2, 0, 1]] * 4)
    got = new.summaries(batch, assign)
    assert got[0] is got[1] is got[3] and got[2] is not got[0]
    for a, b in zip(Old(workload).summaries(batch, assign), got):
        assert_same_summary(a, b)


# -- the expectations of tests/objectives/test_schedule.py, on the new module --------------
SEQUENTIAL = (0, 0, 0, 0, 0, 0, 0, 0)
HYBRID = (0, 0, 0, 1, 1, 2, 2, 2)  # {q,k,v} {attn_qk,attn_av} {proj,fc1,fc2}
SPATIAL = (0, 1, 2, 3, 4, 5, 6, 7)
Q, K, V, QK, AV, PROJ, FC1, FC2 = range(8)


@pytest.fixture(scope="module")
def deit12():
    return New(WORKLOADS["deit-t"]())


@pytest.fixture(scope="module")
def deit1():
    return New(WORKLOADS["deit-t-1block"]())


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [(SEQUENTIAL, (96, 288, 576)), (HYBRID, (84, 153, 246)), (SPATIAL, (72, 74, 77))],
    ids=["sequential", "hybrid", "spatial"],
)
def test_deit_t_block_only_step_counts_match_model_md(deit12, assignment, expected):
    assert tuple(deit12.summary(b, np.array(assignment)).steps for b in (1, 3, 6)) == expected


def test_step_counts_hold_when_computed_together_with_other_keys(deit12):
    batch = np.repeat([1, 3, 6], 3)
    steps = [s.steps for s in New(deit12.workload).summaries(batch, np.array([SEQUENTIAL, HYBRID, SPATIAL] * 3))]
    assert steps == [96, 84, 72, 288, 153, 74, 576, 246, 77]


def test_step_kind_counts_add_up_to_the_steps(deit12):
    for assignment in (SEQUENTIAL, HYBRID, SPATIAL):
        summary = deit12.summary(6, np.array(assignment))
        assert summary.counts.sum() == summary.steps
        assert ((summary.variants > 0) * summary.counts[:, None]).sum(axis=0).tolist() == [72] * 8


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_relabelling_accelerators_never_changes_the_schedule(deit1, batch):
    rng = np.random.default_rng(7)
    for assignment in [np.array(HYBRID)] + [rng.integers(0, 3, size=8) for _ in range(4)]:
        assignment = np.unique(assignment, return_inverse=True)[1].ravel()
        n_acc = int(assignment.max()) + 1
        reference, ref_summary = deit1.jobs(batch, assignment), deit1.summary(batch, assignment)
        ref = {(i, j, b): s for i, j, b, s in zip(reference.image, reference.node, reference.block, reference.step)}
        for perm in itertools.permutations(range(n_acc)):
            relabelled = np.array(perm)[assignment]
            jobs = deit1.jobs(batch, relabelled)
            assert {(i, j, b): s for i, j, b, s in zip(jobs.image, jobs.node, jobs.block, jobs.step)} == ref
            summary = deit1.summary(batch, relabelled)
            assert summary.steps == ref_summary.steps
            assert summary.lhs_buffers[list(perm)].tolist() == ref_summary.lhs_buffers.tolist()
            assert summary.rhs_buffers[list(perm)].tolist() == ref_summary.rhs_buffers.tolist()


HAND_SCHEDULE = {
    (0, Q): 0, (0, K): 1, (0, V): 2, (0, QK): 2, (1, Q): 3, (0, AV): 3, (0, PROJ): 4,
    (0, FC1): 5, (0, FC2): 6, (1, K): 7, (1, V): 8, (1, QK): 8, (1, AV): 9,
    (1, PROJ): 10, (1, FC1): 11, (1, FC2): 12,
}  # fmt: skip
TWO_ACC = np.array([0, 0, 0, 1, 1, 0, 0, 0])


def test_hand_worked_schedule_and_buffers(deit1):
    jobs = deit1.jobs(2, TWO_ACC)
    assert {(int(i), int(j)): int(s) for i, j, s in zip(jobs.image, jobs.node, jobs.step)} == HAND_SCHEDULE
    assert (np.diff(jobs.step) >= 0).all()
    summary = deit1.summary(2, TWO_ACC)
    assert (summary.steps, summary.lhs_buffers.tolist(), summary.rhs_buffers.tolist()) == (13, [4, 3], [0, 2])
    sequential = deit1.summary(1, np.zeros(8, dtype=int))
    assert (sequential.steps, sequential.lhs_buffers.tolist(), sequential.rhs_buffers.tolist()) == (8, [3], [2])
    split = deit1.summary(1, np.array([0, 1, 2, 3, 3, 3, 3, 3]))
    assert (split.steps, split.lhs_buffers.tolist(), split.rhs_buffers.tolist()) == (6, [1, 1, 1, 3], [0, 0, 0, 2])


def test_spatial_batch_6_buffers_and_cache_identity(deit12):
    summary = deit12.summary(6, np.array(SPATIAL))
    assert summary.lhs_buffers.tolist() == [3] * 8
    assert summary.rhs_buffers[[Q, K, V, PROJ, FC1, FC2]].tolist() == [0] * 6
    assert summary.rhs_buffers[[QK, AV]].tolist() == [3, 4]
    assert deit12.summary(6, np.array(SPATIAL)) is summary
