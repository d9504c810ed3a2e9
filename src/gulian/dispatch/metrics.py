"""Dispatch metrics read from the daily roll-ups only: overview, breakdown, series.

Every function takes the acting user; rows come through ``RegionDay/ChainDay.objects.restrict()``
(the county prefix of the user's scope), and a region parameter outside the scope is a 404.
Slices by chain or segment read ChainDay, all others RegionDay. Rates are ratios of sums
(docs/dispatch.md, "指标口径 / Metric definitions"); None when the denominator is zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext

from gulian.core.models import Region
from gulian.dispatch import rollup
from gulian.dispatch.models import ChainDay, RegionDay
from gulian.dispatch.rollup import COUNTS, MEASURES
from gulian.dispatch.slicing import (
    parse_above_size,
    require_metrics_reader,
    resolve_chain,
    resolve_region,
    resolve_segment,
)
from gulian.registry.models import Chain, Scale, Segment

RATES = ("reporting_rate", "resumption_rate", "recovery_rate", "utilisation", "on_duty_rate", "power_index")
BREAKDOWNS = ("region", "chain", "segment", "scale", "above_size")
MAX_SERIES_DAYS = 731


def _ratio(num: float, den: float, factor: float = 1.0) -> float | None:
    return factor * num / den if den else None


@dataclass(kw_only=True)
class Measures:
    """Additive measures of a slice, and the rates built from them."""

    expected: int = 0
    reporting: int = 0
    late: int = 0
    resumed: int = 0
    recovered: int = 0
    staff_on_duty: int = 0
    staff_normal: int = 0
    output_weight: float = 0.0
    weighted_utilisation: float = 0.0
    kwh: float = 0.0
    kwh_baseline: float = 0.0
    blockers: dict[int, int] = field(default_factory=dict)

    def add(self, row: dict) -> None:
        """Add one roll-up row (a dict with the measure names, optionally ``blockers``)."""
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + (row.get(name) or 0))
        for bit, n in (row.get("blockers") or {}).items():
            self.blockers[int(bit)] = self.blockers.get(int(bit), 0) + n

    @property
    def reporting_rate(self) -> float | None:
        """报送率 = reporting / expected."""
        return _ratio(self.reporting, self.expected)

    @property
    def resumption_rate(self) -> float | None:
        """复工率 = resumed / reporting."""
        return _ratio(self.resumed, self.reporting)

    @property
    def recovery_rate(self) -> float | None:
        """达产率 = (resumed and utilisation ≥ threshold) / reporting."""
        return _ratio(self.recovered, self.reporting)

    @property
    def utilisation(self) -> float | None:
        """Output-weighted mean utilisation = Σ baseline output × utilisation / Σ baseline output."""
        return _ratio(self.weighted_utilisation, self.output_weight)

    @property
    def on_duty_rate(self) -> float | None:
        """到岗率 = Σ staff on duty / Σ normal staff."""
        return _ratio(self.staff_on_duty, self.staff_normal)

    @property
    def power_index(self) -> float | None:
        """电力复工指数 = 100 × Σ kWh / Σ baseline kWh (firms with both)."""
        return _ratio(self.kwh, self.kwh_baseline, 100.0)

    def rates(self) -> dict[str, float | None]:
        """Every rate by name (RATES)."""
        return {name: getattr(self, name) for name in RATES}

    def to_dict(self) -> dict:
        """Measures and rates as plain values (for JSON and spreadsheets)."""
        out = {name: getattr(self, name) for name in MEASURES}
        out["blockers"] = dict(sorted(self.blockers.items()))
        return out | self.rates()


@dataclass(kw_only=True)
class Overview(Measures):
    """A day's figures for a slice, with day-on-day and week-on-week changes of each rate.

    Changes are differences (this day's rate − the earlier day's), in fractions, index points for
    the power index; None when either side is None.
    """

    date: dt.date
    region: str = ""  # region code of the slice ("" = nationwide)
    region_name: str = ""
    day_on_day: dict[str, float | None] = field(default_factory=dict)
    week_on_week: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """As Measures.to_dict, plus date, region and the changes."""
        return super().to_dict() | {
            "date": self.date.isoformat(),
            "region": self.region,
            "region_name": self.region_name,
            "day_on_day": self.day_on_day,
            "week_on_week": self.week_on_week,
        }


@dataclass(kw_only=True)
class BreakdownRow(Measures):
    """One child of a breakdown: key (region code, chain code, segment pk, scale, "true"/"false") and label."""

    key: str
    label: str
    level: str = ""  # for regions: province / prefecture / county


@dataclass(kw_only=True)
class SeriesPoint(Measures):
    """One day of a series (no blocker counts: they are in the overview of a single day)."""

    date: dt.date


@dataclass(frozen=True)
class Slice:
    """A resolved, scope-checked slice of the roll-ups."""

    region: Region | None
    chain: Chain | None
    segment: Segment | None
    scale: str
    above_size: bool | None

    def rows(self, user, *, chains: bool = False) -> QuerySet:
        """Roll-up rows in scope and in the slice (ChainDay when a chain/segment is chosen or ``chains``)."""
        model = ChainDay if (chains or self.chain or self.segment) else RegionDay
        qs = model.objects.restrict(user, "view")
        if self.region is not None:
            qs = qs.filter(county__startswith=self.region.prefix)
        if self.chain is not None:
            qs = qs.filter(chain_id=self.chain.pk)
        if self.segment is not None:
            qs = qs.filter(segment_id=self.segment.pk)
        if self.scale:
            qs = qs.filter(scale=self.scale)
        if self.above_size is not None:
            qs = qs.filter(above_size=self.above_size)
        return qs.order_by()


def resolve(user, *, region=None, chain=None, segment=None, scale=None, above_size=None) -> Slice:
    """Check the parameters against the user's scope (404 outside) and return the slice."""
    require_metrics_reader(user)
    place = resolve_region(user, region)
    chain_obj = resolve_chain(user, chain)
    segment_obj = resolve_segment(user, segment, chain_obj)
    if segment_obj is not None and chain_obj is None:
        chain_obj = segment_obj.chain
    if scale and scale not in Scale.values:
        raise ValidationError(
            {"scale": [f"取值应为 {'/'.join(Scale.values)} / use one of {', '.join(Scale.values)}"]}
        )
    return Slice(place, chain_obj, segment_obj, scale or "", parse_above_size(above_size))


