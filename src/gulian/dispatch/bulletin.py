"""The daily bulletin (产业链协同复工复产日报): one day's figures for a region (and chain), assembled once.

:func:`build` gathers everything the bulletin shows from the dispatch app's read functions —
:func:`gulian.dispatch.metrics.overview` / ``breakdown`` / ``series``,
:func:`gulian.dispatch.heldback.held_back`, :func:`gulian.dispatch.power.anomalies` — so it reads
only what ``restrict()`` lets the user see, and a region or chain outside the user's scope is a 404
(``Http404``), as everywhere. The spreadsheet (bulletin_xlsx.py), the printable page
(views_bulletin.py) and ``gulian dispatch report`` render the same :class:`Bulletin`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Min
from django.utils.translation import gettext_lazy as _

from gulian.dispatch import heldback, metrics, power
from gulian.dispatch.models import Blocker, DailyReport, RegionDay
from gulian.registry.models import Chain, Membership

TREND_DAYS = 30
NOTES_LIMIT = 5000  # free-text notes in the spreadsheet; the page shows the first few


@dataclass(frozen=True)
class Kpi:
    """A headline figure: key, label, value (a count, a fraction, or the ×100 power index) and its changes."""

    key: str
    label: str
    value: float | int | None
    kind: str  # "count" | "rate" | "index"
    day_on_day: float | None = None
    week_on_week: float | None = None


@dataclass(frozen=True)
class Note:
    """A reported blocker note: the enterprise, its region, the blockers named and the text."""

    enterprise: str
    uscc: str
    region: str
    blockers: str
    text: str


@dataclass
class Bulletin:
    """Everything one bulletin shows, for one date, region (None = nationwide) and optional chain."""

    date: dt.date
    issue: int  # 第N期: days since the first report in the user's scope, this day included
    region_code: str
    region_name: str
    office: str
    chain: Chain | None
    overview: metrics.Overview
    above_size: metrics.Overview  # the same slice, 规上 only: the figure bulletins lead with
    series: list[metrics.SeriesPoint]
    above_series: list[metrics.SeriesPoint]
    regions: list[metrics.BreakdownRow]
    chains: list[metrics.BreakdownRow]  # by chain, or by segment when a chain is chosen
    held_back: list[heldback.HeldBackRow]
    anomalies: list[power.Anomaly]
    notes: list[Note] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The red-header title (红头)."""
        return str(_("产业链协同复工复产日报"))

    @property
    def place(self) -> str:
        """Region and chain in one phrase, e.g. "浙江省 · 集成电路"."""
        return self.region_name + (f" · {self.chain.name}" if self.chain else "")

    def kpis(self) -> list[Kpi]:
        """The headline figures in the order the summary lists them."""
        ov, above = self.overview, self.above_size

        def rate(key: str, label, source: metrics.Overview = ov) -> Kpi:
            return Kpi(key, str(label), getattr(source, key), "index" if key == "power_index" else "rate",
                       source.day_on_day.get(key), source.week_on_week.get(key))

        return [
            Kpi("expected", str(_("应报企业（家）")), ov.expected, "count"),
            Kpi("reporting", str(_("已报企业（家）")), ov.reporting, "count"),
            rate("reporting_rate", _("报送率")),
            Kpi("resumed", str(_("已复工企业（家）")), ov.resumed, "count"),
            rate("resumption_rate", _("复工率")),
            Kpi("above_size_resumption_rate", str(_("规上企业复工率")), above.resumption_rate, "rate",
                above.day_on_day.get("resumption_rate"), above.week_on_week.get("resumption_rate")),
            rate("recovery_rate", _("达产率")),
            rate("utilisation", _("产能利用率（按产值加权）")),
            rate("on_duty_rate", _("员工到岗率")),
            rate("power_index", _("电力复工指数")),
            Kpi("late", str(_("迟报企业（家）")), ov.late, "count"),
        ]

    def blocker_counts(self) -> list[tuple[str, int, float | None]]:
        """(blocker label, enterprises naming it, share of reporting enterprises), most frequent first."""
        rows = [(str(b.label), self.overview.blockers.get(int(b), 0)) for b in Blocker]
        rows.sort(key=lambda r: -r[1])
        reporting = self.overview.reporting
        return [(label, n, (n / reporting) if reporting else None) for label, n in rows if n]


