"""The demo's daily report rows and power readings, one day at a time, from a :class:`DispatchPlan`.

Each day draws from its own generator (seeded by the plan's seed and the day), so any day can be
regenerated alone and the loader can stream days straight into the database. No Django here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from gulian.demo import dispatch_curves as cv
from gulian.demo import dispatch_notes as notes
from gulian.demo.dispatch import PRE_DISRUPTION, THRESHOLD, DispatchPlan

SOURCES = np.array(["web", "api", "import"])
CORRECTED_P = 0.015  # reports corrected later the same day (a second version)
UTC_OFFSET = np.timedelta64(8, "h")  # Asia/Shanghai has no daylight saving


@dataclass
class DayReports:
    """The reports of one day: ``firm`` indexes the plan's firms; other arrays align with it.

    Optional fields are NaN (floats) or -1 (``returned``) when the firm leaves them empty.
    ``first_utilisation``/``first_at`` describe version 1 of the corrected reports (``corrected``).
    """

    day: int
    date: dt.date
    firm: np.ndarray
    resumed: np.ndarray
    utilisation: np.ndarray  # rounded to 0.001
    staff_on_duty: np.ndarray
    staff_normal: np.ndarray
    returned: np.ndarray
    inventory_days: np.ndarray
    output_value: np.ndarray
    order_change: np.ndarray
    blockers: np.ndarray
    note: list[str]
    late: np.ndarray
    source: np.ndarray
    submitted_at: np.ndarray  # datetime64[s], UTC
    corrected: np.ndarray
    first_utilisation: np.ndarray
    first_at: np.ndarray

    def __len__(self) -> int:
        return len(self.firm)


def _submitted(rng, date: dt.date, late_p: np.ndarray, deadline_hour: int) -> tuple[np.ndarray, np.ndarray]:
    """Submission times (UTC) and late flags: on time 08:00–deadline; late in the evening or next morning."""
    n = len(late_p)
    late = rng.random(n) < late_p
    local_midnight = np.datetime64(date.isoformat(), "s")
    on_time = rng.integers(8 * 3600, deadline_hour * 3600, n)
    evening = rng.integers(deadline_hour * 3600 + 60, 24 * 3600, n)
    next_morning = rng.integers(32 * 3600, 36 * 3600, n)
    seconds = np.where(late, np.where(rng.random(n) < 0.7, evening, next_morning), on_time)
    return local_midnight + seconds.astype("timedelta64[s]") - UTC_OFFSET, late


def _nullable(value: np.ndarray, given: np.ndarray) -> np.ndarray:
    return np.where(given, value, np.nan)


def day_reports(plan: DispatchPlan, day: int, deadline_hour: int = 17) -> DayReports:
    """The reports of day index ``day`` (only the firms that report that day)."""
    rng = np.random.default_rng([plan.seed, 5, day])
    inp, p = plan.inputs, plan.params
    firm = np.flatnonzero(plan.reports[:, day])
    n = len(firm)
    u = plan.u_reported[firm, day].astype(np.float64)
    resumed = plan.resumed_day[firm] <= day
    u = np.where(resumed, np.round(np.clip(u, 0.01, 1.5), 2), 0.0)
    hubei_delay = cv.HUBEI_RETURN_DELAY * p["hubei_workers"][firm]
    back = cv.returned(day, hubei_delay)
    outside = p["outside"][firm]
    employees = np.maximum(inp.employees[firm], 1)
    duty_rate = ((1 - outside) * 0.95 + outside * back) * (0.75 + 0.25 * np.minimum(u, 1.0))
    duty_rate = np.where(resumed, duty_rate * (1 + 0.03 * rng.standard_normal(n)), rng.uniform(0.02, 0.1, n))
    on_duty = np.clip(np.round(employees * duty_rate), 0, employees).astype(np.int64)
    returned = np.round(employees * outside * back * np.where(resumed, 1.0, 0.3)).astype(np.int64)
    returned = np.where(p["gives_returned"][firm], returned, -1)

    t = float(day)
    stress = np.maximum(p["hubei"][firm] * cv.bump(t, -30, 0, 25, 50), p["foreign"][firm] * cv.bump(t, 40, 55, 75, 95))
    inventory = p["inventory"][firm] * (1 - 0.6 * stress) * (0.85 + 0.15 * (1 - cv.bump(t, -30, 0, 15, 35)))
    inventory = np.round(inventory * (1 + 0.05 * rng.standard_normal(n)), 1)
    output = np.round(inp.output[firm] / 365 * u * (1 + 0.05 * rng.standard_normal(n)), -2)
    export_hit = -0.3 * p["export"][firm] * cv.bump(t, 50, 65, 100, 130)
    medical = np.isin(np.asarray(inp.division, dtype=object)[firm], ["27", "35"]) * 0.4 * cv.bump(t, -30, 0, 30, 50)
    orders = -0.35 * cv.bump(t, -30, 0, 20, 48) + export_hit + medical + 0.08 * rng.standard_normal(n)
    orders = np.round(np.clip(orders, -1, 3), 2)

    below = u < THRESHOLD
    probs = notes.probabilities(day, below, inp.small[firm], duty_rate, p["hubei"][firm], p["foreign"][firm],
                                p["export"][firm])
    blockers = notes.draw(rng, probs)
    texts = [""] * n
    position = {f: k for k, f in enumerate(firm.tolist())}
    for hb in plan.held_back:  # the planted owners name the supplier that holds them back
        k = position.get(hb.owner)
        if k is not None and day < hb.until + 5:
            blockers[k] |= notes.CHAIN
        for s in hb.suppliers:
            k = position.get(s)
            if k is not None and day < hb.until:
                blockers[k] |= notes.MATERIALS | notes.LABOUR
    for k in np.flatnonzero((blockers > 0) & (rng.random(n) < notes.NOTE_SHARE)).tolist():
        texts[k] = notes.note(rng, int(blockers[k]), gap=int(employees[k] - on_duty[k]), duty=float(duty_rate[k]),
                              inv=float(inventory[k]), drop=float(-orders[k]), partner=plan.partner.get(int(firm[k]), ""))
    for hb in plan.held_back:
        k = position.get(hb.owner)
        if k is not None and day < hb.until + 5:
            texts[k] = notes.note(rng, notes.CHAIN, gap=0, duty=0, inv=0, drop=0, partner=plan.partner[hb.owner])

    at, late = _submitted(rng, plan.date(day), p["late_p"][firm], deadline_hour)
    corrected = rng.random(n) < CORRECTED_P
    first_u = np.where(resumed, np.round(u * rng.uniform(0.5, 0.9, n), 2), 0.0)
    first_at = at - rng.integers(3600, 4 * 3600, n).astype("timedelta64[s]")
    return DayReports(
        day=day, date=plan.date(day), firm=firm, resumed=resumed, utilisation=u, staff_on_duty=on_duty,
        staff_normal=employees, returned=returned,
        inventory_days=_nullable(inventory, p["gives_inventory"][firm]),
        output_value=_nullable(output, p["gives_output"][firm]),
        order_change=_nullable(orders, p["gives_orders"][firm]),
        blockers=blockers, note=texts, late=late, source=SOURCES[p["source"][firm]], submitted_at=at,
        corrected=corrected & resumed, first_utilisation=first_u, first_at=first_at,
    )


def report_days(plan: DispatchPlan, deadline_hour: int = 17) -> Iterator[DayReports]:
    """Every day's reports, in date order."""
    for day in range(plan.first, plan.days):
        yield day_reports(plan, day, deadline_hour)


