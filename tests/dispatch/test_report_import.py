"""Importing a day's reports from the spreadsheet liaisons exchange: rules, row errors, re-import, CLI, page."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import polars as pl
import pytest
import xlsxwriter
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gulian.core.models import AuditRecord
from gulian.dispatch import imports, services
from gulian.dispatch.models import Blocker, DailyReport, DailyReportVersion, DirtyDay, Source
from gulian.registry.io import SYSTEM

DAY = dt.date(2020, 2, 10)
NOW = timezone.make_aware(dt.datetime(2020, 2, 10, 20, 0))  # after the 17:00 deadline: late
HEADER = ["统一社会信用代码", "企业名称", "是否复工", "产能利用率（%）", "到岗人数", "正常用工人数", "省外返岗人数",
          "关键原材料库存天数", "当日产值（万元）", "订单变化", "堵点", "堵点说明", "联系人"]  # fmt: skip


def xlsx(rows: list[list], title: str | None = "杭州市企业复工复产日报表（2月10日）", date_cells=()) -> bytes:
    """A workbook: an optional merged title row, then ``rows`` (the header first)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    ws = wb.add_worksheet("日报")
    top = 0
    if title:
        ws.merge_range(0, 0, 0, len(rows[0]) - 1, title, wb.add_format({"bold": True}))
        top = 2  # a blank row under the title
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                ws.write_datetime(top + r, c, dt.datetime.combine(value, dt.time()), date_format)
            elif isinstance(value, int | float):
                ws.write_number(top + r, c, value)
            else:
                ws.write_string(top + r, c, value)
    wb.close()
    return buf.getvalue()


def row(firm, **cells) -> list:
    values = {"resumed": "是", "utilisation": "85%", "on_duty": 80, "normal": 100, "returned": 12, "inventory": 6.5,
              "output": 12.5, "orders": "-20%", "blockers": "用工、物流", "note": "缺工 20 人", "contact": "张三"}  # fmt: skip
    values |= cells
    return [firm.uscc, firm.name, values["resumed"], values["utilisation"], values["on_duty"], values["normal"],
            values["returned"], values["inventory"], values["output"], values["orders"], values["blockers"],
            values["note"], values["contact"]]  # fmt: skip


def run(data: bytes, user=SYSTEM, **kwargs):
    kwargs.setdefault("date", DAY)
    return imports.import_reports(data, "日报.xlsx", user, now=NOW, **kwargs)


def errors(result) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.code) for e in result.errors]


