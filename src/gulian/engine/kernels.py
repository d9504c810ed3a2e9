"""Numba kernels of one propagation day, customer side (docs/engine/propagate.md, "The daily step").

Firms are numbered internally in order of sector (:func:`gulian.engine.propagate.layout`), and
every per-link array is in *supplier-major* order: supplier ``s``'s links are the run
``sup_ptr[s]:sup_ptr[s+1]``, so the suppliers of one sector, and their links, are contiguous.
Stocks, orders ``O_e`` and deliveries ``O*_e`` (arrays of their own) all live in this one order: the day has no
transpose. What a customer needs from all its links (the stock of each input sector, the Leontief
minimum) goes through per-group tables, a group being one (input sector, customer) pair; groups
are sorted by (sector, customer), so a sector's links touch only that sector's groups, a table that
fits in cache. :func:`group_prep`, :func:`link_pass` and :func:`pmax_pass` are the customer side;
:mod:`gulian.engine.rationing` the supplier side. All run in parallel over independent firms,
groups or sectors; no two threads write the same entry.
"""

from __future__ import annotations

import numba as nb
import numpy as np

EPS = 1e-20
"""Absolute tolerance below which inventories and ratios count as zero (as in proNet)."""


ROWS_PER_LINE = 4
"""Group-table rows per 64-byte cache line (16-byte rows): the stride of :func:`link_pass`'s pre-read."""

FLOATS_PER_LINE = 8
"""float64 values per 64-byte cache line: the stride of :func:`group_prep`'s pre-read."""


@nb.njit(cache=True, inline="always")
def _pre_read(values, lo, hi, stride):
    """Read ``values[lo:hi]`` in order, one value per cache line (``stride``), before a kernel reads them at random.

    The hardware prefetcher then brings the lines into cache at stream speed, where random reads
    would miss one at a time (docs/engine/propagate.md, "Speed"). Returns the sum of what it read,
    which the caller returns too, only so that the compiler keeps the read.
    """
    acc = 0.0
    for i in range(lo, hi, stride):
        acc += values[i]
    return acc


USE, PC = 0, 1
"""Columns of the group table ``gtab`` that :func:`link_pass` reads: one 16-byte row per group.
The customer's baseline ``x0_c`` and target days, constant in a run, come with the links instead
(streamed, not gathered: a 32-byte row with them made the random reads twice as slow, as a
sector's rows then no longer stayed in L2). The sector stocks it writes are ``s_sec``."""


@nb.njit(parallel=True, cache=True, error_model="numpy")
def group_prep(p_prev, grp_cust, x0g, gtab, a_sec, s_sec, blk_ptr, block):
    """Yesterday's production ``P_c`` and today's use rate ``(P_c/x0_c)·(A_cσ/S_cσ)`` per group.

    The use rate is 0 when the sector stock ``S_cσ`` is at or below EPS. Customers are taken in
    blocks of ``block`` (``blk_ptr`` as in :func:`pmax_pass`), so the gather of ``P_c`` stays in
    cache; each block's ``P_c`` are first read in order (:func:`_pre_read`). The rate is computed for every group and a select
    keeps 0 where it does not apply (empty stocks are common after a shock, and a branch on them
    mispredicts); ``error_model="numpy"`` lets those discarded divisions by zero give inf instead
    of raising. ``x0g`` is the customer's baseline per group. Returns :func:`_pre_read`'s sums.
    """
    n_sec = blk_ptr.shape[0]
    touched = 0.0
    for b in nb.prange(blk_ptr.shape[1] - 1):
        acc = _pre_read(p_prev, b * block, min(p_prev.size, (b + 1) * block), FLOATS_PER_LINE)
        for sec in range(n_sec):
            for g in range(blk_ptr[sec, b], blk_ptr[sec, b + 1]):
                pc = p_prev[grp_cust[g]]
                xc = x0g[g]
                ssec = s_sec[g]
                gtab[g, PC] = pc
                rate = (pc / xc) * (a_sec[g] / ssec)
                gtab[g, USE] = 0.0 if (xc == 0.0) | (abs(ssec) <= EPS) else rate
        touched += acc
    return touched


