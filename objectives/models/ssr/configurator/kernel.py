"""The SSR configurator's search, compiled: one loop per search, no per-call overhead.

Each search (query) walks the alphas its class may use (its ``dup`` cap and ``c`` rule)
in order of AIEs, from the first its share admits.  Alphas are grouped in buckets of
``1 << BUCKET_BITS`` consecutive alphas; each bucket carries, per node set, the least
time lower bound ``lb`` and the least RAM bounds of its alphas, and the least of every
later bucket -- so a bucket none of whose alphas can fit the share or reach the band is
skipped whole, and the walk ends where no later alpha can.  Of the alphas left, those
that meet the share and the partition rules have every tile priced whose time is within
the current threshold ``thr = max(floor(1.08 T), T)`` (``T`` the least feasible time so
far).  ``thr`` only tightens and every bound is a lower bound, so every candidate of the
final band has been priced, and the choice -- least (score, time, SSR order) in the band
-- is the rule of :mod:`ssropt.objectives.models.lockstep.configurator.selection`
exactly.  The pricing is the ``ssr`` model's as the module doc of :mod:`.search` states
it, written per candidate:

* array level: AIEs within the share (``size``), PLIO out ``a*c*dup``, PLIO in at least
  the LHS ports, the ``dup`` cap and ``c`` rule of the query's class, ``dup`` dividing
  every producer's ``C * dup_p``, the partition factors from the producers and the set's
  own edges, a RAM lower bound with the partitions known, the configured consumers'
  partitions and the RAM they gain;
* tile level: the layer times summed over the set's nodes in node order (bit-identical
  to the model's sums), hardening, local memory, PLIO in, partition alignment, BRAM and
  URAM of every buffer in the cheaper of the two.

Compiled by numba on first use and cached on disk (``cache=True``), so a new process
loads it instead of compiling again; numpy's error model (no zero-division checks), since
every divisor is at least 1.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ssropt.objectives.models.lockstep.configurator.selection import TIME_BAND

#: alphas ``b << BUCKET_BITS`` to ``(b + 1) << BUCKET_BITS`` form bucket ``b``, whose least
#: bounds let a search skip it whole
BUCKET_BITS = 5

# positions in the constants array
(C_LBL, C_RBL, C_UL, C_RAM_BOUNDS, C_PMAX, C_PPROD, C_LCM_LIMIT, C_BRAM_DEPTH, C_TYPE_L, C_TYPE_R,
 C_URAM_DEPTH, C_UW, C_LOCAL, C_N_DUPS, C_N_TILES) = range(15)


@njit(cache=True, error_model="numpy", inline="always")
def _lcm(table, limit, x, y):
    return table[x * (limit + 1) + y]


@njit(cache=True, error_model="numpy", inline="always")
def _ceil_div(a, b):
    return -(-a // b)


@njit(cache=True, error_model="numpy")
def _banks(lanes, depth_words, ram_type, bram_lanes, uram_lanes, bram_depth, uram_depth):
    """(BRAM, URAM) of ``lanes`` buffers of ``depth_words`` words (``ram_banks``)."""
    bram = np.int64(lanes * bram_lanes * math.ceil(depth_words / (bram_depth * ram_type)))
    uram = np.int64(lanes * uram_lanes * math.ceil(depth_words / uram_depth))
    return bram, uram


@njit(cache=True, error_model="numpy")
def _buffer_banks(k, a, b, c, fa, fbl, fbr, fcr, lhs_words, rhs_words, lhs_buffers, rhs_buffers):
    """(BRAM, URAM) of an accelerator's LHS and RHS buffers under partition factors."""
    pl, pr = fa * fbl, fbr * fcr
    lb_, lu_ = _banks(a * b * pl, lhs_words / pl, k[C_TYPE_L], k[C_LBL], k[C_UL], k[C_BRAM_DEPTH], k[C_URAM_DEPTH])
    rb_, ru_ = _banks(c * b * pr, rhs_words / pr, k[C_TYPE_R], k[C_RBL], k[C_UL], k[C_BRAM_DEPTH], k[C_URAM_DEPTH])
    uw = k[C_UW]
    bram, uram = 0, 0
    if uw * lu_ < lb_:
        uram += lu_ * lhs_buffers
    else:
        bram += lb_ * lhs_buffers
    if uw * ru_ < rb_:
        uram += ru_ * rhs_buffers
    else:
        bram += rb_ * rhs_buffers
    return bram, uram