def _changes(now: Measures, before: Measures | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name in RATES:
        a, b = getattr(now, name), getattr(before, name) if before is not None else None
        out[name] = None if a is None or b is None else a - b
    return out


FETCH = (*MEASURES, "blockers")


def overview(user, date: dt.date, *, region=None, chain=None, segment=None, scale=None, above_size=None,
             refresh: bool = True) -> Overview:  # fmt: skip
    """The day's figures for the slice, with changes against the day before and a week before.

    ``refresh`` first recomputes dirty days (rollup.refresh_dirty) and computes ``date`` if it
    has never been (a day nobody has reported for yet still has enterprises expected).
    """
    s = resolve(user, region=region, chain=chain, segment=segment, scale=scale, above_size=above_size)
    if refresh:
        rollup.refresh_dirty(date - dt.timedelta(days=7), date)
        rollup.ensure_day(date)
    days = {
        date: Measures(),
        date - dt.timedelta(days=1): Measures(),
        date - dt.timedelta(days=7): Measures(),
    }
    seen: set[dt.date] = set()
    for row in s.rows(user).filter(date__in=list(days)).values("date", *FETCH):
        days[row["date"]].add(row)
        seen.add(row["date"])
    today = days[date]
    result = Overview(
        date=date,
        region=s.region.code if s.region else "",
        region_name=(s.region.full_name or s.region.name) if s.region else gettext("全国"),
    )
    for name in FETCH:
        setattr(result, name, getattr(today, name))
    result.day_on_day = _changes(
        today, days[date - dt.timedelta(days=1)] if (date - dt.timedelta(days=1)) in seen else None
    )
    week = date - dt.timedelta(days=7)
    result.week_on_week = _changes(today, days[week] if week in seen else None)
    return result


def _group(rows: Iterable[dict], key: Callable[[dict], str]) -> dict[str, Measures]:
    groups: dict[str, Measures] = {}
    for row in rows:
        groups.setdefault(key(row), Measures()).add(row)
    return groups


def _by_region(user, s: Slice, date: dt.date) -> list[BreakdownRow]:
    """Children one level below the slice's region (provinces for a nationwide user)."""
    if s.region is None:
        children = list(Region.objects.filter(level="province"))
    else:
        children = list(Region.objects.filter(parent_id=s.region.code))
    if s.region is not None and not children:
        children = [s.region]  # a county: the county itself
    by_prefix = sorted(children, key=lambda r: -len(r.prefix))

    def child_of(row: dict) -> str:
        county = row["county"]
        return next((r.code for r in by_prefix if county.startswith(r.prefix)), "")

    groups = _group(s.rows(user).filter(date=date).values("county", *FETCH), child_of)
    out = []
    for r in sorted(children, key=lambda r: r.code):
        if r.code in groups:
            out.append(_row(groups.pop(r.code), key=r.code, label=r.name, level=r.level))
    if "" in groups:  # firms registered at a level above the children (e.g. a city-level code)
        out.append(_row(groups.pop(""), key="", label="本级（未细分） / not subdivided"))
    return out


def _row(m: Measures, **labels) -> BreakdownRow:
    row = BreakdownRow(**labels)
    for name in FETCH:
        setattr(row, name, getattr(m, name))
    return row


def breakdown(user, date: dt.date, *, by: str = "region", region=None, chain=None, segment=None, scale=None,
              above_size=None, refresh: bool = True) -> list[BreakdownRow]:  # fmt: skip
    """Rows of the slice split by ``by``: region (children), chain, segment, scale or above_size."""
    if by not in BREAKDOWNS:
        raise ValidationError(
            {"by": [f"取值应为 {'/'.join(BREAKDOWNS)} / use one of {', '.join(BREAKDOWNS)}"]}
        )
    s = resolve(user, region=region, chain=chain, segment=segment, scale=scale, above_size=above_size)
    if refresh:
        rollup.refresh_dirty(date, date)
        rollup.ensure_day(date)
    if by == "region":
        return _by_region(user, s, date)
    if by in ("chain", "segment"):
        rows = s.rows(user, chains=True).filter(date=date).values("chain_id", "segment_id", *FETCH)
        if by == "chain":
            groups = _group(rows, lambda r: str(r["chain_id"]))
            chains = {str(c.pk): c for c in Chain.objects.filter(pk__in=[int(k) for k in groups])}
            return [
                _row(groups[k], key=chains[k].code, label=chains[k].name)
                for k in sorted(groups, key=lambda k: chains[k].code)
            ]
        groups = _group(rows, lambda r: f"{r['chain_id']}:{r['segment_id'] or ''}")
        segments = {
            str(seg.pk): seg
            for seg in Segment.objects.filter(
                pk__in=[int(k.split(":")[1]) for k in groups if k.split(":")[1]]
            )
        }
        chains = {str(c.pk): c for c in Chain.objects.filter(pk__in=[int(k.split(":")[0]) for k in groups])}
        out = []
        for k in groups:
            chain_pk, seg_pk = k.split(":")
            seg = segments.get(seg_pk)
            name = seg.name if seg else "未分环节 / no segment"
            label = name if s.chain is not None else f"{chains[chain_pk].name} · {name}"
            out.append(
                (chains[chain_pk].code, seg.order if seg else 9999, _row(groups[k], key=seg_pk, label=label))
            )
        return [row for *_sort, row in sorted(out, key=lambda t: (t[0], t[1]))]
    rows = s.rows(user).filter(date=date).values("scale", "above_size", *FETCH)
    if by == "scale":
        groups = _group(rows, lambda r: r["scale"])
        labels = dict(Scale.choices) | {"": "未填规模 / scale not given"}
        order = [*Scale.values, ""]
        return [_row(groups[k], key=k, label=str(labels[k])) for k in order if k in groups]
    groups = _group(rows, lambda r: "true" if r["above_size"] else "false")
    labels = {"true": "规上企业 / above designated size", "false": "规下企业 / below designated size"}
    return [_row(groups[k], key=k, label=labels[k]) for k in ("true", "false") if k in groups]


def series(user, start: dt.date, end: dt.date, *, region=None, chain=None, segment=None, scale=None,
           above_size=None, refresh: bool = True) -> list[SeriesPoint]:  # fmt: skip
    """One point per day from ``start`` to ``end`` inclusive (days without roll-ups: zeros, rates None)."""
    if end < start:
        raise ValidationError({"end": ["结束日期早于开始日期 / end is before start"]})
    if (end - start).days >= MAX_SERIES_DAYS:
        raise ValidationError({"start": [f"最多 {MAX_SERIES_DAYS} 天 / at most {MAX_SERIES_DAYS} days"]})
    s = resolve(user, region=region, chain=chain, segment=segment, scale=scale, above_size=above_size)
    if refresh:
        rollup.refresh_dirty(start, end)
    sums = (
        s.rows(user)
        .filter(date__range=(start, end))
        .values("date")
        .annotate(**{f"s_{m}": Sum(m) for m in MEASURES})
        .order_by("date")
    )
    by_day = {r["date"]: {m: r[f"s_{m}"] for m in MEASURES} for r in sums}
    points = []
    day = start
    while day <= end:
        point = SeriesPoint(date=day)
        if day in by_day:
            point.add(by_day[day])
        points.append(point)
        day += dt.timedelta(days=1)
    return points


def latest_date(user, region=None) -> dt.date | None:
    """The last date with reports in the user's scope (the page's default date)."""
    rows = RegionDay.objects.restrict(user, "view").filter(reporting__gt=0)
    place = resolve(user, region=region).region
    if place is not None:
        rows = rows.filter(county__startswith=place.prefix)
    latest = rows.order_by("-date").values_list("date", flat=True).first()
    # reports filed since the last roll-up may make a later day the latest one
    if rollup.refresh_dirty(latest, timezone.localdate()):
        latest = rows.order_by("-date").values_list("date", flat=True).first()
    return latest


__all__ = ["BREAKDOWNS", "COUNTS", "RATES", "BreakdownRow", "Measures", "Overview", "SeriesPoint", "Slice",
           "breakdown", "latest_date", "overview", "resolve", "series"]  # fmt: skip