def power_dates(start: dt.date, end: dt.date, window: tuple[dt.date, dt.date] = PRE_DISRUPTION,
                margin: int = 3) -> list[dt.date]:
    """Dates with readings: the report period, the same period a year earlier (± ``margin`` days), the window."""
    def span(a: dt.date, b: dt.date) -> list[dt.date]:
        return [a + dt.timedelta(days=k) for k in range((b - a).days + 1)]

    def year_back(d: dt.date) -> dt.date:
        return d.replace(year=d.year - 1, day=min(d.day, 28) if d.month == 2 else d.day)

    last_year = span(year_back(start) - dt.timedelta(days=margin), year_back(end) + dt.timedelta(days=margin))
    return sorted(set(last_year) | set(span(*window)) | set(span(start, end)))


def _season(date: dt.date) -> float:
    return 1 + 0.03 * np.sin(2 * np.pi * (date.timetuple().tm_yday - 100) / 365)


def power_day(plan: DispatchPlan, date: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """(firm indices, kWh rounded to 0.01) of one date; before the report period the firms run normally."""
    rng = np.random.default_rng([plan.seed, 11, date.toordinal()])
    p = plan.params
    has = p["meter"] & (p["last_year"] | (date >= PRE_DISRUPTION[0]))
    firm = np.flatnonzero(has)
    day = (date - plan.start).days
    level = np.ones(len(firm))
    if date >= PRE_DISRUPTION[0]:
        level *= p["growth"][firm]
    if 0 <= day < plan.days:
        idle = p["idle"][firm]
        level *= idle + (1 - idle) * plan.u_power[firm, day]
    elif PRE_DISRUPTION[1] < date < plan.start:  # workers leave before the Spring Festival, plants idle
        level *= np.maximum(0.15, 1 - 0.85 * (date - PRE_DISRUPTION[1]).days / 14)
    noise = 1 + 0.04 * rng.standard_normal(len(firm))
    kwh = np.round(p["base_kwh"][firm] * _season(date) * level * noise, 2)
    return firm, np.maximum(kwh, 0.0)


def power_readings(plan: DispatchPlan, dates: list[dt.date]) -> Iterator[tuple[dt.date, np.ndarray, np.ndarray]]:
    """(date, firm indices, kWh) for each of ``dates``."""
    for date in dates:
        firm, kwh = power_day(plan, date)
        yield date, firm, kwh
