"""Who has not reported: the enterprises expected to report on a day that have no report, by liaison.

Expected to report: every domestic enterprise (country CN) in the user's scope
(``Enterprise.objects.domestic(user, "view")``), narrowed to a region prefix when one is given.
Foreign suppliers never report. Three queries whatever the size: the counts per liaison, the number
expected, and the rows (with liaison and region joined).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import IO

import xlsxwriter
from django.db.models import Count, F

from gulian.dispatch.models import DailyReport
from gulian.registry.models import Enterprise

ROW_FIELDS = (
    "id",
    "uscc",
    "name",
    "region_id",
    "region__full_name",
    "region__name",
    "contact_name",
    "contact_phone",
    "liaison_id",
)


@dataclass
class MissingEnterprise:
    """An enterprise without a report, with the contact the liaison calls."""

    id: int
    uscc: str
    name: str
    region: str
    region_name: str
    contact_name: str
    contact_phone: str


@dataclass
class LiaisonGroup:
    """One liaison's missing enterprises (``liaison`` None: enterprises assigned to nobody)."""

    liaison: int | None
    liaison_name: str
    liaison_phone: str
    count: int
    enterprises: list[MissingEnterprise] = field(default_factory=list)


@dataclass
class MissingList:
    """The day's missing reports: counts and groups (enterprises listed up to the limit asked for)."""

    date: dt.date
    expected: int
    groups: list[LiaisonGroup]
    truncated: bool = False

    @property
    def missing(self) -> int:
        """Enterprises without a report."""
        return sum(g.count for g in self.groups)

    @property
    def reported(self) -> int:
        """Enterprises with a report."""
        return self.expected - self.missing

    @property
    def rate(self) -> float | None:
        """Share of the expected enterprises that reported (None when none is expected)."""
        return self.reported / self.expected if self.expected else None


def _person(first: str | None, last: str | None, username: str | None) -> str:
    """A user's name as get_full_name() gives it, else the username."""
    return f"{first or ''} {last or ''}".strip() or (username or "")


def missing_reports(
    user, date: dt.date, prefix: str = "", liaison: int | None = None, limit: int | None = None
) -> MissingList:
    """The enterprises in ``user``'s scope (under ``prefix``) without a report on ``date``, by liaison.

    ``liaison`` narrows to one liaison's enterprises (0: the unassigned ones); ``limit`` caps the
    enterprises listed (the counts are always complete).
    """
    firms = Enterprise.objects.domestic(user, "view").filter(country="CN")
    if prefix:
        firms = firms.filter(region__code__startswith=prefix)
    if liaison is not None:
        firms = firms.filter(liaison__isnull=True) if liaison == 0 else firms.filter(liaison_id=liaison)
    missing = firms.exclude(pk__in=DailyReport.objects.filter(date=date).values("enterprise_id"))
    counts = (
        missing.values(
            "liaison_id", "liaison__first_name", "liaison__last_name", "liaison__username", "liaison__phone"
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    groups = {
        row["liaison_id"]: LiaisonGroup(
            liaison=row["liaison_id"],
            liaison_name=_person(
                row["liaison__first_name"], row["liaison__last_name"], row["liaison__username"]
            ),
            liaison_phone=row["liaison__phone"] or "",
            count=row["n"],
        )
        for row in counts
    }
    rows = missing.order_by(F("liaison__username").asc(nulls_last=True), "liaison_id", "region_id", "name")
    rows = rows.values_list(*ROW_FIELDS)
    listed = 0
    for pk, code, name, region, full_name, short_name, contact, phone, liaison_id in (
        rows[:limit] if limit is not None else rows.iterator(chunk_size=5000)
    ):
        groups[liaison_id].enterprises.append(
            MissingEnterprise(
                pk, code or "", name, region or "", full_name or short_name or "", contact, phone
            )
        )
        listed += 1
    ordered = sorted(groups.values(), key=lambda g: (g.liaison is None, g.liaison_name, g.liaison or 0))
    total = sum(g.count for g in ordered)
    return MissingList(date=date, expected=firms.count(), groups=ordered, truncated=listed < total)


def write_missing_xlsx(result: MissingList, out: str | IO[bytes]) -> None:
    """The missing list as a workbook: one row per enterprise (grouped by liaison) and a summary sheet."""
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False})
    head = wb.add_format({"bold": True, "bg_color": "#F1F5F9", "border": 1})
    ws = wb.add_worksheet("未报企业")
    columns = (
        ("联络员", 14),
        ("联络员电话", 16),
        ("统一社会信用代码", 22),
        ("企业名称", 36),
        ("所在区域", 24),
        ("联系人", 12),
        ("联系电话", 16),
    )
    for c, (title, width) in enumerate(columns):
        ws.write_string(0, c, title, head)
        ws.set_column(c, c, width)
    ws.freeze_panes(1, 0)
    r = 0
    for g in result.groups:
        name = g.liaison_name or "（未分配联络员）"
        for e in g.enterprises:
            r += 1
            for c, value in enumerate((name, g.liaison_phone, e.uscc, e.name, e.region_name, e.contact_name,
                                       e.contact_phone)):  # fmt: skip
                ws.write_string(r, c, value)
    summary = wb.add_worksheet("汇总")
    summary.set_column(0, 0, 24)
    summary.set_column(1, 2, 14)
    lines = [
        ("日期", result.date.isoformat()),
        ("应报企业", result.expected),
        ("已报企业", result.reported),
        ("未报企业", result.missing),
    ]
    for i, (label, value) in enumerate(lines):
        summary.write_string(i, 0, label, head)
        (summary.write_number if isinstance(value, int) else summary.write_string)(i, 1, value)
    top = len(lines) + 1
    for c, title in enumerate(("联络员", "联络员电话", "未报企业数")):
        summary.write_string(top, c, title, head)
    for i, g in enumerate(result.groups, start=top + 1):
        summary.write_string(i, 0, g.liaison_name or "（未分配联络员）")
        summary.write_string(i, 1, g.liaison_phone)
        summary.write_number(i, 2, g.count)
    wb.close()