def test_import_reads_the_liaison_form(two_cities):
    ns = two_cities
    data = xlsx([HEADER, row(ns.hz_firm), row(ns.hz_firm2, resumed="未复工", utilisation=None, on_duty=3,
                                               blockers="上下游未复工，资金", orders=None, output=None)])  # fmt: skip
    result = run(data, ns.hz)
    assert result.ok and result.applied and (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert result.header_row == 3 and result.ignored_columns == ["联系人"]
    a = DailyReport.objects.get(enterprise=ns.hz_firm, date=DAY)
    assert (a.resumed, a.utilisation, a.staff_on_duty, a.staff_normal, a.staff_returned_outside) == (
        True, Decimal("0.850"), 80, 100, 12
    )  # fmt: skip
    assert a.inventory_days == Decimal("6.5") and a.output_value == Decimal("125000.00")  # 万元 in the header
    assert a.order_change == Decimal("-0.200") and a.blockers == Blocker.LABOUR | Blocker.LOGISTICS
    assert a.blocker_note == "缺工 20 人" and a.source == Source.IMPORT and a.late and a.submitted_by == ns.hz
    b = DailyReport.objects.get(enterprise=ns.hz_firm2)
    assert (b.resumed, b.utilisation, b.blockers) == (False, Decimal("0"), Blocker.CHAIN | Blocker.FUNDING)
    assert b.order_change is None and b.output_value is None
    assert AuditRecord.objects.filter(model="dispatch.DailyReport", action="create").count() == 2
    assert DirtyDay.objects.filter(date=DAY).exists()


def test_reimport_is_unchanged_and_an_edited_file_makes_versions(two_cities):
    ns = two_cities
    rows = [HEADER, row(ns.hz_firm), row(ns.hz_firm2)]
    run(xlsx(rows), ns.hz)
    again = run(xlsx(rows), ns.hz)
    assert again.applied and (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert DailyReportVersion.objects.count() == 2
    edited = run(xlsx([HEADER, row(ns.hz_firm, utilisation=0.9), row(ns.hz_firm2)]), ns.hz)
    assert (edited.created, edited.updated, edited.unchanged) == (0, 1, 1)
    assert DailyReport.objects.get(enterprise=ns.hz_firm).version == 2
    assert DailyReportVersion.objects.count() == 3


def test_rejected_rows_stop_the_import_unless_partial(two_cities):
    ns = two_cities
    other = ns.nb_firm
    data = xlsx(
        [
            HEADER,
            row(ns.hz_firm),  # row 4: fine
            row(ns.hz_firm2, utilisation="180%", on_duty=250),  # row 5
            row(other),  # row 6: Ningbo, outside a Hangzhou scope
            [ns.hz_firm.uscc[:-1] + "0", "x", "是", "50%", 1, 2],  # row 7: bad check digit
            row(ns.hz_firm, utilisation="90%"),  # row 8: the same enterprise and day as row 4
            ["91330106MA27XA1B0B", "未登记", "是", "50%", 1, 2],  # row 9: valid USCC, not registered
            row(ns.hz_firm2, blockers="用工、天气", resumed="也许"),  # row 10
        ]
    )
    result = run(data, ns.hz)
    assert not result.applied and result.rejected == 6
    assert errors(result) == [
        (5, "产能利用率（%）", "utilisation_range"),
        (5, "到岗人数", "staff_ratio"),
        (6, "统一社会信用代码", "out_of_scope"),
        (7, "统一社会信用代码", "uscc_checksum"),
        (8, "统一社会信用代码", "duplicate"),
        (9, "统一社会信用代码", "enterprise_unknown"),
        (10, "是否复工", "choice"),
        (10, "堵点", "blocker_unknown"),
    ]
    assert "与第4行重复" in result.errors[4].reason and "天气" in result.errors[-1].reason
    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)  # what would have been written
    assert not DailyReport.objects.exists()
    partial = run(data, ns.hz, partial=True)
    assert partial.applied and partial.created == 1 and partial.rejected == 6
    assert list(DailyReport.objects.values_list("enterprise_id", flat=True)) == [ns.hz_firm.pk]


def test_dates_from_the_file_or_the_command(two_cities):
    ns = two_cities
    header = ["日期", *HEADER]
    earlier = DAY - dt.timedelta(days=1)
    data = xlsx([header, [DAY, *row(ns.hz_firm)], ["2020年2月9日", *row(ns.hz_firm2)], [None, *row(ns.nb_firm)]],
                title=None)  # fmt: skip
    without = run(data, date=None)
    assert errors(without) == [(4, "日期", "required")]
    both = run(data, date=DAY)
    assert errors(both) == [(3, "日期", "date_mismatch")] and "2020-02-10" in both.errors[0].reason
    fixed = xlsx([header, [DAY, *row(ns.hz_firm)], ["2020/2/9", *row(ns.hz_firm2)], ["20200209", *row(ns.nb_firm)]],
                 title=None)  # fmt: skip
    result = run(fixed, date=None)
    assert result.applied and result.created == 3
    assert sorted(DailyReport.objects.values_list("date", flat=True)) == [earlier, earlier, DAY]
    future = run(xlsx([header, ["2020-02-11", *row(ns.hz_firm)]], title=None), date=None)
    assert errors(future) == [(2, "日期", "date_future")]
    no_date = run(xlsx([HEADER, row(ns.hz_firm)]), date=None)
    assert errors(no_date) == [(0, "日期", "missing_column")] and not no_date.applied


def test_csv_in_gbk_with_english_headers_and_plain_percentages(two_cities):
    ns = two_cities
    text = (
        "USCC,Enterprise name,Resumed,Capacity utilisation,Staff on duty,Normal staff,Blockers\n"
        f"{ns.hz_firm.uscc},{ns.hz_firm.name},Y,85,80,100,原材料/零部件\n"
        f"{ns.hz_firm2.uscc},{ns.hz_firm2.name},否,0,0,10,\n"
    )
    result = imports.import_reports(text.encode("gb18030"), "daily.csv", SYSTEM, date=DAY, now=NOW)
    assert result.applied and result.created == 2, errors(result)
    first = DailyReport.objects.get(enterprise=ns.hz_firm)
    assert first.utilisation == Decimal("0.850") and first.blockers == Blocker.MATERIALS


def test_missing_required_column_is_a_file_error(two_cities):
    result = run(
        xlsx([["统一社会信用代码", "企业名称", "是否复工", "产能利用率"], row(two_cities.hz_firm)[:4]])
    )
    assert errors(result) == [(3, "到岗人数", "missing_column")] and not result.applied


def test_template_round_trip(two_cities, tmp_path):
    path = tmp_path / "t.xlsx"
    imports.write_template(str(path))
    sheet = pl.read_excel(path, sheet_name="企业日报")
    assert sheet.columns[:3] == ["统一社会信用代码", "企业名称", "日期"]
    result = imports.import_reports(path.read_bytes(), "t.xlsx", SYSTEM, now=NOW)
    assert result.ok and result.rows == 0  # the example row is skipped


def test_command(two_cities, tmp_path):
    ns = two_cities
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([HEADER, row(ns.hz_firm), row(ns.nb_firm)]))
    out = io.StringIO()
    call_command("dispatch", "import-reports", str(good), "--date", "2020-02-10", stdout=out)
    assert "新增 2" in out.getvalue() and DailyReport.objects.count() == 2
    out = io.StringIO()
    call_command("dispatch", "import-reports", str(good), "--date", "2020-02-10", stdout=out)
    assert "未变 2" in out.getvalue() and DailyReportVersion.objects.count() == 2
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([HEADER, row(ns.hz_firm, utilisation="90%"), row(ns.nb_firm)]))
    report = tmp_path / "errors.xlsx"
    out = io.StringIO()
    with pytest.raises(CommandError) as e:
        call_command("dispatch", "import-reports", str(bad), "--date", "2020-02-10",
                     "--user", ns.hz.username, "--errors", str(report), stdout=out)  # fmt: skip
    assert e.value.returncode == 1 and "未写入" in str(e.value)
    assert "第 5 行" in out.getvalue() and "超出管辖范围" in out.getvalue()
    rejected = pl.read_excel(report)
    assert rejected.row(0)[:2] == (5, "统一社会信用代码")
    assert DailyReport.objects.get(enterprise=ns.hz_firm).version == 1
    with pytest.raises(CommandError):
        call_command("dispatch", "import-reports", str(tmp_path / "nope.xlsx"), "--date", "2020-02-10")
    with pytest.raises(CommandError):
        call_command("dispatch", "import-reports", str(good), "--user", "nobody")


