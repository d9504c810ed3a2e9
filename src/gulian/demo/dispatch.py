"""Generate the demo province's daily reports (日报) and power readings from a seed.

Pure numpy, no Django: :func:`plan` takes the registry as arrays (:class:`DispatchInputs`, read by
:mod:`gulian.demo.dispatch_load`) and fixes every firm's story; ``report_days`` and
``power_readings`` (:mod:`gulian.demo.dispatch_days`) then yield one day at a time, so 100,000 firms × 120 days never sit in memory
as rows. The same inputs and seed give the same values (:attr:`DispatchPlan.fingerprint`).

The model (docs/demo.md, 日调度数据):

* Resumption. Each firm gets a day R from the published curve of its group by rank: 规上 and
  smaller firms of the home province (:data:`~gulian.demo.dispatch_curves.ABOVE_SIZE_RESUMED`,
  ``SMALL_RESUMED``), suppliers in other provinces (the same curves two days later) and in Hubei
  (``HUBEI_*``). A lateness score U(0,1) + 0.5·Hubei dependence + 0.3·foreign dependence − 0.8 for
  process industries is ranked within the group and the rank's quantile q gives R = F⁻¹(q), so
  dependent firms come later while each group's curve stays exactly the published one.
* Reporting: a daily chance from :data:`~gulian.demo.dispatch_curves.REPORTING` shifted by a firm
  propensity (规上 firms and the chains' firms, chased by their liaisons, report more reliably);
  about 4 % of reports come after the deadline and 1.5 % are corrected the same day.
* Utilisation after resumption: u = c · (1 − (1 − r₀)·e^{−(t−R)/τ}) · shocks · (1 + 0.03 ε), with the
  firm's level c ~ N(1, 0.08) (at least 0.9 for the chains' key firms), start r₀ ~ U(0.3, 0.6) and
  ramp τ ~ Γ (8 days for 规上, 12 for others, +50 % when dependent, −40 % for key firms); shocks take
  up to 40 % for Hubei-dependent firms in February, 35 % for foreign-dependent ones from mid-March,
  15 % for exporters in April–May. Each day the utilisation of the home province's reporting firms
  is scaled so that its output-weighted mean follows
  :data:`~gulian.demo.dispatch_curves.WEIGHTED_UTILISATION` (1.0 on 7 March).
* Power: daily kWh = base · g · s(t) · (idle + (1 − idle)·u) · (1 + 0.04 ε) with base = output / 365 ×
  the division's kWh per yuan, growth g ~ lognormal(0.02, 0.04), idle ∈ U(0.04, 0.12) and a mild
  seasonal s(t). 2019 readings have no holiday dip (a normal year), so the same-day-last-year
  baseline is meaningful; 3 % of firms have no 2019 readings (baseline from the pre-disruption
  window) and 2 % no meter.
* Planted: about 20 held-back chain owners (链主) whose core or tier-1 suppliers stay shut or below
  the threshold into March–April (the owner capped at 55–75 % meanwhile, with a "上下游未复工" note
  naming the supplier) and about 50 anomalies (a firm whose reported utilisation and power
  disagree by more than 30 points for 7–25 days).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np

from gulian.demo import dispatch_curves as cv

NONE, SUPPLIER, CORE, OWNER = 0, 1, 2, 3
CITY, PROVINCE, DOMESTIC, FOREIGN = 0, 1, 2, 3
WEB, API, IMPORT = "web", "api", "import"
THRESHOLD = 0.8  # the recovery threshold the plants are built around (settings.RECOVERY_THRESHOLD)
HELD_BACK_PER_FIRMS, ANOMALIES_PER_FIRMS = 20 / 20_000, 50 / 20_000
PRE_DISRUPTION = (dt.date(2019, 12, 1), dt.date(2020, 1, 10))


@dataclass
class DispatchInputs:
    """The reporting firms (every domestic firm with a region) and the supply links into them, as arrays.

    ``home`` marks the firms of the province whose published curve is followed (Zhejiang); the others
    are its suppliers elsewhere, which report too (national dispatch) on their own provinces' curves.
    """

    output: np.ndarray  # baseline annual output, yuan (float)
    employees: np.ndarray
    above: np.ndarray  # 规上
    small: np.ndarray  # scale small or micro
    division: list[str]  # GB/T 4754 division (two digits), "" when unknown
    role: np.ndarray  # best chain role: NONE / SUPPLIER / CORE / OWNER
    name: list[str]
    link_supplier: np.ndarray  # index of the supplier among the firms, -1 when it does not report here
    link_customer: np.ndarray  # index of the customer among the firms
    link_share: np.ndarray  # share of the customer's input category (0–1)
    link_scope: np.ndarray  # CITY / PROVINCE / DOMESTIC / FOREIGN
    link_hubei: np.ndarray  # the supplier is in Hubei (GB/T 2260 prefix 42)
    home: np.ndarray  # the firm is in the calibrated province
    in_hubei: np.ndarray  # the firm itself is in Hubei

    def __len__(self) -> int:
        return len(self.output)


@dataclass
class HeldBack:
    """A planted held-back chain owner and the suppliers that hold it back until ``until`` (day index)."""

    owner: int
    suppliers: list[int]
    shut: list[bool]  # per supplier: not resumed (True) or resumed below the threshold (False)
    until: int


@dataclass
class Anomaly:
    """A planted disagreement between reported utilisation and power on days ``start``..``end``."""

    firm: int
    start: int
    end: int
    kind: str  # "overstated": reports ≥ 80 % on low power; "understated": reports little on full power


@dataclass
class DispatchPlan:
    """Every firm's parameters and daily utilisation, fixed by the seed; the days are generated from it."""

    seed: int
    start: dt.date  # day 0: 2020-02-01
    days: int  # days modelled, from day 0 to the last report date
    inputs: DispatchInputs
    resumed_day: np.ndarray  # first day index the firm reports itself resumed (may be < 0 or ≥ days)
    u_reported: np.ndarray  # firms × days, float32
    u_power: np.ndarray  # the utilisation the meter sees (differs from u_reported only in anomalies)
    reports: np.ndarray  # firms × days, bool: the firm reports that day
    params: dict[str, np.ndarray]
    held_back: list[HeldBack] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    partner: dict[int, str] = field(default_factory=dict)  # held-back owner → supplier name for its note
    counts: dict[str, int] = field(default_factory=dict)
    first: int = 0  # first day index with reports (days before it are modelled but not reported)

    def date(self, day: int) -> dt.date:
        """The calendar date of day index ``day``."""
        return self.start + dt.timedelta(days=day)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the seed and every planned value (the daily rows are drawn from it with fixed seeds)."""
        h = hashlib.sha256(f"{self.seed}:{self.start}:{self.first}:{self.days}".encode())
        for a in (self.resumed_day, self.u_reported, self.u_power, self.reports, *self.params.values()):
            h.update(np.ascontiguousarray(a).tobytes())
        h.update(repr([(x.owner, x.suppliers, x.shut, x.until) for x in self.held_back]).encode())
        h.update(repr([(a.firm, a.start, a.end, a.kind) for a in self.anomalies]).encode())
        return h.hexdigest()


def _dependence(inp: DispatchInputs, mask: np.ndarray) -> np.ndarray:
    """Per firm: Σ share of its inputs from links in ``mask``, divided by its number of categories, 0–1."""
    n = len(inp)
    total = np.bincount(inp.link_customer, inp.link_share, minlength=n)
    part = np.bincount(inp.link_customer[mask], inp.link_share[mask], minlength=n)
    return np.divide(part, total, out=np.zeros(n), where=total > 0)


def key_firm(inp: DispatchInputs) -> np.ndarray:
    """Chain members and the direct suppliers of chain owners (the firms the held-back list is about)."""
    key = inp.role >= SUPPLIER
    to_owner = (inp.role[inp.link_customer] == OWNER) & (inp.link_supplier >= 0)
    key[inp.link_supplier[to_owner]] = True
    return key


def _firm_params(rng: np.random.Generator, inp: DispatchInputs) -> dict[str, np.ndarray]:
    n = len(inp)
    div = np.array(inp.division or [""] * n, dtype=object)
    continuous = np.isin(div, list(cv.CONTINUOUS_DIVISIONS)) & (rng.random(n) < 0.5)
    early = np.isin(div, list(cv.EARLY_DIVISIONS)) & (rng.random(n) < 0.4)
    export_p = np.array([cv.EXPORT_P.get(d, cv.EXPORT_P_DEFAULT) for d in div.tolist()])
    intensity = np.array([cv.KWH_PER_YUAN.get(d, cv.KWH_PER_YUAN_DEFAULT) for d in div.tolist()])
    hubei = _dependence(inp, inp.link_hubei)
    foreign = _dependence(inp, inp.link_scope == FOREIGN)
    dependent = (hubei + foreign) > 0.2
    key = key_firm(inp)
    outside = np.clip(rng.beta(4, 6, n) + np.where(np.isin(div, ["17", "18", "21"]), 0.15, 0.0), 0.05, 0.9)
    p = {
        "continuous": continuous | early,
        "hubei": hubei,
        "foreign": foreign,
        "export": (rng.random(n) < export_p).astype(np.float64),
        "level": np.clip(rng.normal(1.0, 0.08, n), np.where(key, 0.9, 0.65), 1.3),
        "r0": rng.uniform(0.3, 0.6, n),
        # key firms get help first (专班 一企一策): they ramp up faster
        "tau": rng.gamma(2.0, np.where(inp.above, 4.0, 6.0)) * np.where(dependent, 1.5, 1.0) * np.where(key, 0.6, 1.0)
        + 1.0,
        "outside": outside,  # share of the workforce from outside the province
        "hubei_workers": (rng.random(n) < 0.05).astype(np.float64),  # many staff from Hubei: back late
        # how reliably the firm reports: liaisons chase 规上 firms and the chains' firms every day
        "propensity": rng.normal(0.0, 1.0, n) + 0.8 * inp.above + 1.5 * key,
        "late_p": np.where(inp.small, 0.06, 0.03) * rng.uniform(0.2, 2.0, n),
        "source": rng.choice(3, n, p=[0.6, 0.15, 0.25]),
        "gives_output": rng.random(n) < np.where(inp.above, 0.8, 0.4),
        "gives_orders": rng.random(n) < 0.45,
        "gives_inventory": rng.random(n) < np.where(inp.above, 0.75, 0.5),
        "gives_returned": rng.random(n) < 0.7,
        "inventory": rng.gamma(3.0, 3.5, n) + 2,
        "meter": rng.random(n) >= 0.02,
        "last_year": rng.random(n) >= 0.03,
        "base_kwh": np.maximum(inp.output / 365 * intensity * rng.lognormal(0, 0.3, n), 20.0),
        "growth": rng.lognormal(0.02, 0.04, n),
        "idle": rng.uniform(0.04, 0.12, n),
    }
    p["score"] = (rng.random(n) + 0.5 * hubei + 0.3 * foreign - 0.8 * p["continuous"]
                  - 0.1 * (inp.role >= CORE) + 0.15 * (outside - 0.4))
    return p


def _pick_held_back(rng, inp: DispatchInputs, n_above: int) -> list[HeldBack]:
    """About 20 per 20,000 firms: chain owners with a big direct supplier among the reporting firms."""
    want = max(3, round(int(inp.home.sum()) * HELD_BACK_PER_FIRMS))
    ok = (inp.link_supplier >= 0) & (inp.link_share >= 0.15)
    ok &= inp.role[inp.link_customer] == OWNER
    ok &= inp.role[np.maximum(inp.link_supplier, 0)] != OWNER
    owners = np.unique(inp.link_customer[ok])
    budget = int(0.0015 * n_above)  # home 规上 suppliers that may stay shut past 24 Feb without breaking 99.8 %
    taken: set[int] = set()
    plants = []
    for owner in rng.permutation(owners)[:want].tolist():
        rows = np.flatnonzero(ok & (inp.link_customer == owner))
        core = inp.role[inp.link_supplier[rows]] == CORE
        rows = rows[np.lexsort((-inp.link_share[rows], ~core))]
        suppliers = [s for s in dict.fromkeys(inp.link_supplier[rows].tolist()) if s not in taken][:2]
        if not suppliers:
            continue
        shut = []
        for s in suppliers:
            counted = bool(inp.above[s] and inp.home[s])
            closed = rng.random() < 0.6 and (not counted or budget > 0)
            budget -= int(closed and counted)
            shut.append(bool(closed))
        taken.update(suppliers)
        plants.append(HeldBack(owner, suppliers, shut, int(rng.integers(38, 70))))
    return plants


def _resumption(rng, inp: DispatchInputs, p, plants: list[HeldBack]) -> np.ndarray:
    """First resumed day per firm from its group's curve, by rank of lateness (see the module docstring)."""
    n = len(inp)
    score = p["score"].copy()
    for hb in plants:
        for s, shut in zip(hb.suppliers, hb.shut, strict=True):
            if shut:
                score[s] = 10.0  # the latest slots of the curve, so the curve itself is unchanged
    home, hubei, above = inp.home, inp.in_hubei & ~inp.home, inp.above
    other = ~home & ~hubei
    groups = ((home & above, cv.ABOVE_SIZE_RESUMED, 0), (home & ~above, cv.SMALL_RESUMED, 0),
              (hubei & above, cv.HUBEI_ABOVE_SIZE_RESUMED, 0), (hubei & ~above, cv.HUBEI_SMALL_RESUMED, 0),
              (other & above, cv.ABOVE_SIZE_RESUMED, cv.OTHER_PROVINCE_DELAY),
              (other & ~above, cv.SMALL_RESUMED, cv.OTHER_PROVINCE_DELAY))
    day = np.empty(n)
    for group, table, delay in groups:
        rows = np.flatnonzero(group)
        rank = np.empty(len(rows))
        rank[np.lexsort((rows, score[rows]))] = np.arange(len(rows))
        q = (rank + rng.random(len(rows))) / max(len(rows), 1)
        day[rows] = cv.inverse(table, q) + delay
    resumed = np.ceil(day).astype(np.int64)
    for hb in plants:
        for s, shut in zip(hb.suppliers, hb.shut, strict=True):
            if shut:
                resumed[s] = int(rng.integers(33, 60))  # into March
    return np.minimum(resumed, 10_000)


