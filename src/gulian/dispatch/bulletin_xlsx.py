"""The daily bulletin as an .xlsx: 概况, 分地区, 分产业链, 未复工达产清单, 异常, 堵点 (xlsxwriter).

Rates are written as fractions with a percent format and the power index as a number, so a
spreadsheet reader gets back exactly the figures of :mod:`gulian.dispatch.metrics`. 概况 carries
the headline table, the last 30 days and a native Excel line chart of them.
"""

from __future__ import annotations

import datetime as dt
import io

import xlsxwriter
from django.utils.translation import gettext as _

from gulian.dispatch import heldback
from gulian.dispatch.bulletin import Bulletin, Kpi, zh_date
from gulian.dispatch.metrics import BreakdownRow
from gulian.dispatch.rollup import MEASURES

SHEETS = ("概况", "分地区", "分产业链", "未复工达产清单", "异常", "堵点")
# (header, attribute, kind) of the breakdown sheets; kind picks the cell format
MEASURE_COLUMNS = (
    ("应报企业", "expected", "count"), ("已报企业", "reporting", "count"), ("报送率", "reporting_rate", "rate"),
    ("已复工", "resumed", "count"), ("复工率", "resumption_rate", "rate"), ("达产企业", "recovered", "count"),
    ("达产率", "recovery_rate", "rate"), ("产能利用率", "utilisation", "rate"), ("到岗率", "on_duty_rate", "rate"),
    ("电力复工指数", "power_index", "index"), ("迟报", "late", "count"),
)
SERIES_COLUMNS = (
    ("应报企业", "expected", "count"), ("已报企业", "reporting", "count"), ("复工率", "resumption_rate", "rate"),
    ("规上复工率", None, "rate"), ("达产率", "recovery_rate", "rate"), ("产能利用率", "utilisation", "rate"),
    ("到岗率", "on_duty_rate", "rate"), ("电力复工指数", "power_index", "index"),
)
KPI_HEADER_ROW = 4  # 0-based row of the 指标 / 数值 / 较上日 / 较上周 header on 概况


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.title = wb.add_format({"bold": True, "font_size": 16, "font_color": "#C00000"})
        self.bold = wb.add_format({"bold": True})
        self.head = wb.add_format({"bold": True, "bg_color": "#F1F5F9", "border": 1, "text_wrap": True,
                                   "valign": "vcenter"})
        self.count = wb.add_format({"num_format": "#,##0"})
        self.rate = wb.add_format({"num_format": "0.0%"})
        self.index = wb.add_format({"num_format": "0.0"})
        self.money = wb.add_format({"num_format": "#,##0.00"})
        self.rate_change = wb.add_format({"num_format": "+0.0%;-0.0%;0.0%"})
        self.index_change = wb.add_format({"num_format": "+0.0;-0.0;0.0"})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})

    def of(self, kind: str):
        return {"count": self.count, "rate": self.rate, "index": self.index, "money": self.money}[kind]


def _number(ws, row: int, col: int, value, fmt) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _header(ws, row: int, names, f: _Formats, widths=None) -> None:
    for c, name in enumerate(names):
        ws.write_string(row, c, name, f.head)
        ws.set_column(c, c, (widths or {}).get(c, max(10, len(name) * 2 + 2)))


