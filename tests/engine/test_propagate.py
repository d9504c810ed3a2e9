"""Analytical cases for the propagation model (docs/engine/propagate.md)."""

import numpy as np
import pytest

from gulian.engine.generate import chung_lu
from gulian.engine.network import from_arrays
from gulian.engine.propagate import PropagationParams, Rationing, simulate
from gulian.engine.scenario import FirmStop, LinkCut, Lockdown, Recovery, Scenario
from gulian.engine.types import EngineInputError

A, B, C, A2 = 0, 1, 2, 3


def chain(inventory_days=5.0, second_supplier_sector=None):
    """A → B → C (and optionally A2 → B, A2 with a large final demand it can cut)."""
    sup, cus, val, sector, final = [A, B], [B, C], [10.0, 10.0], [0, 1, 2], [1.0, 2.0, 10.0]
    if second_supplier_sector is not None:
        sup.append(A2)
        cus.append(B)
        val.append(10.0)
        sector.append(second_supplier_sector)
        final.append(100.0)
    return from_arrays(sup, cus, val, sector=sector, final_demand=final, inventory_days=inventory_days)


STOP_A = Scenario(firm_stops=(FirmStop(firm=A, capacity_loss=1.0),))


@pytest.mark.parametrize("days", [3, 5, 12])
@pytest.mark.parametrize("rationing", list(Rationing))
@pytest.mark.parametrize("order", [0, 1, 2])
def test_stall_day_equals_inventory_days(days, rationing, order):
    net = chain(float(days))
    params = PropagationParams(steps=40, rationing=rationing, order=order)
    res = simulate(net, STOP_A, params, watch=np.array([A, B, C]))
    assert res.stall_day.tolist() == [0, days, 2 * days]
    assert res.stall_cause.tolist() == [-1, A, B]
    assert res.root_cause.tolist() == [A, A, A]
    # B produces its full output until its stock of A's input is gone.
    b = res.watch_production[:, 1]
    np.testing.assert_allclose(b[: days + 1], 12.0)
    assert b[days + 1] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("rationing", list(Rationing))
def test_stall_days_follow_each_firms_and_each_links_own_target(rationing):
    # Targets that differ between firms, or between links, take the kernel's per-link path.
    sup, cus, val, sector, final = [A, B], [B, C], [10.0, 10.0], [0, 1, 2], [1.0, 2.0, 10.0]
    per_firm = from_arrays(sup, cus, val, sector=sector, final_demand=final, inventory_days=[9.0, 3.0, 7.0])
    per_link = from_arrays(sup, cus, val, sector=sector, final_demand=final, inventory_days=[9.0, 3.0, 7.0],
                           link_inventory_days=[4.0, np.nan])  # fmt: skip
    params = PropagationParams(steps=40, rationing=rationing)
    firm_res = simulate(per_firm, STOP_A, params, watch=np.array([A, B, C]))
    assert firm_res.stall_day.tolist() == [0, 3, 3 + 7]
    link_res = simulate(per_link, STOP_A, params, watch=np.array([A, B, C]))
    assert link_res.stall_day.tolist() == [0, 4, 4 + 7]
    assert link_res.stall_cause.tolist() == [-1, A, B]


@pytest.mark.parametrize("order", [0, 1, 2])
def test_order_rules_after_a_customers_own_cut(order):
    # B loses half its capacity for good; A is untouched; B's stock is 55 after the first day
    # (target 50). Rule 0 aims it at n·a·P/x0 = 25, so B orders far less than it uses for a while
    # (A's output 1 + orders dips to 1); rule 1 keeps the target at n·a and only works off the 5
    # (dips to 1 + 5 − 5/τ); rule 2 never orders below use (A at 1 + 5 throughout).
    cut_b = Scenario(firm_stops=(FirmStop(firm=B, capacity_loss=0.5),))
    res = simulate(chain(5.0), cut_b, PropagationParams(steps=60, order=order), watch=np.array([A]))
    a_out = res.watch_production[2:, 0]
    np.testing.assert_allclose(a_out[-10:], 6.0, rtol=1e-3)
    expected_low = {0: 1.0, 1: 6.0 - 5.0 / 6.0, 2: 6.0}[order]
    assert a_out.min() == pytest.approx(expected_low, rel=1e-9)


@pytest.mark.parametrize("rationing", [Rationing.FINAL_LAST, Rationing.SMALL_FIRST_FINAL_LAST])
def test_substitutable_supplier_in_same_sector_prevents_stall(rationing):
    params = PropagationParams(steps=60, rationing=rationing)
    # Orders restore a link's own stock only, so the second supplier can cover the first one's share
    # when the target stock outlasts the restoration time: n ≥ τ·(a_A / a_A2) (docs, "Substitution").
    same = simulate(chain(15.0, second_supplier_sector=0), STOP_A, params, watch=np.array([B, C]))
    assert same.stall_day.tolist() == [-1, -1]
    assert same.watch_production[-1] == pytest.approx([12.0, 10.0], rel=1e-3)
    other = simulate(chain(15.0, second_supplier_sector=5), STOP_A, params, watch=np.array([B, C]))
    assert other.stall_day.tolist() == [15, 30]  # a different sector is not a substitute (Leontief)


