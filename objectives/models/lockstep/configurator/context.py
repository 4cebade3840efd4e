"""What one accelerator's search depends on besides its own nodes: the queries.

An accelerator's bank partition factors follow the lcm rules against every producer of
its nodes (``ssropt.objectives.models.lockstep.buffers``): its LHS banks must split rows
into a multiple of each producer's ``A`` and columns into a multiple of its effective
``C' = C * dup_p / dup``; an RHS swaps the roles, a transposed RHS swaps them back.  The
configurator knows the producers configured so far; it also knows the consumers it
feeds that are configured already, whose partitions (and so RAM) grow with its choice.
:class:`Queries` holds all of that for many searches at once, as arrays:

* per query: the node set, the share, the ``dup`` cap and a ``c`` rule, the LHS buffers;
* producers, aggregated: per role the lcm of the producers' ``A`` (``prod_a``), per role
  and per allowed ``dup`` the lcm of ``max(C * dup_p // d, 1)`` (``prod_c``), and whether
  every producer's ``C * dup_p`` divides by ``d`` (``prod_div``);
* consumers, one slot per accelerator: the roles of the edges into it, its lcm needs from
  its other known producers, its array and its buffers (what the search needs to price
  the consumer's extra RAM).

:func:`dependency_view` and :func:`needs` compute these from configured parameters,
vectorised over designs and dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numba import njit


@dataclass
class Queries:
    """Q accelerator searches.

    Attributes:
        set_index: ``(Q,)`` node-set id (the configurator's node-set table).
        share: ``(Q, R)`` the budget of each resource of the split rule.
        dup_cap: ``(Q,)`` largest head replication allowed (attention-only accelerators).
        rule_kind, rule_val: ``(Q,)`` the ``c`` rule: 0 none, 1 ``c % v == 0``, 2 ``v % c
            == 0`` or ``c % v == 0``.
        lhs_buffers: ``(Q,)`` LHS input buffers from the buffer simulation.
        prod_a: ``(Q, 3)`` lcm of the producers' ``A`` per role (1: none).
        prod_c: ``(Q, 3, n_dups)`` lcm of ``max(C * dup_p // d, 1)`` per role and ``d``.
        prod_div: ``(Q, n_dups)`` every producer's ``C * dup_p`` divides by ``d``.
        cons_valid: ``(Q, U)`` slot ``u`` is a configured consumer.
        cons_roles: ``(Q, U)`` bit ``r`` set: an edge of role ``r`` into it.
        cons_needs: ``(Q, U, 4)`` its lcm needs (aL, bL, bR, cR) from its other producers.
        cons_arr: ``(Q, U, 4)`` its ``a, b, c, dup`` (``b`` as its banks count it).
        cons_buf: ``(Q, U, 4)`` model-specific words and buffer counts of its banks.
        cons_old: ``(Q, U, 2)`` its BRAM and URAM with its needs as they are.
        hint: ``(Q, n_params)`` a configuration to try first (its ``a`` 0: none); never
            changes the answer, only how soon the search can bound it.
    """

    set_index: np.ndarray
    share: np.ndarray
    dup_cap: np.ndarray
    rule_kind: np.ndarray
    rule_val: np.ndarray
    lhs_buffers: np.ndarray
    prod_a: np.ndarray
    prod_c: np.ndarray
    prod_div: np.ndarray
    cons_valid: np.ndarray
    cons_roles: np.ndarray
    cons_needs: np.ndarray
    cons_arr: np.ndarray
    cons_buf: np.ndarray
    cons_old: np.ndarray
    hint: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.set_index)

    def take(self, index: np.ndarray) -> Queries:
        """The queries at ``index``."""
        return Queries(**{
            f.name: None if getattr(self, f.name) is None else getattr(self, f.name)[index]
            for f in fields(self)
        })

    @staticmethod
    def concatenate(parts: list[Queries]) -> Queries:
        """The queries of ``parts``, one after another (hints only if every part has them)."""
        def joined(name):
            values = [getattr(p, name) for p in parts]
            return None if any(v is None for v in values) else np.concatenate(values)
        return Queries(**{f.name: joined(f.name) for f in fields(Queries)})

    def keys(self) -> tuple[list[bytes], np.ndarray, np.ndarray]:
        """The distinct queries: one byte string each holding everything its answer
        depends on (the hint excluded; of the consumers only the configured ones, each with
        its slot, so a key does not depend on how many slots a call has), the first query
        of each, and each query's distinct query -- so identical searches are made once."""
        n = self.n
        head = [self.set_index[:, None], self.share, self.dup_cap[:, None], self.rule_kind[:, None],
                self.rule_val[:, None], self.lhs_buffers[:, None], self.prod_a,
                self.prod_c.reshape(n, -1), self.prod_div.reshape(n, -1)]
        head = np.ascontiguousarray(np.concatenate([p.astype(np.int64) for p in head], axis=1))
        rows, length = _key_rows(head, self.cons_valid, self.cons_roles.astype(np.int64),
                                 self.cons_needs.astype(np.int64), self.cons_arr.astype(np.int64),
                                 self.cons_buf.astype(np.int64))
        _, first, inverse = np.unique(_row_hashes(rows), return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        if not (rows == rows[first[inverse]]).all():  # two distinct rows share a hash
            _, first, inverse = np.unique(_as_bytes(rows), return_index=True, return_inverse=True)
            inverse = inverse.ravel()
        return [rows[i, :w].tobytes() for i, w in zip(first.tolist(), length[first].tolist())], first, inverse


#: key columns per configured consumer: its slot + 1, roles, needs (4), array (4), buffers (4)
_CONSUMER_COLUMNS = 14


@njit(cache=True, error_model="numpy")
def _key_rows(head, valid, roles, needs, arrays, buffers):
    """Every query's key as int64 columns: ``head``, then per configured consumer its slot
    + 1 and its fields, zero-padded to the widest; and each row's unpadded width."""
    n, width = valid.shape[0], head.shape[1]
    most = 0
    for i in range(n):
        most = max(most, valid[i].sum())
    rows = np.zeros((n, width + most * _CONSUMER_COLUMNS), dtype=np.int64)
    length = np.empty(n, dtype=np.int64)
    for i in range(n):
        for j in range(width):
            rows[i, j] = head[i, j]
        j = width
        for y in range(valid.shape[1]):
            if valid[i, y]:
                rows[i, j], rows[i, j + 1] = y + 1, roles[i, y]
                for f in range(4):
                    rows[i, j + 2 + f] = needs[i, y, f]
                    rows[i, j + 6 + f] = arrays[i, y, f]
                    rows[i, j + 10 + f] = buffers[i, y, f]
                j += _CONSUMER_COLUMNS
        length[i] = j
    return rows, length


def _as_bytes(rows: np.ndarray) -> np.ndarray:
    rows = np.ascontiguousarray(rows)
    return rows.view(np.dtype((np.void, rows.shape[1] * 8))).ravel()


@njit(cache=True, error_model="numpy")
def _row_hashes(rows):
    """A 64-bit FNV-1a hash of every row of an int64 matrix (equal rows, equal hashes)."""
    out = np.empty(rows.shape[0], dtype=np.uint64)
    prime = np.uint64(1099511628211)
    for i in range(rows.shape[0]):
        h = np.uint64(14695981039346656037)
        for j in range(rows.shape[1]):
            h = (h ^ np.uint64(rows[i, j])) * prime
        out[i] = h
    return out


@dataclass(frozen=True)
class DependencyView:
    """Every dependency of n designs seen from its accelerators, ``(n, D)`` each.

    Attributes:
        src, dst: producer and consumer accelerator of each dependency.
        role: ``(D,)`` 0 LHS, 1 RHS, 2 transposed RHS.
        pa: the producer's ``A``; pcd: the producer's ``C * dup``.
        dst_dup: the consumer's ``dup``.
        arrays: ``(n, A, 4)`` every accelerator's ``a, b, c, dup`` as its banks count them.
    """

    src: np.ndarray
    dst: np.ndarray
    role: np.ndarray
    pa: np.ndarray
    pcd: np.ndarray
    dst_dup: np.ndarray
    arrays: np.ndarray


def dependency_view(assign: np.ndarray, arrays: np.ndarray, deps: np.ndarray) -> DependencyView:
    """The view of ``(n, J)`` canonical assignments whose accelerators have ``(n, A, 4)``
    partition arrays ``a, b, c, dup``; ``deps`` is ``(D, 3)`` src node, dst node, role."""
    src_node, dst_node, role = deps.T
    src, dst = assign[:, src_node], assign[:, dst_node]
    rows = np.arange(len(assign))[:, None]
    sp = arrays[rows, src]
    fields = (src, dst, role, sp[:, :, 0], sp[:, :, 2] * sp[:, :, 3], arrays[rows, dst, 3])
    # contiguous int64 throughout: the compiled functions below see one signature
    return DependencyView(*(np.ascontiguousarray(f, dtype=np.int64) for f in fields), arrays)


def producers(view: DependencyView, k: int, configured: np.ndarray, dups: np.ndarray):
    """``prod_a``, ``prod_c``, ``prod_div`` of accelerator ``k`` from the producers
    configured before ``configured`` (``(n, 1)``)."""
    n = len(view.src)
    prod_a = np.ones((n, 3), dtype=np.int64)
    prod_c = np.ones((n, 3, len(dups)), dtype=np.int64)
    prod_div = np.ones((n, len(dups)), dtype=bool)
    _producers(view.src, view.dst, view.role, view.pa, view.pcd, int(k), _per_design(configured, n),
               np.asarray(dups, dtype=np.int64), prod_a, prod_c, prod_div)
    return prod_a, prod_c, prod_div


def consumers(view: DependencyView, k: int, configured: np.ndarray, width: int):
    """``(n, U)`` which accelerators configured before ``configured`` accelerator ``k``
    feeds, and the roles of the edges (bit ``r``)."""
    n = len(view.src)
    valid = np.zeros((n, width), dtype=bool)
    roles = np.zeros((n, width), dtype=np.int64)
    _consumers(view.src, view.dst, view.role, int(k), _per_design(configured, n), valid, roles)
    return valid, roles


def needs(view: DependencyView, exclude: int, configured: np.ndarray, width: int) -> np.ndarray:
    """``(n, U, 4)`` lcm needs (aL, bL, bR, cR) of every accelerator ``y`` from its own
    array and its producers other than ``exclude`` that are configured (before
    ``configured``, ``(n,)``) or are ``y`` itself."""
    arrays = view.arrays[:, :width]
    out = np.ascontiguousarray(np.stack([arrays[:, :, 0], arrays[:, :, 1], arrays[:, :, 1], arrays[:, :, 2]],
                                        axis=2), dtype=np.int64)
    _needs(view.src, view.dst, view.role, view.pa, view.pcd, view.dst_dup, int(exclude),
           _per_design(configured, len(view.src)), out)
    return out


@njit(cache=True, error_model="numpy")
def _same_producers(src, dst, role, pa, pcd, k):
    """Per design: every producer of ``k`` after it has the ``(role, A, C*dup)`` of one
    before it, and ``k`` feeds no accelerator after it."""
    n, deps = src.shape
    same = np.ones(n, dtype=np.bool_)
    for i in range(n):
        for e in range(deps):
            if src[i, e] == k and dst[i, e] > k:
                same[i] = False
                break
            if dst[i, e] != k or src[i, e] <= k:
                continue
            matched = False  # a later producer: an earlier one alike?
            for f in range(deps):
                if (dst[i, f] == k and src[i, f] < k and role[f] == role[e] and pa[i, f] == pa[i, e]
                        and pcd[i, f] == pcd[i, e]):
                    matched = True
                    break
            if not matched:
                same[i] = False
                break
    return same


def _per_design(configured, n: int) -> np.ndarray:
    return np.array(np.broadcast_to(np.reshape(configured, (-1,)), (n,)), dtype=np.int64)  # writable


@njit(cache=True, error_model="numpy")
def _lcm(x, y):
    if x == 0 or y == 0:
        return 0
    a, b = abs(x), abs(y)
    while b:
        a, b = b, a % b
    return abs(x // a * y)


@njit(cache=True, error_model="numpy")
def _producers(src, dst, role, pa, pcd, k, conf, dups, prod_a, prod_c, prod_div):
    for i in range(src.shape[0]):
        for e in range(src.shape[1]):
            s = src[i, e]
            if dst[i, e] != k or s == k or s >= conf[i]:
                continue
            r = role[e]
            prod_a[i, r] = _lcm(prod_a[i, r], pa[i, e])
            for di in range(len(dups)):
                prod_c[i, r, di] = _lcm(prod_c[i, r, di], max(pcd[i, e] // dups[di], 1))
                if pcd[i, e] % dups[di] != 0:
                    prod_div[i, di] = False


@njit(cache=True, error_model="numpy")
def _consumers(src, dst, role, k, conf, valid, roles):
    for i in range(src.shape[0]):
        for e in range(src.shape[1]):
            y = dst[i, e]
            if src[i, e] == k and y != k and y < conf[i] and y < valid.shape[1]:
                valid[i, y] = True
                roles[i, y] |= 1 << role[e]


@njit(cache=True, error_model="numpy")
def _needs(src, dst, role, pa, pcd, dst_dup, exclude, conf, out):
    for i in range(src.shape[0]):
        for e in range(src.shape[1]):
            s, y = src[i, e], dst[i, e]
            if s == exclude or not (s < conf[i] or s == y) or y >= out.shape[1]:
                continue
            pc_eff = max(pcd[i, e] // max(dst_dup[i, e], 1), 1)
            r = role[e]
            if r == 0:
                out[i, y, 0] = _lcm(out[i, y, 0], pa[i, e])
                out[i, y, 1] = _lcm(out[i, y, 1], pc_eff)
            elif r == 1:
                out[i, y, 2] = _lcm(out[i, y, 2], pa[i, e])
                out[i, y, 3] = _lcm(out[i, y, 3], pc_eff)
            else:
                out[i, y, 2] = _lcm(out[i, y, 2], pc_eff)
                out[i, y, 3] = _lcm(out[i, y, 3], pa[i, e])


def same_context(view: DependencyView, k: int, n_acc: np.ndarray, width: int) -> np.ndarray:
    """``(n,)`` whether accelerator ``k``'s producers and consumers are the same when every
    accelerator is known as when only those before it are (SSR's reconciliation test):
    every later producer's ``(role, A, C*dup)`` is also an earlier one's, no consumer
    comes after ``k``, and the consumers before it see the same needs either way."""
    src, dst = view.src, view.dst
    same = _same_producers(src, dst, view.role, view.pa, view.pcd, int(k))
    fed = (src == k) & (dst < k)
    if (same & fed.any(axis=1)).any():
        full = needs(view, k, n_acc, width)
        part = needs(view, k, np.full(len(src), k), width)
        differs = (full != part).any(axis=2)
        fed_y = ((dst[:, :, None] == np.arange(width)) & fed[:, :, None]).any(axis=1)
        same &= ~(fed_y & differs).any(axis=1)
    return same