@njit(cache=True, error_model="numpy")
def _weight_banks(k, b, c, words):
    w_bram = c * b * k[C_RBL] * _ceil_div(words % k[C_URAM_DEPTH], k[C_BRAM_DEPTH] * k[C_TYPE_R])
    w_uram = c * b * k[C_UL] * (words // k[C_URAM_DEPTH])
    return w_bram, w_uram


@njit(cache=True, error_model="numpy")
def search(k, lcm, cand, tiles, node_time, sets, bounds, classes, qs, out):
    """Fill ``out`` (found, params, used, time_ns, hardened) with every query's choice.

    ``k`` the constants (``C_*``), ``lcm`` the clipped lcm table, ``cand`` the per-alpha
    and per-array tables, ``tiles`` the per-tile ones, ``node_time`` ``(n_nodes, n_abc,
    n_tiles)``, ``sets`` the node-set tables, ``bounds`` per node set and alpha the
    context-free RAM bounds (zero where they do not hold), per bucket of alphas the least
    ``lb`` and RAM bounds and their minima over every later bucket, ``classes`` the
    alphas of each class (``dup`` cap and ``c`` rule, AIE-descending), for each entry
    the class's first entry in a later bucket, and each query's class, ``qs`` the
    queries (needs clipped).  ``cand`` carries the same later-bucket minima of PLIO.
    """
    (al_abc, al_di, al_d, al_a, al_b, al_c, al_size, al_pout, al_lplio, al_pin_act,
     suf_pout, suf_lplio, suf_pin_act, ai_of, bi_of, ci_of, lhs_plio, rhs_plio, repeat) = cand
    la0, rb0, wu0, bucket_lb, bucket_la, bucket_rb, suf_lb, suf_la, suf_rb, suf_wu = bounds
    class_alphas, class_next, class_start, class_end, class_of = classes
    (h1, w1, w2, h1i, w1i, w2i, lhs_bytes, mem_ok, left_words, right_words) = tiles
    (member, lb, act, act_all, wo, roles, X, Y, Ymha, Zmha, words, resident, hardenable,
     aA, aBL, aBR, aC, lmin, rmin) = sets
    (set_index, share, dup_cap, rule_kind, rule_val, lhs_buffers, prod_a, prod_c, prod_div,
     cons_valid, cons_roles, cons_needs, cons_arr, cons_buf, cons_old) = qs
    found, params, used, time_ns, hard_out = out
    limit = k[C_LCM_LIMIT]
    pmax, pprod, uw = k[C_PMAX], k[C_PPROD], k[C_UW]
    n_tiles, n_dups = k[C_N_TILES], k[C_N_DUPS]
    n_nodes = member.shape[1]
    U = cons_valid.shape[1]
    # the feasible candidates met (a search's band is among them): time, and per candidate
    # score, SSR order key, alpha, tile, PLIO in, BRAM, URAM, hardened
    b_t = np.empty(64)
    band = np.empty((64, 8), dtype=np.int64)
    nodes = np.empty(n_nodes, dtype=np.int64)
    rep = np.empty(n_nodes, dtype=np.int64)
    times = np.empty(n_tiles)
    for q in range(len(set_index)):
        u = set_index[q]
        s0, s1, s2, s3, s4 = share[q, 0], share[q, 1], share[q, 2], share[q, 3], share[q, 4]
        nL = lhs_buffers[q]
        u_act, u_wo = act[u], wo[u]
        r0, r1, r2 = roles[u, 0], roles[u, 1], roles[u, 2]
        n_in = 0
        for j in range(n_nodes):
            if member[u, j]:
                nodes[n_in] = j
                n_in += 1
        thr = np.inf
        best_t = np.inf
        count = 0
        cl = class_of[q]
        lo, hi = class_start[cl], class_end[cl]
        end = hi
        while lo < hi:  # the class's first alpha within the AIE share (AIE-descending)
            mid = (lo + hi) // 2
            if al_size[class_alphas[mid]] > s0:
                lo = mid + 1
            else:
                hi = mid
        pos = lo - 1
        bucket = -1
        while True:
            pos += 1
            if pos >= end:
                break
            alpha = class_alphas[pos]
            if alpha >> BUCKET_BITS != bucket:  # a new bucket
                bucket = alpha >> BUCKET_BITS
                # suffix minima from this bucket on: nothing later can be in the band or fit
                if suf_lb[u, bucket] > thr or nL * suf_la[u, bucket] + suf_rb[u, bucket] > s3:
                    break
                if suf_wu[u, bucket] > s4 or suf_pout[bucket] > s2:
                    break
                if (suf_pin_act[bucket] if u_act else suf_lplio[bucket]) > s1:
                    break
                # least bounds of the bucket: skip it whole
                if bucket_lb[u, bucket] > thr or nL * bucket_la[u, bucket] + bucket_rb[u, bucket] > s3:
                    pos = class_next[pos] - 1
                    continue
            if lb[u, alpha] > thr or al_pout[alpha] > s2 or nL * la0[u, alpha] + rb0[u, alpha] > s3:
                continue
            if (al_pin_act[alpha] if u_act else al_lplio[alpha]) > s1 or wu0[u, alpha] > s4:
                continue
            d, c, di = al_d[alpha], al_c[alpha], al_di[alpha]
            if not prod_div[q, di]:
                continue
            abc, a, b = al_abc[alpha], al_a[alpha], al_b[alpha]
            ai, bi, ci = ai_of[abc], bi_of[abc], ci_of[abc]
            # partition factors from the producers and the set's own edges
            n_al = _lcm(lcm, limit, a, prod_a[q, 0])
            n_bl = _lcm(lcm, limit, b, prod_c[q, 0, di])
            if r0:
                n_bl = _lcm(lcm, limit, n_bl, c)
            n_br = _lcm(lcm, limit, _lcm(lcm, limit, b, prod_a[q, 1]), prod_c[q, 2, di])
            if r1:
                n_br = _lcm(lcm, limit, n_br, a)
            if r2:
                n_br = _lcm(lcm, limit, n_br, c)
            n_cr = _lcm(lcm, limit, _lcm(lcm, limit, c, prod_c[q, 1, di]), prod_a[q, 2])
            if r2:
                n_cr = _lcm(lcm, limit, n_cr, a)
            fa, fbl, fbr, fcr = n_al // a, n_bl // b, n_br // b, n_cr // c
            if max(max(fa, fbl), max(fbr, fcr)) > pmax or fa * fbl * fbr * fcr > pprod:
                continue
            never_hard = (not u_wo) or (not hardenable[u, bi, ci])
            w_full, wu_full = _weight_banks(k, b, c, words[u, abc])  # the weights unhardened
            wb, wu = (w_full, wu_full) if never_hard else (0, 0)
            pl, pr = fa * fbl, fbr * fcr
            bounded = k[C_RAM_BOUNDS] != 0
            ram = 0
            if bounded:  # every buffer in BRAM: a lower bound with the partitions known
                ram = nL * k[C_LBL] * a * b * max(pl, lmin[u, ai, bi]) + wb
                if u_act:
                    ram += k[C_RBL] * c * b * max(pr, rmin[u, bi, ci])
                if ram > s3 or wu > s4:  # the consumers' extra RAM is never negative
                    continue
            # the configured consumers it feeds: their partitions and the RAM they gain
            extra_b, extra_u = 0, 0
            good = True
            for y in range(U):
                if not cons_valid[q, y]:
                    continue
                ya, yb, yc, ydup = cons_arr[q, y, 0], cons_arr[q, y, 1], cons_arr[q, y, 2], cons_arr[q, y, 3]
                if (c * d) % ydup != 0:
                    good = False
                    break
                c_eff = max(c * d // ydup, 1)
                rr = cons_roles[q, y]
                t_al, t_bl = cons_needs[q, y, 0], cons_needs[q, y, 1]
                t_br, t_cr = cons_needs[q, y, 2], cons_needs[q, y, 3]
                if rr & 1:
                    t_al = _lcm(lcm, limit, t_al, a)
                    t_bl = _lcm(lcm, limit, t_bl, c_eff)
                if rr & 2:
                    t_br = _lcm(lcm, limit, t_br, a)
                    t_cr = _lcm(lcm, limit, t_cr, c_eff)
                if rr & 4:
                    t_br = _lcm(lcm, limit, t_br, c_eff)
                    t_cr = _lcm(lcm, limit, t_cr, a)
                g0, g1, g2, g3 = t_al // ya, t_bl // yb, t_br // yb, t_cr // yc
                if max(max(g0, g1), max(g2, g3)) > pmax or g0 * g1 * g2 * g3 > pprod:
                    good = False
                    break
                nb_, nu_ = _buffer_banks(k, ya, yb, yc, g0, g1, g2, g3, cons_buf[q, y, 0], cons_buf[q, y, 1],
                                         cons_buf[q, y, 2], cons_buf[q, y, 3])
                extra_b += nb_ - cons_old[q, y, 0]
                extra_u += nu_ - cons_old[q, y, 1]
            if not good:
                continue
            if bounded and (ram + extra_b > s3 or wu + extra_u > s4):
                continue
            # the tiles: times summed over the set's nodes in node order
            for i in range(n_in):
                rep[i] = _ceil_div(repeat[nodes[i]], d)
            times[:] = 0.0
            for i in range(n_in):
                row = node_time[nodes[i], abc]
                r = rep[i]
                for t in range(n_tiles):
                    times[t] += row[t] * r
            for t in range(n_tiles):
                tt = times[t]
                if tt > thr:
                    continue
                hi, wi, vi = h1i[t], w1i[t], w2i[t]
                hardened = u_wo and (2 * lhs_bytes[t] + resident[u, bi, wi, ci, vi] <= k[C_LOCAL])
                if not (hardened or mem_ok[t]):
                    continue
                plio_in = (lhs_plio[abc] + (0 if hardened else rhs_plio[abc])) * d
                if plio_in > s1:
                    continue
                if not ((aA[u, ai, hi] >> fa) & (aBL[u, bi, wi] >> fbl) & (aBR[u, bi, wi] >> fbr)
                        & (aC[u, ci, vi] >> fcr) & 1):
                    continue
                depth = X[u, ai, hi] * Y[u, bi, wi] * left_words[t]
                l_bram, l_uram = _banks(a * b * pl, depth / pl, k[C_TYPE_L], k[C_LBL], k[C_UL],
                                        k[C_BRAM_DEPTH], k[C_URAM_DEPTH])
                l_bram, l_uram = l_bram * nL, l_uram * nL
                r_bram, r_uram = 0, 0
                if u_act and not hardened:
                    rdepth = Ymha[u, bi, wi] * Zmha[u, ci, vi] * right_words[t]
                    r_bram, r_uram = _banks(c * b * pr, rdepth / pr, k[C_TYPE_R], k[C_RBL], k[C_UL],
                                            k[C_BRAM_DEPTH], k[C_URAM_DEPTH])
                bram, uram = extra_b, extra_u
                if not hardened:
                    bram += w_full
                    uram += wu_full
                if uw * l_uram < l_bram:
                    uram += l_uram
                else:
                    bram += l_bram
                if uw * r_uram < r_bram:
                    uram += r_uram
                else:
                    bram += r_bram
                if bram > s3 or uram > s4:
                    continue
                if count == len(b_t):  # grow the buffers
                    b_t = np.concatenate((b_t, np.empty(count)))
                    band = np.concatenate((band, np.empty((count, 8), dtype=np.int64)))
                b_t[count] = tt
                band[count, 0], band[count, 1] = bram + uw * uram, (abc * n_dups + di) * n_tiles + t
                band[count, 2], band[count, 3], band[count, 4] = alpha, t, plio_in
                band[count, 5], band[count, 6], band[count, 7] = bram, uram, hardened
                count += 1
                if tt < best_t:
                    best_t = tt
                    thr = max(np.floor(TIME_BAND * tt), tt)
        # the least (score, time, SSR order) within the final band
        pick = -1
        for i in range(count):
            if b_t[i] > thr:
                continue
            if pick < 0 or band[i, 0] < band[pick, 0]:
                pick = i
            elif band[i, 0] == band[pick, 0] and (b_t[i] < b_t[pick]
                                                  or (b_t[i] == b_t[pick] and band[i, 1] < band[pick, 1])):
                pick = i
        if pick < 0:
            continue
        alpha, t = band[pick, 2], band[pick, 3]
        a, b, c, d = al_a[alpha], al_b[alpha], al_c[alpha], al_d[alpha]
        found[q] = True
        params[q, 0], params[q, 1], params[q, 2], params[q, 3] = a, b, c, d
        params[q, 4], params[q, 5], params[q, 6] = h1[t], w1[t], w2[t]
        used[q, 0], used[q, 1], used[q, 2] = a * b * c * d, band[pick, 4], a * c * d
        used[q, 3], used[q, 4] = band[pick, 5], band[pick, 6]
        time_ns[q] = b_t[pick]
        hard_out[q] = band[pick, 7] != 0


@njit(cache=True, error_model="numpy")
def set_bounds(k, cand, sets, first, stop, bounds):
    """Fill ``bounds`` (see :func:`search`) of node sets ``first`` to ``stop``: per alpha one LHS
    buffer's BRAM with every bank at its least depth, the RHS and never-hardened weight
    buffers' BRAM, the weights' URAM (all zero unless every buffer is certain to be in
    BRAM), then per bucket their least values and the least from each bucket on."""
    (al_abc, al_di, al_d, al_a, al_b, al_c, al_size, al_pout, al_lplio, al_pin_act,
     suf_pout, suf_lplio, suf_pin_act, ai_of, bi_of, ci_of, lhs_plio, rhs_plio, repeat) = cand
    (member, lb, act, act_all, wo, roles, X, Y, Ymha, Zmha, words, resident, hardenable,
     aA, aBL, aBR, aC, lmin, rmin) = sets
    la0, rb0, wu0, bucket_lb, bucket_la, bucket_rb, suf_lb, suf_la, suf_rb, suf_wu = bounds
    n_alpha, n_buckets = la0.shape[1], bucket_lb.shape[1]
    lbl, rbl = k[C_LBL], k[C_RBL]
    for u in range(first, stop):
        if k[C_RAM_BOUNDS]:
            for alpha in range(n_alpha):
                abc, a, b, c = al_abc[alpha], al_a[alpha], al_b[alpha], al_c[alpha]
                bi, ci = bi_of[abc], ci_of[abc]
                wb, wu = 0, 0
                if words[u, abc] and ((not wo[u]) or (not hardenable[u, bi, ci])):  # never hardened
                    wb, wu = _weight_banks(k, b, c, words[u, abc])
                la0[u, alpha] = lbl * a * b * lmin[u, ai_of[abc], bi]
                rb0[u, alpha] = wb + (rbl * c * b * rmin[u, bi, ci] if act[u] else 0)
                wu0[u, alpha] = wu
        for bucket in range(n_buckets):
            start = bucket << BUCKET_BITS
            end = min(start + (1 << BUCKET_BITS), n_alpha)
            m_lb, m_la, m_rb, m_wu = lb[u, start], la0[u, start], rb0[u, start], wu0[u, start]
            for alpha in range(start + 1, end):
                m_lb = min(m_lb, lb[u, alpha])
                m_la = min(m_la, la0[u, alpha])
                m_rb = min(m_rb, rb0[u, alpha])
                m_wu = min(m_wu, wu0[u, alpha])
            bucket_lb[u, bucket], bucket_la[u, bucket], bucket_rb[u, bucket] = m_lb, m_la, m_rb
            suf_wu[u, bucket] = m_wu
        suf_lb[u, n_buckets - 1] = bucket_lb[u, n_buckets - 1]
        suf_la[u, n_buckets - 1] = bucket_la[u, n_buckets - 1]
        suf_rb[u, n_buckets - 1] = bucket_rb[u, n_buckets - 1]
        for bucket in range(n_buckets - 2, -1, -1):
            suf_lb[u, bucket] = min(bucket_lb[u, bucket], suf_lb[u, bucket + 1])
            suf_la[u, bucket] = min(bucket_la[u, bucket], suf_la[u, bucket + 1])
            suf_rb[u, bucket] = min(bucket_rb[u, bucket], suf_rb[u, bucket + 1])
            suf_wu[u, bucket] = min(suf_wu[u, bucket], suf_wu[u, bucket + 1])