def _summary(wb, f: _Formats, b: Bulletin) -> None:
    ws = wb.add_worksheet(SHEETS[0])
    ws.write_string(0, 0, b.title, f.title)
    ws.write_string(1, 0, _("第{n}期　{date}　{place}").format(n=b.issue, date=zh_date(b.date),
                                                           place=b.place))
    ws.write_string(2, 0, b.office)
    _header(ws, KPI_HEADER_ROW, ("指标", "数值", "较上日", "较上周"), f, {0: 26, 1: 14, 2: 12, 3: 12})
    for r, k in enumerate(b.kpis(), start=KPI_HEADER_ROW + 1):
        _kpi_row(ws, r, k, f)
    first = KPI_HEADER_ROW + len(b.kpis()) + 3
    ws.write_string(first - 1, 0, _("近{n}日走势").format(n=len(b.series)), f.bold)
    _header(ws, first, ("日期", *(name for name, _attr, _kind in SERIES_COLUMNS)), f, {0: 26})
    above = {p.date: p.resumption_rate for p in b.above_series}
    for r, point in enumerate(b.series, start=first + 1):
        ws.write_datetime(r, 0, _midnight(point.date), f.date)
        for c, (_name, attr, kind) in enumerate(SERIES_COLUMNS, start=1):
            value = above.get(point.date) if attr is None else getattr(point, attr)
            _number(ws, r, c, value, f.of(kind))
    _chart(wb, ws, b, first)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _kpi_row(ws, r: int, k: Kpi, f: _Formats) -> None:
    ws.write_string(r, 0, k.label)
    _number(ws, r, 1, k.value, f.of(k.kind))
    change = f.index_change if k.kind == "index" else f.rate_change
    if k.kind != "count":
        _number(ws, r, 2, k.day_on_day, change)
        _number(ws, r, 3, k.week_on_week, change)


def _chart(wb, ws, b: Bulletin, header_row: int) -> None:
    """A line chart of the rates (left axis, %) and the power index (right axis) over the series rows."""
    if not b.series:
        return
    last = header_row + len(b.series)
    sheet = SHEETS[0]
    chart = wb.add_chart({"type": "line"})
    for col in (3, 4, 5, 6):  # 复工率, 规上复工率, 达产率, 产能利用率
        chart.add_series({
            "name": [sheet, header_row, col], "categories": [sheet, header_row + 1, 0, last, 0],
            "values": [sheet, header_row + 1, col, last, col], "marker": {"type": "none"},
        })
    index_col = len(SERIES_COLUMNS)
    chart.add_series({
        "name": [sheet, header_row, index_col], "categories": [sheet, header_row + 1, 0, last, 0],
        "values": [sheet, header_row + 1, index_col, last, index_col], "y2_axis": True,
        "line": {"dash_type": "dash"},
    })
    chart.set_title({"name": _("复工复产走势（近{n}日）").format(n=len(b.series))})
    chart.set_x_axis({"date_axis": True, "num_format": "m/d"})
    chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1.2})
    chart.set_y2_axis({"name": _("电力复工指数"), "min": 0, "max": 120})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 360})
    ws.insert_chart(KPI_HEADER_ROW, 5, chart)


def _breakdown(wb, f: _Formats, name: str, first: str, rows, total) -> None:
    ws = wb.add_worksheet(name)
    _header(ws, 0, (first, "代码", *(h for h, _a, _k in MEASURE_COLUMNS)), f, {0: 28, 1: 12})
    for r, row in enumerate([*rows, total], start=1):
        ws.write_string(r, 0, row.label if row is not total else _("合计"), f.bold if row is total else None)
        ws.write_string(r, 1, row.key if row is not total else "")
        for c, (_h, attr, kind) in enumerate(MEASURE_COLUMNS, start=2):
            _number(ws, r, c, getattr(row, attr), f.of(kind))
    ws.freeze_panes(1, 1)


def _held_back(wb, f: _Formats, b: Bulletin) -> None:
    ws = wb.add_worksheet(SHEETS[3])
    _header(ws, 0, ("序号", *(h for h, _w in heldback.COLUMNS)), f,
            {0: 6, **{c: w for c, (_h, w) in enumerate(heldback.COLUMNS, start=1)}})
    yes_no = {True: "是", False: "否", None: "—"}
    for r, row in enumerate(b.held_back, start=1):
        ws.write_number(r, 0, r)
        for c, text in enumerate((row.owner_name, row.chain_name, row.supplier_name, row.supplier_uscc,
                                  row.relation_label, row.supplier_region_name, row.scope_label,
                                  row.input_categories, row.status_label), start=1):
            ws.write_string(r, c, text)
        for c, value, kind in ((10, row.utilisation, "rate"), (11, row.share, "rate"), (12, row.annual_value, "money"),
                               (13, row.value_share, "rate"), (14, row.days, "count")):
            _number(ws, r, c, value, f.of(kind))
        ws.write_string(r, 15, row.since.isoformat() if row.since else "")
        ws.write_string(r, 16, row.last_report.isoformat() if row.last_report else "")
        ws.write_string(r, 17, yes_no[row.appeal_open])
        ws.write_string(r, 18, yes_no[row.risk_open])
    ws.freeze_panes(1, 3)
    if b.held_back:
        ws.autofilter(0, 0, len(b.held_back), len(heldback.COLUMNS))