LINK_BLOCK = 1024
"""Links per block of :func:`link_pass`: the block's group rows are gathered into buffers that stay in L1."""


@nb.njit(cache=True, error_model="numpy", inline="always")
def _stocks_and_orders(stock, orders, delivered, a, x0c, n_e, use, pcs, inv_tau, order_type):
    """Eqs. 2–3 for one block of links, on slices indexed from 0 so that LLVM vectorizes the loop.

    Selects instead of branches (zero stocks are common after a shock). ``error_model="numpy"``:
    the division by ``x0_c = 0`` gives inf, and a select then discards it.
    """
    for i in range(stock.size):
        st = stock[i]
        ae = a[i]
        xc = x0c[i]
        pc = pcs[i]
        s = st + delivered[i] - st * use[i]
        s = 0.0 if s <= EPS else s  # = (s < 0 or |s| ≤ EPS), NaN kept as before
        s = st if xc == 0.0 else s
        stock[i] = s
        # Written as proNet evaluates it: hoisting pc/xc changes the last bit, and at 10⁶ firms
        # such bits cross EPS thresholds and move totals by ~10⁻⁵ within 40 days.
        base = ae * pc / xc
        gap = n_e[i] * ae * pc / xc - s
        o = base + inv_tau * gap
        o1 = base + inv_tau * (n_e[i] * ae - s)
        o = o1 if order_type == 1 else o
        o = base if (order_type == 2) & (gap <= 0.0) else o
        o = o if o > 0.0 else 0.0
        orders[i] = ae if xc == 0.0 else o


@nb.njit(parallel=True, cache=True)
def link_pass(a, x0_link, n_link, n_all, gidx, gtab, s_sec, stock, orders, delivered, chunk_sec, sec_link, sec_grp, tau, order_type):
    """Inventories and orders of every link, and the new sector stocks (docs/engine.md, eqs. 2–3).

    ``S_e ← max(S_e + O*_e − S_e·use_g, 0)``; ``O_e ← max(a_e·P_c/x0_c + (n_e·a_e·P_c/x0_c − S_e)/τ, 0)``;
    ``S_cσ = Σ S_e`` over the group (``s_sec``). Links are in supplier-major order with
    suppliers sorted by sector, so sector σ's links ``sec_link[σ]:sec_link[σ+1]`` touch only its
    groups ``sec_grp[σ]:sec_grp[σ+1]``; chunks of whole sectors (``chunk_sec``) run in parallel and
    each group is summed by one thread in supplier order, as proNet sums it. A customer without
    output (``x0_c = 0``) orders its baseline and uses nothing. ``x0_link`` is the customer's
    baseline per link; ``n_link`` the target days per link, empty when every link has the target ``n_all``.

    Sector by sector (docs/engine/propagate.md, "Speed"): first an in-order read of the sector's
    group rows (:func:`_pre_read`), so they are in L2 before the random reads, and the zeroing of
    its sector stocks; then each
    block of LINK_BLOCK links in three loops: a gather of its group rows (a short loop, so many of
    these reads are in flight at once), the arithmetic on sequential data (:func:`_stocks_and_orders`,
    vectorized), and the sector-stock sums in link order. Returns :func:`_pre_read`'s sums.
    """
    inv_tau = 1.0 / tau
    per_link = n_link.size > 0
    touched = 0.0
    for k in nb.prange(chunk_sec.size - 1):
        use = np.empty(LINK_BLOCK)
        pcs = np.empty(LINK_BLOCK)
        same_n = np.full(LINK_BLOCK, n_all)
        acc = 0.0
        for sec in range(chunk_sec[k], chunk_sec[k + 1]):
            g0, g1 = sec_grp[sec], sec_grp[sec + 1]
            acc += _pre_read(gtab[:, USE], g0, g1, ROWS_PER_LINE)
            for g in range(g0, g1):
                s_sec[g] = 0.0
            for b0 in range(sec_link[sec], sec_link[sec + 1], LINK_BLOCK):
                b1 = min(b0 + LINK_BLOCK, sec_link[sec + 1])
                nn = b1 - b0
                for i in range(nn):
                    g = gidx[b0 + i]
                    use[i] = gtab[g, USE]
                    pcs[i] = gtab[g, PC]
                n_e = n_link[b0:b1] if per_link else same_n[:nn]
                _stocks_and_orders(
                    stock[b0:b1], orders[b0:b1], delivered[b0:b1], a[b0:b1], x0_link[b0:b1], n_e, use[:nn], pcs[:nn],
                    inv_tau, order_type,
                )
                for i in range(nn):
                    s_sec[gidx[b0 + i]] += stock[b0 + i]
        touched += acc
    return touched


