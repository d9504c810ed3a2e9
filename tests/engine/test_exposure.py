"""Time-to-survive, performance impact and REI on small networks computed by hand (docs/engine/exposure.md).

The textbook chain, values in yuan per day::

    S (0) --10--> M (1) --20--> O (2) --50--> final demand

x_S = 10, x_M = 20, x_O = 50. M holds τ = 5 days of S's part (50 yuan), O holds τ = 8 days of M's
part (160 yuan); no finished goods, no spare capacity, no alternatives.

Hand computation of TTS when S is knocked out at day 0:
* M needs 0.5 yuan of S's part per yuan of output; its 50 yuan of stock make 100 yuan of output,
  i.e. 5 days of M's baseline output (20/day).
* O needs 20 yuan/day of M's part: M's 100 yuan plus O's own stock of 160 = 260 yuan → 13 days.
* So TTS_S = τ_M + τ_O = 5 + 8 = 13 days; TTS_M = τ_O = 8 days; TTS_O = 0 (O's own demand has no
  finished goods to draw on).

Performance impact with TTR = 20 days for every node: O meets demand for TTS days and loses 50/day
after, so PI_S = 50 · (20 − 13) = 350, PI_M = 50 · 12 = 600, PI_O = 50 · 20 = 1000, and REI =
PI / 1000 = 0.35, 0.6, 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gulian.engine.exposure import (
    FALLBACK_TTR,
    exposure,
    exposure_by_propagation,
    exposure_input,
    industry_ttr,
    load_ttr_defaults,
    local_survival_bound,
    performance_impact,
    time_to_survive,
)
from gulian.engine.generate import chung_lu
from gulian.engine.network import from_arrays
from gulian.engine.types import EngineInputError


def textbook(**kwargs):
    net = from_arrays(
        [0, 1],
        [1, 2],
        [10.0, 20.0],
        sector=[0, 1, 2],
        final_demand=[0.0, 0.0, 50.0],
        link_inventory_days=[5.0, 8.0],
    )
    kwargs.setdefault("ttr", 20.0)
    return exposure_input(net, **kwargs)


@pytest.mark.parametrize("solver", ["warm", "linprog"])
@pytest.mark.parametrize("scope", ["local", "network"])
def test_textbook_tts_equals_hand_computation(solver, scope):
    tts = time_to_survive(textbook(), scope=scope, solver=solver)
    np.testing.assert_allclose(tts, [13.0, 8.0, 0.0], atol=1e-7)


def test_spare_capacity_at_an_input_starved_firm_does_not_help():
    # M has no input to use its spare capacity with: TTS_S stays 13.
    np.testing.assert_allclose(time_to_survive(textbook(spare=[0.0, 0.5, 0.0]))[0], 13.0, atol=1e-7)


def test_alternative_source_lengthens_tts():
    """α = 0.5 on S→M: M gets 5/day elsewhere, so p_M ≤ 0.5 t + 5 and t ≤ p_M + 8 → TTS_S = 26."""
    tts = time_to_survive(textbook(alternative=[0.5, 0.0]))
    np.testing.assert_allclose(tts[0], 26.0, atol=1e-7)
    assert tts[0] > time_to_survive(textbook())[0]


def test_substitutable_second_supplier_with_spare_capacity():
    """S and S2 (same sector) supply M 10/day each; S2 has 50 % spare → 15/day.

    M's input group: p_M ≤ 0.5 φ_S2 + 5 with φ_S2 ≤ 1.5 t, and t ≤ p_M + 8, so t ≤ 0.75 t + 13 → 52.
    With per-link inputs (no substitution) S2 cannot stand in: TTS_S = 13 again.
    """
    net = from_arrays(
        [0, 3, 1],
        [1, 1, 2],
        [10.0, 10.0, 20.0],
        sector=[0, 1, 2, 0],
        final_demand=[0.0, 0.0, 50.0, 0.0],
        link_inventory_days=[5.0, 5.0, 8.0],
    )
    sector = exposure_input(net, ttr=20.0, spare=[0.0, 0.0, 0.0, 0.5])
    np.testing.assert_allclose(time_to_survive(sector, [0])[0], 52.0, atol=1e-7)  # S2 on the frontier
    np.testing.assert_allclose(time_to_survive(sector, [0], scope="network")[0], 52.0, atol=1e-7)
    link = exposure_input(net, ttr=20.0, spare=[0.0, 0.0, 0.0, 0.5], substitution="link")
    np.testing.assert_allclose(time_to_survive(link, [0])[0], 13.0, atol=1e-7)


def test_performance_impact_and_rei_match_hand_computation():
    result = exposure(textbook())
    np.testing.assert_allclose(result.tts, [13.0, 8.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(result.pi, [350.0, 600.0, 1000.0], rtol=1e-7)
    np.testing.assert_allclose(result.rei, [0.35, 0.6, 1.0], rtol=1e-7)
    np.testing.assert_allclose(result.shortage, [7.0, 12.0, 20.0], atol=1e-7)
    assert result.at_risk.all()
    assert list(result.nodes[result.order]) == [2, 1, 0]


def test_tts_at_least_ttr_is_not_flagged_and_has_no_impact():
    inp = textbook(alternative=[0.5, 0.0], ttr=[10.0, 20.0, 20.0])  # TTS_S = 26 ≥ 10
    result = exposure(inp, [0])
    assert not result.at_risk[0]
    assert result.shortage[0] == 0.0
    assert result.pi[0] == 0.0
    # TTR 30 > TTS 26: 4 days short. Over 30 days M makes 5 + 0.5 · 30 = 20 days of output, so O
    # makes 20 + 8 = 28 days' worth and loses 2 days of demand: PI = 50 · 2 = 100 (the network
    # keeps delivering at half rate after day 26, which the aggregate model credits).
    longer = exposure(textbook(alternative=[0.5, 0.0], ttr=30.0), [0])
    assert longer.at_risk[0]
    np.testing.assert_allclose(longer.shortage[0], 4.0, atol=1e-7)
    np.testing.assert_allclose(longer.pi[0], 100.0, rtol=1e-7)


def test_finished_goods_carry_the_owner():
    # O keeps 3 days of output (150 yuan) as finished goods: TTS_O = 150 / 50 = 3, TTS_M = 8 + 3.
    inp = textbook(finished_days=[0.0, 0.0, 3.0])
    np.testing.assert_allclose(time_to_survive(inp), [16.0, 11.0, 3.0], atol=1e-7)
    np.testing.assert_allclose(time_to_survive(inp, solver="linprog"), [16.0, 11.0, 3.0], atol=1e-7)


def test_node_without_path_to_demand_survives_forever():
    # Firm 3 only supplies firm 4, which has no final demand and sells to nobody.
    net = from_arrays(
        [0, 1, 3], [1, 2, 4], [10.0, 20.0, 5.0], sector=[0, 1, 2, 0, 1], final_demand=[0, 0, 50.0, 0, 0]
    )
    inp = exposure_input(net, ttr=20.0)
    assert not inp.relevant[3] and not inp.relevant[4]
    tts = time_to_survive(inp)
    assert math.isinf(tts[3]) and math.isinf(tts[4])
    assert performance_impact(inp, [3])[0] == 0.0


def test_horizon_caps_to_infinity():
    inp = textbook(alternative=[1.0, 0.0], horizon=100.0)  # S fully replaceable
    assert math.isinf(time_to_survive(inp, [0])[0])


def test_demand_nodes_restrict_the_demand():
    # Only M's (zero) demand counts → nothing to protect.
    with pytest.raises(EngineInputError, match="no final demand"):
        textbook(demand_nodes=[1])
    assert textbook(demand_nodes=[2]).demand.tolist() == [0.0, 0.0, 50.0]


def random_input(seed=7):
    net = chung_lu(150, 600, 6, rng=np.random.default_rng(seed), inventory_days=4.0)
    rng = np.random.default_rng(3)
    owners = np.argsort(net.output)[-5:]
    return exposure_input(
        net,
        ttr=30.0,
        demand_nodes=owners,
        spare=0.1,
        alternative=np.where(rng.random(net.n_links) < 0.3, 0.3, 0.0),
        finished_days=np.where(np.isin(np.arange(net.n_firms), owners), 2.0, 0.0),
        horizon=200.0,
    )


def test_solvers_agree_and_bounds_are_ordered():
    """warm == linprog; local_survival_bound ≤ TTS_local ≤ TTS_network; PI_local ≥ PI_network."""
    inp = random_input()
    nodes = np.flatnonzero(inp.relevant)[:40]
    warm = time_to_survive(inp, nodes, scope="network", solver="warm")
    cold = time_to_survive(inp, nodes, scope="network", solver="linprog")
    np.testing.assert_allclose(warm, cold, rtol=1e-6, atol=1e-6)
    local = time_to_survive(inp, nodes)
    np.testing.assert_allclose(local, time_to_survive(inp, nodes, solver="linprog"), rtol=1e-6, atol=1e-6)
    assert np.all(local_survival_bound(inp)[nodes] <= local + 1e-7)
    assert np.all(local <= warm + 1e-6)
    assert np.isfinite(warm).any(), "the test network should have some finite TTS"
    pi_net = performance_impact(inp, nodes, tts=warm, scope="network", solver="warm")
    np.testing.assert_allclose(
        pi_net, performance_impact(inp, nodes, tts=warm, scope="network", solver="linprog"), rtol=1e-6, atol=1e-6
    )
    assert np.all((pi_net > 0) == (warm < 30.0))
    pi_local = performance_impact(inp, nodes, tts=local)
    assert np.all(pi_local >= pi_net - 1e-6 * np.maximum(pi_net, 1.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"spare": -0.1}, "spare"),
        ({"alternative": [0.5]}, "alternative"),
        ({"ttr": [1.0, np.nan, 2.0]}, "ttr"),
        ({"substitution": "firm"}, "substitution"),
        ({"horizon": 0.0}, "horizon"),
        ({"demand": [0.0, 0.0, 0.0]}, "no final demand"),
        ({"demand_nodes": [7]}, "demand_nodes"),
    ],
)
def test_bad_inputs_are_named(kwargs, message):
    with pytest.raises(EngineInputError, match=message):
        textbook(**kwargs)


def test_bad_nodes_and_solver():
    inp = textbook()
    with pytest.raises(EngineInputError, match="nodes"):
        time_to_survive(inp, [5])
    with pytest.raises(EngineInputError, match="solver"):
        time_to_survive(inp, [0], solver="simplex")
    with pytest.raises(EngineInputError, match="scope"):
        time_to_survive(inp, [0], scope="global")
    with pytest.raises(EngineInputError, match="tts"):
        performance_impact(inp, [0, 1], tts=np.zeros(3))


def test_industry_ttr_defaults():
    table = load_ttr_defaults()
    assert table["C"] > 0 and table["39"] > table["33"]
    assert industry_ttr("3670", table) == table["36"]  # class → its division
    assert industry_ttr("C", table) == table["C"]
    assert industry_ttr("16", table) == table["C"]  # division missing from the table → its section
    assert industry_ttr("5810", table) == table["G"]
    assert industry_ttr(None, table) == FALLBACK_TTR
    assert all(v > 0 for v in table.values())


def test_propagation_estimate_agrees_with_the_lp_on_the_textbook_chain():
    """The simulated stop of S (M, O) stalls O within a day of the LP's TTS; losses are at least the LP's.

    The dynamic model stalls O on the day its stock no longer covers 90 % of output (the day before
    the LP's aggregate runs out), and after the node is back it still loses output while
    inventories refill, so its PI is larger.
    """
    inp = textbook()
    lp = exposure(inp)
    sim = exposure_by_propagation(inp)
    assert sim.method == "propagation"
    assert np.all(sim.tts <= lp.tts) and np.all(sim.tts >= lp.tts - 1.0)
    assert sim.tts[2] == 0.0
    assert np.all(sim.pi >= lp.pi - 1e-6) and sim.at_risk.all()
