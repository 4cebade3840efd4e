"""What the SSR configurator's search needs of one node set, for every node set met.

The search of an accelerator depends on its node set through: whether it holds
activation-RHS (attention) products and only those, the self-dependency roles among its
nodes, its largest ``M``, ``K`` (and ``K``, ``N`` of its activation RHS) -- the buffer
depths --, its weight words and resident weight bytes (hardening), the partition
alignment of every node's tile counts, the time lower bound of every alpha and the
least buffer depth over tiles (RAM lower bounds).  Each is assembled from small per-node
tables when a node set is first met (about a millisecond) and kept in arrays stacked
over node sets, so a search gathers by node-set id.
"""

from __future__ import annotations

import numpy as np

from ssropt.objectives.models.lockstep.buffers import ceil_div

#: time lower bounds are sums in another order than the exact times: a margin keeps them
#: below, whatever the rounding
LB_MARGIN = 1.0 - 1e-9
#: a time no design reaches (ns): the lower bound of a node an alpha cannot run at all
UNREACHABLE = 1e250


def _alignment_bits(count: np.ndarray, sub: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Bit ``f`` set where partition factor ``f`` aligns: ``count % f == 0`` or ``sub % f
    == 0`` (``ext_part_check``); bit 0 always set."""
    out = np.ones(count.shape, dtype=np.int64)
    for f in factors.tolist():
        out |= (((count % f) == 0) | ((sub % f) == 0)).astype(np.int64) << f
    return out


class NodeTables:
    """Per-node pieces the node-set tables are assembled from."""

    def __init__(self, cand, partition_max: int) -> None:
        self.cand = cand
        v = cand.values
        A, B, C, H1, W1, W2 = (v[k] for k in ("a", "b", "c", "h1", "w1", "w2"))
        factors = np.arange(1, partition_max + 1)
        self.align_a, self.align_bl, self.align_br, self.align_c = [], [], [], []
        #: (n_nodes, n_abc) weight words and (n_nodes, nb*nw1*nc*nw2) resident weight bytes
        #: of every node, zero for activation-RHS nodes
        self.resident_shape = (len(B), len(W1), len(C), len(W2))
        self.words = np.zeros((cand.n_nodes, cand.n_abc), dtype=np.int64)
        self.resident = np.zeros((cand.n_nodes, int(np.prod(self.resident_shape))), dtype=np.int64)
        for j in range(cand.n_nodes):
            nx = ceil_div(int(cand.m[j]), A[:, None] * H1[None, :])
            ny = ceil_div(int(cand.k[j]), B[:, None] * W1[None, :])
            nz = ceil_div(int(cand.n[j]), C[:, None] * W2[None, :])
            self.align_a.append(_alignment_bits(nx, H1[None, :] // 8, factors))
            self.align_bl.append(_alignment_bits(ny, W1[None, :] // 2, factors))
            self.align_br.append(_alignment_bits(ny, W1[None, :] // 8, factors))
            self.align_c.append(_alignment_bits(nz, W2[None, :] // 2, factors))
            if not cand.act[j]:  # resident weight bytes over (b, w1, c, w2)
                kb = ceil_div(int(cand.k[j]), B[:, None] * W1[None, :]) * W1[None, :]
                nc = ceil_div(int(cand.n[j]), C[:, None] * W2[None, :]) * W2[None, :]
                self.resident[j] = (kb[:, :, None, None] * nc[None, None, :, :] * (cand.dt * int(cand.copies[j]))).ravel()
                self.words[j] = cand.node_words(j)
        self._lb: np.ndarray | None = None

    def lb_table(self) -> np.ndarray:
        """``(n_nodes, n_alpha)`` every node's fastest tile on every alpha (its share of the
        time lower bound); a node no tile of an alpha can run gets ``UNREACHABLE``, a finite
        stand-in for infinity, so sums over sets stay finite."""
        if self._lb is None:
            cand = self.cand
            self._lb = np.stack([np.minimum(cand.node_tmin(j)[cand.al_abc], UNREACHABLE)
                                 * ceil_div(int(cand.repeat[j]), cand.al_d) for j in range(cand.n_nodes)])
        return self._lb


class NodeSetTable:
    """Every node set met so far: its tables stacked along the first axis (its id)."""

    def __init__(self, cand, partition_max: int, lhs_depth: int, rhs_depth: int) -> None:
        self.cand = cand
        self.nodes = NodeTables(cand, partition_max)
        self.lhs_depth, self.rhs_depth = lhs_depth, rhs_depth
        self.ids: dict[int, int] = {}
        self.count = 0
        self.capacity = 0
        self.arrays: dict[str, np.ndarray] = {}
        v = cand.values
        na, nb, nc, nh, nw1, nw2 = (len(v[k]) for k in ("a", "b", "c", "h1", "w1", "w2"))
        self.shapes = {
            "lb": ((cand.n_alpha,), float), "act": ((), bool), "act_all": ((), bool), "wo": ((), bool),
            "member": ((cand.n_nodes,), bool), "roles": ((3,), bool),
            "X": ((na, nh), np.int64), "Y": ((nb, nw1), np.int64),
            "Ymha": ((nb, nw1), np.int64), "Zmha": ((nc, nw2), np.int64),
            "words": ((cand.n_abc,), np.int64), "resident": ((nb, nw1, nc, nw2), np.int64),
            "hardenable": ((nb, nc), bool),
            "aA": ((na, nh), np.int64), "aBL": ((nb, nw1), np.int64),
            "aBR": ((nb, nw1), np.int64), "aC": ((nc, nw2), np.int64),
            "lmin": ((na, nb), np.int64), "rmin": ((nb, nc), np.int64),
        }

    def index(self, masks: np.ndarray) -> np.ndarray:
        """Node-set ids of node bit masks (tables of new sets built on the way, all at once)."""
        uniq, inverse = np.unique(masks, return_inverse=True)
        ids = np.fromiter((self.ids.get(m, -1) for m in uniq.tolist()), dtype=np.int64, count=len(uniq))
        new = np.flatnonzero(ids < 0)
        if new.size:
            ids[new] = self._add(uniq[new])
        return ids[inverse].reshape(masks.shape)

    def _grow(self, needed: int) -> None:
        cap = max(64, 2 * self.capacity, needed)
        for name, (shape, dtype) in self.shapes.items():
            grown = np.zeros((cap,) + shape, dtype=dtype)
            if self.capacity:
                grown[: self.capacity] = self.arrays[name]
            self.arrays[name] = grown
        self.capacity = cap

    def _add(self, masks: np.ndarray) -> np.ndarray:
        """Build the tables of new node sets (bit masks); their ids."""
        n_new = len(masks)
        if self.count + n_new > self.capacity:
            self._grow(self.count + n_new)
        sid = np.arange(self.count, self.count + n_new)
        self.count += n_new
        self.ids.update(zip(masks.tolist(), sid.tolist()))
        cand, nt, t = self.cand, self.nodes, self.arrays
        member = (masks[:, None] >> np.arange(cand.n_nodes)) & 1 == 1  # (m, J)
        v = cand.values
        A, B, C, H1, W1, W2 = (v[k] for k in ("a", "b", "c", "h1", "w1", "w2"))
        act = member & cand.act
        weight = member & ~cand.act
        has_act = act.any(axis=1)
        t["member"][sid] = member
        t["act"][sid], t["act_all"][sid], t["wo"][sid] = has_act, ~weight.any(axis=1), ~has_act
        for src, dst, role in cand.deps.tolist():
            t["roles"][sid, role] |= member[:, src] & member[:, dst]
        # buffer depths from the largest layer; least depth per lane over tiles (RAM bounds),
        # computed once per distinct pair of largest dimensions
        def largest(dims, which):
            return np.where(which, dims, 0).max(axis=1)

        def least_depth(rows, cols, dims_r, dims_c, words, lanes_depth):
            """(m, nr, nc) least ``ceil(rows * cols * words / lanes_depth)`` over tiles, with
            ``rows = ceil(largest_r / (dims_r x tile_r))`` and likewise ``cols``."""
            pairs, index = np.unique(np.stack([rows, cols], axis=1), axis=0, return_inverse=True)
            R = ceil_div(pairs[:, 0, None, None], dims_r[0][:, None] * dims_r[1][None, :])
            Cc = ceil_div(pairs[:, 1, None, None], dims_c[0][:, None] * dims_c[1][None, :])
            depth = R[:, :, None, :, None] * Cc[:, None, :, None, :] * words
            return ceil_div(depth, lanes_depth).min(axis=(3, 4))[index.ravel()]

        mmax, kmax = largest(cand.m, member), largest(cand.k, member)
        t["X"][sid] = ceil_div(mmax[:, None, None], A[:, None] * H1[None, :])
        t["Y"][sid] = ceil_div(kmax[:, None, None], B[:, None] * W1[None, :])
        left = ceil_div(H1[:, None] * W1[None, :], cand.npp)
        t["lmin"][sid] = least_depth(mmax, kmax, (A, H1), (B, W1), left, self.lhs_depth)
        # activation RHS (zero where the set has none)
        kact, nact = largest(cand.k, act), largest(cand.n, act)
        t["Ymha"][sid] = ceil_div(kact[:, None, None], B[:, None] * W1[None, :])
        t["Zmha"][sid] = ceil_div(nact[:, None, None], C[:, None] * W2[None, :])
        right = ceil_div(W1[:, None] * W2[None, :], cand.npp)
        t["rmin"][sid] = least_depth(kact, nact, (B, W1), (C, W2), right, self.rhs_depth)
        t["words"][sid] = weight.astype(np.int64) @ nt.words
        # only accelerators of weights alone may harden them
        alone = np.flatnonzero(~has_act)
        if alone.size:
            resident = (weight[alone].astype(np.int64) @ nt.resident).reshape((alone.size,) + nt.resident_shape)
            t["resident"][sid[alone]] = resident
            lhs2 = 2 * H1.min() * W1 * cand.dt
            t["hardenable"][sid[alone]] = (resident + lhs2[:, None, None]).min(axis=(2, 4)) <= cand.local_memory
        for key, tables in (("aA", nt.align_a), ("aBL", nt.align_bl), ("aBR", nt.align_br), ("aC", nt.align_c)):
            bits = np.full((n_new,) + tables[0].shape, -1, dtype=np.int64)
            for j in range(cand.n_nodes):
                bits[member[:, j]] &= tables[j]
            t[key][sid] = bits
        t["lb"][sid] = (member.astype(float) @ nt.lb_table()) * LB_MARGIN
        return sid