@nb.njit(parallel=True, cache=True)
def pmax_pass(x0g, a_sec, s_sec, grp_cust, blk_ptr, block, cap, p_max):
    """Capacity from inputs ``P^max_c = min(cap_c, min_σ S_cσ/A_cσ·x0_c)`` (Leontief across sectors, eq. 5).

    Customers are taken in blocks of ``block``; ``blk_ptr[σ, b]:blk_ptr[σ, b+1]`` are sector σ's
    groups of block ``b``, so each block's minimum lives in a small array while the sectors stream
    by; ``x0g`` is the customer's baseline output per group (a column of its own: this pass reads no
    other column of the group table). A NaN ratio (no input value) is skipped, as ``min`` keeps its
    first argument.
    """
    n = cap.size
    n_sec = blk_ptr.shape[0]
    for b in nb.prange(blk_ptr.shape[1] - 1):
        c0 = b * block
        c1 = min(n, c0 + block)
        low = np.full(c1 - c0, np.inf)
        for sec in range(n_sec):
            for g in range(blk_ptr[sec, b], blk_ptr[sec, b + 1]):
                c = grp_cust[g] - c0
                low[c] = min(low[c], s_sec[g] / a_sec[g] * x0g[g])
        for c in range(c0, c1):
            p_max[c] = cap[c] if cap[c] < low[c - c0] else low[c - c0]


@nb.njit(cache=True)
def scatter_capacity(firm, loss, x0, delta, cap):
    """``cap_i = (1 − δ_i)·x0_i``, ``δ_i = max(0, max_k loss_k)`` over the shock rows ``k`` of firm ``i``.

    Touches only the firms listed in ``firm`` (``delta`` is per-firm scratch).
    """
    for k in range(firm.size):
        delta[firm[k]] = 0.0
    for k in range(firm.size):
        if loss[k] > delta[firm[k]]:
            delta[firm[k]] = loss[k]
    for k in range(firm.size):
        i = firm[k]
        cap[i] = x0[i] * (1.0 - delta[i])


STREAK_CAP = np.int32(2**30)
"""Short-day streaks stop counting here (no overflow of the int32 counters)."""


@nb.njit(cache=True, inline="always")
def _streaks(orders, delivered, streak):
    """Consecutive short days ``k`` per link (``O* < (1 − 10⁻⁹)·O``), on slices indexed from 0.

    In int32 throughout and on slices, so that LLVM vectorizes it: mixing the int32 counters with
    int64 arithmetic kept it scalar and nine times slower.
    """
    for i in range(streak.size):
        longer = min(streak[i] + np.int32(1), STREAK_CAP)
        streak[i] = np.int32(longer) if delivered[i] < orders[i] * (1.0 - 1e-9) else np.int32(0)


SUB_BLOCK = 1024
"""Links per block of :func:`substitution_need`: streaks first, then the sums, while the block is in L1."""


