"""The structural screen (gulian.engine.screen): single sources, exposure, chokepoints, criticality, text."""

from __future__ import annotations

import numpy as np
import pytest

from gulian.engine import screen as scr
from gulian.engine.network import from_arrays
from gulian.engine.types import EngineInputError, Scope


def net_of(links, n, **kw):
    sup, cus, val = zip(*links, strict=True) if links else ((), (), ())
    kw.setdefault("sector", list(range(n)))
    return from_arrays(list(sup), list(cus), list(val), **kw)


# --- single sources -------------------------------------------------------------------------------------


def test_single_source_by_supplier_sector():
    # customer 0 buys sector 1 from firms 1 and 2 (two sources) and sector 2 from firm 3 only
    net = net_of([(1, 0, 4.0), (2, 0, 4.0), (3, 0, 2.0)], 4, sector=[0, 1, 1, 2])
    ss = scr.single_source_inputs(net)
    assert ss.supplier.tolist() == [3]
    assert ss.customer.tolist() == [0]
    assert ss.share.tolist() == pytest.approx([0.2])
    assert ss.link_mask.sum() == 1


def test_single_source_category_and_alternatives():
    net = net_of([(1, 0, 4.0), (2, 0, 4.0), (3, 0, 2.0)], 4, sector=[0, 1, 1, 2])
    # per-link categories: every link its own category; link of firm 2 has a known alternative
    ss = scr.single_source_inputs(net, category=np.array([0, 1, 2]), alternatives=np.array([False, True, False]))
    assert sorted(ss.supplier.tolist()) == [1, 3]


def test_single_source_from_rows_with_two_categories_on_one_pair():
    net = net_of([(1, 0, 6.0), (2, 0, 4.0)], 3)
    # pair 1→0 carries categories 0 and 1; pair 2→0 carries category 1 too: only category 0 is single
    ss = scr.single_source_from_rows(net, np.array([1, 1, 2]), np.array([0, 0, 0]), np.array([0, 1, 1]))
    assert ss.supplier.tolist() == [1] and ss.category.tolist() == [0]
    assert ss.share.tolist() == pytest.approx([0.6])
    with pytest.raises(EngineInputError):
        scr.single_source_from_rows(net, np.array([2]), np.array([1]), np.array([0]))


# --- chokepoints (dominators) ----------------------------------------------------------------------------

CHAIN = [(1, 0, 1.0), (2, 1, 1.0), (3, 2, 1.0)]  # 3 → 2 → 1 → 0
DIAMOND = [(3, 1, 1.0), (3, 2, 1.0), (1, 0, 1.0), (2, 0, 1.0), (4, 3, 1.0)]  # 4 → 3 → {1, 2} → 0


@pytest.mark.parametrize(
    ("links", "n", "k", "expected"),
    [
        (CHAIN, 4, 1, [1]),
        (CHAIN, 4, 2, [1, 2]),
        (CHAIN, 4, 3, [1, 2, 3]),
        (CHAIN, 4, 9, [1, 2, 3]),
        (DIAMOND, 5, 1, []),  # tier 1 has two suppliers, both entries
        (DIAMOND, 5, 2, [3]),  # both paths meet at 3
        (DIAMOND, 5, 3, [3, 4]),
        (DIAMOND + [(5, 0, 1.0)], 6, 3, []),  # a third supplier without inputs bypasses everything
        (DIAMOND + [(5, 1, 1.0)], 6, 3, []),  # a second source of 1 at tier 2 bypasses 3
    ],
)
def test_dominators_chain_diamond_and_k(links, n, k, expected):
    doms = scr.chokepoints(net_of(links, n), np.array([0]), k)[0]
    assert doms.firms.tolist() == expected  # nearest first
    assert doms.tiers.tolist() == [{1: 1, 2: 2, 3: 3, 4: 3}[f] if links is CHAIN else {3: 2, 4: 3}[f] for f in expected]


