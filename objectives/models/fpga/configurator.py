"""SSR's rule for the ``fpga`` template: split the FPGA among accelerators, then pick each.

The same mechanism as the ``ssr`` model's configurator
(:mod:`ssropt.objectives.models.lockstep.configurator`): accelerators in order of first
use, each given its share of what is left of the compute blocks and of the off-chip
bandwidth by its work, and of BRAM and URAM by its buffers (SSR's split, without its
Versal-specific compensation and PLIO floors); an accelerator that fits nothing gets its
RAM widened; accelerators with later producers or consumers are reconciled.  Each
accelerator's candidates are ``(a, b, c, dup)`` of the value tables with ``stream`` 0 or
1 (the "tile" axis of the search), priced as the ``fpga`` model prices them:

* time: ``ceil(M/a) ceil(K/b) ceil(N/c) ceil(R/dup)`` cycles per job at the fabric clock,
  summed over the accelerator's nodes and blocks; with ``stream = 1`` each weight job
  takes ``max(compute, K N R DT / share)``, ``share`` the accelerator's share of the
  sustained off-chip bandwidth (the model splits it equally among the streaming
  accelerators of the finished design; the configurator prices with the share it gives);
* compute blocks ``ceil(a b c dup * blocks_per_mac / macs_per_block)`` within the share;
* BRAM/URAM of the LHS, activation-RHS and weight buffers (a streaming accelerator
  holds a double-buffered ``K x c`` panel of its widest layer) under the bank partitions
  its producers and consumers impose (lcm rules, ``b`` counted in buffer words), placed
  as the model places them: each buffer in the cheaper of BRAM and URAM, and, for an
  accelerator whose BRAM share is the whole chip's, buffers moved to URAM until BRAM
  fits (so a lone accelerator is priced exactly as the model prices it, and
  accelerators that share the chip never need the model to move anything);

and the choice is SSR's: least RAM among the feasible candidates within 8 % of the
fastest.  The ``fpga`` model has no partition bounds (only ``dup`` must divide every
producer's ``C * dup``), no PLIO and no tiles.
"""

from __future__ import annotations

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.models.base import exact_index
from ssropt.objectives.models.fpga.values import pack
from ssropt.objectives.models.lockstep.buffers import always_bram, ceil_div
from ssropt.objectives.models.lockstep.configurator import LockStepConfigurator, Selector, SplitRule
from ssropt.objectives.models.lockstep.configurator.workload import WorkloadArrays

SPLIT_RESOURCES = ("dsp", "bram", "uram", "bandwidth")
FPGA_SPLIT = SplitRule(resources=SPLIT_RESOURCES, by_work=(True, False, False, True), widened=("bram", "uram"))