def _utilisation(rng, inp: DispatchInputs, p, resumed: np.ndarray, days: int) -> np.ndarray:
    """Raw utilisation (before calibration), firms × days."""
    t = np.arange(days, dtype=np.float64)[None, :]
    since = t - resumed[:, None]
    ramp = 1 - (1 - p["r0"][:, None]) * np.exp(-np.maximum(since, 0) / p["tau"][:, None])
    ramp = np.where(p["continuous"][:, None], np.maximum(ramp, 0.8), ramp)
    shock = (1 - 0.4 * p["hubei"][:, None] * cv.bump(t, -30, 0, 25, 50)
             - 0.35 * p["foreign"][:, None] * cv.bump(t, 40, 55, 75, 95)
             - 0.15 * p["export"][:, None] * cv.bump(t, 50, 65, 100, 130))
    noise = 1 + 0.03 * rng.standard_normal((len(inp), days))
    u = p["level"][:, None] * ramp * shock * noise
    return np.where(since >= 0, np.clip(u, 0.02, 1.5), 0.0)


def _reporting(rng, p, days: int, n: int) -> np.ndarray:
    base = cv.interp(cv.REPORTING, np.arange(days))
    logit = np.log(base / (1 - base))[None, :] + p["propensity"][:, None]
    return rng.random((n, days)) < 1 / (1 + np.exp(-logit))


