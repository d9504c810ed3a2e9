"""Power data: per-enterprise baselines, the power resumption index, and utilisation–power anomalies.

Baseline of enterprise e on date d (kWh per day):

* same period last year — the mean of e's daily kWh over the 7 days centred on the same
  calendar date one year earlier (d − 1 year ± 3 days), when at least 4 of those days have
  readings;
* otherwise the mean over the pre-disruption window ``settings.POWER_BASELINE_WINDOW``
  ("START:END", inclusive), when e has any reading there;
* otherwise none, and e has no index that day.

Index = 100 × kWh(e, d) / baseline(e, d). A zero baseline counts as none. Rolled-up indices are
ratios of sums (100 × Σ kWh / Σ baseline over the firms that have both), see rollup.py.
Importing readings is in power_io.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Avg, Count, FloatField, QuerySet
from django.db.models.functions import Cast

from gulian.dispatch.models import DailyReport, PowerReading
from gulian.dispatch.slicing import require_metrics_reader, resolve_region
from gulian.registry.io.access import chunks

LAST_YEAR_HALF_WIDTH = 3  # days either side of the same date last year: a 7-day period
MIN_LAST_YEAR_DAYS = 4  # readings needed in that period for it to count


@dataclass(frozen=True)
class Baseline:
    """An enterprise's baseline kWh per day and where it came from ("last_year" or "window")."""

    kwh: float
    source: str


def baseline_window() -> tuple[dt.date, dt.date]:
    """The pre-disruption window from settings.POWER_BASELINE_WINDOW ("2019-12-01:2020-01-10")."""
    start, _sep, end = settings.POWER_BASELINE_WINDOW.partition(":")
    return dt.date.fromisoformat(start.strip()), dt.date.fromisoformat(end.strip())


def last_year_period(day: dt.date) -> tuple[dt.date, dt.date]:
    """The 7 days centred on ``day`` one year earlier (29 February maps to 28 February)."""
    try:
        centre = day.replace(year=day.year - 1)
    except ValueError:
        centre = day.replace(year=day.year - 1, day=28)
    half = dt.timedelta(days=LAST_YEAR_HALF_WIDTH)
    return centre - half, centre + half


def _means(start: dt.date, end: dt.date, firms) -> dict[int, tuple[float, int]]:
    """{enterprise id: (mean kWh, days with a reading)} over start..end for ``firms``.

    ``firms`` is None (every enterprise), a queryset of enterprise ids (used as a subquery) or an
    iterable of ids (queried in chunks).
    """
    base = PowerReading.objects.filter(date__range=(start, end)).order_by()

    def run(qs: QuerySet) -> dict[int, tuple[float, int]]:
        rows = qs.values("enterprise_id").annotate(mean=Avg(Cast("kwh", FloatField())), n=Count("id"))
        return {r["enterprise_id"]: (float(r["mean"]), r["n"]) for r in rows}

    if firms is None:
        return run(base)
    if isinstance(firms, QuerySet):
        return run(base.filter(enterprise_id__in=firms))
    out: dict[int, tuple[float, int]] = {}
    for batch in chunks(sorted(set(firms))):
        out.update(run(base.filter(enterprise_id__in=batch)))
    return out


class WindowBaselines:
    """The pre-disruption means of every enterprise, read once and shared by many dates (roll-up rebuilds)."""

    def __init__(self):
        self._means: dict[int, tuple[float, int]] | None = None

    def get(self) -> dict[int, tuple[float, int]]:
        """{enterprise id: (mean kWh, days)} over the configured window (one query, on first use)."""
        if self._means is None:
            start, end = baseline_window()
            self._means = _means(start, end, None)
        return self._means


def baseline_details(firms, day: dt.date, *, window: WindowBaselines | None = None) -> dict[int, Baseline]:
    """{enterprise id: Baseline} for ``firms`` on ``day``; firms without a baseline are left out.

    ``firms`` as in :func:`_means`. ``window`` shares the pre-disruption means across dates.
    """
    start, end = last_year_period(day)
    out: dict[int, Baseline] = {}
    for firm, (mean, n) in _means(start, end, firms).items():
        if n >= MIN_LAST_YEAR_DAYS and mean > 0:
            out[firm] = Baseline(mean, "last_year")
    if window is not None:
        pre = window.get()
    else:
        w_start, w_end = baseline_window()
        pre = _means(w_start, w_end, firms)
    wanted = None if firms is None or isinstance(firms, QuerySet) else set(firms)
    for firm, (mean, _n) in pre.items():
        if firm not in out and mean > 0 and (wanted is None or firm in wanted):
            out[firm] = Baseline(mean, "window")
    return out


def raw_rows(qs: QuerySet, first: dt.date):
    """Rows of a values_list (enterprise id, date, float) with the date as days after ``first``.

    Run on a plain cursor: Django's per-value converters cost more than the query for the
    millions of readings of a range.
    """
    sql, params = qs.query.sql_with_params()
    offsets: dict = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(20_000):
            for firm, date, value in batch:
                offset = offsets.get(date)
                if offset is None:
                    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
                    offset = offsets[date] = (day - first).days
                yield firm, offset, float(value)


