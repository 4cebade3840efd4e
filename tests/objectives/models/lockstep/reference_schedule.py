"""The reference lock-step schedule: the step-by-step simulation the fast scheduler
(``ssropt.objectives.models.lockstep.schedule``) must reproduce exactly.

The SSR lock-step schedule and the on-chip buffer simulation along it.

Every (image, layer) job takes one *step*.  At each step every accelerator, in index
order, takes the first job of its pool (image-major, then layer order) whose
predecessors all ran in earlier steps; after the step all accelerators wait for the
slowest (lock-step).  The schedule depends only on the workload graph, the
node-to-accelerator assignment and the batch size -- not on accelerator shapes -- so it
is computed once per distinct ``(batch, assignment)`` key, vectorised over keys, and
cached.  [SSR estimator, ``inter_schedule``; spec section 3.1]

A schedule is summarised for costing by its *step kinds*: the variant of the job each
node runs in a step (``0`` idle, else ``1 + last + 2*first + 4*final``: ``last`` = last
copy of the node so next-block edges are absent, ``first`` = layer 0 of the image which
pays the DDR input, ``final`` = the schedule's last step, which emits no moves).  A
step's time is the largest job cost among its nodes, so the latency of any design with
this key is ``sum(count * max_j cost[j, variant[j]])`` over the step kinds.

Buffer simulation [spec section 4, with the quirks fixed]: a producer writes straight
into its consumer's input buffer, allocated on the consumer's accelerator at the
producer's step and released after the consumer's step; Q, K and V on one accelerator
share one input buffer, released after its last reader.  Pools reuse freed buffers, so
the number of distinct LHS buffers an accelerator needs is the peak of live intervals.

Example:
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> import numpy as np
    >>> w = build_model("deit-t", tokens=192, embed_and_head=False)
    >>> s = LockStepScheduler(w)
    >>> [s.summary(b, np.zeros(8, dtype=int)).steps for b in (1, 3, 6)]
    [96, 288, 576]
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ssropt.objectives.workloads.graph import Section, Workload

#: variant code bits (after the +1 offset)
LAST, FIRST, FINAL = 1, 2, 4
N_VARIANTS = 9
_BIG = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class ScheduleSummary:
    """What costing needs from the schedule of one ``(batch, assignment)`` key.

    Attributes:
        steps: number of lock-step steps.
        lhs_buffers: ``(n_accelerators,)`` peak live LHS input buffers per accelerator.
        rhs_buffers: ``(n_accelerators,)`` peak live activation RHS buffers.
        variants: ``(n_kinds, n_nodes)`` job variant of every node in each step kind.
        counts: ``(n_kinds,)`` how many steps are of each kind.
    """

    steps: int
    lhs_buffers: np.ndarray
    rhs_buffers: np.ndarray
    variants: np.ndarray
    counts: np.ndarray
    first_kind: int = -1  # row of its first step kind in the scheduler's kind table


@dataclass(frozen=True)
class Jobs:
    """Every job of one or more schedules, one entry per job (arrays of equal length)."""

    key: np.ndarray
    image: np.ndarray
    node: np.ndarray
    block: np.ndarray
    step: np.ndarray


class LockStepScheduler:
    """Computes and caches lock-step schedules for one workload graph."""

    def __init__(self, workload: Workload, max_cache: int = 200_000) -> None:
        self.workload = workload
        self.copies = workload.copies_array
        self.offset = workload.layer_offset
        self.stride = workload.layer_stride
        self.n_nodes = workload.n_nodes
        self.n_layers = workload.n_layers
        self.requirements = self._requirements(workload)
        edges = workload.unrolled_edges()
        self.edges = edges
        self.layer_node = np.empty(self.n_layers, dtype=np.int64)
        for j in range(self.n_nodes):
            for b in range(int(self.copies[j])):
                self.layer_node[self.offset[j] + b * self.stride[j]] = j
        self.qkv = np.flatnonzero(workload.shape_arrays()["attention_input"])
        self._cache: dict[bytes, ScheduleSummary] = {}
        self._max_cache = max_cache
        self._new_kinds: list[ScheduleSummary] = []
        self._kind_rows = 0
        self._kind_index = np.zeros((0, self.n_nodes), dtype=np.int32)
        self._kind_count = np.zeros(0)

    # -- graph ---------------------------------------------------------------------------
    @staticmethod
    def _requirements(workload: Workload) -> list[tuple[int, int, int, int]]:
        """Each dependency as ``(pred, node, alpha, beta)``: copy ``b`` of ``node`` needs
        ``alpha * b + beta`` finished copies of ``pred``."""
        reqs = []
        for dep in workload.dependencies:
            p, j = workload.index(dep.src), workload.index(dep.dst)
            sp, sj = workload.nodes[p].section, workload.nodes[j].section
            if sp == Section.BLOCK and sj == Section.BLOCK:
                reqs.append((p, j, 1, 0 if dep.next_block else 1))
            elif sp == Section.BLOCK:
                reqs.append((p, j, 0, workload.blocks))
            else:
                reqs.append((p, j, 0, 1))
        return reqs

    # -- public API ----------------------------------------------------------------------
    def summary(self, batch: int, assignment: np.ndarray) -> ScheduleSummary:
        """The schedule summary of one design."""
        keys = self.summaries(np.array([batch]), np.asarray(assignment)[None, :])
        return keys[0]

    def summaries(self, batch: np.ndarray, assignment: np.ndarray) -> list[ScheduleSummary]:
        """Summaries for ``(n,)`` batches and ``(n, n_nodes)`` assignments (one per row)."""
        keys = [self._key(b, row) for b, row in zip(batch, assignment)]
        missing = {}
        for idx, key in enumerate(keys):
            if key not in self._cache and key not in missing:
                missing[key] = idx
        if missing:
            rows = np.fromiter(missing.values(), dtype=np.int64)
            computed = self._compute(batch[rows].astype(np.int64), assignment[rows].astype(np.int64))
            if len(self._cache) + len(computed) > self._max_cache:
                self._cache.clear()
                self._new_kinds, self._kind_rows = [], 0
                self._kind_index = self._kind_index[:0]
                self._kind_count = self._kind_count[:0]
            registered = []
            for summary in computed:
                registered.append(replace(summary, first_kind=self._kind_rows))
                self._kind_rows += summary.counts.size
            self._new_kinds.extend(registered)
            self._cache.update(zip(missing.keys(), registered))
        return [self._cache[key] for key in keys]

    def kind_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cached step kind: ``(rows, J)`` int32 ``node * N_VARIANTS + variant``
        (a flat offset into a ``(J, N_VARIANTS)`` cost table) and ``(rows,)`` counts."""
        if self._new_kinds:
            offsets = (np.arange(self.n_nodes) * N_VARIANTS).astype(np.int32)
            self._kind_index = np.concatenate(
                [self._kind_index] + [sm.variants.astype(np.int32) + offsets for sm in self._new_kinds]
            )
            self._kind_count = np.concatenate([self._kind_count] + [sm.counts for sm in self._new_kinds])
            self._new_kinds = []
        return self._kind_index, self._kind_count

    def jobs(self, batch: int, assignment: np.ndarray) -> Jobs:
        """Every job of one design's schedule (for charts and tests)."""
        return self._simulate(np.array([batch]), np.asarray(assignment, dtype=np.int64)[None, :])

    @staticmethod
    def _key(batch, row) -> bytes:
        return np.asarray(row, dtype=np.int16).tobytes() + int(batch).to_bytes(4, "little")

    # -- simulation ----------------------------------------------------------------------
    def _simulate(self, batch: np.ndarray, assign: np.ndarray) -> Jobs:
        """Run the lock-step list schedule for K keys at once."""
        n_keys, n_nodes = assign.shape
        images = int(batch.max())
        copies = self.copies
        count = np.zeros((n_keys, images, n_nodes), dtype=np.int64)
        count[np.arange(images)[None, :] >= batch[:, None]] = copies  # padding images: done
        same_acc = assign[:, :, None] == assign[:, None, :]
        image_priority = (np.arange(images) * self.n_layers)[None, :, None]
        active = np.arange(n_keys)
        out: list[tuple[np.ndarray, ...]] = []
        step = 0
        while active.size:
            done_so_far = count[active]
            ready = done_so_far < copies
            for pred, node, alpha, beta in self.requirements:
                ready[:, :, node] &= done_so_far[:, :, pred] >= alpha * done_so_far[:, :, node] + beta
            layer = self.offset + done_so_far * self.stride
            priority = np.where(ready, image_priority + layer, _BIG)
            best_image = priority.argmin(axis=1)
            best = np.take_along_axis(priority, best_image[:, None, :], axis=1)[:, 0, :]
            # a node wins its accelerator when no node sharing it has a better job
            loses = (same_acc[active] & (best[:, None, :] < best[:, :, None])).any(axis=2)
            winner = ~loses & (best < _BIG)
            kk, jj = np.nonzero(winner)
            ii = best_image[kk, jj]
            keys = active[kk]
            out.append((keys, ii, jj, done_so_far[kk, ii, jj], np.full(kk.size, step)))
            count[keys, ii, jj] += 1
            finished = (count[active] >= copies).all(axis=(1, 2))
            active = active[~finished]
            step += 1
        cols = [np.concatenate(c) for c in zip(*out)] if out else [np.zeros(0, np.int64)] * 5
        return Jobs(*cols)

    def _compute(self, batch: np.ndarray, assign: np.ndarray) -> list[ScheduleSummary]:
        jobs = self._simulate(batch, assign)
        n_keys, n_nodes = assign.shape
        steps = np.zeros(n_keys, dtype=np.int64)
        np.maximum.at(steps, jobs.key, jobs.step + 1)

        # step kinds
        layer = self.offset[jobs.node] + jobs.block * self.stride[jobs.node]
        variant = (
            1
            + LAST * (jobs.block == self.copies[jobs.node] - 1)
            + FIRST * (layer == 0)
            + FINAL * (jobs.step == steps[jobs.key] - 1)
        ).astype(np.uint8)
        base = np.concatenate([[0], np.cumsum(steps)[:-1]])
        table = np.zeros((int(steps.sum()), n_nodes), dtype=np.uint8)
        table[base[jobs.key] + jobs.step, jobs.node] = variant
        row_key = np.repeat(np.arange(n_keys), steps)
        packed = np.concatenate(
            [row_key.astype(">i4").view(np.uint8).reshape(-1, 4), table], axis=1
        )
        packed = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
        uniq, first, counts = np.unique(packed, return_index=True, return_counts=True)
        uniq_key = row_key[first]

        lhs, rhs = self._buffer_peaks(jobs, batch, assign, steps)
        result = []
        bounds = np.searchsorted(uniq_key, np.arange(n_keys + 1))
        for k in range(n_keys):
            lo, hi = bounds[k], bounds[k + 1]
            n_acc = int(assign[k].max()) + 1
            result.append(
                ScheduleSummary(
                    steps=int(steps[k]),
                    lhs_buffers=lhs[k, :n_acc].copy(),
                    rhs_buffers=rhs[k, :n_acc].copy(),
                    variants=table[first[lo:hi]].copy(),
                    counts=counts[lo:hi].astype(np.int64),
                )
            )
        return result

    # -- buffers ---------------------------------------------------------------------------
    def _buffer_peaks(self, jobs: Jobs, batch, assign, steps) -> tuple[np.ndarray, np.ndarray]:
        """Peak live LHS and RHS input buffers per accelerator, ``(K, n_acc_max)`` each."""
        n_keys = assign.shape[0]
        images = int(batch.max())
        step_of = np.full((n_keys, images, self.n_layers), -1, dtype=np.int64)
        layer = self.offset[jobs.node] + jobs.block * self.stride[jobs.node]
        step_of[jobs.key, jobs.image, layer] = jobs.step
        valid = np.arange(images)[None, :] < batch[:, None]  # (K, images)

        src, dst, role = self.edges[:, 0], self.edges[:, 1], self.edges[:, 2]
        lhs_edges = role == 0
        # consumer layers' LHS interval [start, end]: from the producer's step (or the
        # consumer's own step when it reads from DDR) to one step after the consumer.
        lhs_start = step_of.copy()
        for s, d in zip(src[lhs_edges], dst[lhs_edges]):
            lhs_start[:, :, d] = step_of[:, :, s]
        lhs_end = step_of + 1
        lhs_on = np.broadcast_to(valid[:, :, None], step_of.shape).copy()

        if self.qkv.size == 3:  # Q, K, V on one accelerator share one input buffer
            q_acc = assign[:, self.qkv]
            shared = (q_acc == q_acc[:, :1]).all(axis=1)
            copies = int(self.copies[self.qkv[0]])
            layers = self.offset[self.qkv][:, None] + np.arange(copies) * self.stride[self.qkv][:, None]
            start = lhs_start[:, :, layers].min(axis=2)  # (K, images, copies)
            end = lhs_end[:, :, layers].max(axis=2)
            sel = shared[:, None, None]
            first, others = layers[0], layers[1:].ravel()
            lhs_start[:, :, first] = np.where(sel, start, lhs_start[:, :, first])
            lhs_end[:, :, first] = np.where(sel, end, lhs_end[:, :, first])
            lhs_on[:, :, others] &= ~shared[:, None, None]

        acc_of_layer = assign[:, self.layer_node]  # (K, n_layers)
        n_acc = int(assign.max()) + 1
        width = int(steps.max()) + 3
        lhs = self._peak(lhs_start, lhs_end, lhs_on, acc_of_layer, n_acc, width)

        rhs_edges = ~lhs_edges
        if rhs_edges.any():
            r_src, r_dst = src[rhs_edges], dst[rhs_edges]
            start = step_of[:, :, r_src]
            end = step_of[:, :, r_dst] + 1
            on = np.broadcast_to(valid[:, :, None], start.shape)
            rhs = self._peak(start, end, on, acc_of_layer[:, r_dst], n_acc, width)
        else:
            rhs = np.zeros((n_keys, n_acc), dtype=np.int64)
        return lhs, rhs

    @staticmethod
    def _peak(start, end, on, acc, n_acc, width) -> np.ndarray:
        """Peak count of live intervals ``[start, end]`` per (key, accelerator)."""
        n_keys = start.shape[0]
        acc_full = np.broadcast_to(acc[:, None, :], start.shape)
        key = np.broadcast_to(np.arange(n_keys)[:, None, None], start.shape)
        k, a, s, e = key[on], acc_full[on], start[on], end[on]
        size = n_keys * n_acc * width
        cell = (k * n_acc + a) * width
        delta = np.bincount(cell + s, minlength=size) - np.bincount(cell + e + 1, minlength=size)
        delta = delta.reshape(n_keys, n_acc, width)
        return np.cumsum(delta, axis=2).max(axis=2)