def _calibrate(u: np.ndarray, weight: np.ndarray, reports: np.ndarray, fixed: np.ndarray, home: np.ndarray) -> None:
    """Scale each day's free firms so the output-weighted mean of the home province's reporting firms follows the curve."""
    target = cv.interp(cv.WEIGHTED_UTILISATION, np.arange(u.shape[1]))
    for _round in range(3):  # clipping at 150 % moves the mean a little; three rounds settle it
        w = (weight * home)[:, None] * reports
        free = w * ~fixed[:, None]
        total = (w * u).sum(axis=0)
        moving = (free * u).sum(axis=0)
        want = target * w.sum(axis=0) - (total - moving)
        factor = np.clip(np.divide(want, moving, out=np.ones_like(want), where=moving > 0), 0.5, 2.0)
        scaled = np.clip(u * factor[None, :], 0.02, 1.5)
        u[:] = np.where(fixed[:, None] | (u == 0), u, scaled)


def _plant_held_back(rng, u: np.ndarray, plants: list[HeldBack], resumed: np.ndarray) -> np.ndarray:
    """Cap the held-back suppliers (shut ones reopen slowly) and their owners; returns the fixed rows."""
    fixed = np.zeros(u.shape[0], dtype=bool)
    days = u.shape[1]
    for hb in plants:
        shut_until = [min(resumed[s] + 10, days) for s, shut in zip(hb.suppliers, hb.shut, strict=True) if shut]
        end = max([min(hb.until, days), *shut_until])  # shut suppliers reopen slowly: 10 more days below
        for s in hb.suppliers:
            u[s, :end] = np.minimum(u[s, :end], rng.uniform(0.3, 0.6))
            fixed[s] = True
        u[hb.owner, : min(end + 5, days)] = np.minimum(u[hb.owner, : min(end + 5, days)], rng.uniform(0.55, 0.75))
        fixed[hb.owner] = True
        hb.until = int(end)
    return fixed


