"""Numba kernels of one propagation day (docs/engine.md, "Propagation: the daily step").

Links are in *customer-major* order: sorted by customer, then by the supplier's sector, so
that each (customer, input sector) group ``g`` is a contiguous run ``grp_ptr[g]:grp_ptr[g+1]`` and
each customer's groups are ``cust_gptr[c]:cust_gptr[c+1]``; stocks live in this order. Orders and
deliveries live in *supplier-major* (CSR) order, ``flow[q] = (O, O*)`` with ``q = pos[e]`` and
supplier ``s``'s links at ``sup_ptr[s]:sup_ptr[s+1]``. :func:`customer_pass` works on customers
(inventories, orders, production capacity), :func:`supplier_pass` on suppliers (demand, production,
rationing). Both run in parallel over independent firms; no two threads write the same entry. The
one transpose per pass is the scattered ``flow[pos[e]]`` access of the customer pass: every other
array is streamed, which is what keeps a day near the cost of two sparse mat-vecs.
"""

from __future__ import annotations

import numba as nb
import numpy as np

EPS = 1e-20
"""Absolute tolerance below which inventories and ratios count as zero (as in proNet)."""


BLOCK = 4096
"""Links whose deliveries :func:`customer_pass` gathers at once: their cache lines (64 B each) stay in
L2 until the same lines take the new orders."""


@nb.njit(cache=True, fastmath=False, inline="always")
def _one_customer(  # noqa: PLR0913
    c, a, n_link, n_cust, grp_ptr, cust_gptr, a_sec, s_sec, stock, pos, flow, got, off, p_prev, x0, cap, tau, order_type, p_max
):
    """Eqs. 2–5 for customer ``c``; ``got[e − off]`` holds the delivery ``O*_e`` of its link ``e``.

    ``n_link`` is empty when every link of a customer has the same target days ``n_cust[c]``.
    """
    g0, g1 = cust_gptr[c], cust_gptr[c + 1]
    xc = x0[c]
    pc = p_prev[c]
    minprop = np.inf
    for g in range(g0, g1):
        e0, e1 = grp_ptr[g], grp_ptr[g + 1]
        if xc == 0.0:
            for e in range(e0, e1):
                flow[pos[e], 0] = a[e]
            tot = 0.0
            for e in range(e0, e1):
                tot += stock[e]
        else:
            ssec = s_sec[g]
            use = 0.0 if abs(ssec) <= EPS else (pc / xc) * (a_sec[g] / ssec)
            tot = 0.0
            for e in range(e0, e1):
                s = stock[e] + got[e - off] - stock[e] * use
                if s < 0.0 or abs(s) <= EPS:
                    s = 0.0
                stock[e] = s
                tot += s
                n_e = n_cust[c] if n_link.size == 0 else n_link[e]
                # Written as proNet evaluates it: hoisting pc/xc changes the last bit, and at 10⁶ firms
                # such bits cross EPS thresholds and move totals by ~10⁻⁵ within 40 days.
                base = a[e] * pc / xc
                gap = n_e * a[e] * pc / xc - s
                if order_type == 0:
                    o = base + 1.0 / tau * gap
                elif order_type == 1:
                    o = base + 1.0 / tau * (n_e * a[e] - s)
                else:
                    o = base if gap <= 0.0 else base + 1.0 / tau * gap
                flow[pos[e], 0] = o if o > 0.0 else 0.0
        s_sec[g] = tot
        prop = tot / a_sec[g] * xc
        if prop < minprop:
            minprop = prop
    if g1 == g0:
        p_max[c] = cap[c]
    else:
        p_max[c] = cap[c] if cap[c] < minprop else minprop