@pytest.mark.parametrize("rationing", list(Rationing))
def test_unshocked_network_stays_at_baseline(rationing):
    net = chung_lu(300, 1500, 10, rng=np.random.default_rng(3))
    res = simulate(net, Scenario(), PropagationParams(steps=30, rationing=rationing, keep_firms=True))
    np.testing.assert_allclose(res.firm_production, np.broadcast_to(res.baseline, res.firm_production.shape), rtol=1e-12)
    np.testing.assert_allclose(res.total_production, res.total_production[0], rtol=1e-12)
    assert res.lost_output == pytest.approx(0.0, abs=1e-9 * res.total_production[0])


def shocked_run(rationing, **kw):
    net = chung_lu(400, 2400, 8, rng=np.random.default_rng(11), inventory_days=4.0)
    region = np.where(np.arange(net.n_firms) % 7 == 0, 330100, 330200)
    net = from_arrays(net.link_supplier, net.link_customer, net.links.data, sector=net.sector,
                      final_demand=net.final_demand, inventory_days=4.0, region=region)
    scenario = Scenario(lockdowns=(Lockdown("3301", days=10, capacity_loss=0.8),),
                        recovery=Recovery("proportional", days=10), **kw)
    return net, simulate(net, scenario, PropagationParams(steps=50, rationing=rationing, keep_firms=True))


@pytest.mark.parametrize("rationing", list(Rationing))
def test_no_negative_inventory_and_flows_conserved(rationing):
    net, res = shocked_run(rationing)
    assert res.min_inventory >= 0.0
    assert res.total_production.min() < 0.95 * res.total_production[0]  # the shock bites
    served = res.shipments + res.final_consumption
    if rationing == Rationing.SMALL_FIRST:
        # proNet's -R 2 keeps charging final demand after serving it: deliveries never exceed output.
        assert np.all(served <= res.total_production * (1 + 1e-12))
    else:
        np.testing.assert_allclose(served, res.total_production, rtol=1e-10)


def test_link_cut_loses_deliveries():
    net = chain(5.0)
    cut = Scenario(link_cuts=(LinkCut(supplier=B, customer=C, start=0, days=8),))
    res = simulate(net, cut, PropagationParams(steps=20, rationing=Rationing.PROPORTIONAL, keep_firms=True), watch=np.array([C]))
    assert res.stall_day.tolist() == [5]
    assert res.stall_cause.tolist() == [B]
    served = res.shipments + res.final_consumption
    assert np.all(served[1:6] < res.total_production[1:6])  # B → C deliveries lost while cut


def test_deterministic():
    a = shocked_run(Rationing.SMALL_FIRST)[1]
    b = shocked_run(Rationing.SMALL_FIRST)[1]
    np.testing.assert_array_equal(a.firm_production, b.firm_production)
    np.testing.assert_array_equal(a.total_production, b.total_production)


def test_groups_and_progress():
    net, _ = shocked_run(Rationing.PROPORTIONAL)
    labels = (np.arange(net.n_firms) % 3).astype(np.int64)
    labels[:5] = -1
    seen = []
    res = simulate(
        net, Scenario(lockdowns=(Lockdown("3301", 5, 0.5),)), PropagationParams(steps=12, keep_firms=True),
        groups={"k": labels}, progress=lambda s, n: seen.append((s, n)))
    assert seen[-1] == (12, 12) and len(seen) == 12
    assert res.group_production["k"].shape == (13, 3)
    expected = np.stack([np.bincount(labels[labels >= 0], weights=row[labels >= 0], minlength=3) for row in res.firm_production])
    np.testing.assert_allclose(res.group_production["k"], expected)


def test_initial_inventory_days_shorten_survival():
    net = chain(10.0)
    days = np.array([np.nan, 2.0, np.nan])
    res = simulate(net, STOP_A, PropagationParams(steps=30), watch=np.array([B]), initial_inventory_days=days)
    assert res.stall_day.tolist() == [2]


def test_bad_params():
    net = chain()
    with pytest.raises(EngineInputError):
        simulate(net, Scenario(), PropagationParams(tau=0))
    with pytest.raises(EngineInputError, match="substitution"):
        simulate(net, Scenario(), PropagationParams(substitution=True, substitution_delay=-1))
    with pytest.raises(EngineInputError, match="watch"):
        simulate(net, Scenario(), watch=np.array([7]))


def test_spare_capacity_refills_stocks_above_baseline():
    """With h = 0 (proNet) a supplier never ships more than its baseline; with h it refills a customer's stock."""

    net = from_arrays([0], [1], [10.0], sector=[0, 1], final_demand=[0.0, 20.0], inventory_days=15.0)
    low = np.array([np.nan, 2.0])  # the customer starts with 2 days of its 15-day target
    plain = simulate(net, Scenario(steps=20), PropagationParams(steps=20, keep_firms=True), initial_inventory_days=low)
    spare = simulate(
        net, Scenario(steps=20), PropagationParams(steps=20, keep_firms=True, spare_capacity=0.25),
        initial_inventory_days=low,
    )
    assert plain.firm_production[:, 0].max() == pytest.approx(10.0)
    assert spare.firm_production[1:, 0].max() == pytest.approx(12.5)  # (1 + h)·x0 while restoring
    assert spare.firm_production[-1, 1] == pytest.approx(20.0)
    with pytest.raises(EngineInputError, match="spare_capacity"):
        simulate(net, Scenario(steps=2), PropagationParams(steps=2, spare_capacity=-0.1))
