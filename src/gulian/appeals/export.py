"""Appeals and their statistics as an .xlsx workbook (xlsxwriter).

Sheets: 诉求清单 (one row per appeal, in the order given), 按类别, 按地区, 时效 (time to accept and to
resolve, satisfaction, overdue and escalation rates). docs/appeals.md ("Pages" → statistics).
"""

from __future__ import annotations

import tempfile
from typing import IO

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from gulian.appeals.models import Appeal
from gulian.appeals.stats import Row, Summary

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 1000


def list_columns() -> list[str]:
    """Header row of the 诉求清单 sheet."""
    return [
        _("受理编号"), _("标题"), _("企业"), _("统一社会信用代码"), _("企业所在地"), _("诉求类别"), _("紧急程度"),
        _("状态"), _("层级"), _("承办单位"), _("提交时间"), _("受理时限"), _("受理时间"), _("办结时限"),
        _("答复时间"), _("超期"), _("升级次数"), _("满意度"), _("渠道"), _("诉求内容"),
    ]  # fmt: skip


def _when(value) -> str | None:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else None


def _list_row(a: Appeal) -> list:
    ent = a.enterprise
    where = (ent.region.full_name or ent.region.name) if ent.region_id else ent.country
    return [
        a.tracking_number, a.title, ent.name, ent.uscc or None, where, a.get_category_display(),
        a.get_urgency_display(), a.get_status_display(), a.get_level_display(), a.handler_label, _when(a.created_at),
        _when(a.accept_due), _when(a.accepted_at), _when(a.resolve_due), _when(a.resolved_at),
        _("是") if a.overdue else None, a.escalation_count, a.rating, a.channel, a.text,
    ]  # fmt: skip


def breakdown_columns(first: str) -> list[str]:
    """Header row of the 按类别 / 按地区 sheets."""
    return [first, _("诉求数"), _("办理中"), _("已答复"), _("曾超期"), _("超期率"), _("曾升级"), _("平均满意度")]


def _breakdown_row(r: Row) -> list:
    return [r.label, r.total, r.open, r.done, r.overdue, r.overdue_rate, r.escalated, r.mean_rating]


def timeliness_rows(s: Summary) -> list[tuple[str, object, str]]:
    """(measure, value, unit) lines of the 时效 sheet, also shown on the page."""
    out: list[tuple[str, object, str]] = [
        (_("诉求数"), s.total, ""),
        (_("受理时长：样本数"), s.accept.count, _("件")),
        (_("受理时长：中位数"), s.accept.median_hours, _("小时")),
        (_("受理时长：90分位"), s.accept.p90_hours, _("小时")),
        (_("受理时长：中位数（工作日）"), s.accept.median_workdays, _("工作日")),
        (_("受理时长：90分位（工作日）"), s.accept.p90_workdays, _("工作日")),
        (_("办结时长：样本数"), s.resolve.count, _("件")),
        (_("办结时长：中位数"), s.resolve.median_hours, _("小时")),
        (_("办结时长：90分位"), s.resolve.p90_hours, _("小时")),
        (_("办结时长：中位数（工作日）"), s.resolve.median_workdays, _("工作日")),
        (_("办结时长：90分位（工作日）"), s.resolve.p90_workdays, _("工作日")),
        (_("超期率"), s.overdue_rate, "%"),
        (_("升级率"), s.escalation_rate, "%"),
        (_("平均满意度"), s.mean_rating, _("分（1–5）")),
        (_("评价数"), s.rated, _("件")),
    ]
    out.extend((_("满意度 %(n)d 分") % {"n": n}, c, _("件")) for n, c in s.ratings.items())
    return out


def write_workbook(appeals, summary: Summary, out: IO[bytes] | None = None) -> IO[bytes]:
    """Write the list of ``appeals`` (a queryset with enterprise, regions and department loaded) and ``summary``.

    Returns ``out`` (a new temporary file by default), rewound for reading.
    """
    out = out if out is not None else tempfile.TemporaryFile()
    wb = xlsxwriter.Workbook(out, {"strings_to_numbers": False, "strings_to_urls": False, "in_memory": True})
    head = wb.add_format({"bold": True, "bg_color": "#F1F5F9", "border": 1, "text_wrap": True})
    pct = wb.add_format({"num_format": "0.0%"})
    num = wb.add_format({"num_format": "0.00"})

    ws = wb.add_worksheet(_("诉求清单"))
    for c, title in enumerate(list_columns()):
        ws.write_string(0, c, title, head)
    ws.set_column(0, 0, 20)
    ws.set_column(1, 2, 28)
    ws.set_column(3, 18, 14)
    ws.set_column(19, 19, 60)
    ws.freeze_panes(1, 1)
    row = 1
    for a in appeals.iterator(chunk_size=CHUNK):
        ws.write_row(row, 0, _list_row(a))
        row += 1

    for name, first, rows in (
        (_("按类别"), _("诉求类别"), summary.by_category),
        (_("按地区"), summary.region_level_label or _("地区"), summary.by_region),
    ):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, breakdown_columns(first), head)
        ws.set_column(0, 0, 22)
        ws.set_column(1, 7, 11)
        for i, r in enumerate(rows, start=1):
            values = _breakdown_row(r)
            ws.write_row(i, 0, values[:5])
            if values[5] is not None:
                ws.write_number(i, 5, values[5], pct)
            ws.write_number(i, 6, values[6])
            if values[7] is not None:
                ws.write_number(i, 7, values[7], num)

    ws = wb.add_worksheet(_("时效"))
    ws.write_row(0, 0, [_("指标"), _("数值"), _("单位")], head)
    ws.set_column(0, 0, 30)
    ws.set_column(1, 2, 14)
    for i, (label, value, unit) in enumerate(timeliness_rows(summary), start=1):
        ws.write_string(i, 0, label)
        if value is not None:
            ws.write_number(i, 1, value, pct if unit == "%" else num if isinstance(value, float) else None)
        ws.write_string(i, 2, unit)
    wb.close()
    out.seek(0)
    return out
