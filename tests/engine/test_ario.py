"""Sector-level ARIO (gulian.engine.ario): baseline, conservation, recovery, and BoARIO cross-checks.

The cross-checks run BoARIO's ``ARIOPsiModel`` (a GPL test-only extra, never imported by src/) on
pymrio's test system with the same event and parameters and compare production per industry and step.
Observed differences are ≤ 5e-13 of each industry's baseline (floating-point order of operations, and
BoARIO rounding recovered capital to 7 decimals with event_monetary_factor=10**6); the tolerance is
1e-9, well inside the 1e-6 the issue asks for, and far below the shocks' effect (tested too).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from gulian.engine.ario import ArioParams, MrioTable, Shock, simulate
from gulian.engine.types import EngineInputError

TOL = 1e-9


def small_table() -> MrioTable:
    """Two regions × two sectors, hand-written and consistent (x = Z·1 + Y·1)."""
    z = np.array([[10.0, 20.0, 5.0, 0.0], [15.0, 5.0, 0.0, 5.0], [5.0, 0.0, 10.0, 10.0], [0.0, 5.0, 20.0, 5.0]])
    y = np.array([[50.0, 15.0], [60.0, 15.0], [20.0, 40.0], [10.0, 60.0]])
    return MrioTable.from_arrays(z, y, None, ["A", "B"], ["farm", "mill"])


def test_unshocked_system_stays_at_baseline():
    table = small_table()
    res = simulate(table, (), ArioParams(), steps=200)
    base = table.x / 365.0
    np.testing.assert_allclose(res.production, np.broadcast_to(base, res.production.shape), rtol=1e-12)
    np.testing.assert_allclose(res.demand, np.broadcast_to(base, res.demand.shape), rtol=1e-12)
    assert np.all(res.final_demand_unmet < 1e-12 * base)
    assert np.all(res.overproduction == 1.0)


def test_value_added_capital_and_validation():
    table = small_table()
    np.testing.assert_allclose(table.value_added, table.x - table.Z.sum(axis=0))
    with pytest.raises(EngineInputError):
        MrioTable.from_arrays(np.ones((3, 3)), np.ones((4, 2)), None, ["A", "B"], ["farm", "mill"])
    with pytest.raises(EngineInputError, match="exceeds productive capital"):
        simulate(table, Shock("capital", table.value_added * 5.0), steps=3)
    with pytest.raises(EngineInputError, match="share"):
        simulate(table, Shock("capacity", np.full(4, 1.5)), steps=3)
    with pytest.raises(EngineInputError):
        ArioParams(psi=1.5)


def test_capacity_shock_propagates_rations_and_recovers():
    table = small_table()
    shock = Shock("capacity", np.array([0.0, 0.8, 0.0, 0.0]), occurrence=3, duration=30, recovery_tau=10)
    res = simulate(table, shock, ArioParams(), steps=400)
    ratio = res.production / res.baseline
    assert ratio[:3].min() == pytest.approx(1.0, rel=1e-12)  # before the event
    assert ratio[3, 1] == pytest.approx(0.2, rel=1e-12)  # capacity loss hits at occurrence
    assert ratio[3:60, 0].min() < 0.9  # A/farm, A/mill's customer, runs short of mill inputs
    # an input is named exactly when inputs bind (output below demand and capacity); for A/farm it is mill
    bound = res.production < np.minimum(res.demand, res.production_cap)
    np.testing.assert_array_equal(res.limiting_input >= 0, bound)
    assert bound[:, 0].sum() > 5 and np.all(res.limiting_input[bound[:, 0], 0] == 1)
    assert res.final_demand_unmet[3:20].sum() > 0  # households are rationed
    assert res.overproduction.max() > 1.0  # scarcity raises overproduction
    np.testing.assert_allclose(ratio[-1], 1.0, rtol=5e-3)  # back near equilibrium after a year


def test_short_inventories_collapse_like_boario():
    """ARIO's known collapse: with 10 days of inputs the same shock drags the tiny economy to zero.

    BoARIO does the same on this table (checked by hand: its path agrees to 3e-7); the model is not
    a guarantee of recovery, and callers must look at the result.
    """
    table = small_table()
    shock = Shock("capacity", np.array([0.0, 0.8, 0.0, 0.0]), occurrence=3, duration=30, recovery_tau=10)
    res = simulate(table, shock, ArioParams(main_inv_dur=10), steps=300)
    assert (res.production[-1] / res.baseline).max() < 1e-3
    assert np.all(res.production >= 0)


def test_conservation_of_flows_each_step():
    """Output is fully delivered: to intermediate orders, final demand, rebuilding; never more than demand."""
    table = small_table()
    shock = Shock("capital", table.value_added * np.array([0.0, 0.4, 0.0, 0.0]), occurrence=2, duration=2,
                  rebuild_tau=20, rebuilding_sectors=np.array([0.0, 1.0]))
    res = simulate(table, shock, ArioParams(), steps=300)
    assert np.all(res.production <= res.demand * (1 + 1e-12))
    assert np.all(res.production <= res.production_cap * (1 + 1e-12))
    # rationing is proportional: every demand component of an industry is served at the same rate x/D
    served = res.production / res.demand
    fd = table.Y.sum(axis=1) / 365.0
    np.testing.assert_allclose(res.final_demand_unmet, fd * (1 - served), rtol=1e-9, atol=1e-12)
    assert res.rebuild_demand[:3].sum() == 0 and res.rebuild_demand[4].sum() > 0
    # rebuilding demand is served and dies out; the destroyed capital comes back
    assert res.rebuild_demand[-1].sum() < 1e-3 * res.rebuild_demand[4].sum()
    assert (res.production / res.baseline).min() < 0.8
    np.testing.assert_allclose(res.production[-1], res.baseline, rtol=5e-2)


def test_final_demand_shock_lowers_output_in_proportion():
    table = small_table()
    shock = Shock("final_demand", np.array([0.5, 0.0]), occurrence=1, duration=400)
    res = simulate(table, shock, ArioParams(), steps=300)
    # with demand halved in region A and no capacity loss, output falls and nothing is rationed
    assert np.all(res.final_demand_unmet < 1e-9)
    assert res.by_region()[-1, 0] < 0.8 * res.by_region()[0, 0]
    assert res.lost_output().sum() > 0


def test_from_iosystem_matches_arrays():
    pymrio = pytest.importorskip("pymrio", reason="pymrio (LGPL, optional 'mrio' extra) is not installed")
    io = pymrio.load_test()
    io.calc_all()
    table = MrioTable.from_iosystem(io)
    assert table.n_regions == 6 and table.n_sectors == 8
    np.testing.assert_allclose(table.x, io.x.to_numpy().ravel())
    res = simulate(table, (), ArioParams(), steps=30)
    np.testing.assert_allclose(res.production[-1], table.x / 365.0, rtol=1e-12)


# --- cross-check against BoARIO ------------------------------------------------------------------


@pytest.fixture(scope="module")
def boario_env():
    pymrio = pytest.importorskip("pymrio", reason="pymrio is not installed: no BoARIO cross-check")
    pytest.importorskip("boario", reason="boario (GPL test-only extra) is not installed: no cross-check")
    try:
        from boario.event import from_series
        from boario.extended_models import ARIOPsiModel
        from boario.simulation import Simulation
    except ImportError as exc:  # e.g. its progressbar2 dependency missing
        pytest.skip(f"boario is installed but not importable: {exc}")
    logging.getLogger("boario").setLevel(logging.ERROR)
    io = pymrio.load_test()
    io.calc_all()
    return io, ARIOPsiModel, Simulation, from_series, MrioTable.from_iosystem(io)


def _boario_run(env, event_kwargs, impact_share, order_type="alt", steps=150):
    io, model_cls, simulation_cls, from_series, table = env
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = model_cls(io, order_type=order_type)
        idx = model.industries
        impact = (impact_share * model.productive_capital if event_kwargs["event_type"] != "arbitrary"
                  else impact_share)
        import pandas as pd

        sim = simulation_cls(model, n_temporal_units_to_sim=steps)
        sim.add_event(from_series(pd.Series(impact, index=idx), **event_kwargs))
        sim.loop()
    gulian_of = {label: k for k, label in enumerate(table.industries)}
    perm = np.array([gulian_of[label] for label in idx])  # BoARIO sorts labels; ours keep pymrio's order
    ours = np.zeros(len(perm))
    ours[perm] = impact
    return sim.production_realised.to_numpy()[:steps], ours, perm, table


def _impact_share(env) -> np.ndarray:
    io, model_cls, *_ = env
    labels = sorted((r, s) for r in io.get_regions() for s in io.get_sectors())
    share = np.zeros(len(labels))
    share[labels.index(("reg2", "manufactoring"))] = 0.5
    share[labels.index(("reg2", "electricity"))] = 0.3
    return share


def _compare(theirs, ours_result, perm, tol=TOL):
    mine = ours_result.production[:, perm]
    base = theirs[0]
    assert np.max(np.abs(mine - theirs) / base) < tol
    # the comparison is not vacuous: the event moves output far beyond the tolerance
    assert np.max(np.abs(theirs / base - 1)) > 0.2


@pytest.mark.parametrize("order_type", ["alt", "noalt"])
@pytest.mark.parametrize("recovery", ["linear", "convexe", "concave"])
def test_matches_boario_capital_recovery(boario_env, order_type, recovery):
    kwargs = dict(event_type="recovery", occurrence=5, duration=3, recovery_tau=30, recovery_function=recovery,
                  event_monetary_factor=10**6)
    theirs, impact, perm, table = _boario_run(boario_env, kwargs, _impact_share(boario_env), order_type)
    shock = Shock("capital", impact, occurrence=5, duration=3, recovery_tau=30, recovery_function=recovery)
    _compare(theirs, simulate(table, shock, ArioParams(order_type=order_type), steps=len(theirs)), perm)


def test_matches_boario_rebuilding(boario_env):
    kwargs = dict(event_type="rebuild", occurrence=5, duration=3, rebuild_tau=30, event_monetary_factor=10**6,
                  rebuilding_sectors={"construction": 0.7, "manufactoring": 0.3})
    theirs, impact, perm, table = _boario_run(boario_env, kwargs, _impact_share(boario_env), steps=200)
    shares = np.zeros(table.n_sectors)
    shares[table.sectors.index("construction")] = 0.7
    shares[table.sectors.index("manufactoring")] = 0.3
    shock = Shock("capital", impact, occurrence=5, duration=3, rebuild_tau=30, rebuilding_sectors=shares)
    _compare(theirs, simulate(table, shock, ArioParams(), steps=len(theirs)), perm)


def test_matches_boario_capacity_loss_one_step_later(boario_env):
    """BoARIO applies an arbitrary capacity loss one step after its occurrence (docs/engine/ario.md)."""
    kwargs = dict(event_type="arbitrary", occurrence=5, duration=3, recovery_tau=20)
    theirs, impact, perm, table = _boario_run(boario_env, kwargs, _impact_share(boario_env))
    shock = Shock("capacity", impact, occurrence=6, duration=3, recovery_tau=20)
    _compare(theirs, simulate(table, shock, ArioParams(), steps=len(theirs)), perm)


def test_matches_boario_base_model_with_psi_one(boario_env):
    """ARIOBaseModel = ψ 1 and inventory gaps closed in one step.

    Here stocks come back to their targets within BoARIO's ``allclose`` tolerance (rtol 1e-5), where
    BoARIO stops booking flows. The paths are identical (≤ 1e-14) until that short-cut first fires
    (step 66); then they differ by up to 8e-7 of baseline, or 1.7e-7 with ``boario_tolerances`` (which
    copies the short-cut, but one rounding-level flip of its yes/no at step 78 remains). Hence 1e-6 here.
    """
    from boario.model_base import ARIOBaseModel

    io, _psi_cls, simulation_cls, from_series, table = boario_env
    env = (io, ARIOBaseModel, simulation_cls, from_series, table)
    kwargs = dict(event_type="recovery", occurrence=5, duration=3, recovery_tau=30, event_monetary_factor=10**6)
    theirs, impact, perm, table = _boario_run(env, kwargs, _impact_share(boario_env))
    shock = Shock("capital", impact, occurrence=5, duration=3, recovery_tau=30)
    params = ArioParams(psi=1.0, inventory_restoration_tau=1.0, boario_tolerances=True)
    _compare(theirs, simulate(table, shock, params, steps=len(theirs)), perm, tol=1e-6)
    exact = ArioParams(psi=1.0, inventory_restoration_tau=1.0)
    _compare(theirs, simulate(table, shock, exact, steps=len(theirs)), perm, tol=1e-6)
