"""Appeal statistics for a scope: volume, timeliness, satisfaction, overdue and escalation rates.

``summarize(qs, base_prefix=…)`` takes appeals already restricted to the user's scope and filtered
(``AppealFilter``) and returns a ``Summary``. Every figure comes from a fixed number of queries
(grouped counts in the database, plus one query of timestamps for the durations), never one per appeal.
docs/appeals.md ("Pages" → statistics) states the definitions; in short:

- volume by category, by region (the child regions of ``base_prefix``: the provinces for the whole
  country, the cities of a province, the counties of a city; a county shows itself) and by week
  (weeks start on Monday, Asia/Shanghai);
- time to accept = ``accepted_at − created_at`` over appeals accepted (after an escalation or transfer
  the new unit's acceptance counts); time to resolve = ``resolved_at − created_at`` over appeals
  answered (resolved or cannot be resolved). Each as median and 90th percentile (linear interpolation
  between the closest ranks) in calendar hours and in working days — the part of the interval that falls
  on Chinese working days (``appeals.workdays``: holidays off, make-up days on), in units of 24 hours;
- satisfaction = mean rating (1–5) over rated appeals, and how many gave each rating;
- overdue rate = share of the appeals that were ever overdue: flagged by the sweep (now or earlier:
  an OVERDUE event), accepted after the accept deadline, answered after the resolve deadline, or still
  open past a deadline now;
- escalation rate = share of the appeals escalated at least once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Substr, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from gulian.appeals.filters import overdue_q
from gulian.appeals.models import ANSWERED_STATUSES, OPEN_STATUSES, AppealEvent, Category, EventKind, Status
from gulian.core.models import Region

try:  # written by the deadlines module; without it durations are given in calendar hours only
    from gulian.appeals import workdays as _workdays
except ImportError:  # pragma: no cover - the module ships with the app
    _workdays = None

DONE_STATUSES = (*ANSWERED_STATUSES, Status.CONFIRMED, Status.CLOSED)
OUTSIDE = "other"  # region bucket for enterprises outside the base region (or abroad)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- small maths ------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """The ``p``-th percentile (0–100) by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def working_days(start: dt.datetime, end: dt.datetime) -> float:
    """The part of [start, end] that falls on Chinese working days, in days of 24 hours (local time).

    Submitted Friday 17:00 and accepted Monday 09:00 of a normal week: 7 h + 9 h = 0.67 working days.
    Without the workdays module every day counts (the calendar duration in days).
    """
    if end <= start:
        return 0.0
    tz = _tz()
    start, end = start.astimezone(tz), end.astimezone(tz)
    if _workdays is None:
        return (end - start).total_seconds() / 86400
    total = 0.0
    day = start.date()
    while day <= end.date():
        if _workdays.is_workday(day):
            lo = max(start, dt.datetime.combine(day, dt.time.min, tzinfo=tz))
            hi = min(end, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return total / 86400


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile of a duration, in calendar hours and in working days."""

    count: int
    median_hours: float | None
    p90_hours: float | None
    median_workdays: float | None
    p90_workdays: float | None

    @classmethod
    def of(cls, pairs: list[tuple[dt.datetime, dt.datetime]]) -> Durations:
        """From (start, end) pairs."""
        hours = [max((b - a).total_seconds(), 0) / 3600 for a, b in pairs]
        days = [working_days(a, b) for a, b in pairs]
        return cls(len(pairs), percentile(hours, 50), percentile(hours, 90), percentile(days, 50),
                   percentile(days, 90))  # fmt: skip


# --- the summary ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a breakdown table."""

    key: str
    label: str
    total: int = 0
    open: int = 0
    done: int = 0
    overdue: int = 0
    escalated: int = 0
    mean_rating: float | None = None

    @property
    def overdue_rate(self) -> float | None:
        """Share ever overdue (0..1)."""
        return self.overdue / self.total if self.total else None


@dataclass
class Summary:
    """Everything the statistics page and the export show."""

    total: int = 0
    open: int = 0
    done: int = 0
    overdue: int = 0
    escalated: int = 0
    rated: int = 0
    mean_rating: float | None = None
    ratings: dict[int, int] = field(default_factory=dict)
    by_status: list[Row] = field(default_factory=list)
    by_category: list[Row] = field(default_factory=list)
    by_region: list[Row] = field(default_factory=list)
    weekly: list[tuple[dt.date, int]] = field(default_factory=list)
    accept: Durations = field(default_factory=lambda: Durations.of([]))
    resolve: Durations = field(default_factory=lambda: Durations.of([]))
    region_level_label: str = ""

    @property
    def overdue_rate(self) -> float | None:
        """Share of the appeals ever overdue (0..1)."""
        return self.overdue / self.total if self.total else None

    @property
    def escalation_rate(self) -> float | None:
        """Share of the appeals escalated at least once (0..1)."""
        return self.escalated / self.total if self.total else None


def ever_overdue_q(now: dt.datetime | None = None) -> Q:
    """Appeals that were overdue at some point (definition in the module docstring)."""
    flagged = AppealEvent.objects.filter(appeal_id=OuterRef("pk"), kind=EventKind.OVERDUE)
    return (
        Q(overdue=True)
        | Q(Exists(flagged))
        | Q(accepted_at__gt=F("accept_due"))
        | Q(resolved_at__gt=F("resolve_due"))
        | overdue_q(now)
    )


def _counts(now: dt.datetime) -> dict:
    return {
        "total": Count("pk"),
        "open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        "done": Count("pk", filter=Q(status__in=DONE_STATUSES)),
        "overdue": Count("pk", filter=ever_overdue_q(now)),
        "escalated": Count("pk", filter=Q(escalation_count__gt=0)),
        "mean_rating": Avg("rating"),
    }


def _row(key: str, label: str, d: dict) -> Row:
    return Row(key, label, d["total"], d["open"], d["done"], d["overdue"], d["escalated"], d["mean_rating"])


def child_length(prefix: str) -> int:
    """Code prefix length of the child regions of ``prefix``: provinces 2, cities 4, counties 6."""
    return {0: 2, 2: 4}.get(len(prefix), 6)


def _region_code(prefix: str) -> str:
    return prefix + "0" * (6 - len(prefix))


def _by_region(qs: QuerySet, base_prefix: str, now: dt.datetime) -> list[Row]:
    n = child_length(base_prefix)
    grouped = (
        qs.order_by()
        .annotate(child=Substr("enterprise__region__code", 1, n))
        .values("child")
        .annotate(**_counts(now))
    )
    rows: dict[str, dict] = {}
    outside: dict | None = None
    for d in grouped:
        child = d.pop("child")
        if child and child.startswith(base_prefix) and len(child) == n:
            rows[child] = d
        else:  # enterprise outside the base region (a task force also sees what is handled there)
            outside = {k: (outside or {}).get(k, 0) + (v or 0) for k, v in d.items() if k != "mean_rating"}
            outside["mean_rating"] = None
    names = dict(Region.objects.filter(code__in=[_region_code(c) for c in rows]).values_list("code", "name"))
    out = [_row(c, names.get(_region_code(c), c), d) for c, d in sorted(rows.items())]
    if outside:
        out.append(_row(OUTSIDE, _("范围外"), outside))
    return out


def _weekly(qs: QuerySet) -> list[tuple[dt.date, int]]:
    tz = _tz()
    grouped = qs.order_by().annotate(week=TruncWeek("created_at", tzinfo=tz)).values("week").annotate(n=Count("pk"))
    counts: dict[dt.date, int] = {}
    for d in grouped:
        week = d["week"]
        day = (timezone.localtime(week, tz) if isinstance(week, dt.datetime) and timezone.is_aware(week) else week)
        day = day.date() if isinstance(day, dt.datetime) else day
        counts[day] = counts.get(day, 0) + d["n"]
    if not counts:
        return []
    first, last = min(counts), max(counts)
    out, week = [], first
    while week <= last:  # every week between the first and the last, empty ones as 0
        out.append((week, counts.get(week, 0)))
        week += dt.timedelta(days=7)
    return out


def summarize(qs: QuerySet, *, base_prefix: str = "", now: dt.datetime | None = None) -> Summary:
    """The statistics of ``qs`` (restricted and filtered appeals); regions broken down under ``base_prefix``."""
    now = now or timezone.now()
    qs = qs.order_by()
    s = Summary()
    totals = qs.aggregate(**_counts(now), rated=Count("rating"))
    s.total, s.open, s.done = totals["total"], totals["open"], totals["done"]
    s.overdue, s.escalated, s.rated, s.mean_rating = (
        totals["overdue"], totals["escalated"], totals["rated"], totals["mean_rating"]
    )  # fmt: skip
    statuses = {d["status"]: d["n"] for d in qs.values("status").annotate(n=Count("pk"))}
    s.by_status = [Row(v, str(label), statuses.get(v, 0)) for v, label in Status.choices]
    by_cat = {d.pop("category"): d for d in qs.values("category").annotate(**_counts(now))}
    empty = {"total": 0, "open": 0, "done": 0, "overdue": 0, "escalated": 0, "mean_rating": None}
    s.by_category = [_row(v, str(label), by_cat.get(v, empty)) for v, label in Category.choices]
    s.by_region = _by_region(qs, base_prefix, now)
    s.region_level_label = {2: _("省份"), 4: _("地市"), 6: _("区县")}[child_length(base_prefix)]
    s.weekly = _weekly(qs)
    s.ratings = {r: 0 for r in range(1, 6)}
    for d in qs.filter(rating__isnull=False).values("rating").annotate(n=Count("pk")):
        s.ratings[d["rating"]] = d["n"]
    accept, resolve = [], []
    times = qs.filter(Q(accepted_at__isnull=False) | Q(resolved_at__isnull=False, status__in=DONE_STATUSES))
    for created, accepted, resolved, status in times.values_list("created_at", "accepted_at", "resolved_at", "status"):
        if accepted is not None:
            accept.append((created, accepted))
        if resolved is not None and status in DONE_STATUSES:
            resolve.append((created, resolved))
    s.accept, s.resolve = Durations.of(accept), Durations.of(resolve)
    return s
