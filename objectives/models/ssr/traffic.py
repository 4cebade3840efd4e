"""The work of one batch of ``ssr`` designs, for the power model (:mod:`ssropt.objectives.energy`).

Every (image, layer) job of the lock-step schedule runs exactly once per batch, so the
work is a sum over nodes x copies x heads x images; the schedule only fixes the time it
is spread over.  Per node (one copy, one head), with ``X, Y, Z = ceil(M / (a h1)),
ceil(K / (b w1)), ceil(N / (c w2))`` tile iterations ``rd = X Y Z``, the broadcast factors
``A_BRO, C_BRO`` of the array and ``h = 1`` when the accelerator's weights are hardened in
AIE memory (SSR estimator spec 6.2-6.5):

* MACs executed, padding included: ``rd * a b c * h1 w1 w2``.
* AIE data memory: the core's operand loads ``MACs * DT * (1/Mb + 1/Nb)`` -- the kernel
  keeps an ``Mb x Nb`` output block in accumulator registers over the ``w1`` loop
  (``acc_block`` of the data type's kernel) -- plus the DMA's window writes
  ``rd * a b c * (h1 w1 + (1 - h) w1 w2) * DT``; outputs leave on the cascade/stream.
* PLIO: in ``rd * (a b ceil(c / A_BRO) h1 w1 + (1 - h) c b ceil(a / C_BRO) w1 w2) * DT``
  (the ports ``plio_in`` counts, each carrying its operand once), out ``X Z * a c * h1 w2
  * DT`` (one output per (x, z) tile: K is accumulated in the AIEs).
* PL buffers, reads: the PLIO-in bytes, from the LHS buffer, the activation-RHS buffer
  or the weight buffer of the node's accelerator; writes: each output once per distinct
  consumer (accelerator, LHS or RHS buffer) -- SSR's producer writes straight into its
  consumers' input buffers, a shared Q/K/V buffer once -- plus the input image into the
  first nodes' LHS buffers and the re-layout moves (``cal_overhead``'s bytes).  BRAM or
  URAM by where the model placed each buffer (weights: the full-depth URAM part).
* DDR: the input image read once per image and the last layer's output written once.

Multiplied by the ``R`` heads, the node's copies over blocks and the batch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssropt.objectives.energy import Activity, sum_columns
from ssropt.objectives.models.lockstep.buffers import ceil_div
from ssropt.objectives.workloads.graph import Section

if TYPE_CHECKING:
    from ssropt.objectives.design import DesignBatch
    from ssropt.objectives.models.lockstep.model import SlotLayout
    from ssropt.objectives.models.ssr.model import SsrModel

LHS, RHS = 0, 1  # buffer sides of an accelerator


def moving_copies(copies: int, active: tuple[bool, bool]) -> int:
    """Copies of a producer node whose output moves along one dependency: all but the
    last when ``active[0]``, plus the last when ``active[1]`` (``LockStep.deps``)."""
    return (copies - 1) * int(active[0]) + int(active[1])


def ssr_activity(
    model: SsrModel,
    designs: DesignBatch,
    layout: SlotLayout,
    params: np.ndarray,
    *,
    hardened: np.ndarray,
    buffer_in_uram: np.ndarray,
    weight_uram_share: np.ndarray,
    a_bro: np.ndarray,
    c_bro: np.ndarray,
    relayout_ns: list[np.ndarray],
) -> Activity:
    """The work of one batch of each design (see the module docstring).

    Args:
        model: the ``ssr`` model the designs belong to.
        designs: N designs; ``layout`` where their nodes sit.
        params: ``(n, A, 7)`` ``a, b, c, dup, h1, w1, w2`` (unused slots 1).
        hardened: ``(n, A)`` weights held in AIE memory.
        buffer_in_uram: ``(n, A, 2)`` the LHS / activation-RHS buffer is in URAM.
        weight_uram_share: ``(n, A)`` fraction of the weight words held in URAM.
        a_bro, c_bro: ``(n, A)`` broadcast factors.
        relayout_ns: re-layout time of every dependency's move, ``(n,)`` each.
    """
    p = model.platform
    kernel, dt = model.data_type.ssr, model.data_type.bytes
    n, slots = layout.used.shape
    rows = np.arange(n)[:, None]
    assign = layout.assign
    on_node = params[rows, assign]  # (n, J, 7)
    a, b, c, h1, w1, w2 = (on_node[:, :, i] for i in (0, 1, 2, 4, 5, 6))
    rhs_live = ~hardened[rows, assign]
    x, y, z = ceil_div(model.m, a * h1), ceil_div(model.k, b * w1), ceil_div(model.n, c * w2)
    rd = x * y * z
    per_image = model.repeat * model.copies  # head-instances of each node per image

    # integer arrays are summed with .sum (exact, so independent of the other designs);
    # fractional ones column by column (sum_columns)
    macs = (per_image * rd * a * b * c * h1 * w1 * w2).sum(axis=1)
    block_rows, block_cols = kernel.acc_block or (kernel.pi, kernel.pj)
    core = macs * dt * (1.0 / block_rows + 1.0 / block_cols)
    dma = (per_image * rd * a * b * c * (h1 * w1 + rhs_live * w1 * w2) * dt).sum(axis=1)
    lhs_in = per_image * rd * a * b * ceil_div(c, a_bro[rows, assign]) * h1 * w1 * dt
    rhs_in = per_image * rd * c * b * ceil_div(a, c_bro[rows, assign]) * w1 * w2 * dt * rhs_live
    out_copy = model.repeat * x * z * a * c * h1 * w2 * dt  # one copy, every head
    plio = (lhs_in + rhs_in + out_copy * model.copies).sum(axis=1)

    # -- PL buffer reads, from the reading accelerator's buffers
    lhs_uram = buffer_in_uram[rows, assign, LHS]
    rhs_uram = np.where(model.activation_rhs, buffer_in_uram[rows, assign, RHS], weight_uram_share[rows, assign])
    lhs_uram_bytes = (lhs_in * lhs_uram).sum(axis=1)
    lhs_bram_bytes = (lhs_in * ~lhs_uram).sum(axis=1)
    uram = lhs_uram_bytes + sum_columns(rhs_in * rhs_uram)
    bram = lhs_bram_bytes + sum_columns(rhs_in * (1 - rhs_uram))

    # -- PL buffer writes: each producer copy's output (and the image) into every distinct
    # consumer buffer (accelerator, side) of its group of dependencies
    groups = _write_groups(model)
    image = int(p.ssr.input_bytes_per_image)
    hit = np.zeros((n, groups.size, 2 * slots), dtype=bool)
    hit[rows, groups.pair_group[None, :], 2 * assign[:, groups.pair_dst] + groups.pair_side[None, :]] = True
    in_uram = buffer_in_uram.reshape(n, 2 * slots)[:, None, :]
    n_uram = (hit & in_uram).sum(axis=2)
    n_bram = (hit & ~in_uram).sum(axis=2)
    written = np.where(groups.src >= 0, out_copy[:, np.maximum(groups.src, 0)] * groups.copies, image)
    uram, bram = uram + (written * n_uram).sum(axis=1), bram + (written * n_bram).sum(axis=1)

    # -- re-layout moves (cal_overhead): re-streamed through a port into the consumer
    port_bytes_per_ns = p.ssr.relayout_clock_hz * 1e-9 * p.ssr.relayout_port_bits / 8
    moved = np.stack(relayout_ns, axis=1) * port_bytes_per_ns * groups.dep_moves if relayout_ns else np.zeros((n, 0))
    in_uram = buffer_in_uram[rows, assign[:, groups.dep_dst], groups.dep_side[None, :]]
    relayout_bytes = sum_columns(moved)
    uram, bram = uram + sum_columns(moved * in_uram), bram + sum_columns(moved * ~in_uram)

    batch = designs.batch.astype(float)
    aie = np.where(layout.used, params[:, :, 0] * params[:, :, 1] * params[:, :, 2] * params[:, :, 3], 0)
    return Activity(
        aie=aie.sum(axis=1),
        macs=batch * macs,
        local_memory_bytes=batch * (core + dma),
        bram_bytes=batch * bram,
        uram_bytes=batch * uram,
        plio_bytes=batch * (plio + relayout_bytes),
        # -- DDR: the image in, the results out
        ddr_bytes=batch * np.full(n, image + model.result_bytes_per_image()),
    )


@dataclass(frozen=True)
class _WriteGroups:
    """Which consumer buffers each output is written into (fixed by the workload graph).

    A group is one producer node's copies that move along the same dependencies (all but
    the last copy, or the last), or the input image (``src = -1``); each writes once into
    every distinct (accelerator, side) its pairs land on.

    Attributes:
        src: ``(G,)`` producer node of each group, -1 for the image.
        copies: ``(G,)`` copies of the producer per image in the group (1 for the image).
        pair_group, pair_dst, pair_side: ``(P,)`` the consumer (node, buffer side) pairs.
        dep_dst, dep_side, dep_moves: ``(D,)`` per dependency: consumer node, side and
            producer copies whose output moves along it (for the re-layout moves).
    """

    src: np.ndarray
    copies: np.ndarray
    pair_group: np.ndarray
    pair_dst: np.ndarray
    pair_side: np.ndarray
    dep_dst: np.ndarray
    dep_side: np.ndarray
    dep_moves: np.ndarray

    @property
    def size(self) -> int:
        return int(self.src.size)


def _write_groups(model: SsrModel) -> _WriteGroups:
    workload = model.workload
    sections = tuple(node.section == Section.BLOCK for node in workload.nodes)
    return _write_groups_of(tuple(model.deps), tuple(int(c) for c in model.copies), sections)


@functools.lru_cache(maxsize=64)
def _write_groups_of(deps: tuple, copies: tuple, in_block: tuple) -> _WriteGroups:
    src, group_copies, pairs = [], [], []
    for j, n_copies in enumerate(copies):
        outgoing = [d for d in deps if d[0] == j]
        # copies 0..last-1 move along the deps active then, the last copy along its own
        for moving, last in ((n_copies - 1, 0), (1, 1)):
            active = [d for d in outgoing if d[3][last]]
            if moving and active:
                pairs += [(len(src), dst, LHS if role == 0 else RHS) for _, dst, role, _ in active]
                src.append(j)
                group_copies.append(moving)
    # the image goes into the LHS buffers of the nodes no earlier layer of the image feeds
    # (an FC2 -> next block's Q/K/V edge does not feed block 0)
    fed = {dst for s, dst, _, active in deps if not (in_block[s] and in_block[dst] and not active[1])}
    first = [j for j in range(len(copies)) if j not in fed]
    pairs += [(len(src), j, LHS) for j in first]
    src.append(-1)
    group_copies.append(1)
    pair_group, pair_dst, pair_side = (np.array(v, dtype=np.int64) for v in zip(*pairs))
    return _WriteGroups(
        src=np.array(src, dtype=np.int64),
        copies=np.array(group_copies, dtype=np.int64),
        pair_group=pair_group,
        pair_dst=pair_dst,
        pair_side=pair_side,
        dep_dst=np.array([d[1] for d in deps], dtype=np.int64),
        dep_side=np.array([LHS if d[2] == 0 else RHS for d in deps], dtype=np.int64),
        dep_moves=np.array([moving_copies(copies[d[0]], d[3]) for d in deps], dtype=np.int64),
    )