def zh_date(day: dt.date) -> str:
    """2020-03-07 → "2020年3月7日"."""
    return f"{day.year}年{day.month}月{day.day}日"


def _issue(user, day: dt.date, prefix: str) -> int:
    """第N期: the number of days from the first day anyone in scope reported, to ``day``."""
    rows = RegionDay.objects.restrict(user, "view").filter(reporting__gt=0, date__lte=day)
    if prefix:
        rows = rows.filter(county__startswith=prefix)
    first = rows.aggregate(first=Min("date"))["first"]
    return (day - first).days + 1 if first else 1


def office_name(region_name: str, chain: Chain | None) -> str:
    """The issuing office (发文机关) printed under the title."""
    if chain is not None:
        return str(_("{region}{chain}产业链链长制工作专班办公室")).format(region=region_name, chain=chain.name)
    return str(_("{region}产业链协同复工复产工作专班办公室")).format(region=region_name)


def _notes(user, day: dt.date, prefix: str, chain: Chain | None, limit: int) -> list[Note]:
    reports = DailyReport.objects.restrict(user, "view").filter(date=day).exclude(blocker_note="")
    if prefix:
        reports = reports.filter(enterprise__region__code__startswith=prefix)
    if chain is not None:
        reports = reports.filter(enterprise__memberships__chain=chain)
    rows = reports.order_by("enterprise__region_id", "enterprise__name").values_list(
        "enterprise__name", "enterprise__uscc", "enterprise__region__name", "blockers", "blocker_note")[:limit]
    return [Note(name, uscc or "", region or "", "、".join(str(b.label) for b in Blocker.decode(mask)), text)
            for name, uscc, region, mask, text in rows]


latest_date = metrics.latest_date  # the bulletin page and the overview default to the same day


def build(user, day: dt.date, *, region=None, chain=None, notes_limit: int = NOTES_LIMIT) -> Bulletin:
    """The bulletin of ``day`` for ``region`` (default: the user's scope) and optional ``chain``.

    Http404 when the region or chain is outside the user's scope or the user reads no dispatch figures.
    """
    s = metrics.resolve(user, region=region, chain=chain)
    code = s.region.code if s.region else ""
    name = (s.region.full_name or s.region.name) if s.region else str(_("全国"))
    prefix = s.region.prefix if s.region else ""
    slice_ = {"region": code or None, "chain": s.chain}
    overview = metrics.overview(user, day, **slice_)
    above = metrics.overview(user, day, above_size=True, refresh=False, **slice_)
    start = day - dt.timedelta(days=TREND_DAYS - 1)
    return Bulletin(
        date=day,
        issue=_issue(user, day, prefix),
        region_code=code,
        region_name=name,
        office=office_name(name, s.chain),
        chain=s.chain,
        overview=overview,
        above_size=above,
        series=metrics.series(user, start, day, refresh=False, **slice_),
        above_series=metrics.series(user, start, day, above_size=True, refresh=False, **slice_),
        regions=metrics.breakdown(user, day, by="region", refresh=False, **slice_),
        chains=metrics.breakdown(user, day, by="segment" if s.chain else "chain", refresh=False, **slice_),
        held_back=heldback.held_back(user, day, chain=s.chain, owner_region=code or None),
        anomalies=_in_chain(power.anomalies(user, day, region=code or None), s.chain),
        notes=_notes(user, day, prefix, s.chain, notes_limit),
    )


def _in_chain(anomalies: list[power.Anomaly], chain: Chain | None) -> list[power.Anomaly]:
    """The anomalies of the chain's member enterprises (all of them without a chain)."""
    if chain is None:
        return anomalies
    members = set(Membership.objects.filter(chain=chain, enterprise_id__in=[a.enterprise_id for a in anomalies])
                  .values_list("enterprise_id", flat=True))
    return [a for a in anomalies if a.enterprise_id in members]