def _anomalies(wb, f: _Formats, b: Bulletin) -> None:
    ws = wb.add_worksheet(SHEETS[4])
    _header(ws, 0, ("企业", "统一社会信用代码", "所在地区", "填报产能利用率", "电力复工指数", "差值（百分点）",
                    "当日用电量（千瓦时）", "基期日均用电量（千瓦时）", "基期"), f, {0: 30, 1: 22})
    source = {"last_year": _("上年同期"), "window": _("疫前均值")}
    for r, a in enumerate(b.anomalies, start=1):
        ws.write_string(r, 0, a.name)
        ws.write_string(r, 1, a.uscc)
        ws.write_string(r, 2, a.region_name)
        _number(ws, r, 3, a.utilisation, f.rate)
        _number(ws, r, 4, a.power_index, f.index)
        _number(ws, r, 5, a.gap * 100, f.index_change)
        _number(ws, r, 6, a.kwh, f.money)
        _number(ws, r, 7, a.baseline, f.money)
        ws.write_string(r, 8, str(source.get(a.baseline_source, a.baseline_source)))
    ws.freeze_panes(1, 1)


def _blockers(wb, f: _Formats, b: Bulletin) -> None:
    ws = wb.add_worksheet(SHEETS[5])
    _header(ws, 0, ("堵点", "企业数", "占已报企业"), f, {0: 30, 1: 24, 2: 20})
    counts = b.blocker_counts()
    for r, (label, n, share) in enumerate(counts, start=1):
        ws.write_string(r, 0, label)
        ws.write_number(r, 1, n, f.count)
        _number(ws, r, 2, share, f.rate)
    first = len(counts) + 3
    ws.write_string(first - 1, 0, _("企业反映的堵点说明"), f.bold)
    _header(ws, first, ("企业", "统一社会信用代码", "所在地区", "堵点", "说明"), f, {0: 30, 1: 24, 2: 20, 3: 28, 4: 60})
    for r, note in enumerate(b.notes, start=first + 1):
        for c, text in enumerate((note.enterprise, note.uscc, note.region, note.blockers, note.text)):
            ws.write_string(r, c, text)


def render(b: Bulletin) -> bytes:
    """The bulletin workbook as bytes."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    f = _Formats(wb)
    _summary(wb, f, b)
    _breakdown(wb, f, SHEETS[1], "地区", b.regions, _total(b))
    _breakdown(wb, f, SHEETS[2], "环节" if b.chain else "产业链", b.chains, _total(b))
    _held_back(wb, f, b)
    _anomalies(wb, f, b)
    _blockers(wb, f, b)
    wb.set_properties({"title": f"{b.title} {b.date.isoformat()} {b.place}", "company": b.office})
    wb.close()
    return buffer.getvalue()


def _total(b: Bulletin) -> BreakdownRow:
    """The whole slice as a breakdown row (the 合计 line)."""
    row = BreakdownRow(key="", label=_("合计"))
    for name in MEASURES:
        setattr(row, name, getattr(b.overview, name))
    return row


def filename(b: Bulletin) -> str:
    """A download name: 日报-<region or 全国>[-<chain>]-YYYY-MM-DD.xlsx."""
    parts = ["日报", b.region_code or "全国", *([b.chain.code] if b.chain else []), b.date.isoformat()]
    return "-".join(parts) + ".xlsx"