def baseline_matrix(firm_ids: list[int], days: list[dt.date], *, window: WindowBaselines | None = None) -> np.ndarray:
    """Baselines of ``firm_ids`` (sorted) on each of ``days``: an array days × firms, NaN for none.

    The same rules as :func:`baseline_details`, for a whole range at once: one query reads the
    last-year readings of every firm over the periods of all ``days``, and each day's 7-day means
    are taken from that matrix (summed in date order); the window means are read once.
    """
    window = window or WindowBaselines()
    out = np.full((len(days), len(firm_ids)), np.nan)
    if not days or not firm_ids:
        return out
    periods = [last_year_period(d) for d in days]
    first, last = min(p[0] for p in periods), max(p[1] for p in periods)
    column = {f: i for i, f in enumerate(firm_ids)}
    kwh = np.zeros(((last - first).days + 1, len(firm_ids)))
    seen = np.zeros(kwh.shape, dtype=bool)
    rows = PowerReading.objects.filter(date__range=(first, last)).order_by().values_list(
        "enterprise_id", "date", Cast("kwh", FloatField())
    )
    for firm, offset, value in raw_rows(rows, first):
        i = column.get(firm)
        if i is not None:
            kwh[offset, i] = value
            seen[offset, i] = True
    pre = window.get()
    pre_mean = np.array([pre[f][0] if f in pre else np.nan for f in firm_ids])
    pre_ok = pre_mean > 0
    for k, (p_start, p_end) in enumerate(periods):
        a, b = (p_start - first).days, (p_end - first).days + 1
        n = seen[a:b].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = kwh[a:b].sum(axis=0) / n
        last_year_ok = (n >= MIN_LAST_YEAR_DAYS) & (mean > 0)
        out[k] = np.where(last_year_ok, mean, np.where(pre_ok, pre_mean, np.nan))
    return out


def baselines(firms, day: dt.date, *, window: WindowBaselines | None = None) -> dict[int, float]:
    """{enterprise id: baseline kWh per day} for ``firms`` on ``day`` (rules in the module docstring)."""
    return {firm: b.kwh for firm, b in baseline_details(firms, day, window=window).items()}


def index(firms: Iterable[int], day: dt.date) -> dict[int, float | None]:
    """{enterprise id: 100 × kWh / baseline} on ``day``; None without a reading or a baseline."""
    ids = sorted(set(firms))
    base = baselines(ids, day)
    kwh: dict[int, float] = {}
    for batch in chunks(ids):
        kwh.update(
            PowerReading.objects.filter(date=day, enterprise_id__in=batch).values_list("enterprise_id", "kwh")
        )
    return {
        firm: (100 * float(kwh[firm]) / base[firm] if firm in kwh and firm in base else None) for firm in ids
    }


@dataclass(frozen=True)
class Anomaly:
    """An enterprise whose reported utilisation and power index disagree by more than the margin."""

    enterprise_id: int
    name: str
    uscc: str
    region_code: str
    region_name: str
    date: dt.date
    utilisation: float  # reported, fraction
    power_index: float  # 100 × kWh / baseline
    kwh: float
    baseline: float
    baseline_source: str
    gap: float  # utilisation − power_index / 100; positive: reports more than the meter shows


def anomalies(user, day: dt.date, *, region=None, margin: float | None = None) -> list[Anomaly]:
    """Reports of ``day`` in the user's scope whose utilisation differs from index/100 by more than ``margin``.

    ``margin`` defaults to settings.POWER_ANOMALY_MARGIN (a fraction, 0.3 = 30 points). Sorted by
    the size of the gap, largest first. A region outside the user's scope is a 404.
    """
    require_metrics_reader(user)
    margin = settings.POWER_ANOMALY_MARGIN if margin is None else margin
    place = resolve_region(user, region)
    reports = DailyReport.objects.restrict(user, "view").filter(
        date=day, enterprise__in=PowerReading.objects.filter(date=day).values("enterprise_id")
    )
    if place is not None:
        reports = reports.filter(enterprise__region__code__startswith=place.prefix)
    rows = list(
        reports.order_by().values_list(
            "enterprise_id",
            "utilisation",
            "enterprise__name",
            "enterprise__uscc",
            "enterprise__region_id",
            "enterprise__region__name",
        )
    )
    if not rows:
        return []
    firms = reports.values("enterprise_id")
    base = baseline_details(firms, day)
    kwh = dict(
        PowerReading.objects.filter(date=day, enterprise_id__in=firms).values_list("enterprise_id", "kwh")
    )
    found = []
    for firm, util, name, uscc, region_code, region_name in rows:
        b = base.get(firm)
        if b is None or firm not in kwh:
            continue
        idx = 100 * float(kwh[firm]) / b.kwh
        gap = float(util) - idx / 100
        if abs(gap) > margin + 1e-9:
            found.append(
                Anomaly(firm, name, uscc or "", region_code or "", region_name or "", day, float(util), idx,
                        float(kwh[firm]), b.kwh, b.source, gap)  # fmt: skip
            )
    found.sort(key=lambda a: (-abs(a.gap), a.name))
    return found
