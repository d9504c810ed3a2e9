"""The risk lists as an .xlsx workbook, one sheet per list.

Sheets: 市内/省内/省外/境外 by scope and the overseas-dependence list (境外依赖), rows in the order
the items are given (docs/risk.md).
"""

from __future__ import annotations

import tempfile
from typing import IO

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from gulian.registry.scope import LinkScope
from gulian.risk.models import RiskItem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 1000


def sheets() -> list[tuple[str, str]]:
    """(key, sheet name): the four lists by scope, then the overseas-dependence list."""
    return [
        (LinkScope.CITY, _("市内清单")),
        (LinkScope.PROVINCE, _("省内清单")),
        (LinkScope.DOMESTIC, _("省外清单")),
        (LinkScope.FOREIGN, _("境外清单")),
        ("overseas", _("境外依赖清单")),
    ]


def columns() -> list[str]:
    """Header row (Chinese, as the task forces' own lists)."""
    return [
        _("编号"), _("风险描述"), _("风险企业"), _("企业所在地"), _("产业链"), _("环节"), _("投入品类别"),
        _("受影响链主"), _("范围"), _("境外依赖"), _("距影响天数"), _("严重程度"), _("风险分值"), _("来源"),
        _("状态"), _("处置方式"), _("处置措施"), _("责任部门"), _("责任人"), _("更新时间"),
    ]  # fmt: skip


def _row(item: RiskItem) -> list:
    ent = item.enterprise
    where = ent.region.full_name or ent.region.name if ent.region_id else ent.country
    owners = "、".join(o.name for o in item.affected_owners.all())
    person = item.responsible
    return [
        item.pk, item.title, ent.name, where, item.chain.name if item.chain_id else "",
        item.segment.name if item.segment_id else "", item.input_category, owners, item.get_scope_display(),
        _("是") if item.overseas_dependence else _("否"), item.days_to_impact, item.get_severity_display(),
        round(item.score, 4), item.get_source_display(), item.get_status_display(), item.get_mitigation_display(),
        item.mitigation_note, item.department, (person.get_full_name() or person.username) if person else "",
        timezone.localtime(item.updated_at).strftime("%Y-%m-%d %H:%M"),
    ]  # fmt: skip


def write_lists(items, out: IO[bytes] | None = None) -> IO[bytes]:
    """Write ``items`` to ``out`` (a new temporary file by default), rewound for reading.

    ``items`` is a queryset with enterprise, region, chain, segment, responsible and owners loaded.
    """
    out = out if out is not None else tempfile.TemporaryFile()
    wb = xlsxwriter.Workbook(out, {"strings_to_numbers": False, "strings_to_urls": False, "in_memory": True})
    head = wb.add_format({"bold": True, "bg_color": "#F1F5F9", "border": 1, "text_wrap": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    cols = columns()
    by_key, next_row = {}, {}
    for key, name in sheets():
        ws = wb.add_worksheet(name)
        for c, title in enumerate(cols):
            ws.write_string(0, c, title, head)
        ws.set_column(0, 0, 8)
        ws.set_column(1, 1, 36, wrap)
        ws.set_column(2, 7, 18, wrap)
        ws.set_column(8, len(cols) - 1, 11)
        ws.set_column(16, 16, 30, wrap)
        ws.freeze_panes(1, 2)
        by_key[key], next_row[key] = ws, 1
    for item in items.iterator(chunk_size=CHUNK):
        row = _row(item)
        targets = [item.scope] + (["overseas"] if item.overseas_dependence else [])
        for key in targets:
            ws = by_key.get(key)
            if ws is None:
                continue
            r = next_row[key]
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, int | float):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
            next_row[key] = r + 1
    for key, ws in by_key.items():
        if next_row[key] > 1:
            ws.autofilter(0, 0, next_row[key] - 1, len(cols) - 1)
    wb.close()
    out.seek(0)
    return out
