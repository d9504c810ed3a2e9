"""Water-filling (proNet -R 2/3) against a line-by-line port of proNet's rationing loop.

gulian.engine.rationing finds the water level by Newton's method on the level's cost (quickselect
when Newton is slow); proNet raises the level one ratio at a time. Both must give the same
deliveries up to rounding, on suppliers with ties, zero and tiny orders, orders above baseline,
shortages and surpluses.
"""

import numpy as np
import pytest

from gulian.engine import rationing

EPS = 1e-20


def _close(x, y):
    return abs(x - y) <= EPS


def pronet_small_first(orders, a, c, p, d, final_last):
    """proNet.cpp's -R 2 (``final_last`` False) or -R 3 rationing for one supplier, in Python."""
    rat = {j: orders[j] / a[j] for j in range(len(a))}
    adj = dict.fromkeys(rat, 0.0)
    if final_last:
        margin = p - (d - c)
        c_served = 0.0 if margin <= 0.0 else min(margin, c)
        rat_fc, rem, c_charge = 0.0, p - c_served, 0.0
    else:
        c_served, rat_fc, rem, c_charge = 0.0, 1.0, p, c
    adj_fc = 0.0
    while True:
        positive = [v for v in rat.values() if not _close(v, 0.0)]
        min_d = min(positive) if positive else -1.0
        if rat_fc > 0.0 and not _close(rat_fc, 0.0):
            min_d = rat_fc if min_d < 0 else min(min_d, rat_fc)
        if min_d < 0.0 or _close(min_d, 0.0):
            break
        total = sum(min_d * a[j] for j in rat) + min_d * c_charge
        if rem > total:
            for j in list(rat):
                rat[j] -= min_d
                adj[j] += min_d
                if rat[j] < 0.0 or _close(rat[j], 0.0):
                    del rat[j]
            if rat_fc > 0.0:
                rat_fc -= min_d
                adj_fc += min_d
                if rat_fc < 0.0 or _close(rat_fc, 0.0):
                    rat_fc = 0.0
            rem -= total
            if (not rat and _close(rat_fc, 0.0)) or rem < 0.0 or _close(rem, 0.0):
                break
        else:
            v = sum(a[j] for j in rat if rat[j] > 0.0) + (c if rat_fc > 0.0 else 0.0)
            share = 0.0 if v <= 0.0 else rem / v
            for j in rat:
                if rat[j] > 0.0:
                    adj[j] += share
            if rat_fc > 0.0:
                adj_fc += share
            break
    deliveries = np.array([adj[j] * a[j] for j in range(len(a))])
    return deliveries, (c_served if final_last else adj_fc * c)


def random_suppliers(rng, n, max_deg):
    """Suppliers with 0..max_deg links: baseline values, orders around them, ties and zeros."""
    deg = rng.integers(0, max_deg + 1, n)
    deg[: n // 10] = max_deg  # some hubs
    sup_ptr = np.concatenate([[0], np.cumsum(deg)])
    a = rng.lognormal(0.0, 1.0, sup_ptr[-1])
    e = sup_ptr[-1]
    ratio = rng.choice([0.0, 1e-25, 0.5, 1.0, 1.0, 1.0], e) + rng.choice([0.0, 1.0], e) * rng.uniform(0.2, 1.6, e)
    orders = ratio * a
    c_fin = rng.choice([0.0, 1.0], n) * rng.lognormal(0.0, 1.0, n)
    x0 = c_fin + np.array([a[sup_ptr[s] : sup_ptr[s + 1]].sum() for s in range(n)])
    # capacities from well short to plenty, and exactly x0 (the tie proNet resolves by summation order)
    p_max = x0 * rng.choice([0.2, 0.6, 0.9, 1.0, 1.3], n)
    return sup_ptr, a, orders, c_fin, p_max


@pytest.mark.parametrize("rule", [2, 3])
@pytest.mark.parametrize("max_deg", [4, 40, 400])
def test_water_filling_matches_pronet_loop(rule, max_deg):
    rng = np.random.default_rng(100 * rule + max_deg)
    n = 300 if max_deg < 400 else 40
    sup_ptr, a, orders, c_fin, p_max = random_suppliers(rng, n, max_deg)
    delivered = np.full(orders.size, np.nan)
    chunk_ptr = np.array([0, n // 3, n], dtype=np.int64)
    p_act, demand, c_served = np.zeros(n), np.zeros(n), np.zeros(n)
    rationing.supplier_pass(a, orders, delivered, sup_ptr, chunk_ptr, max_deg, c_fin, p_max, p_act, demand, c_served, rule)
    short = 0
    for s in range(n):
        p0, p1 = sup_ptr[s], sup_ptr[s + 1]
        d = c_fin[s] + orders[p0:p1].sum()
        np.testing.assert_allclose(demand[s], d, rtol=1e-12)
        np.testing.assert_allclose(p_act[s], min(p_max[s], demand[s]), rtol=0)
        want, want_c = pronet_small_first(orders[p0:p1], a[p0:p1], c_fin[s], p_act[s], demand[s], rule == 3)
        np.testing.assert_allclose(delivered[p0:p1], want, rtol=1e-9, atol=1e-12, err_msg=f"supplier {s}")
        np.testing.assert_allclose(c_served[s], want_c, rtol=1e-9, atol=1e-12, err_msg=f"supplier {s}")
        short += p_act[s] < demand[s]
    assert short > n // 4  # the cases exercise rationing, not only the fast path


def test_quickselect_agrees_with_newton():
    """The fallback for slow Newton runs finds the same level, sums and weights on the same ratios."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        m = int(rng.integers(1, 60))
        keys = rng.choice([0.3, 0.9, 1.0, 1.1], m) * rng.choice([1.0, 1.0, 2.0], m) + rng.uniform(0, 1e-3, m) * (
            rng.random(m) < 0.5
        )
        w = rng.lognormal(0.0, 1.0, m)
        c = float(rng.uniform(0, 2))
        fc = bool(rng.random() < 0.5)
        z = min(keys.min(), 1.0) if fc else keys.min()
        const_w = 0.0
        cost_top = float(np.sum(w * keys) + c * max(keys.max(), 1.0 if fc else 0.0))
        p = float(rng.uniform(z * (w.sum() + c), cost_top))
        keys_q, w_q = keys.copy(), w.copy()
        if fc:
            keys_q, w_q = np.append(keys_q, 1.0), np.append(w_q, 0.0)
        got_q = rationing._highest_level.py_func(keys_q, w_q, keys_q.size, p, const_w, c if fc else 0.0, z)
        got_n = rationing._newton_level.py_func(keys, w, 0, m, p, const_w, c if fc else 0.0, z, fc)
        assert got_n[0] >= 0.0
        np.testing.assert_allclose(got_n, got_q, rtol=1e-9, atol=1e-12)
