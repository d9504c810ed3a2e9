"""Nowcast from reported capacities and inventories (docs/engine/nowcast.md): analytical cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from gulian.engine.network import from_arrays
from gulian.engine.nowcast import RecoveryAssumption, capacity_path, nowcast, scenario_from_path
from gulian.engine.types import EngineInputError

NAN = np.nan
D = dt.date(2020, 2, 20)


def chain2():
    """Supplier 0 → owner 1 (10 a day); the owner sells 10 a day to final demand."""
    return from_arrays([0], [1], [10.0], sector=[0, 1], final_demand=[0.0, 10.0], firm_ids=["s", "o"])


def chain3():
    """Raw-material firm 0 → supplier 1 → owner 2, 10 a day each."""
    return from_arrays([0, 1], [1, 2], [10.0, 10.0], sector=[0, 1, 2], final_demand=[0.0, 0.0, 10.0])


@pytest.mark.parametrize("k", [3, 5, 8])
def test_stopped_supplier_stalls_the_owner_on_the_inventory_day(k):
    net = chain2()
    result = nowcast(net, capacity=np.array([0.0, 1.0]), inventory_days=np.array([NAN, float(k)]),
                     watch=np.array([1]), recovery=RecoveryAssumption("none"), start_date=D)  # fmt: skip
    owner = result.owners[0]
    assert owner.stall_step == k
    assert owner.stall_date == D + dt.timedelta(days=k)
    assert owner.direct_supplier == 0
    assert owner.root_supplier == 0
    assert owner.production.shape == (30,)
    assert owner.production[k - 1] == pytest.approx(1.0)
    assert owner.production[k] < 0.9
    assert result.stalls == [owner]


def test_everyone_at_full_capacity_means_no_stall_and_a_flat_curve():
    net = chain3()
    result = nowcast(net, capacity=np.ones(3), inventory_days=np.array([NAN, 2.0, 2.0]), watch=np.array([2]))
    owner = result.owners[0]
    assert owner.stall_step == -1 and owner.stall_date is None
    assert owner.direct_supplier == -1 and owner.root_supplier == -1
    np.testing.assert_allclose(owner.production, 1.0, rtol=1e-9)
    assert result.stalls == []
    assert result.scenario.firm_stops == ()


@pytest.mark.parametrize(("k_supplier", "k_owner"), [(3, 4), (2, 5), (5, 1)])
def test_root_cause_is_the_stopped_firm_two_tiers_up(k_supplier, k_owner):
    net = chain3()
    result = nowcast(net, capacity=np.array([0.0, 1.0, 1.0]),
                     inventory_days=np.array([NAN, float(k_supplier), float(k_owner)]),
                     watch=np.array([2]), recovery=RecoveryAssumption("none"))  # fmt: skip
    owner = result.owners[0]
    assert owner.direct_supplier == 1
    assert owner.root_supplier == 0
    # the supplier's stock and then the owner's are used up one after the other
    assert owner.stall_step == k_supplier + k_owner


def test_recovery_before_the_inventory_runs_out_prevents_the_stall():
    net = chain2()
    inventory = np.array([NAN, 10.0])
    none = nowcast(net, capacity=np.array([0.0, 1.0]), inventory_days=inventory, watch=np.array([1]),
                   recovery=RecoveryAssumption("none"))  # fmt: skip
    linear = nowcast(net, capacity=np.array([0.0, 1.0]), inventory_days=inventory, watch=np.array([1]),
                     recovery=RecoveryAssumption("linear", days=4))  # fmt: skip
    assert none.owners[0].stall_step == 10
    assert not linear.owners[0].stalls


def test_unknown_capacity_is_the_baseline_unless_told_otherwise():
    net = chain2()
    kwargs = {"capacity": np.array([NAN, 1.0]), "inventory_days": np.array([NAN, 2.0]), "watch": np.array([1]),
              "recovery": RecoveryAssumption("none")}  # fmt: skip
    assert not nowcast(net, **kwargs).owners[0].stalls
    worst = nowcast(net, unknown_capacity=0.0, **kwargs).owners[0]
    assert worst.stall_step == 2
    assert "cause_unreported" in worst.caveats
    assert "unreported_inputs" in worst.caveats and worst.unknown_input_share == pytest.approx(1.0)


def test_owner_inventory_unknown_uses_the_target_and_says_so():
    net = from_arrays([0], [1], [10.0], sector=[0, 1], final_demand=[0.0, 10.0], inventory_days=6.0)
    result = nowcast(net, capacity=np.array([0.0, 1.0]), inventory_days=np.array([NAN, NAN]),
                     watch=np.array([1]), recovery=RecoveryAssumption("none"))  # fmt: skip
    assert result.owners[0].stall_step == 6
    assert "inventory_unknown" in result.owners[0].caveats


def test_stale_report_of_the_cause_is_flagged():
    net = chain2()
    result = nowcast(net, capacity=np.array([0.0, 1.0]), inventory_days=np.array([NAN, 3.0]), watch=np.array([1]),
                     recovery=RecoveryAssumption("none"), report_age=np.array([5.0, 0.0]))  # fmt: skip
    assert result.owners[0].caveats == ("cause_stale",)


def test_capacity_path_equations():
    c0 = np.array([0.0, 0.5, 1.0, 0.2])
    trend = np.array([0.1, NAN, 0.0, -0.05])
    days = np.array([NAN, 2.0, NAN, NAN])
    path = capacity_path(c0, 13, RecoveryAssumption("linear", days=10), recovery_days=days)
    assert path.shape == (13, 4)
    np.testing.assert_allclose(path[0], c0)
    np.testing.assert_allclose(path[5], [0.5, 1.0, 1.0, 0.2 + 0.8 * 0.5])
    np.testing.assert_allclose(path[12], 1.0)
    by_trend = capacity_path(c0, 13, RecoveryAssumption("trend", days=10, delay=2), trend=trend)
    np.testing.assert_allclose(by_trend[2], c0)
    np.testing.assert_allclose(by_trend[7], [0.5, 0.5 + 0.5 * 0.5, 1.0, 0.2])  # a falling trend is held
    np.testing.assert_allclose(capacity_path(c0, 5, RecoveryAssumption("none"))[4], c0)


def test_scenario_reproduces_the_path_as_runs_of_equal_loss():
    net = chain2()
    path = capacity_path(np.array([0.0, 1.0]), 6, RecoveryAssumption("linear", days=3))
    scenario = scenario_from_path(net, path)
    assert scenario.recovery.kind == "immediate" and scenario.steps == 6
    stops = [(s.firm, s.start, s.days, round(s.capacity_loss, 3)) for s in scenario.firm_stops]
    assert stops == [("s", 0, 1, 1.0), ("s", 1, 1, 0.667), ("s", 2, 1, 0.333)]


def test_bad_input_is_refused():
    net = chain2()
    with pytest.raises(EngineInputError, match="capacity"):
        nowcast(net, capacity=np.ones(3), inventory_days=np.ones(2), watch=np.array([1]))
    with pytest.raises(EngineInputError, match="watch"):
        nowcast(net, capacity=np.ones(2), inventory_days=np.ones(2), watch=np.array([2]))
    with pytest.raises(EngineInputError, match="inventory_days"):
        nowcast(net, capacity=np.ones(2), inventory_days=np.array([1.0, -1.0]), watch=np.array([1]))
    with pytest.raises(EngineInputError, match="recovery"):
        RecoveryAssumption("sometime")


def test_an_owner_at_half_capacity_is_not_stalled_by_itself_and_its_stock_lasts_twice_as_long():
    net = chain2()
    kwargs = {"inventory_days": np.array([NAN, 3.0]), "watch": np.array([1]), "recovery": RecoveryAssumption("none")}
    running = nowcast(net, capacity=np.array([1.0, 0.5]), **kwargs).owners[0]
    assert not running.stalls
    np.testing.assert_allclose(running.production, 0.5)
    short = nowcast(net, capacity=np.array([0.0, 0.5]), **kwargs).owners[0]
    assert short.stall_step == 6  # 3 days of input at full use = 6 days at half use
    assert (short.direct_supplier, short.root_supplier) == (0, 0)
    assert short.caveats == ("own_capacity",)