def _blocks(lanes, depth, width_bits: int, block_width_bits: int, block_depth: int):
    """RAM blocks of ``lanes`` buffers of ``depth`` words (the model's ``ram_blocks``)."""
    per_lane = -(-width_bits // block_width_bits) * np.ceil(np.asarray(depth) / block_depth)
    return (np.asarray(lanes) * per_lane).astype(np.int64)


def _lcm(x, y, where=True):
    """``lcm(x, y)`` (``x`` where ``where`` is False) computed only where ``y`` does not
    divide ``x`` -- most needs divide, and a modulo is far cheaper than a gcd."""
    x, y, where = np.broadcast_arrays(np.asarray(x), np.asarray(y), np.asarray(where))
    out = x.copy()
    need = np.flatnonzero(where & (x % y != 0))
    out[need] = np.lcm(x[need], y[need])
    return out


class FpgaCandidates(WorkloadArrays):
    """The ``fpga`` candidate grid and the per-node-set tables its search reads."""

    def __init__(self, model, values: dict[str, np.ndarray]) -> None:
        workload, platform = model.workload, model.platform
        p = self.p = platform.fpga
        self.kernel = platform.dtype(model.dtype).fpga
        self.dt = platform.dtype(model.dtype).bytes
        self.words = pack(p, self.dt)
        self.values = values
        super().__init__(workload)
        self.ns_per_cycle = 1e9 / p.clock_hz
        cc, bb, aa = np.meshgrid(values["c"], values["b"], values["a"], indexing="ij")
        self.a, self.b, self.c = aa.ravel(), bb.ravel(), cc.ravel()
        self.n_abc = len(self.a)
        self.lanes_b = ceil_div(self.b, self.words)
        self.stream = np.asarray(values["stream"], dtype=np.int64)
        self.n_tiles = len(self.stream)
        dups = sorted(d for d in values["dup"].tolist() if d >= 1 and self.heads % d == 0)
        self.dups = np.array(dups if dups and dups[0] == 1 else [1] + dups, dtype=np.int64)
        self.n_dups = len(self.dups)
        abc = np.repeat(np.arange(self.n_abc), self.n_dups)
        di = np.tile(np.arange(self.n_dups), self.n_abc)
        d = self.dups[di]
        dsp = ceil_div(self.a[abc] * self.b[abc] * self.c[abc] * d * self.kernel.blocks_per_mac,
                       self.kernel.macs_per_block)
        keep = np.flatnonzero(dsp <= p.budget.dsp)
        order = keep[np.lexsort((keep, -dsp[keep]))]
        self.al_abc, self.al_di, self.al_d, self.al_size = abc[order], di[order], d[order], dsp[order]
        self.al_c = self.c[self.al_abc]
        self.n_alpha = len(order)
        self._alpha_of = np.full((self.n_abc, self.n_dups), -1, dtype=np.int64)
        self._alpha_of[self.al_abc, self.al_di] = np.arange(self.n_alpha)
        # node times, ns, per array and replication: jobs of all copies, heads included
        self._time: dict[int, np.ndarray] = {}
        self.weight_bytes = np.where(~self.act, self.k * self.n * self.repeat * self.dt, 0)  # per job
        # node sets
        self.set_ids: dict[int, int] = {}
        self.sets: list[dict] = []

    def node_time(self, j: int) -> np.ndarray:
        """``(n_alpha,)`` ns of node ``j``'s jobs (all copies) on every alpha, computing."""
        out = self._time.get(j)
        if out is None:
            abc = self.al_abc
            cycles = (ceil_div(int(self.m[j]), self.a[abc]) * ceil_div(int(self.k[j]), self.b[abc])
                      * ceil_div(int(self.n[j]), self.c[abc]) * ceil_div(int(self.repeat[j]), self.al_d))
            out = cycles * (int(self.copies[j]) * self.ns_per_cycle)
            self._time[j] = out
        return out

    def lookup(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Alpha and tile (stream) index of ``(n, 5)`` configurations (-1: not a candidate)."""

        v = self.values
        (ai, oa), (bi, ob), (ci, oc) = exact_index(v["a"], params[:, 0]), exact_index(v["b"], params[:, 1]), exact_index(v["c"], params[:, 2])
        di, od = exact_index(self.dups, params[:, 3])
        ti, ot = exact_index(self.stream, params[:, 4])
        abc = (ci * len(v["b"]) + bi) * len(v["a"]) + ai
        alpha = np.where(oa & ob & oc & od, self._alpha_of[abc, di], -1)
        return alpha, np.where(ot, ti, -1)


class FpgaNodeSets:
    """Per node set: membership, self roles, buffer depths, weight words and the time
    lower bound of every alpha, stacked over the sets met."""

    def __init__(self, cand: FpgaCandidates) -> None:
        self.cand = cand
        self.ids: dict[int, int] = {}
        self.rows: list[dict] = []
        self.arrays: dict[str, np.ndarray] = {}

    def index(self, masks: np.ndarray) -> np.ndarray:
        uniq, inverse = np.unique(masks, return_inverse=True)
        ids = np.empty(len(uniq), dtype=np.int64)
        added = False
        for i, mask in enumerate(uniq.tolist()):
            if mask not in self.ids:
                self.ids[mask] = len(self.rows)
                self.rows.append(self._tables(mask))
                added = True
            ids[i] = self.ids[mask]
        if added:
            self.arrays = {name: np.stack([r[name] for r in self.rows]) for name in self.rows[0]}
        return ids[inverse].reshape(masks.shape)

    def _tables(self, mask: int) -> dict:
        cand = self.cand
        nodes = [j for j in range(cand.n_nodes) if mask >> j & 1]
        idx = np.array(nodes)
        act = cand.act[idx]
        in_set = set(nodes)
        roles = np.zeros(3, dtype=bool)
        for src, dst, role in cand.deps.tolist():
            if src in in_set and dst in in_set:
                roles[role] = True
        weight = idx[~act]
        abc = np.arange(cand.n_abc)
        words = np.zeros(cand.n_abc, dtype=np.int64)
        for j in weight.tolist():
            words += ceil_div(int(cand.k[j]), cand.b) * ceil_div(int(cand.n[j]), cand.c) * int(cand.copies[j])
        kw = int(cand.k[weight].max()) if weight.size else 0
        member = np.zeros(cand.n_nodes, dtype=bool)
        member[idx] = True
        return {
            "act": act.any(), "act_all": act.all(), "member": member, "roles": roles,
            "x": ceil_div(int(cand.m[idx].max()), cand.a), "y": ceil_div(int(cand.k[idx].max()), cand.b),
            "ymha": ceil_div(int(cand.k[idx[act]].max()), cand.b) if act.any() else np.zeros(cand.n_abc, np.int64),
            "zmha": ceil_div(int(cand.n[idx[act]].max()), cand.c) if act.any() else np.zeros(cand.n_abc, np.int64),
            "words": words, "panel": np.where(weight.size > 0, 2 * ceil_div(kw, cand.b), 0) + 0 * abc,
            "lb": sum(cand.node_time(j) for j in nodes) * (1.0 - 1e-9),
        }


class FpgaSelector(Selector):
    """The configurator's search with the ``fpga`` model's pricing."""

    n_params = 5
    n_resources = 4  # dsp, bram, uram, bandwidth

    def __init__(self, cand: FpgaCandidates) -> None:
        super().__init__(cand)
        p = cand.p
        self.has_uram = p.budget.uram > 0
        self.width = p.lane_width_bits
        self.geometry_l = (p.bram_width_bits // p.ram_type_lhs, p.bram_depth * p.ram_type_lhs)
        self.geometry_r = (p.bram_width_bits // p.ram_type_rhs, p.bram_depth * p.ram_type_rhs)
        self.geometry_u = (p.uram_width_bits, p.uram_depth)
        # buffers the score rule never puts in URAM bound an alpha's BRAM before its
        # partitions are known (the banks only grow with partitions)
        lanes_l, lanes_r = (-(-self.width // g[0]) for g in (self.geometry_l, self.geometry_r))
        lanes_u = -(-self.width // p.uram_width_bits)
        self.bram_bound = tuple(
            not self.has_uram or always_bram(lanes, lanes_u, depth, p.uram_depth, p.uram_weight)
            for lanes, depth in ((lanes_l, self.geometry_l[1]), (lanes_r, self.geometry_r[1]))
        )

    suffix_fields = ("la", "rb", "wu")

    def class_bounds(self, st, sid, alpha):
        """Per alpha: BRAM of one LHS buffer (``la``) and of the activation RHS and the
        weights (``rb``), URAM of the weights (``wu``), all without partitions and the
        weights at their cheapest tile -- lower bounds of what any context adds."""
        cand = self.cand
        abc = cand.al_abc[alpha]
        a, lanes, c = cand.a[abc], cand.lanes_b[abc], cand.c[abc]
        one = (1, 1, 1, 1)
        zero = np.zeros(len(alpha), dtype=np.int64)
        l_b, _, r_b, _ = self.sides(a, lanes, c, one, st["x"][sid, abc] * st["y"][sid, abc],
                                    np.where(st["act"][sid], st["ymha"][sid, abc] * st["zmha"][sid, abc], 0), 1, 1)
        w_b, w_u = np.inf, np.inf
        for stream in self.cand.stream.tolist():
            tb, tu = self.weight_banks(c * lanes, st["panel"][sid, abc] if stream else st["words"][sid, abc])
            w_b, w_u = np.minimum(w_b, tb), np.minimum(w_u, tu)
        la = l_b if self.bram_bound[0] else zero
        ra = r_b if self.bram_bound[1] else zero
        return {"la": la, "rb": (ra + w_b).astype(np.int64), "wu": w_u.astype(np.int64)}

    def _bounded(self, share):
        """Searches whose buffers stay where the score rule puts them (no move to URAM)."""
        return share[..., 1] < self.cand.p.budget.bram

    def cheap(self, queries, q, gp):
        pool, share = self.pool.arrays, queries.share[q]
        ram = np.where(self._bounded(share), queries.lhs_buffers[q] * pool["la"][gp], 0) + pool["rb"][gp]
        return (ram <= share[:, 1]) & (pool["wu"][gp] <= share[:, 2])

    def hopeless(self, queries, p):
        pool, share = self.pool.arrays, queries.share
        ram = np.where(self._bounded(share), queries.lhs_buffers * pool["suf_la"][p], 0) + pool["suf_rb"][p]
        return (ram > share[:, 1]) | (pool["suf_wu"][p] > share[:, 2])

    def weight_banks(self, lanes, words):
        """(BRAM, URAM) of ``lanes`` weight buffers of ``words`` words: whole URAM blocks
        for every ``uram_depth`` words, the rest in BRAM (the model's split)."""
        p = self.cand.p
        if not self.has_uram:
            return _blocks(lanes, words, self.width, *self.geometry_r), np.zeros_like(words)
        return (_blocks(lanes, words % p.uram_depth, self.width, *self.geometry_r),
                lanes * -(-self.width // p.uram_width_bits) * (words // p.uram_depth))

    def alphas(self, st, queries, q, gp):
        cand = self.cand
        alpha = self.pool.arrays["alpha"][gp]
        u = queries.set_index[q]
        abc, d, di = cand.al_abc[alpha], cand.al_d[alpha], cand.al_di[alpha]
        a, lb_, c = cand.a[abc], cand.lanes_b[abc], cand.c[abc]
        ok = queries.prod_div[q, di]
        roles = st["roles"][u]
        n_al = _lcm(a, queries.prod_a[q, 0])
        n_bl = _lcm(_lcm(lb_, queries.prod_c[q, 0, di]), c, roles[:, 0])
        n_br = _lcm(_lcm(lb_, queries.prod_a[q, 1]), queries.prod_c[q, 2, di])
        n_br = _lcm(_lcm(n_br, a, roles[:, 1]), c, roles[:, 2])
        n_cr = _lcm(_lcm(_lcm(c, queries.prod_c[q, 1, di]), queries.prod_a[q, 2]), a, roles[:, 2])
        f = (n_al // a, n_bl // lb_, n_br // lb_, n_cr // c)
        extra_b = np.zeros(len(q), dtype=np.int64)
        extra_u = np.zeros(len(q), dtype=np.int64)
        valid = queries.cons_valid[q]
        for k in np.flatnonzero(valid.any(axis=0)).tolist():
            rows = np.flatnonzero(valid[:, k])
            qk = q[rows]
            ya, yb, yc, ydup = (queries.cons_arr[qk, k, i] for i in range(4))
            cd = c[rows] * d[rows]
            ok[rows] &= cd % ydup == 0
            c_eff = np.maximum(cd // ydup, 1)
            needs = queries.cons_needs[qk, k]
            r = queries.cons_roles[qk, k]
            r0, r1, r2 = (r & 1) != 0, (r & 2) != 0, (r & 4) != 0
            ar = a[rows]
            t = [_lcm(needs[:, 0], ar, r0), _lcm(needs[:, 1], c_eff, r0),
                 _lcm(_lcm(needs[:, 2], ar, r1), c_eff, r2), _lcm(_lcm(needs[:, 3], c_eff, r1), ar, r2)]
            new_b, new_u = self.buffer_banks(ya, yb, yc, (t[0] // ya, t[1] // yb, t[2] // yb, t[3] // yc),
                                             *(queries.cons_buf[qk, k, i] for i in range(4)))
            extra_b[rows] += new_b - queries.cons_old[qk, k, 0]
            extra_u[rows] += new_u - queries.cons_old[qk, k, 1]
        keep = np.flatnonzero(ok)
        return {"q": q[keep], "alpha": alpha[keep], "abc": abc[keep], "d": d[keep], "di": di[keep],
                "f": tuple(x[keep] for x in f), "extra": (extra_b[keep], extra_u[keep])}

    def sides(self, a, b, c, f, lhs_words, rhs_words, lhs_buffers, rhs_buffers):
        """``(l_bram, l_uram, r_bram, r_uram)``: the LHS and RHS buffers (``b`` in buffer
        words, partition factors ``f``) if placed in BRAM or in URAM."""
        pl, pr = f[0] * f[1], f[2] * f[3]
        l_b = _blocks(a * b * pl, lhs_words / pl, self.width, *self.geometry_l) * lhs_buffers
        r_b = _blocks(c * b * pr, rhs_words / pr, self.width, *self.geometry_r) * rhs_buffers
        if not self.has_uram:
            return l_b, np.zeros_like(l_b), r_b, np.zeros_like(r_b)
        l_u = _blocks(a * b * pl, lhs_words / pl, self.width, *self.geometry_u) * lhs_buffers
        r_u = _blocks(c * b * pr, rhs_words / pr, self.width, *self.geometry_u) * rhs_buffers
        return l_b, l_u, r_b, r_u

    def buffer_banks(self, a, b, c, f, lhs_words, rhs_words, lhs_buffers, rhs_buffers):
        """(BRAM, URAM) of an accelerator's LHS and RHS buffers, each in the cheaper memory
        (a consumer's banks as its partitions change)."""
        l_b, l_u, r_b, r_u = self.sides(a, b, c, f, lhs_words, rhs_words, lhs_buffers, rhs_buffers)
        if not self.has_uram:
            return l_b + r_b, l_u
        weight = self.cand.p.uram_weight
        l_side, r_side = weight * l_u < l_b, weight * r_u < r_b
        return (np.where(l_side, 0, l_b) + np.where(r_side, 0, r_b),
                np.where(l_side, l_u, 0) + np.where(r_side, r_u, 0))

    def place(self, l_b, l_u, r_b, r_u, fixed_b, fixed_u, bram_cap):
        """(BRAM, URAM) as the model will place them (``place_buffers``): each buffer in the
        cheaper memory; and when this accelerator's BRAM share is the whole chip's (it is
        alone, or the others use no BRAM), while BRAM is over, the buffer saving the most
        BRAM per URAM moved to URAM (the LHS first on a tie).  With a smaller share there
        is no move: the accelerators' cheaper placements then fit the chip together, so
        the model moves nothing either."""
        if not self.has_uram:
            return fixed_b + l_b + r_b, fixed_u
        weight = self.cand.p.uram_weight
        l_u_side, r_u_side = weight * l_u < l_b, weight * r_u < r_b
        bram = fixed_b + np.where(l_u_side, 0, l_b) + np.where(r_u_side, 0, r_b)
        l_gain = np.where(l_u_side | (l_b == 0), -1.0, l_b / np.maximum(l_u, 1))
        r_gain = np.where(r_u_side | (r_b == 0), -1.0, r_b / np.maximum(r_u, 1))
        l_first = l_gain >= r_gain
        first_b = np.where(l_first, l_b, r_b)
        first_ok = np.where(l_first, l_gain, r_gain) > 0
        second_ok = np.where(l_first, r_gain, l_gain) > 0
        move_first = (bram > bram_cap) & first_ok & (bram_cap >= self.cand.p.budget.bram)
        move_second = move_first & (bram - first_b > bram_cap) & second_ok
        l_u_side |= np.where(l_first, move_first, move_second)
        r_u_side |= np.where(l_first, move_second, move_first)
        return (fixed_b + np.where(l_u_side, 0, l_b) + np.where(r_u_side, 0, r_b),
                fixed_u + np.where(l_u_side, l_u, 0) + np.where(r_u_side, r_u, 0))

    def times(self, st, queries, pairs):
        """``(P, n_tiles)``: computing only, and with weights streamed at the query's share."""
        cand = self.cand
        q, alpha = pairs["q"], pairs["alpha"]
        member = st["member"][queries.set_index[q]]
        out = np.zeros((len(q), cand.n_tiles))
        bandwidth = queries.share[q, 3].astype(float)
        for j in range(cand.n_nodes):
            sel = np.flatnonzero(member[:, j])
            if sel.size == 0:
                continue
            compute = cand.node_time(j)[alpha[sel]]
            for t, stream in enumerate(cand.stream.tolist()):
                if stream and cand.weight_bytes[j]:
                    with np.errstate(divide="ignore"):
                        read = cand.weight_bytes[j] * int(cand.copies[j]) * 1e9 / bandwidth[sel]
                    out[sel, t] += np.maximum(compute, read)
                else:
                    out[sel, t] += compute
        return out

    def evaluate_pairs(self, st, queries, pairs, rows):
        cand, p = self.cand, self.cand.p
        q = pairs["q"][rows]
        u = queries.set_index[q]
        share = queries.share[q]
        abc, d = pairs["abc"][rows], pairs["d"][rows]
        a, lanes, c = cand.a[abc], cand.lanes_b[abc], cand.c[abc]
        f = tuple(x[rows] for x in pairs["f"])
        extra_b, extra_u = (e[rows] for e in pairs["extra"])
        nL = queries.lhs_buffers[q]
        lhs_words = st["x"][u, abc] * st["y"][u, abc]
        rhs_words = np.where(st["act"][u], st["ymha"][u, abc] * st["zmha"][u, abc], 0)
        sides = self.sides(a, lanes, c, f, lhs_words, rhs_words, nL, 1)
        dsp = ceil_div(a * cand.b[abc] * c * d * cand.kernel.blocks_per_mac, cand.kernel.macs_per_block)
        out_ok, out_score, cols = [], [], {"bram": [], "uram": [], "dsp": [], "bandwidth": []}
        for stream in cand.stream.tolist():
            words = st["panel"][u, abc] if stream else st["words"][u, abc]
            w_b, w_u = self.weight_banks(c * lanes, words)
            b_total, u_total = self.place(*sides, w_b + extra_b, w_u + extra_u, share[:, 1])
            ok = (dsp <= share[:, 0]) & (b_total <= share[:, 1]) & (u_total <= share[:, 2])
            if stream:
                ok &= share[:, 3] > 0
            out_ok.append(ok)
            out_score.append(b_total + p.uram_weight * u_total)
            cols["bram"].append(b_total)
            cols["uram"].append(u_total)
            cols["dsp"].append(dsp)
            cols["bandwidth"].append(np.where(stream, share[:, 3], 0))
        return (np.stack(out_ok, axis=1), np.stack(out_score, axis=1),
                {name: np.stack(v, axis=1) for name, v in cols.items()})

    def evaluate(self, st, queries, pairs, pi, ti):
        ok, score, cols = self.evaluate_pairs(st, queries, pairs, pi)
        pick = np.arange(len(pi))
        return ok[pick, ti], score[pick, ti], {name: v[pick, ti] for name, v in cols.items()}

    def used(self, abc, d, tile, columns):
        cand = self.cand
        params = np.stack([cand.a[abc], cand.b[abc], cand.c[abc], d, cand.stream[tile]], axis=1)
        used = np.stack([columns["dsp"], columns["bram"], columns["uram"], columns["bandwidth"]], axis=1)
        return params, used


class FpgaConfigurator(LockStepConfigurator):
    """Configures the accelerators of ``fpga`` designs by SSR's rule (module docstring)."""

    rule = FPGA_SPLIT
    dup_hint_rule = False

    def __init__(self, model, values: dict[str, np.ndarray] | None = None, reconcile: bool = True) -> None:
        if model.cost_model != "fpga":
            raise SsroptError(f"the FPGA configurator needs the 'fpga' cost model, not {model.cost_model!r}")
        self.model = model
        self.reconcile = bool(reconcile)
        values = {k: np.asarray(v, dtype=np.int64) for k, v in {**model.values(), **(values or {})}.items()}
        self.values = values
        self.cand = FpgaCandidates(model, values)
        self.sets = FpgaNodeSets(self.cand)
        self.selector = FpgaSelector(self.cand)
        p = model.platform.fpga
        memory = p.memory
        bandwidth = memory.bandwidth_bytes_per_s * memory.efficiency if memory else 0.0
        self.budget = np.array([p.budget.dsp, p.budget.bram, p.budget.uram, int(bandwidth)], dtype=np.int64)
        self.smallest = np.array([values["a"].min(), values["b"].min(), values["c"].min(), 1, values["stream"].min()],
                                 dtype=np.int64)

    def partition_arrays(self, params: np.ndarray) -> np.ndarray:
        """``a, b, c, dup`` with ``b`` counted in buffer words, as the banks see it."""
        out = params[..., :4].copy()
        out[..., 1] = ceil_div(out[..., 1], self.cand.words)
        return out

    def buffer_words(self, st, rows, width):
        """``(n, U, 4)``: LHS words ``x*y``, RHS words ``y_mha*z_mha``, LHS buffers, 1."""
        p = st["params"][rows, :width]
        a, b, c = p[..., 0], p[..., 1], p[..., 2]
        lhs = ceil_div(st["mmax"][rows, :width], a) * ceil_div(st["kmax"][rows, :width], b)
        kact = st["kact"][rows, :width]
        rhs = np.where(kact > 0, ceil_div(kact, b) * ceil_div(st["nact"][rows, :width], c), 0)
        return np.stack([lhs, rhs, st["lhs"][rows, :width], np.ones_like(lhs)], axis=2)