def _pick_anomalies(rng, inp: DispatchInputs, p, resumed, fixed, first: int, days: int) -> list[Anomaly]:
    """About 50 per 20,000 firms: 规上 firms with a meter, 7–25 days from 25 Feb on (inside the period)."""
    earliest = max(first, cv.DAY_FEB24 + 1)
    if days - earliest < 2:
        return []  # the period ends before the anomalies begin
    want = max(5, round(int(inp.home.sum()) * ANOMALIES_PER_FIRMS))
    pool = np.flatnonzero(inp.home & inp.above & p["meter"] & p["last_year"] & (resumed <= cv.DAY_FEB24) & ~fixed)
    out = []
    for firm in rng.permutation(pool)[:want].tolist():
        length = int(rng.integers(7, 26))
        start = int(rng.integers(earliest, max(earliest + 1, days - length)))
        kind = "overstated" if rng.random() < 0.7 else "understated"
        out.append(Anomaly(firm, start, min(start + length, days) - 1, kind))
    return out


def plan(inputs: DispatchInputs, seed: int = 2020, start: dt.date | str = cv.START,
         end: dt.date | str = cv.END) -> DispatchPlan:
    """Fix every firm's resumption day, daily utilisation and reporting days for ``start``–``end``.

    The story always runs from 2020-02-01 (day 0 of the curves); ``start`` only chooses the first
    day that gets reports, so a shorter period shows the same days as the full one.
    """
    origin = dt.date.fromisoformat(cv.START)
    start, end = dt.date.fromisoformat(str(start)), dt.date.fromisoformat(str(end))
    if start < origin:
        raise ValueError(f"日报起始日期不能早于 {origin} / reports start on {origin} at the earliest")
    if end < start:
        raise ValueError("结束日期早于开始日期 / the end date is before the start date")
    first, days = (start - origin).days, (end - origin).days + 1
    n = len(inputs)
    rng = np.random.default_rng([seed, 3])
    p = _firm_params(rng, inputs)
    plants = _pick_held_back(rng, inputs, int((inputs.above & inputs.home).sum()))
    resumed = _resumption(rng, inputs, p, plants)
    u = _utilisation(rng, inputs, p, resumed, days)
    reports = _reporting(rng, p, days, n)
    fixed = _plant_held_back(rng, u, plants, resumed)
    for hb in plants:
        reports[hb.owner] = reports[hb.suppliers] = True  # planted firms always report: they are the story
    _calibrate(u, inputs.output.astype(np.float64), reports, fixed, inputs.home)
    anomalies = _pick_anomalies(rng, inputs, p, resumed, fixed, first, days)
    u_rep, u_pow = u.astype(np.float32), u.astype(np.float32)
    for a in anomalies:
        span = slice(a.start, a.end + 1)
        if a.kind == "overstated":
            u_rep[a.firm, span] = np.maximum(u[a.firm, span], 0.8)
            u_pow[a.firm, span] = 0.25 * u[a.firm, span]
        else:
            u_pow[a.firm, span] = np.maximum(u[a.firm, span], 0.85)
            u_rep[a.firm, span] = 0.3 * u_pow[a.firm, span]
        reports[a.firm, span] = True
    reports[:, :first] = False  # days before the period chosen get no reports
    partner = {hb.owner: inputs.name[hb.suppliers[0]] for hb in plants}
    counts = {"firms": n, "home_firms": int(inputs.home.sum()), "days": days - first,
              "reports": int(reports.sum()), "held_back_owners": len(plants), "anomalies": len(anomalies)}
    return DispatchPlan(seed, origin, days, inputs, resumed, u_rep, u_pow, reports, p, plants, anomalies,
                        partner, counts, first)