@nb.njit(parallel=True, cache=True, fastmath=False)
def customer_pass(  # noqa: PLR0913
    a, n_link, n_cust, grp_ptr, cust_gptr, a_sec, s_sec, stock, pos, flow, chunk_ptr, max_in, p_prev, x0, cap, tau,
    order_type, p_max,
):
    """Inventory renewal, orders and production capacity of every customer (docs/engine.md, eqs. 2–5).

    ``S_e ← max(S_e + O*_e − S_e·(P_c/x0_c)·(A_cσ/S_cσ), 0)``;
    ``O_e ← max(a_e·P_c/x0_c + (n_e·a_e·P_c/x0_c − S_e)/τ, 0)``;
    ``P^max_c = min(cap_c, min_σ S_cσ/A_cσ·x0_c)``. ``s_sec`` holds the sector stocks of the previous
    day on entry and today's on return. ``flow[pos[e]] = (O_e, O*_e)`` is held in supplier-major (CSR)
    order for :func:`supplier_pass`; order and delivery of a link share one cache line. The scattered
    deliveries of a block of customers are gathered first, in a loop of independent loads (many
    cache misses in flight), then the block is computed and its orders written to the same lines.
    Chunks of customers with equal work (``chunk_ptr``) run in parallel. Target days come from
    ``n_link`` per link, or, when it is empty, from ``n_cust`` per customer (one stream fewer).
    """
    for k in nb.prange(chunk_ptr.size - 1):
        got = np.empty(BLOCK + max_in)
        c = chunk_ptr[k]
        c_end = chunk_ptr[k + 1]
        while c < c_end:
            off = grp_ptr[cust_gptr[c]]
            stop = c + 1
            while stop < c_end and grp_ptr[cust_gptr[stop + 1]] - off <= BLOCK:
                stop += 1
            end = grp_ptr[cust_gptr[stop]]
            for e in range(off, end):
                got[e - off] = flow[pos[e], 1]
            for cc in range(c, stop):
                _one_customer(
                    cc, a, n_link, n_cust, grp_ptr, cust_gptr, a_sec, s_sec, stock, pos, flow, got, off, p_prev, x0, cap,
                    tau, order_type, p_max,
                )
            c = stop


@nb.njit(cache=True)
def _sort_by_key(keys, idx, m):
    """Sort ``keys[:m]`` ascending, permuting ``idx[:m]`` alike.

    The keys arrive in yesterday's sorted order (ratios change little from day to day), so an
    insertion sort is nearly linear; if it has to move more than ``8·m + 64`` entries the order has
    changed a lot (a new shock) and the rest is finished with a merge sort, ``O(m log m)``.
    """
    budget = 8 * m + 64
    moved = 0
    for i in range(1, m):
        k = keys[i]
        v = idx[i]
        j = i - 1
        while j >= 0 and keys[j] > k:
            keys[j + 1] = keys[j]
            idx[j + 1] = idx[j]
            j -= 1
        keys[j + 1] = k
        idx[j + 1] = v
        moved += i - 1 - j
        if moved > budget:
            perm = np.argsort(keys[:m], kind="mergesort")
            k2 = keys[:m][perm]
            i2 = idx[:m][perm]
            keys[:m] = k2
            idx[:m] = i2
            return


