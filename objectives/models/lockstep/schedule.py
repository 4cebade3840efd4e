"""The SSR lock-step schedule and the on-chip buffer simulation along it.

Every (image, layer) job takes one *step*.  At each step every accelerator, in index
order, takes the first job of its pool (image-major, then layer order) whose
predecessors all ran in earlier steps; after the step all accelerators wait for the
slowest (lock-step).  The schedule depends only on the workload graph, the
node-to-accelerator assignment and the batch size -- not on accelerator shapes -- so it
is computed once per distinct ``(batch, assignment)`` key, vectorised over keys, and
cached.  [SSR estimator, ``inter_schedule``; spec section 3.1]

How it is computed: an accelerator runs, at each step, the ready job of its pool with
the lowest priority ``image * n_layers + layer``, so a job runs at the first step at or
after its ready time (one after its latest predecessor) that no higher-priority job of
its accelerator took -- lower-priority jobs never delay it.  When every predecessor of a
job is an earlier layer of its image (zoo, Hugging Face and GEMM-chain workloads),
visiting the jobs in priority order therefore places each one for good: per key a
compiled loop over ``(image, layer)`` with one table of taken steps per accelerator.
The search starts after the same layer of the previous image, which runs earlier (by
induction over layers: its ready time is no later and it takes its step first).  Other
graphs fall back to the step-by-step simulation.

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

from dataclasses import dataclass

import numpy as np
from numba import njit

from ssropt.objectives.workloads.graph import Section, Workload

#: variant code bits (after the +1 offset)
LAST, FIRST, FINAL = 1, 2, 4
N_VARIANTS = 9
_BIG = np.iinfo(np.int64).max // 4
#: jobs (images x layers x keys) simulated at once: bounds memory (about 10 bytes a job)
_CHUNK_JOBS = 1 << 23
#: jobs summarised at once: keeps the working arrays small (cache-friendly)
_PIECE_JOBS = 1 << 15


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
        self.edges = workload.unrolled_edges()
        self.layer_node = np.empty(self.n_layers, dtype=np.int64)
        self.layer_block = np.empty(self.n_layers, dtype=np.int64)
        for j in range(self.n_nodes):
            for b in range(int(self.copies[j])):
                self.layer_node[self.offset[j] + b * self.stride[j]] = j
                self.layer_block[self.offset[j] + b * self.stride[j]] = b
        self.qkv = np.flatnonzero(workload.shape_arrays()["attention_input"])
        self._cache: dict[bytes, ScheduleSummary] = {}
        self._max_cache = max_cache
        self._new_kinds: list[ScheduleSummary] = []
        self._kind_rows = 0
        self._kind_index = np.zeros((0, self.n_nodes), dtype=np.int32)
        self._kind_count = np.zeros(0)
        self._prepare_layers()

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

    def _prepare_layers(self) -> None:
        """Per-layer tables: predecessors, static variant bits, LHS producer, RHS edges."""
        n_layers = self.n_layers
        # each layer's predecessor layers in its image (all earlier ones: _topological)
        self._preds, self._topological = [], True
        for layer in range(n_layers):
            j, b = int(self.layer_node[layer]), int(self.layer_block[layer])
            preds = {layer - int(self.stride[j])} if b else set()  # copies run in order
            for p, node, alpha, beta in self.requirements:
                need = alpha * b + beta  # finished copies of p, i.e. copy need - 1 done
                if node == j and need >= 1:
                    preds.add(int(self.offset[p] + (need - 1) * self.stride[p]))
                    self._topological &= need <= self.copies[p]
            self._topological &= all(q < layer for q in preds)
            self._preds.append(tuple(sorted(preds)))
        self._pred_ptr = np.cumsum([0] + [len(p) for p in self._preds]).astype(np.int64)
        self._pred_idx = np.array([q for p in self._preds for q in p], dtype=np.int64)
        last = self.layer_block == self.copies[self.layer_node] - 1
        self._variant0 = 1 + LAST * last + FIRST * (np.arange(n_layers) == 0)
        self._lhs_src = np.arange(n_layers)  # LHS read from DDR: the consumer's own step
        for s, d, role in self.edges:
            if role == 0:
                self._lhs_src[d] = s  # (the last LHS edge wins, as it always has)
        if self.qkv.size == 3:
            copies = int(self.copies[self.qkv[0]])
            self._qkv_layers = self.offset[self.qkv][:, None] + np.arange(copies) * self.stride[self.qkv][:, None]
        self._rhs = self.edges[self.edges[:, 2] != 0, :2]
        # the nodes RHS edges feed, and which of them each RHS edge feeds
        self._rhs_nodes, self._rhs_user = np.unique(self.layer_node[self._rhs[:, 1]], return_inverse=True)

    # -- public API ----------------------------------------------------------------------
    def summary(self, batch: int, assignment: np.ndarray) -> ScheduleSummary:
        """The schedule summary of one design."""
        return self.summaries(np.array([batch]), np.asarray(assignment)[None, :])[0]

    def summaries(self, batch: np.ndarray, assignment: np.ndarray) -> list[ScheduleSummary]:
        """Summaries for ``(n,)`` batches and ``(n, n_nodes)`` assignments (one per row)."""
        batch, assignment = np.asarray(batch), np.asarray(assignment)
        keys, cache = self._keys(batch, assignment), self._cache
        try:
            return [cache[key] for key in keys]  # warm path
        except KeyError:
            pass
        missing: dict[bytes, int] = {}  # the first row of each key to compute
        for idx, key in enumerate(keys):
            if key not in cache:
                missing.setdefault(key, idx)
        if len(cache) + len(missing) > self._max_cache:
            cache.clear()  # this call's cached keys go too (the old code then raised KeyError)
            self._new_kinds, self._kind_rows = [], 0
            self._kind_index = self._kind_index[:0]
            self._kind_count = self._kind_count[:0]
            missing = {}
            for idx, key in enumerate(keys):
                missing.setdefault(key, idx)
        rows = np.fromiter(missing.values(), dtype=np.int64)
        computed = self._compute(batch[rows].astype(np.int64), assignment[rows].astype(np.int64), self._kind_rows)
        self._kind_rows = computed[-1].first_kind + computed[-1].counts.size
        self._new_kinds.extend(computed)
        cache.update(zip(missing.keys(), computed))
        return [cache[key] for key in keys]

    def kind_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cached step kind: ``(rows, J)`` int32 ``node * N_VARIANTS + variant``
        (a flat offset into a ``(J, N_VARIANTS)`` cost table) and ``(rows,)`` counts."""
        if self._new_kinds:
            offsets = (np.arange(self.n_nodes) * N_VARIANTS).astype(np.int32)
            new_index = np.concatenate([sm.variants for sm in self._new_kinds]).astype(np.int32) + offsets
            self._kind_index = np.concatenate([self._kind_index, new_index])
            self._kind_count = np.concatenate([self._kind_count] + [sm.counts for sm in self._new_kinds])
            self._new_kinds = []
        return self._kind_index, self._kind_count

    def jobs(self, batch: int, assignment: np.ndarray) -> Jobs:
        """Every job of one design's schedule (for charts and tests), in step order."""
        simulate = self._list_schedule if self._topological else self._lockstep
        step = simulate(np.array([batch], dtype=np.int64), np.asarray(assignment, dtype=np.int64)[None, :])
        image, layer, key = np.nonzero(step >= 0)
        node, when = self.layer_node[layer], step[image, layer, key]
        order = np.lexsort((node, key, when))
        return Jobs(key[order], image[order], node[order], self.layer_block[layer][order], when[order])

    @staticmethod
    def _keys(batch: np.ndarray, assignment: np.ndarray) -> list[bytes]:
        """The cache key of every row: its int16 assignment bytes, then its batch in 4."""
        n, width = assignment.shape[0], 2 * assignment.shape[1] + 4
        buf = np.empty((n, width), dtype=np.uint8)
        buf[:, :-4] = np.ascontiguousarray(assignment, dtype=np.int16).view(np.uint8).reshape(n, width - 4)
        buf[:, -4:] = batch.astype("<u4").reshape(n, 1).view(np.uint8)
        return buf.view(np.dtype((np.void, width))).ravel().tolist()

    # -- simulation ----------------------------------------------------------------------
    def _list_schedule(self, batch: np.ndarray, assign: np.ndarray) -> np.ndarray:
        """Step of every job, ``(images, n_layers, K)`` (``-1`` past a key's batch), of K
        keys sorted by decreasing batch, placing jobs in priority order (module doc)."""
        n_layers, images = self.n_layers, int(batch[0])
        end = np.zeros((images * n_layers, batch.size), dtype=np.int64)  # step + 1 of each job
        _place_jobs(np.ascontiguousarray(batch, dtype=np.int64), np.ascontiguousarray(assign, dtype=np.int64),
                    self.layer_node.astype(np.int64), self._pred_ptr, self._pred_idx, end)
        end -= 1
        return end.reshape(images, n_layers, batch.size)

    def _lockstep(self, batch: np.ndarray, assign: np.ndarray) -> np.ndarray:
        """:meth:`_list_schedule` step by step, for any graph (the original simulation)."""
        n_keys, n_nodes = assign.shape
        images, copies = int(batch.max()), self.copies
        count = np.zeros((n_keys, images, n_nodes), dtype=np.int64)
        count[np.arange(images)[None, :] >= batch[:, None]] = copies  # padding images: done
        same_acc = assign[:, :, None] == assign[:, None, :]
        image_priority = (np.arange(images) * self.n_layers)[None, :, None]
        step_of = np.full((images, self.n_layers, n_keys), -1, dtype=np.int64)
        active, step = np.arange(n_keys), 0
        while active.size:
            done = count[active]
            ready = done < copies
            for pred, node, alpha, beta in self.requirements:
                ready[:, :, node] &= done[:, :, pred] >= alpha * done[:, :, node] + beta
            priority = np.where(ready, image_priority + self.offset + done * self.stride, _BIG)
            best_image = priority.argmin(axis=1)
            best = np.take_along_axis(priority, best_image[:, None, :], axis=1)[:, 0, :]
            loses = (same_acc[active] & (best[:, None, :] < best[:, :, None])).any(axis=2)
            kk, jj = np.nonzero(~loses & (best < _BIG))
            ii, keys = best_image[kk, jj], active[kk]
            step_of[ii, self.offset[jj] + done[kk, ii, jj] * self.stride[jj], keys] = step
            count[keys, ii, jj] += 1
            active = active[~(count[active] >= copies).all(axis=(1, 2))]
            step += 1
        return step_of

    # -- summaries -------------------------------------------------------------------------
    def _compute(self, batch: np.ndarray, assign: np.ndarray, first_kind: int = -1) -> list[ScheduleSummary]:
        """Summaries of K keys, simulated in chunks of keys of similar batch (bounded
        memory); with ``first_kind >= 0`` their step kinds are numbered from there on."""
        order = np.argsort(-batch, kind="stable")
        simulate = self._list_schedule if self._topological else self._lockstep
        parts: list[tuple] = [()] * batch.size
        start = 0
        while start < batch.size:
            keys = order[start : start + max(1, _CHUNK_JOBS // (max(1, batch[order[start]]) * self.n_layers))]
            for k, part in zip(keys, self._summarise(simulate(batch[keys], assign[keys]), assign[keys])):
                parts[k] = part
            start += keys.size
        result = []
        for steps, lhs, rhs, variants, counts in parts:
            result.append(ScheduleSummary(steps, lhs, rhs, variants, counts, first_kind))
            first_kind += counts.size if first_kind >= 0 else 0
        return result

    def _summarise(self, step: np.ndarray, assign: np.ndarray) -> list[tuple]:
        """``(steps, lhs_buffers, rhs_buffers, variants, counts)`` of K keys from their
        ``(images, n_layers, K)`` job steps, keys sorted by decreasing batch."""
        batch = (step[:, 0, :] >= 0).sum(axis=0)
        steps = step.max(axis=(0, 1), initial=-1) + 1
        jobs = np.concatenate([[0], np.cumsum(batch)]) * self.n_layers
        cuts = np.unique(np.append(0, np.searchsorted(jobs, np.arange(0, jobs[-1], _PIECE_JOBS), side="right") - 1))
        out: list[tuple] = []
        for lo, hi in zip(cuts, np.append(cuts[1:], steps.size)):
            # a piece of keys, copied key-major so that the scatters into per-key cells
            # below walk memory in order, in groups of one batch: keys [a, b) have batch c
            piece, n = np.ascontiguousarray(step[: batch[lo], :, lo:hi].transpose(2, 0, 1)), steps[lo:hi]
            edges = np.flatnonzero(np.diff(batch[lo:hi])) + 1
            groups = [(a, b, int(batch[lo + a])) for a, b in zip(np.append(0, edges), np.append(edges, hi - lo))]
            variants, counts, bounds = self._kinds(piece, groups, n)
            lhs, rhs, acc = self._buffer_peaks(piece, groups, n, assign[lo:hi])
            out += [
                (int(n[k]), lhs[acc[k] : acc[k + 1]], rhs[acc[k] : acc[k + 1]],
                 variants[bounds[k] : bounds[k + 1]], counts[bounds[k] : bounds[k + 1]])
                for k in range(hi - lo)
            ]  # fmt: skip
        return out

    def _kinds(self, by_key, groups, steps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct step rows of every key (``variants``, sorted like the bytes of the
        rows), their counts and each key's range of them."""
        n_nodes, n_layers, n_keys = self.n_nodes, self.n_layers, steps.size
        row0 = np.concatenate([[0], np.cumsum(steps)[:-1]])  # first step row of each key
        last = (row0 + steps - 1)[steps > 0]  # last step row of each key
        power = N_VARIANTS ** np.arange(n_nodes - 1, -1, -1, dtype=np.int64)  # node 0 first
        whole = N_VARIANTS**n_nodes
        packed = whole < 2**52 and n_keys * whole < 2**62
        # every job's step row and, packed, its digit of the row's base-9 code (float64
        # sums stay exact), else its layer; FINAL bits of the last rows are added after
        fill = (self._variant0 * power[self.layer_node]).astype(float) if packed else np.arange(n_layers)
        cells = np.empty(n_layers * sum((hi - lo) * b for lo, hi, b in groups), dtype=np.int64)
        value = np.empty(cells.size, dtype=fill.dtype)
        offset = 0
        for lo, hi, b in groups:
            span = slice(offset, offset + (hi - lo) * b * n_layers)
            np.add(by_key[lo:hi, :b], row0[lo:hi, None, None], out=cells[span].reshape(hi - lo, b, n_layers))
            value[span].reshape(-1, n_layers)[...] = fill
            offset = span.stop
        row_key = np.repeat(np.arange(n_keys), steps)
        if packed:
            code = np.bincount(cells, weights=value, minlength=row_key.size).astype(np.int64)
            busy = np.zeros(last.size, dtype=np.int64)
            for p in power:  # nodes that run in the last step get the FINAL bit
                busy += p * (code[last] // p % N_VARIANTS != 0)
            code[last] += FINAL * busy
            uniq, counts = np.unique(row_key * whole + code, return_counts=True)
            uniq_key, code = np.divmod(uniq, whole)
            table = np.empty((uniq.size, n_nodes), dtype=np.uint8)
            for j in range(n_nodes - 1, -1, -1):  # last node = least significant digit
                code, table[:, j] = np.divmod(code, N_VARIANTS)
        else:  # too many nodes for one integer: sort the rows' bytes
            table = np.zeros((row_key.size, n_nodes), dtype=np.uint8)
            table[cells, self.layer_node[value]] = self._variant0[value]
            table[last] += FINAL * (table[last] != 0).astype(np.uint8)
            rows = np.concatenate([row_key.astype(">i4").view(np.uint8).reshape(-1, 4), table], axis=1)
            rows = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.shape[1]))).ravel()
            _, first, counts = np.unique(rows, return_index=True, return_counts=True)
            table, uniq_key = table[first], row_key[first]
        bounds = np.searchsorted(uniq_key, np.arange(n_keys + 1))
        return table, counts.astype(np.int64), bounds

    # -- buffers ---------------------------------------------------------------------------
    def _buffer_peaks(self, by_key, groups, steps, assign) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Peak live LHS and RHS input buffers of every (key, accelerator), flat, and each
        key's range of them (accelerators ``0..max(assignment)``)."""
        n_keys, n_layers = steps.size, self.n_layers
        n_acc = assign.max(axis=1) + 1
        acc_bounds = np.concatenate([[0], np.cumsum(n_acc)])
        # Cells: per key, a row of ``steps + 2`` cells per accelerator (LHS buffers), then
        # one per node fed by RHS edges (RHS buffers; the first such node on an accelerator
        # holds them all).  An interval [s, e] adds +1 at cell s and -1 at cell e + 1 <=
        # steps + 1 of its row, so a running sum over all cells is each row's live count.
        user = assign[:, self._rhs_nodes]  # (K, C): accelerator of each RHS-fed node
        same = np.where(user[:, :, None] == user[:, None, :], np.arange(user.shape[1]), user.shape[1])
        rhs_row = n_acc[:, None] + same.min(axis=2, initial=user.shape[1])
        width, n_rows = steps + 2, n_acc + user.shape[1]
        key_cell = np.concatenate([[0], np.cumsum(n_rows * width)])
        cell = key_cell[:-1, None] + assign[:, self.layer_node] * width[:, None]  # (K, L)
        rhs_cell = key_cell[:-1, None] + rhs_row[:, self._rhs_user] * width[:, None]  # (K, R)
        rhs_src, rhs_dst = self._rhs[:, 0], self._rhs[:, 1]
        shared = np.zeros(n_keys, dtype=bool)
        if self.qkv.size == 3:  # Q, K, V on one accelerator share one input buffer
            q_acc = assign[:, self.qkv]
            shared = (q_acc == q_acc[:, :1]).all(axis=1)
        rows = n_layers + rhs_src.size
        opens = np.empty(rows * sum((hi - lo) * b for lo, hi, b in groups), dtype=np.int64)
        closes, offset = np.empty_like(opens), 0
        for lo, hi, b in groups:
            st, span = by_key[lo:hi, :b], slice(offset, offset + (hi - lo) * b * rows)
            o, c = opens[span].reshape(hi - lo, b, rows), closes[span].reshape(hi - lo, b, rows)
            # LHS: [producer's step (own step from DDR), own step + 1] on its accelerator
            np.add(cell[lo:hi, None], np.take(st, self._lhs_src, axis=2), out=o[:, :, :n_layers])
            np.add(cell[lo:hi, None] + 2, st, out=c[:, :, :n_layers])
            # activation RHS: [producer's step, consumer's step + 1] on the consumer's
            np.add(rhs_cell[lo:hi, None], np.take(st, rhs_src, axis=2), out=o[:, :, n_layers:])
            np.add(rhs_cell[lo:hi, None] + 2, np.take(st, rhs_dst, axis=2), out=c[:, :, n_layers:])
            sh = np.flatnonzero(shared[lo:hi])
            if sh.size:  # one interval spanning Q, K and V (same row), on Q's layer
                qkv, o_sh, c_sh = self._qkv_layers, o[sh], c[sh]
                o_sh[:, :, qkv[0]] = o_sh[:, :, qkv].min(axis=2)
                c_sh[:, :, qkv[0]] = c_sh[:, :, qkv].max(axis=2)
                o_sh[:, :, qkv[1:]] = c_sh[:, :, qkv[1:]]  # K, V: empty (+1 and -1 in one cell)
                o[sh], c[sh] = o_sh, c_sh
            offset = span.stop
        live = np.bincount(opens, minlength=int(key_cell[-1]))
        live -= np.bincount(closes, minlength=live.size)
        np.cumsum(live, out=live)  # (integer sums: much faster than float ones)
        first_row = np.cumsum(n_rows) - n_rows  # of each key
        row = np.arange(n_rows.sum()) - np.repeat(first_row, n_rows)  # within its key
        peaks = np.maximum.reduceat(live, np.repeat(key_cell[:-1], n_rows) + row * np.repeat(width, n_rows))
        rhs = np.zeros(acc_bounds[-1], dtype=np.int64)
        rhs[acc_bounds[:-1, None] + user] = peaks[first_row[:, None] + rhs_row]
        return peaks[row < np.repeat(n_acc, n_rows)], rhs, acc_bounds


@njit(cache=True, error_model="numpy")
def _place_jobs(batch, assign, layer_node, pred_ptr, pred_idx, end):
    """Place every job of every key in priority order (image, then layer): each at the
    first step of its accelerator that is free, at or after the end of its predecessors
    and of the same layer of the previous image; ``end[image * n_layers + layer, key]``
    is its step + 1."""
    n_layers = len(pred_ptr) - 1
    n_acc = assign.max() + 1 if assign.size else 1
    horizon = end.shape[0] + 64  # a job never waits past every other job of its key
    taken = np.zeros((n_acc, horizon), dtype=np.bool_)
    for k in range(batch.size):
        taken[:] = False
        for i in range(batch[k]):
            row = i * n_layers
            for layer in range(n_layers):
                start = end[row - n_layers + layer, k] if i else 0
                for e in range(pred_ptr[layer], pred_ptr[layer + 1]):
                    start = max(start, end[row + pred_idx[e], k])
                acc = assign[k, layer_node[layer]]
                step = start
                while taken[acc, step]:
                    step += 1
                taken[acc, step] = True
                end[row + layer, k] = step + 1