def test_tier_k_firms_are_entries():
    # 2 → 1 → 0 and 1 → 2 (a cycle): within 2 tiers, firm 2 is an entry (its supply is not traced)
    doms = scr.chokepoints(net_of([(1, 0, 1.0), (2, 1, 1.0), (1, 2, 1.0)], 3), np.array([0]), 2)[0]
    assert doms.firms.tolist() == [1, 2]


def _brute_force(net, o, k):
    up = [[] for _ in range(net.n_firms)]
    for s, c in zip(net.link_supplier.tolist(), net.link_customer.tolist(), strict=True):
        up[c].append(s)
    dist, frontier = {o: 0}, [o]
    for t in range(1, k + 1):
        frontier = [s for v in frontier for s in up[v] if s not in dist and not dist.__setitem__(s, t)]
    entries = {v for v in dist if dist[v] == k or not [s for s in up[v] if s != v]}

    def supplied(skip):
        seen, stack = {o}, [o] if o != skip else []
        while stack:
            v = stack.pop()
            if v in entries:
                return True
            for s in up[v]:
                if s in dist and s != skip and s not in seen:
                    seen.add(s)
                    stack.append(s)
        return False

    return {d for d in dist if d != o and not supplied(d)} if supplied(None) else None  # None: no supply enters


def test_dominators_match_definition_on_random_graphs():
    rng = np.random.default_rng(7)
    for _ in range(150):
        n = int(rng.integers(3, 14))
        e = int(rng.integers(1, 3 * n))
        net = from_arrays(rng.integers(0, n, e), rng.integers(0, n, e), np.ones(e), sector=np.zeros(n, dtype=int))
        k = int(rng.integers(1, 5))
        got = scr.chokepoints(net, np.arange(n), k)
        deeper = scr.chokepoints(net, np.arange(n), k + 1)
        for o in range(n):
            expected = _brute_force(net, o, k)
            assert set(got[o].firms.tolist()) == (expected or set())
            if expected is not None and _brute_force(net, o, k + 1) is not None:
                assert expected <= set(deeper[o].firms.tolist())  # monotone in k while supply enters


# --- criticality ------------------------------------------------------------------------------------------


def test_criticality_hand_computed():
    # firms: 0 owner O, 1 A, 2 B, 3 S, 4 X. Outputs: O 20 (c = 20), A 6, B 6, S 10, X 4.
    net = net_of(DIAMOND_VALUES, 5, final_demand=[20, 0, 0, 0, 0])
    h, _, converged = scr.criticality(net, np.array([0]))
    # M[A,O] = 6/20 = 0.3; M[S,A] = 5/6; M[X,S] = 4/10
    assert converged
    assert h.tolist() == pytest.approx([0.0, 6.0, 6.0, 20 * (0.3 * 5 / 6 * 2), 20 * (0.3 * 5 / 6 * 2) * 0.4])


DIAMOND_VALUES = [(3, 1, 5.0), (3, 2, 5.0), (1, 0, 6.0), (2, 0, 6.0), (4, 3, 4.0)]


def test_criticality_equals_leontief_inverse_with_cycles():
    rng = np.random.default_rng(3)
    n, e = 30, 120
    net = from_arrays(rng.integers(0, n, e), rng.integers(0, n, e), rng.random(e) + 0.1,
                      sector=np.zeros(n, dtype=int), final_demand=rng.random(n) + 0.5)  # fmt: skip
    owners = np.array([0, 5, 7])
    h, _, converged = scr.criticality(net, owners, tol=1e-14)
    m = scr.leontief_matrix(net).toarray()
    v = np.zeros(n)
    v[owners] = net.output[owners]
    expected = (np.linalg.inv(np.eye(n) - m) - np.eye(n)) @ v
    assert converged
    np.testing.assert_allclose(h, expected, rtol=1e-9, atol=1e-12)


# --- scope and high-risk dependence -----------------------------------------------------------------------