@nb.njit(parallel=True, cache=True)
def substitution_need(orders, delivered, streak, delay, link_sector, n_sectors):
    """Unmet orders per supplier sector of the links due for substitution (docs/engine/propagate.md).

    Counts each link's consecutive short days ``k`` (:func:`_streaks`) and sums ``O − O*`` over the
    links with ``k > delay``, per sector of their supplier. ``link_sector`` is non-decreasing (the
    layout's order), so each sector's sum is added in link order, as a plain loop adds it.
    """
    n = streak.size
    n_chunks = 64
    part = np.zeros((n_chunks, n_sectors))
    for k in nb.prange(n_chunks):
        e0, e1 = k * n // n_chunks, (k + 1) * n // n_chunks
        cur = link_sector[e0] if e0 < e1 else 0
        acc = 0.0
        for b0 in range(e0, e1, SUB_BLOCK):
            b1 = min(b0 + SUB_BLOCK, e1)
            _streaks(orders[b0:b1], delivered[b0:b1], streak[b0:b1])
            for e in range(b0, b1):
                # Links are in supplier order and suppliers by sector, so a sector's links are one
                # run: its sum is kept in a register and written once. Shortness is a coin flip after
                # a shock, so the sum uses a select, not a branch (adding 0.0 changes nothing).
                sec = link_sector[e]
                if sec != cur:
                    part[k, cur] += acc
                    acc = 0.0
                    cur = sec
                acc += (orders[e] - delivered[e]) if streak[e] > delay else 0.0
        if e0 < e1:
            part[k, cur] += acc
    need = np.zeros(n_sectors)
    for k in range(n_chunks):
        for j in range(n_sectors):
            need[j] += part[k, j]
    return need


@nb.njit(parallel=True, cache=True)
def substitution_serve(orders, delivered, streak, delay, link_sector, frac):
    """``O*_e += f_σ·(O_e − O*_e)`` on the links with ``k > delay`` (σ = the supplier's sector)."""
    for e in nb.prange(streak.size):
        got = delivered[e]
        delivered[e] = got + frac[link_sector[e]] * (orders[e] - got) if streak[e] > delay else got


@nb.njit(cache=True)
def baseline_output(a_sup, sup_ptr, c_fin):
    """``x0_s = c_s + Σ_e∈out(s) a_e``, summed in customer order (as proNet does, bit for bit)."""
    n = c_fin.size
    out = np.empty(n)
    for s in range(n):
        tot = 0.0
        for e in range(sup_ptr[s], sup_ptr[s + 1]):
            tot += a_sup[e]
        out[s] = c_fin[s] + tot
    return out


@nb.njit(cache=True)
def binding_suppliers(firms, cust_gptr, cust_groups, grp_lptr, grp_links, a_sec, s_sec, stock, a, n_e, sup, x0, cap, demand):
    """Why each of ``firms`` produces what it does today: ``(kind, supplier)`` per firm.

    kind 1 = own capacity binds (``cap ≤`` every input limit and demand), 2 = an input sector binds
    (supplier = the firm in that sector with the largest inventory gap ``n_e·a_e − S_e``), 0 = demand.
    ``cust_groups[cust_gptr[c]:cust_gptr[c+1]]`` are customer ``c``'s groups and
    ``grp_links[grp_lptr[g]:grp_lptr[g+1]]`` the links of group ``g``; ``n_e`` per link.
    """
    kind = np.zeros(firms.size, dtype=np.int64)
    cause = np.full(firms.size, -1, dtype=np.int64)
    for k in range(firms.size):
        c = firms[k]
        best_g = -1
        minprop = np.inf
        for q in range(cust_gptr[c], cust_gptr[c + 1]):
            g = cust_groups[q]
            prop = s_sec[g] / a_sec[g] * x0[c]
            if prop < minprop:
                minprop = prop
                best_g = g
        if cap[c] < x0[c] and cap[c] <= minprop and cap[c] <= demand[c]:
            kind[k] = 1
        elif best_g >= 0 and minprop < demand[c]:
            kind[k] = 2
            gap_best = -np.inf
            for q in range(grp_lptr[best_g], grp_lptr[best_g + 1]):
                e = grp_links[q]
                gap = n_e[e] * a[e] - stock[e]
                if gap > gap_best:
                    gap_best = gap
                    cause[k] = sup[e]
    return kind, cause