def test_import_page(two_cities):
    ns = two_cities
    c = Client()
    c.force_login(ns.liaison_hz)
    url = reverse("dispatch:import_reports")
    assert c.get(url).status_code == 200
    today = services.local_today() - dt.timedelta(days=1)
    upload = io.BytesIO(xlsx([HEADER, row(ns.hz_firm), row(ns.hz_firm2)]))
    upload.name = "日报.xlsx"
    r = c.post(url, {"file": upload, "date": today.isoformat()})
    assert r.status_code == 200 and r.context["result"].rejected == 1  # firm 2 is not this liaison's
    assert not DailyReport.objects.exists()
    # the page lists the rejected row (row 5 of the sheet) and links to the error report
    table = r.content.decode().split('id="import-errors"')[1].split("</table>")[0]
    assert '<td class="num">5</td>' in table and "超出管辖范围" in table
    assert reverse("dispatch:import_reports_errors") in r.content.decode()
    errors_file = c.get(reverse("dispatch:import_reports_errors"))
    assert errors_file.status_code == 200
    assert pl.read_excel(io.BytesIO(b"".join(errors_file.streaming_content))).row(0)[0] == 5
    upload.seek(0)
    r = c.post(url, {"file": upload, "date": today.isoformat(), "partial": "on"})
    assert r.context["result"].applied and DailyReport.objects.get().enterprise == ns.hz_firm
    template = c.get(reverse("dispatch:import_reports_template"))
    assert template.status_code == 200 and template["Content-Type"].startswith("application/vnd.openxml")
    # enterprise users do not import
    own = Client()
    own.force_login(ns.hz_enterprise)
    assert own.get(url).status_code == 404