def test_scope_dependence_hand_computed():
    # c=0 buys 30 from a=1 (省内) and 10 from f=2 (境外); a buys 20 from g=3 (境外) and sells 40 (θ_a = 0.5)
    net = net_of(
        [(1, 0, 30.0), (2, 0, 10.0), (3, 1, 20.0)], 4,
        output=[50.0, 40.0, 10.0, 20.0],
        link_scope=[Scope.PROVINCE, Scope.OVERSEAS, Scope.OVERSEAS],
    )  # fmt: skip
    shares = scr.scope_shares(net)
    assert shares[0].tolist() == pytest.approx([0, 0.75, 0, 0.25, 0])
    dep = scr.upstream_share(net, net.link_scope == Scope.OVERSEAS)
    assert dep.direct[0] == pytest.approx(0.25)
    assert dep.upstream[0] == pytest.approx(0.25 + 0.75 * 0.5 * 1.0)
    assert dep.upstream[1] == pytest.approx(1.0)


def test_high_risk_regions():
    net = net_of([(1, 0, 3.0), (2, 0, 1.0), (3, 1, 2.0)], 4,
                 region=[330106, 420102, 330203, 420111], output=[10.0, 4.0, 1.0, 2.0])  # fmt: skip
    risky = scr.high_risk_firms(net, ["4201"])
    assert risky.tolist() == [False, True, False, True]
    assert scr.high_risk_firms(net, ["42"]).tolist() == risky.tolist()
    dep = scr.upstream_share(net, risky[net.link_supplier])
    assert dep.direct[0] == pytest.approx(0.75)
    assert dep.upstream[0] == pytest.approx(0.75)  # the first flagged link stops the trace


# --- the whole screen ------------------------------------------------------------------------------------


def test_screen_ranks_and_explains():
    net = net_of(DIAMOND_VALUES, 5, final_demand=[20, 0, 0, 0, 0], sector=[0, 1, 1, 2, 3],
                 link_scope=[Scope.PROVINCE, Scope.PROVINCE, Scope.CITY, Scope.CITY, Scope.OVERSEAS])  # fmt: skip
    result = scr.screen(net, [0], scr.ScreenParams(k=3), names=["整车厂", "电池甲", "电池乙", "电芯厂", "锂矿"])
    assert result.chokepoints[0].firms.tolist() == [3, 4]
    assert result.chokepoint_output.tolist() == [0, 0, 0, 20, 20]
    by_firm = {f.firm: f for f in result.findings}
    s = by_firm[3]
    assert "chokepoint" in s.reasons and s.chokepoint_owners == (0,)
    assert s.owners[0].owner == 0 and s.owners[0].path in ((3, 1, 0), (3, 2, 0))
    assert "整车厂" in s.explanation_zh and "断点" in s.explanation_zh
    assert "电芯厂 → 电池" in s.explanation_zh and "→ 整车厂" in s.explanation_zh
    assert "Owner 整车厂" in s.explanation_en and "chokepoint" in s.explanation_en
    assert s.owners[0].share == pytest.approx(0.5)
    # A and B are two sources of the same sector for the owner: neither is single-sourced
    assert by_firm[1].n_single_source == 0 and "chokepoint" not in by_firm[1].reasons
    assert result.score[1] == pytest.approx(6.0)
    x = by_firm[4]
    assert x.scope == Scope.OVERSEAS and "境外" in x.explanation_zh
    assert [f.firm for f in result.findings][:2] in ([3, 4], [4, 3])
    assert result.ranking().tolist()[-2:] == [1, 2]
    row = s.to_row(["整车厂", "电池甲", "电池乙", "电芯厂", "锂矿"])
    assert row["chokepoint_owners"] == "整车厂" and row["firm"] == "电芯厂"


def test_screen_bad_input():
    net = net_of(CHAIN, 4)
    with pytest.raises(EngineInputError):
        scr.ScreenParams(k=0)
    with pytest.raises(EngineInputError):
        scr.ScreenParams(high_risk=("hubei",))
    with pytest.raises(EngineInputError):
        scr.screen(net, [9])
    with pytest.raises(EngineInputError):
        scr.upstream_share(net, np.ones(2, dtype=bool))
