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
    node = layout.node
    a, b, c, _, h1, w1, w2 = (node(params[:, :, i]) for i in range(7))
    hard = node(hardened)
    x, y, z = ceil_div(model.m, a * h1), ceil_div(model.k, b * w1), ceil_div(model.n, c * w2)
    rd = x * y * z
    per_image = model.repeat * model.copies  # head-instances of each node per image
    rhs_live = ~hard

    macs = per_image * rd * a * b * c * h1 * w1 * w2
    block_rows, block_cols = kernel.acc_block or (kernel.pi, kernel.pj)
    core = macs * dt * (1.0 / block_rows + 1.0 / block_cols)
    dma = per_image * rd * a * b * c * (h1 * w1 + rhs_live * w1 * w2) * dt
    lhs_in = per_image * rd * a * b * ceil_div(c, node(a_bro)) * h1 * w1 * dt
    rhs_in = per_image * rd * c * b * ceil_div(a, node(c_bro)) * w1 * w2 * dt * rhs_live
    out_copy = model.repeat * x * z * a * c * h1 * w2 * dt  # one copy, every head
    plio = lhs_in + rhs_in + out_copy * model.copies

    # -- PL buffer reads, from the reading accelerator's buffers
    lhs_uram = node(buffer_in_uram[:, :, LHS])
    rhs_uram = np.where(model.activation_rhs, node(buffer_in_uram[:, :, RHS]), node(weight_uram_share))
    uram = sum_columns(lhs_in * lhs_uram + rhs_in * rhs_uram)
    bram = sum_columns(lhs_in * (1 - lhs_uram) + rhs_in * (1 - rhs_uram))

    # -- PL buffer writes: into every distinct consumer buffer, per moving copy
    writes_uram, writes_bram = _output_writes(model, layout, out_copy, buffer_in_uram)
    uram, bram = uram + writes_uram, bram + writes_bram
    image = float(p.ssr.input_bytes_per_image)
    first_uram, first_bram = _image_writes(model, layout, buffer_in_uram)
    uram, bram = uram + image * first_uram, bram + image * first_bram

    # -- re-layout moves (cal_overhead): re-streamed through a port into the consumer
    port_bytes_per_ns = p.ssr.relayout_clock_hz * 1e-9 * p.ssr.relayout_port_bits / 8
    rows = np.arange(designs.n_designs)
    relayout_bytes = np.zeros(designs.n_designs)
    for (src, dst, role, active), cost in zip(model.deps, relayout_ns):
        moved = cost * port_bytes_per_ns * moving_copies(int(model.copies[src]), active)
        in_uram = buffer_in_uram[rows, layout.assign[:, dst], LHS if role == 0 else RHS]
        relayout_bytes = relayout_bytes + moved
        uram, bram = uram + moved * in_uram, bram + moved * (1 - in_uram)

    # -- DDR: the image in, the results out
    result_bytes = model.result_bytes_per_image()

    batch = designs.batch.astype(float)
    aie = np.where(layout.used, params[:, :, 0] * params[:, :, 1] * params[:, :, 2] * params[:, :, 3], 0)
    return Activity(
        aie=sum_columns(aie),
        macs=batch * sum_columns(macs),
        local_memory_bytes=batch * sum_columns(core + dma),
        bram_bytes=batch * bram,
        uram_bytes=batch * uram,
        plio_bytes=batch * (sum_columns(plio) + relayout_bytes),
        ddr_bytes=batch * np.full(designs.n_designs, image + result_bytes),
    )


def _consumers(model: SsrModel, layout: SlotLayout, deps) -> np.ndarray:
    """``(n, A, 2)`` the consumer buffers ``deps`` write into (distinct accelerator, side)."""
    n, slots = layout.used.shape
    hit = np.zeros((n, slots, 2), dtype=bool)
    rows = np.arange(n)
    for _, dst, role, _ in deps:
        hit[rows, layout.assign[:, dst], LHS if role == 0 else RHS] = True
    return hit


def _output_writes(model: SsrModel, layout: SlotLayout, out_copy: np.ndarray, in_uram: np.ndarray):
    """``(n,)`` URAM and BRAM bytes the outputs of one image write into consumer buffers."""
    n = layout.used.shape[0]
    uram, bram = np.zeros(n), np.zeros(n)
    for j in range(model.workload.n_nodes):
        deps = [d for d in model.deps if d[0] == j]
        copies = int(model.copies[j])
        # copies 0..last-1 move along the deps active then, the last copy along its own
        for n_copies, last in ((copies - 1, 0), (1, 1)):
            active = [d for d in deps if d[3][last]]
            if n_copies == 0 or not active:
                continue
            hit = _consumers(model, layout, active)
            bytes_ = n_copies * out_copy[:, j]
            uram = uram + bytes_ * (hit & in_uram).sum(axis=(1, 2))
            bram = bram + bytes_ * (hit & ~in_uram).sum(axis=(1, 2))
    return uram, bram


def _image_writes(model: SsrModel, layout: SlotLayout, in_uram: np.ndarray):
    """``(n,)`` LHS buffers the input image is written into, in URAM and in BRAM: those of
    the nodes fed by no node of the same image's earlier layers (the first nodes)."""
    workload = model.workload
    fed = {dst for src, dst, _, active in model.deps
           if not (workload.nodes[src].section == Section.BLOCK
                   and workload.nodes[dst].section == Section.BLOCK and not active[1])}
    first = [j for j in range(workload.n_nodes) if j not in fed]
    hit = _consumers(model, layout, [(None, j, 0, None) for j in first])
    return (hit & in_uram).sum(axis=(1, 2)).astype(float), (hit & ~in_uram).sum(axis=(1, 2)).astype(float)
