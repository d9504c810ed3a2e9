"""Production and rationing of every supplier, one day (docs/engine.md, eqs. 6–7).

:func:`supplier_pass` works on the links in supplier-major order (each supplier's links are a
contiguous run ``sup_ptr[s]:sup_ptr[s+1]`` of the orders ``O_e`` and the deliveries ``O*_e``), so it
reads and writes them sequentially. Proportional rationing (proNet -R 0) and final-demand-last
(-R 1) are one pass; "smaller orders first" (-R 2/3) is water-filling: :func:`_water_fill` finds the
level by Newton's method on its cost curve, linear in a supplier's links where proNet's loop is
quadratic, and a per-supplier sort would be ``E log E``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from gulian.engine.kernels import EPS


@nb.njit(cache=True, inline="always")
def _partition3(keys, w, lo, hi, pivot):
    """Three-way partition of ``keys[lo:hi]`` (and ``w``) around ``pivot``.

    Returns ``(lt, gt)``: keys ``< pivot`` in ``lo:lt``, ``== pivot`` in ``lt:gt``, ``> pivot`` in ``gt:hi``.
    """
    lt, i, gt = lo, lo, hi
    while i < gt:
        k = keys[i]
        if k < pivot:
            keys[i], keys[lt] = keys[lt], k
            w[i], w[lt] = w[lt], w[i]
            lt += 1
            i += 1
        elif k > pivot:
            gt -= 1
            keys[i], keys[gt] = keys[gt], k
            w[i], w[gt] = w[gt], w[i]
        else:
            i += 1
    return lt, gt


@nb.njit(cache=True, inline="always")
def _highest_level(keys, w, m, p, const_w, c_charge, z):
    """The highest level among ``keys[:m]`` that production ``p`` pays for: the fallback of :func:`_newton_level`.

    ``F(L) = Σ w·min(k, L) + const_w + c_charge·L``; the highest key with ``F < p`` is found by
    quickselect with a three-way partition (ties are common), ``O(m)`` expected, without a sort.
    The lowest level ``z`` counts as paid: the caller decided it as proNet does. Returns ``(L,
    Σ w·k over keys ≤ L, Σ w over keys > L)``; reorders ``keys``/``w``.
    """
    lo, hi = 0, m
    s_lo = 0.0  # Σ w·k over keys known to be ≤ the answer
    w_hi = 0.0  # Σ w over keys known to be above it
    best = -1.0
    s_best = 0.0
    w_best = 0.0
    while lo < hi:
        a_, b_, c_ = keys[lo], keys[(lo + hi) >> 1], keys[hi - 1]
        pivot = max(min(a_, b_), min(max(a_, b_), c_))  # median of three
        lt, gt = _partition3(keys, w, lo, hi, pivot)
        wk_lt = 0.0
        for j in range(lo, lt):
            wk_lt += w[j] * keys[j]
        w_ge = 0.0
        for j in range(lt, hi):
            w_ge += w[j]
        cost = s_lo + wk_lt + pivot * (w_ge + w_hi) + const_w + c_charge * pivot
        if pivot <= z or cost < p:
            best = pivot
            w_eq = 0.0
            for j in range(lt, gt):
                w_eq += w[j]
            s_lo += wk_lt + pivot * w_eq
            w_best = w_ge - w_eq + w_hi
            s_best = s_lo
            lo = gt
        else:
            w_hi += w_ge
            hi = lt
    return best, s_best, w_best


NEWTON_STEPS = 12
"""Newton steps on the cost curve before the level search falls back to quickselect."""

BIG = 1e300
"""Stands for "no ratio above the level" in the branch-free minimum of :func:`_newton_level`."""


@nb.njit(cache=True, inline="always")
def _newton_level(r, a, p0, p1, p, const_w, c_charge, z, fc):
    """The highest level reached, by Newton's method on the cost; ``(−1, ·, ·)`` after NEWTON_STEPS.

    ``F(L) = Σ a_e·min(r_e, L) + const_w + c_charge·L`` is piecewise linear, increasing and concave,
    so Newton's steps from ``z`` (where ``F < p``) stay below the solution of ``F(L) = p`` and stop
    on its piece, usually after two or three passes. The level reached is then the highest ratio at
    or below the last step (1 counts as a ratio with ``fc``). Returns ``(L, Σ a·r over ratios ≤ L,
    Σ a over ratios > L)``. Ratios at or below EPS add at most EPS·a_e and are left in.
    """
    lv = z
    for _ in range(NEWTON_STEPS):
        f = const_w + c_charge * lv
        w_gt = 0.0
        s_le = 0.0
        nxt = 1.0 if (fc and lv < 1.0) else np.inf
        prv = 1.0 if (fc and lv >= 1.0) else 0.0
        for e in range(p0, p1):
            k = r[e - p0]
            ae = a[e]
            ind = 1.0 if k > lv else 0.0  # branch-free: the comparisons are coin flips
            f += ae * (k if k < lv else lv)
            w_gt += ae * ind
            s_le += ae * k * (1.0 - ind)
            up = k + (1.0 - ind) * BIG
            nxt = up if up < nxt else nxt
            down = k - ind * BIG
            prv = down if down > prv else prv
        slope = w_gt + c_charge
        gap = p - f
        new = lv + gap / slope if (gap > 0.0 and slope > 0.0) else lv
        if new <= nxt:  # the solution is on this piece: the ratios reached are those up to lv
            return prv, s_le, w_gt
        lv = new
    return -1.0, 0.0, 0.0


@nb.njit(cache=True, inline="always")
def _deliveries(delivered, a, r, top, level, tiny, z_level):
    """Deliveries ``O*_e``: ``a_e·min(r_e, top)`` up to the level reached, ``a_e·top`` above it.

    ``tiny``/``z_level`` for ratios at or below EPS (above 0 / zero). Selects, not branches: a third
    of the orders can be zero after a shock, and a branch on that mispredicts; slices indexed from 0
    let LLVM vectorize.
    """
    for i in range(r.size):
        k = r[i]
        big = top if top < k else k
        big = big if k <= level else top
        small = tiny if k > 0.0 else z_level
        delivered[i] = (small if k <= EPS else big) * a[i]


@nb.njit(cache=True, inline="always")
def _water_fill(p_act, c_served, c_fin, a, delivered, p0, p1, fc, r, keys, w, m, w_all, w_keys, w_tiny, wk, kmin, kmax):
    """Smaller orders first (proNet -R 2/3) for the supplier owning links ``p0:p1``; ``r`` their ratios.

    The level ``L`` rises through the order ratios ``r_e = O_e/a_e`` (and through 1 for final demand
    with -R 2, ``fc``) while production remains: fully served below ``L``, the first level it cannot
    reach shared in proportion to ``a_e`` (docs/engine.md, eq. 7). proNet raises the level one ratio
    at a time (quadratic in a hub's customers); here the cost of a level is ``F(L) = Σ a_e·min(r_e, L)
    + (w_all − W)·z + c·L`` (``z`` the first level, ``W`` the weight of the ratios above EPS: proNet's
    first step charges every customer, and -R 2 charges final demand at every step), and the level
    is found by Newton's method on ``F`` (quickselect if that is slow). ``m`` ratios are above EPS,
    with weight ``w_keys``, ``Σ a·r = wk``, range ``kmin..kmax`` (1 included with ``fc``). Returns the
    final consumption served (``c_served`` on entry: what -R 3 serves first).
    """
    rem = p_act - c_served
    c_charge = c_fin if fc else 0.0
    level = -1.0  # −1: not even the first level is reached
    x = 0.0
    if m > 0 or fc:
        const_w = (w_all - w_keys) * kmin  # proNet's first step also charges orders at or below EPS
        # The first level decides whether zero orders get anything, so it is priced as proNet does:
        # a tie (a firm at full capacity whose customers all order at least their baseline) fails.
        if rem > kmin * w_all + kmin * c_charge:
            if wk + const_w + c_charge * kmax < rem:  # every level reached: all served
                level = kmax
            else:
                level, s_below, w_above = _newton_level(r, a, p0, p1, rem, const_w, c_charge, kmin, fc)
                if level < 0.0:  # Newton too slow on this one: quickselect on the ratios above EPS
                    m2 = 0
                    for e in range(p0, p1):
                        if r[e - p0] > EPS:
                            keys[m2] = r[e - p0]
                            w[m2] = a[e]
                            m2 += 1
                    if fc:
                        keys[m2] = 1.0
                        w[m2] = 0.0
                        m2 += 1
                    level, s_below, w_above = _highest_level(keys, w, m2, rem, const_w, c_charge, kmin)
                left = rem - (s_below + level * w_above + const_w + c_charge * level)
                if left > EPS:
                    v = w_above + (c_fin if (fc and level < 1.0) else 0.0)
                    x = left / v if v > 0.0 else 0.0
    if level < 0.0:  # not even the first level: everyone with a positive order gets the same share
        v = w_keys + (c_fin if fc else 0.0) + w_tiny
        x = rem / v if v > 0.0 else 0.0
    top = (level if level > 0.0 else 0.0) + x
    z_level = kmin if level > 0.0 else 0.0
    tiny = x if level < 0.0 else z_level  # what an order above 0 but at or below EPS gets
    _deliveries(delivered[p0:p1], a[p0:p1], r[: p1 - p0], top, level, tiny, z_level)
    if fc:
        return c_fin if level >= 1.0 else top * c_fin
    return c_served


@nb.njit(parallel=True, cache=True)
def supplier_pass(a, orders, delivered, sup_ptr, chunk_ptr, max_deg, c_fin, p_max, p_act, demand, c_served, rationing):
    """Demand ``D_s = c_s + Σ O_e``, production ``P_s = min(P^max_s, D_s)`` and rationing (eqs. 6–7).

    ``a``, the orders ``O`` and the deliveries ``O*`` are in supplier-major (CSR) order, so this pass reads and writes
    them sequentially. Rationing writes ``O*`` per link and the final consumption served per
    supplier. Chunks of suppliers with equal work run in parallel.
    """
    n_chunks = chunk_ptr.size - 1
    for k in nb.prange(n_chunks):
        keys = np.empty(max_deg + 1)
        w = np.empty(max_deg + 1)
        r = np.empty(max_deg + 1)
        for s in range(chunk_ptr[k], chunk_ptr[k + 1]):
            p0, p1 = sup_ptr[s], sup_ptr[s + 1]
            if rationing >= 2:
                tot = 0.0
                w_all = 0.0
                w_keys = 0.0
                w_tiny = 0.0  # orders below EPS but not zero: a share only if the first level fails
                wk = 0.0
                kmin = np.inf
                kmax = 0.0
                m = 0
                for e in range(p0, p1):
                    o = orders[e]
                    ae = a[e]
                    tot += o
                    w_all += ae
                    q = o / ae if ae > 0.0 else 0.0
                    r[e - p0] = q
                    # Masks, not branches (zero orders are common and unpredictable after a shock);
                    # adding ae·0.0 leaves a sum unchanged, so the sums are the same bit for bit.
                    ind = 1.0 if q > EPS else 0.0
                    m += int(ind)
                    w_keys += ae * ind
                    wk += ae * q * ind
                    w_tiny += ae * (1.0 - ind) * (1.0 if q > 0.0 else 0.0)
                    low = q + (1.0 - ind) * BIG  # ratios at or below EPS do not count for kmin
                    kmin = low if low < kmin else kmin
                    q_in = q * ind
                    kmax = q_in if q_in > kmax else kmax
                if m == 0:
                    kmin = np.inf
                d = c_fin[s] + tot
                demand[s] = d
                p = p_max[s] if p_max[s] < d else d
                p_act[s] = p
                # Fast path: everything ordered can be served and no proNet corner case applies
                # (a zero order, or with -R 2 an order above its baseline): then O* = O exactly.
                if p >= d and m == p1 - p0 and not (rationing == 2 and kmax > 1.0):
                    for e in range(p0, p1):
                        delivered[e] = orders[e]
                    c_served[s] = c_fin[s]
                    continue
                fc = rationing == 2
                served = 0.0
                if not fc:  # -R 3: final demand is served last, from what the customers leave
                    margin = p - (d - c_fin[s])
                    served = 0.0 if margin <= 0.0 else (margin if margin < c_fin[s] else c_fin[s])
                else:
                    kmin = kmin if kmin < 1.0 else 1.0
                    kmax = kmax if kmax > 1.0 else 1.0
                c_served[s] = _water_fill(
                    p, served, c_fin[s], a, delivered, p0, p1, fc, r, keys, w, m, w_all, w_keys, w_tiny, wk, kmin, kmax
                )
                continue
            tot = 0.0
            for e in range(p0, p1):
                tot += orders[e]
            d = c_fin[s] + tot
            demand[s] = d
            p = p_max[s] if p_max[s] < d else d
            p_act[s] = p
            if rationing == 0:
                ratio = 0.0 if d == 0.0 else p / d
                c_served[s] = ratio * c_fin[s]
            else:
                short = d - p
                if short < 0.0:
                    short = 0.0
                if c_fin[s] >= short:
                    c_served[s] = c_fin[s] - short
                    ratio = 1.0
                else:
                    c_served[s] = 0.0
                    ratio = 0.0 if d == 0.0 else p / (d - c_fin[s])
            for e in range(p0, p1):
                delivered[e] = orders[e] * ratio
