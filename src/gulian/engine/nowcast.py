"""Nowcast (临近预测): from today's reports, which chain owners stall in the next days, and why.

The maths is in docs/engine.md, "Nowcast" (written up in docs/engine/nowcast.md). In short:

* current capacity ``c_i(0)`` per firm = its reported utilisation, clipped to ``[0, 1]`` (a firm
  that has not resumed reports 0); a firm with no usable report (NaN) is assumed at
  ``unknown_capacity`` (default 1, the baseline: foreign suppliers never report);
* capacity over the horizon follows a :class:`RecoveryAssumption` (``none``, ``linear`` over R
  days, or each firm's own recent ``trend``), giving ``c_i(t)`` for the days ``t = 0..H−1``
  (day ``t`` is the calendar day ``D + t``, day 0 the report date itself);
* the path is turned into a :class:`~gulian.engine.scenario.Scenario` of firm stops
  (capacity loss ``1 − c_i(t)``, piecewise constant) and run with
  :func:`~gulian.engine.propagate.simulate` from the reported inventories (days of input; NaN =
  the network's target), watching the chain owners;
* per owner: the first day with production below ``threshold × x0`` (the stall day), the direct
  supplier whose shortfall bound production that day, the root-cause supplier, the projected
  production curve ``x_j(t) / x0_j``, and caveats on the data behind the forecast.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gulian.engine.network import SupplyNetwork
from gulian.engine.propagate import PropagationParams, SimulationResult, simulate
from gulian.engine.scenario import FirmStop, Recovery, Scenario
from gulian.engine.types import EngineInputError, FloatArray, IndexArray

RECOVERY_KINDS = ("none", "linear", "trend")
LOSS_QUANTUM = 1e-3
"""Capacity losses are rounded to 0.1 % before being cut into firm stops (fewer, equal stops)."""

UNKNOWN_INPUT_SHARE = 0.2
"""An owner whose direct inputs come for more than this share (by value) from firms with no report
gets the ``unreported_inputs`` caveat."""

CAVEATS = {
    "own_capacity": (
        "链主自身未满产，停产按其自身产能衡量",
        "the owner itself reports reduced capacity; the stall is measured against it",
    ),
    "cause_unknown": ("未能追溯到断供企业（可能为需求下降）", "no supplier traced as the cause (perhaps a demand drop)"),
    "inventory_unknown": ("链主未报库存天数，按目标库存计", "the owner reported no inventory days; its target was used"),
    "cause_unreported": ("断供企业无日报，产能为假设值", "the causing supplier has no report; its capacity is assumed"),
    "cause_stale": ("断供企业日报已过期，沿用最近一次", "the causing supplier's report is old; the last one was used"),
    "cause_foreign": ("断供企业在境外，不报送日报", "the causing supplier is abroad and does not report"),
    "unreported_inputs": (
        "链主较多直接投入来自未报送企业",
        "a large share of the owner's direct inputs comes from firms without reports",
    ),
}
"""Caveat code → (Chinese, English), as every user-visible message in Gulian."""


@dataclass(frozen=True)
class RecoveryAssumption:
    """How each firm's capacity evolves after today (docs/engine/nowcast.md, "Recovery").

    With ``c = c_i(0)``, ``d = delay``, ``R = days`` and ``s_i`` the firm's trend (utilisation
    points per day, from its recent reports):

    * ``none``: ``c_i(t) = c`` (today's state persists: the pessimistic bound);
    * ``linear``: ``c_i(t) = c + (1 − c) · clip((t − d) / R_i, 0, 1)`` (proNet's proportional
      recovery), with ``R_i`` the firm's own surveyed recovery days where known, else ``R``;
    * ``trend``: ``c_i(t) = min(1, c + max(s_i, 0) · max(t − d, 0))``; a firm without a trend
      (NaN) recovers ``linear``-ly. A falling trend is not extrapolated (held at ``c``): falling
      utilisation is usually the input shortage that the simulation itself reproduces.
    """

    kind: str = "trend"
    days: int = 14
    delay: int = 0

    def __post_init__(self) -> None:
        """Reject unknown kinds and non-positive recovery days."""
        if self.kind not in RECOVERY_KINDS:
            raise EngineInputError(
                f"recovery.kind: 应为 {'/'.join(RECOVERY_KINDS)} / must be one of {', '.join(RECOVERY_KINDS)}"
            )
        if self.days < 1 or self.delay < 0:
            raise EngineInputError("recovery: days ≥ 1, delay ≥ 0 / 恢复天数应 ≥ 1，延迟应 ≥ 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class OwnerForecast:
    """One watched chain owner's projection."""

    firm: int
    stall_step: int  # first day t (0..H−1; date D + t) below the threshold; -1 = no stall within the horizon
    direct_supplier: int  # firm index; -1 = own capacity / none
    root_supplier: int  # firm index; -1 = unknown / none
    production: FloatArray  # (H,) x_j(t) / x0_j for the days t = 0..H−1
    caveats: tuple[str, ...]
    unknown_input_share: float  # share of direct input value from firms with unknown capacity
    stall_date: dt.date | None = None

    @property
    def stalls(self) -> bool:
        """True when the owner falls below the threshold within the horizon."""
        return self.stall_step >= 0


@dataclass
class NowcastResult:
    """Per watched owner the forecast (``owners``, in the order of ``watch``); the assumptions used."""

    horizon: int
    start_date: dt.date | None
    owners: list[OwnerForecast]
    total_production: FloatArray  # (H,) Σ x(t) / Σ x0
    lost_output: float
    initial_capacity: FloatArray  # (N,) c_i(0) after the unknown-capacity assumption
    capacity_known: np.ndarray[Any, Any]  # (N,) bool: a report gave the capacity
    scenario: Scenario
    assumptions: dict[str, Any] = field(default_factory=dict)

    @property
    def stalls(self) -> list[OwnerForecast]:
        """Owners predicted to stall, earliest first."""
        return sorted((o for o in self.owners if o.stalls), key=lambda o: (o.stall_step, o.firm))


def _firm_vector(name: str, values: Any, n: int) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise EngineInputError(f"{name}: expected {n} values, got shape {arr.shape}")
    return arr


def capacity_path(capacity: FloatArray, horizon: int, recovery: RecoveryAssumption,
                  trend: FloatArray | None = None, recovery_days: FloatArray | None = None) -> FloatArray:  # fmt: skip
    """``c_i(t)`` for the days ``t = 0..H−1`` as an (H, N) array (equations in :class:`RecoveryAssumption`).

    ``capacity`` must already be in ``[0, 1]`` with no NaN; row 0 (today) is ``capacity`` itself.
    ``recovery_days`` (N,): a firm's own R_i (its surveyed time to recover), NaN = ``recovery.days``.
    """
    c0 = capacity[None, :]
    t = np.arange(horizon, dtype=np.float64)[:, None]
    elapsed = np.maximum(t - recovery.delay, 0.0)
    if recovery.kind == "none":
        return np.repeat(c0, horizon, axis=0)
    days = np.full(capacity.shape, float(recovery.days))
    if recovery_days is not None:
        days = np.where(np.isnan(recovery_days) | (recovery_days <= 0), days, recovery_days)
    linear = c0 + (1.0 - c0) * np.minimum(elapsed / days[None, :], 1.0)
    if recovery.kind == "linear" or trend is None:
        return linear
    slope = np.maximum(np.nan_to_num(trend, nan=0.0), 0.0)[None, :]
    by_trend = np.minimum(c0 + slope * elapsed, 1.0)
    return np.where(np.isnan(trend)[None, :], linear, np.maximum(by_trend, c0))


def _firm_key(net: SupplyNetwork, i: int) -> str | int:
    return int(i) if net.firm_ids is None else str(net.firm_ids[i])


def scenario_from_path(net: SupplyNetwork, path: FloatArray, name: str = "nowcast") -> Scenario:
    """Firm stops reproducing the capacity path: loss ``1 − c_i(t)`` on simulated day ``t``.

    Each firm's loss sequence over ``t = 0..H−1`` is rounded to :data:`LOSS_QUANTUM` and cut into
    runs of equal loss; each run is one ``FirmStop(start=t, days=run length)``. The scenario's
    recovery is ``immediate``, so a stop ends exactly where the next run (or full capacity) begins.
    """
    horizon = path.shape[0]
    loss = np.round((1.0 - path) / LOSS_QUANTUM) * LOSS_QUANTUM  # (H, N)
    loss = np.clip(loss, 0.0, 1.0)
    stops: list[FirmStop] = []
    for i in np.flatnonzero(loss.max(axis=0) > 0):
        seq = loss[:, i]
        changes = np.flatnonzero(np.diff(seq)) + 1
        bounds = np.concatenate(([0], changes, [horizon]))
        key = _firm_key(net, int(i))
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if seq[a] > 0:
                stops.append(FirmStop(firm=key, start=int(a), days=int(b - a), capacity_loss=float(seq[a])))
    return Scenario(name=name, firm_stops=tuple(stops), recovery=Recovery(kind="immediate"), steps=horizon)


MIN_STOCK_DAYS = 1.0
"""Reported stocks below one day count as one day: the daily model uses today what came yesterday."""


def nowcast(
    net: SupplyNetwork,
    *,
    capacity: FloatArray,
    inventory_days: FloatArray,
    watch: IndexArray,
    horizon: int = 30,
    recovery: RecoveryAssumption = RecoveryAssumption(),
    params: PropagationParams | None = None,
    trend: FloatArray | None = None,
    recovery_days: FloatArray | None = None,
    report_age: FloatArray | None = None,
    unknown_capacity: float = 1.0,
    stale_days: int = 3,
    start_date: dt.date | None = None,
) -> NowcastResult:
    """Project the watched owners ``horizon`` days ahead from the reported state (module docstring).

    ``capacity`` (N,): utilisation today, NaN = no report (assumed ``unknown_capacity``); values are
    clipped to ``[0, 1]`` (utilisation above 100 % is no extra capacity in the model).
    ``inventory_days`` (N,): reported inventory in days of input, NaN = the network's target ``n_i``.
    ``trend`` (N,): utilisation change per day from recent reports (``trend`` recovery), NaN = none.
    ``recovery_days`` (N,): each firm's own R_i for ``linear`` recovery (NaN = ``recovery.days``).
    ``report_age`` (N,): days between the report used and ``start_date`` (for ``cause_stale``).
    ``params``: propagation parameters (its ``steps`` is replaced by ``horizon``).
    Day ``t`` (0-based, simulate's stall day) is the calendar day ``start_date + t``: the report
    date is day 0, so an owner with ``k`` days of inventory and a stopped supplier stalls on day ``k``.
    """
    n = net.n_firms
    if horizon < 1:
        raise EngineInputError("horizon: 应 ≥ 1 / must be at least 1")
    if not 0.0 <= unknown_capacity <= 1.0:
        raise EngineInputError("unknown_capacity: 应在 0–1 之间 / must be within 0..1")
    cap = _firm_vector("capacity", capacity, n)
    inv = _firm_vector("inventory_days", inventory_days, n)
    if np.any(inv[~np.isnan(inv)] < 0):
        raise EngineInputError("inventory_days: 不能为负 / must not be negative")
    # the daily model holds at least one day's delivery (as the registry adapter's links do)
    inv = np.where(np.isnan(inv), inv, np.maximum(inv, MIN_STOCK_DAYS))
    trend_arr = None if trend is None else _firm_vector("trend", trend, n)
    days_arr = None if recovery_days is None else _firm_vector("recovery_days", recovery_days, n)
    age = np.full(n, np.nan) if report_age is None else _firm_vector("report_age", report_age, n)
    watch_arr = np.asarray(watch, dtype=np.int64)
    if watch_arr.size and (watch_arr.min() < 0 or watch_arr.max() >= n):
        raise EngineInputError(f"watch: firm index outside 0..{n - 1}")

    known = ~np.isnan(cap)
    c0 = np.clip(np.where(known, cap, unknown_capacity), 0.0, 1.0)
    path = capacity_path(c0, horizon, recovery, trend_arr, days_arr)
    scenario = scenario_from_path(net, path)
    run_params = dataclasses.replace(params or PropagationParams(), steps=horizon)
    sim = simulate(net, scenario, run_params, watch=watch_arr, initial_inventory_days=inv)
    # The causes: the same run with the watched owners at full capacity of their own, so that the
    # simulator's stall tracker (P < θ·x0) sees only input shortfalls (docs/engine/nowcast.md).
    own = np.zeros(n, dtype=bool)
    own[watch_arr] = True
    if np.any(path[:, own] < 1.0):
        supply_path = np.where(own[None, :], 1.0, path)
        causes = simulate(net, scenario_from_path(net, supply_path), run_params, watch=watch_arr,
                          initial_inventory_days=inv)  # fmt: skip
    else:
        causes = sim

    start = start_date
    owners = [
        _owner_forecast(net, sim, causes, w, int(j), path[:, int(j)], known, inv, age, run_params.threshold,
                        stale_days, start)  # fmt: skip
        for w, j in enumerate(watch_arr)
    ]
    baseline = float((sim.baseline if sim.baseline.size else net.output).sum()) or 1.0
    return NowcastResult(
        horizon=horizon,
        start_date=start,
        owners=owners,
        total_production=np.asarray(sim.total_production[1:], dtype=np.float64) / baseline,
        lost_output=float(sim.lost_output),
        initial_capacity=c0,
        capacity_known=known,
        scenario=scenario,
        assumptions={
            "recovery": recovery.to_dict(),
            "unknown_capacity": unknown_capacity,
            "threshold": run_params.threshold,
            "tau": run_params.tau,
            "rationing": int(run_params.rationing),
            "substitution": run_params.substitution,
            "firms": n,
            "reported": int(known.sum()),
            "disrupted": int((c0 < 1.0).sum()),
        },
    )


def _owner_forecast(net: SupplyNetwork, sim: SimulationResult, causes: SimulationResult, w: int, j: int,
                    own_path: FloatArray, known: np.ndarray[Any, Any], inv: FloatArray, age: FloatArray,
                    threshold: float, stale_days: int, start: dt.date | None) -> OwnerForecast:  # fmt: skip
    """One owner's row: stall day, suppliers, curve and caveats (docs/engine/nowcast.md, "Output").

    Stall day ``t* = min{t : x_j(t) < θ · c_j(t) · x0_j}``: production below θ of what the owner's
    own capacity allows that day, i.e. short of inputs (an owner that reports 70 % is not "stalled"
    by its own 70 %). Direct and root-cause suppliers come from ``causes``, the run with the owners
    at full own capacity, where the simulator's tracker sees input shortfalls only.
    """
    base = sim.baseline if sim.baseline.size else net.output
    x0 = float(base[j]) or 1.0
    curve = np.asarray(sim.watch_production[1:, w], dtype=np.float64) / x0  # index 0 is the initial state
    below = np.flatnonzero(curve < threshold * own_path * (1.0 - 1e-9))
    step = int(below[0]) if below.size else -1
    direct = int(causes.stall_cause[w]) if step >= 0 and causes.stall_day[w] >= 0 else -1
    root = int(causes.root_cause[w]) if step >= 0 and causes.stall_day[w] >= 0 else -1
    if step >= 0 and root < 0 and direct >= 0:
        root = direct  # the propagation found no deeper origin: the direct supplier is the best guess
    indptr, link_ids = net.by_customer
    mine = link_ids[indptr[j] : indptr[j + 1]]
    values = net.links.data[mine]
    suppliers = net.link_supplier[mine]
    total = float(values.sum())
    unknown_share = float(values[~known[suppliers]].sum() / total) if total > 0 else 0.0
    caveats: list[str] = []
    if step >= 0:
        if own_path[0] < 1.0:
            caveats.append("own_capacity")
        if direct < 0:
            caveats.append("cause_unknown")
        if np.isnan(inv[j]):
            caveats.append("inventory_unknown")
        cause = root if root >= 0 else direct
        if cause >= 0:
            if bool(net.foreign[cause]):
                caveats.append("cause_foreign")
            elif not known[cause]:
                caveats.append("cause_unreported")
            elif not np.isnan(age[cause]) and age[cause] > stale_days:
                caveats.append("cause_stale")
    if unknown_share > UNKNOWN_INPUT_SHARE:
        caveats.append("unreported_inputs")
    return OwnerForecast(
        firm=j,
        stall_step=step,
        direct_supplier=direct,
        root_supplier=root,
        production=curve,
        caveats=tuple(caveats),
        unknown_input_share=unknown_share,
        stall_date=(start + dt.timedelta(days=step)) if (start is not None and step >= 0) else None,
    )


def caveat_text(code: str) -> str:
    """'中文 / English' for a caveat code."""
    zh, en = CAVEATS[code]
    return f"{zh} / {en}"