@nb.njit(cache=True, inline="always")
def _water_fill(p_act, demand, c_fin, a, flow, rank, p0, p1, rationing, keys, idx, suffix):
    """Smaller orders first (proNet -R 2/3) for the supplier owning links ``p0:p1``.

    Customers are sorted by their order ratio ``r_e = O_e/a_e``; the level ``L`` rises through the
    sorted ratios (and through 1 for final demand with -R 2) while production remains; the first
    level it cannot reach is shared out in proportion to ``a_e`` (docs/engine.md, eq. 7). ``a`` and
    ``flow`` are in supplier-major (CSR) order; ``rank[p0:p1]`` keeps the links in the order of the
    last sort, so that the next day's sort starts nearly sorted. Returns the final consumption served.
    """
    if rationing == 3:
        margin = p_act - (demand - c_fin)
        c_served = 0.0 if margin <= 0.0 else (margin if margin < c_fin else c_fin)
        rem = p_act - c_served
        fc_active = False
        c_charge = 0.0
    else:
        c_served = 0.0
        rem = p_act
        fc_active = True
        c_charge = c_fin
    m = 0
    w_tiny = 0.0  # orders below EPS but not zero: skipped by the levels, served by a first-round share
    w_all = 0.0  # summed in customer order, as the baseline output x0 is: ties then resolve alike
    for e in range(p0, p1):
        w_all += a[e]
    tail = p1 - p0  # orders at or below EPS are listed from the end of keys/idx backwards
    for q in range(p0, p1):
        e = rank[q]
        r = flow[e, 0] / a[e] if a[e] > 0.0 else 0.0
        if r <= EPS:
            if r > 0.0:
                w_tiny += a[e]
            tail -= 1
            keys[tail] = r
            idx[tail] = e
        else:
            keys[m] = r
            idx[m] = e
            m += 1
    _sort_by_key(keys, idx, m)
    for j in range(p1 - p0):
        rank[p0 + j] = idx[j]
    acc = 0.0
    for j in range(m - 1, -1, -1):
        acc += a[idx[j]]
        suffix[j] = acc
    suffix[m] = 0.0
    level = 0.0
    i = 0
    first = True
    z_level = 0.0
    x = 0.0
    while True:
        nxt = np.inf
        if i < m:
            nxt = keys[i]
        if fc_active and nxt > 1.0:
            nxt = 1.0
        if nxt == np.inf or nxt <= level:
            break
        step = nxt - level
        w_act = suffix[i]
        cost = step * (w_all if first else w_act) + step * c_charge
        if rem > cost:
            rem -= cost
            level = nxt
            if first:
                z_level = level
                first = False
            if fc_active and level >= 1.0:
                fc_active = False
                if rationing == 2:
                    c_served = c_fin
            while i < m and keys[i] <= level:
                i += 1
            if i == m and not fc_active:
                break
            if rem <= EPS:
                break
        else:
            v = w_act + (c_fin if fc_active else 0.0) + (w_tiny if first else 0.0)
            x = rem / v if v > 0.0 else 0.0
            break
    for j in range(i):
        e = idx[j]
        flow[e, 1] = keys[j] * a[e]
    top = level + x
    for j in range(i, m):
        e = idx[j]
        flow[e, 1] = top * a[e]
    for j in range(m, p1 - p0):  # orders at or below EPS
        e = idx[j]
        flow[e, 1] = (x if (first and keys[j] > 0.0) else z_level) * a[e]
    if rationing == 2 and fc_active:
        c_served = top * c_fin
    return c_served


@nb.njit(parallel=True, cache=True)
def supplier_pass(a, flow, rank, sup_ptr, chunk_ptr, max_deg, c_fin, p_max, p_act, demand, c_served, rationing):
    """Demand ``D_s = c_s + Σ O_e``, production ``P_s = min(P^max_s, D_s)`` and rationing (eqs. 6–7).

    ``a`` and ``flow = (O, O*)`` are in supplier-major (CSR) order, so this pass reads and writes
    them sequentially. Rationing writes ``O*`` per link and the final consumption served per
    supplier. Chunks of suppliers with equal work run in parallel.
    """
    n_chunks = chunk_ptr.size - 1
    for k in nb.prange(n_chunks):
        keys = np.empty(max_deg + 1)
        idx = np.empty(max_deg + 1, dtype=np.int64)
        suffix = np.empty(max_deg + 1)
        for s in range(chunk_ptr[k], chunk_ptr[k + 1]):
            p0, p1 = sup_ptr[s], sup_ptr[s + 1]
            tot = 0.0
            for e in range(p0, p1):
                tot += flow[e, 0]
            d = c_fin[s] + tot
            demand[s] = d
            p = p_max[s] if p_max[s] < d else d
            p_act[s] = p
            if rationing == 0:
                ratio = 0.0 if d == 0.0 else p / d
                c_served[s] = ratio * c_fin[s]
            elif rationing == 1:
                short = d - p
                if short < 0.0:
                    short = 0.0
                if c_fin[s] >= short:
                    c_served[s] = c_fin[s] - short
                    ratio = 1.0
                else:
                    c_served[s] = 0.0
                    ratio = 0.0 if d == 0.0 else p / (d - c_fin[s])
            else:
                # Fast path: everything ordered can be served and no proNet corner case applies
                # (a zero order, or with -R 2 an order above its baseline) — then O* = O exactly.
                simple = p >= d
                if simple:
                    for e in range(p0, p1):
                        r = flow[e, 0] / a[e] if a[e] > 0.0 else 0.0
                        if r <= EPS or (rationing == 2 and r > 1.0):
                            simple = False
                            break
                if simple:
                    for e in range(p0, p1):
                        flow[e, 1] = flow[e, 0]
                    c_served[s] = c_fin[s]
                else:
                    c_served[s] = _water_fill(
                        p, d, c_fin[s], a, flow, rank, p0, p1, rationing, keys, idx, suffix
                    )
                continue
            for e in range(p0, p1):
                flow[e, 1] = flow[e, 0] * ratio


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


@nb.njit(parallel=True, cache=True)
def substitution_need(flow, streak, delay, link_sector, n_sectors):
    """Unmet orders per supplier sector of the links due for substitution (docs/engine/propagate.md).

    Counts each link's consecutive short days ``k`` (``O* < (1 − 10⁻⁹)·O``) and sums ``O − O*`` over
    the links with ``k > delay``, per sector of their supplier.
    """
    n = streak.size
    n_chunks = 64
    part = np.zeros((n_chunks, n_sectors))
    for k in nb.prange(n_chunks):
        for e in range(k * n // n_chunks, (k + 1) * n // n_chunks):
            if flow[e, 1] < flow[e, 0] * (1.0 - 1e-9):
                if streak[e] < 2**30:
                    streak[e] += 1
            else:
                streak[e] = 0
            if streak[e] > delay:
                part[k, link_sector[e]] += flow[e, 0] - flow[e, 1]
    need = np.zeros(n_sectors)
    for k in range(n_chunks):
        for j in range(n_sectors):
            need[j] += part[k, j]
    return need


@nb.njit(parallel=True, cache=True)
def substitution_serve(flow, streak, delay, link_sector, frac):
    """``O*_e += f_σ·(O_e − O*_e)`` on the links with ``k > delay`` (σ = the supplier's sector)."""
    for e in nb.prange(streak.size):
        if streak[e] > delay:
            flow[e, 1] += frac[link_sector[e]] * (flow[e, 0] - flow[e, 1])


@nb.njit(cache=True)
def segment_sums(values, ptr):
    """``out[g] = Σ values[ptr[g]:ptr[g+1]]`` summed left to right (reproducible, unlike pairwise)."""
    out = np.zeros(ptr.size - 1)
    for g in range(ptr.size - 1):
        tot = 0.0
        for e in range(ptr[g], ptr[g + 1]):
            tot += values[e]
        out[g] = tot
    return out


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
def binding_suppliers(firms, grp_ptr, cust_gptr, a_sec, s_sec, stock, a, n_link, sup, x0, cap, demand, p_act):
    """Why each of ``firms`` produces what it does today: ``(kind, supplier)`` per firm.

    kind 1 = own capacity binds (``cap ≤`` every input limit and demand), 2 = an input sector binds
    (supplier = the firm in that sector with the largest inventory gap ``n_e·a_e − S_e``), 0 = demand.
    """
    kind = np.zeros(firms.size, dtype=np.int64)
    cause = np.full(firms.size, -1, dtype=np.int64)
    for k in range(firms.size):
        c = firms[k]
        best_g = -1
        minprop = np.inf
        for g in range(cust_gptr[c], cust_gptr[c + 1]):
            prop = s_sec[g] / a_sec[g] * x0[c]
            if prop < minprop:
                minprop = prop
                best_g = g
        if cap[c] < x0[c] and cap[c] <= minprop and cap[c] <= demand[c]:
            kind[k] = 1
        elif best_g >= 0 and minprop < demand[c]:
            kind[k] = 2
            gap_best = -np.inf
            for e in range(grp_ptr[best_g], grp_ptr[best_g + 1]):
                gap = n_link[e] * a[e] - stock[e]
                if gap > gap_best:
                    gap_best = gap
                    cause[k] = sup[e]
    return kind, cause
