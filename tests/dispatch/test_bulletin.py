"""The daily bulletin: the .xlsx opened back with a spreadsheet reader, the printable page, the command, scope.

A hand-built day (D = 2020-02-20) on the two_cities fixture, with figures checked by hand:

* 杭州甲 (Xihu, owner of the chain, output 100 M): resumed, 90 %, on all three days; power 400 kWh on D
  against 1,000 a day the same week last year → index 40, an anomaly (gap 50 points).
* 杭州乙 (Yuhang, 20 M): shut on D−7, 50 % on D−1, 85 % on D.
* 宁波丙 (Ningbo, 50 M, the owner's core supplier): shut all three days, blocker 上下游未复工 with a note.

On D: expected 3, reporting 3, resumed 2 → 复工率 2/3; 达产 2 (90 %, 85 %) → 2/3; weighted utilisation
(100·0.9 + 20·0.85) / 170 = 0.629412; power index 40.0. On D−1 resumption was 2/3 too (0 change);
on D−7 1/3 (+1/3 week on week).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import fastexcel
import pytest
from django.core.management import CommandError, call_command
from django.http import Http404
from django.test import Client
from django.urls import reverse

from gulian.dispatch import bulletin, bulletin_xlsx, heldback, metrics, rollup
from gulian.dispatch.models import Blocker, DailyReport
from tests.dispatch.metrics_fixtures import D, day, reading, readings, report

pytestmark = pytest.mark.django_db
WEEK_AGO = day(-7)


@pytest.fixture
def world(two_cities):
    ns = two_cities
    for firm, output in ((ns.hz_firm, 100_000_000), (ns.hz_firm2, 20_000_000), (ns.nb_firm, 50_000_000)):
        firm.baseline_output = Decimal(output)
        firm.save()
    for d in (WEEK_AGO, day(-1), D):
        report(ns.hz_firm, d, util="0.9", on_duty=90, normal=100, blockers=int(Blocker.LABOUR))
    report(ns.hz_firm2, WEEK_AGO, resumed=False, util="0", on_duty=5, normal=50)
    report(ns.hz_firm2, day(-1), util="0.5", on_duty=30, normal=50)
    report(ns.hz_firm2, D, util="0.85", on_duty=45, normal=50)
    for d in (WEEK_AGO, day(-1), D):
        report(ns.nb_firm, d, resumed=False, util="0", on_duty=2, normal=80, blockers=int(Blocker.CHAIN))
    DailyReport.objects.filter(enterprise=ns.nb_firm, date=D).update(blocker_note="上游电芯厂未复工")
    readings(ns.hz_firm, D.replace(year=2019) - dt.timedelta(days=3), [1000] * 7)
    reading(ns.hz_firm, D, 400)
    rollup.rebuild(WEEK_AGO, D)
    return ns


def sheet(data: bytes, name: str, header_row: int | None = None, n_rows: int | None = None,
          width: int | None = None) -> list[list]:
    """A sheet's rows as lists of Python values; with ``header_row``, the table under that row (header first).

    Columns are typed by fastexcel, so a table is read on its own (rows, ``width`` columns) to keep its
    numbers numbers.
    """
    columns = list(range(width)) if width else None
    frame = fastexcel.read_excel(data).load_sheet_by_name(
        name, header_row=header_row, n_rows=n_rows, use_columns=columns).to_polars()
    rows = [list(row) for row in frame.iter_rows()]
    return rows if header_row is None else [frame.columns, *rows]


def find_row(rows: list[list], label: str) -> list:
    return next(r for r in rows if r[0] == label)


def test_hand_checked_figures(world):
    b = bulletin.build(world.province, D)
    ov = b.overview
    assert (ov.expected, ov.reporting, ov.resumed, ov.recovered) == (3, 3, 2, 2)
    assert ov.resumption_rate == pytest.approx(2 / 3)
    assert ov.utilisation == pytest.approx((100 * 0.9 + 20 * 0.85) / 170)
    assert ov.power_index == pytest.approx(40.0)
    assert ov.day_on_day["resumption_rate"] == pytest.approx(0)
    assert ov.week_on_week["resumption_rate"] == pytest.approx(1 / 3)
    assert b.issue == 8 and b.region_name == "浙江省" and "浙江省" in b.office
    assert [(r.supplier_name, r.status) for r in b.held_back] == [("宁波丙公司", "not_resumed")]
    assert [(a.name, round(a.power_index, 6)) for a in b.anomalies] == [("杭州甲公司", 40.0)]
    assert b.notes[0].enterprise == "宁波丙公司" and b.notes[0].text == "上游电芯厂未复工"
    assert len(b.series) == bulletin.TREND_DAYS and b.series[-1].date == D


def test_xlsx_opened_back_equals_the_metrics(world):
    user = world.province
    b = bulletin.build(user, D)
    data = bulletin_xlsx.render(b)
    assert fastexcel.read_excel(data).sheet_names == list(bulletin_xlsx.SHEETS)

    head = sheet(data, "概况", n_rows=3)
    assert head[0][0] == "产业链协同复工复产日报"
    assert "第8期" in head[1][0] and "2020年2月20日" in head[1][0]
    summary = sheet(data, "概况", header_row=bulletin_xlsx.KPI_HEADER_ROW, n_rows=len(b.kpis()), width=4)
    assert summary[0] == ["指标", "数值", "较上日", "较上周"]
    ov = metrics.overview(user, D)
    above = metrics.overview(user, D, above_size=True)
    expected = {
        "应报企业（家）": ov.expected, "已报企业（家）": ov.reporting, "报送率": ov.reporting_rate,
        "已复工企业（家）": ov.resumed, "复工率": ov.resumption_rate, "规上企业复工率": above.resumption_rate,
        "达产率": ov.recovery_rate, "产能利用率（按产值加权）": ov.utilisation, "员工到岗率": ov.on_duty_rate,
        "电力复工指数": ov.power_index, "迟报企业（家）": ov.late,
    }
    for label, value in expected.items():
        cell = find_row(summary, label)[1]
        assert cell == (pytest.approx(value) if value is not None else None), label
    assert find_row(summary, "复工率")[2] == pytest.approx(0)  # 较上日
    assert find_row(summary, "复工率")[3] == pytest.approx(1 / 3)  # 较上周
    assert find_row(summary, "电力复工指数")[1] == pytest.approx(40.0)
    trend = sheet(data, "概况", header_row=bulletin_xlsx.KPI_HEADER_ROW + len(b.kpis()) + 3,
                  width=1 + len(bulletin_xlsx.SERIES_COLUMNS))
    assert trend[0][:4] == ["日期", "应报企业", "已报企业", "复工率"] and len(trend) == 1 + bulletin.TREND_DAYS
    assert trend[-1][0] == dt.datetime(2020, 2, 20) and trend[-1][3] == pytest.approx(2 / 3)
    assert b"xl/charts/chart1.xml" in data  # the native line chart travels with the file

    regions = sheet(data, "分地区", header_row=0)
    assert regions[0][:4] == ["地区", "代码", "应报企业", "已报企业"]
    by_code = {r[1]: r for r in regions[1:]}
    assert by_code["330100"][2:5] == [2, 2, 1.0] and by_code["330200"][2:4] == [1, 1]
    assert by_code["330100"][6] == pytest.approx(1.0) and by_code["330200"][6] == pytest.approx(0)
    assert find_row(regions, "合计")[2] == 3

    chains = sheet(data, "分产业链", header_row=0)
    assert find_row(chains, "节能与新能源汽车")[2] == 2  # owner and core supplier

    held = sheet(data, "未复工达产清单", header_row=0)
    rows = heldback.held_back(user, D)
    assert len(held) == 1 + len(rows) == 2
    assert held[1][1:4] == ["杭州甲公司", "节能与新能源汽车", "宁波丙公司"] and held[1][9] == "未复工"

    anomalies = sheet(data, "异常", header_row=0)
    assert anomalies[1][0] == "杭州甲公司"
    assert anomalies[1][3] == pytest.approx(0.9) and anomalies[1][4] == pytest.approx(40.0)
    assert anomalies[1][5] == pytest.approx(50.0)

    blockers = sheet(data, "堵点", header_row=0, n_rows=2, width=3)
    assert {r[0]: r[1] for r in blockers[1:]} == {"用工": 1, "上下游未复工": 1}
    notes = sheet(data, "堵点", header_row=5)  # under the two counts, a blank row and the caption
    assert notes[0] == ["企业", "统一社会信用代码", "所在地区", "堵点", "说明"]
    assert notes[1] == ["宁波丙公司", world.nb_firm.uscc, "海曙区", "上下游未复工", "上游电芯厂未复工"]


def test_chain_bulletin_lists_segments(world):
    b = bulletin.build(world.province, D, chain="auto")
    assert b.chain.code == "auto" and b.place == "浙江省 · 节能与新能源汽车"
    assert b.overview.expected == 2  # the chain's two members
    assert [r.label for r in b.chains] == ["整车"]
    data = bulletin_xlsx.render(b)
    assert find_row(sheet(data, "分产业链", header_row=0), "整车")[2] == 2
    assert bulletin_xlsx.filename(b) == "日报-330000-auto-2020-02-20.xlsx"


def test_scope_city_and_county(world):
    hz = bulletin.build(world.hz, D)
    assert hz.overview.expected == 2 and hz.region_code == "330100"
    assert {r.key for r in hz.regions} <= {"330106", "330110"}
    with pytest.raises(Http404):
        bulletin.build(world.hz, D, region="330200")
    county = bulletin.build(world.hz_county, D)
    assert county.overview.expected == 1 and [r.key for r in county.regions] == ["330106"]
    assert [n.enterprise for n in county.notes] == []  # 宁波丙's note is not the county's
    with pytest.raises(Http404):
        bulletin.build(world.hz_enterprise, D)


def test_command_writes_the_workbook(world, tmp_path):
    out = io.StringIO()
    path = tmp_path / "bulletin.xlsx"
    call_command("dispatch", "report", "--date", D.isoformat(), "--region", "330000", "--out", str(path),
                 stdout=out)
    assert "第8期" in out.getvalue() and "复工率 66.7%" in out.getvalue()
    assert fastexcel.read_excel(path.read_bytes()).sheet_names == list(bulletin_xlsx.SHEETS)
    with pytest.raises(CommandError, match="范围"):
        call_command("dispatch", "report", "--date", D.isoformat(), "--region", "330200",
                     "--user", world.hz.username, "--out", str(tmp_path / "x.xlsx"))
    assert not (tmp_path / "x.xlsx").exists()
    with pytest.raises(CommandError, match="no such user"):
        call_command("dispatch", "report", "--date", D.isoformat(), "--user", "nobody")


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_page_and_download(world):
    c = client_for(world.province)
    page = c.get(reverse("dispatch:bulletin"), {"date": D.isoformat()})
    assert page.status_code == 200
    text = page.text
    for part in ("产业链协同复工复产日报", "第 8 期", "2020年2月20日", "一、总体情况", "二、分地区情况",
                 "三、分产业链情况", "四、龙头企业及未复工达产核心配套企业名单", "五、用电与填报异常",
                 "六、企业反映的主要堵点", "宁波丙公司", "上游电芯厂未复工", 'renderer: "svg"', "@page"):
        assert part in text, part
    assert reverse("dispatch:bulletin_xlsx") in text and reverse("dispatch:overview") in text
    download = c.get(reverse("dispatch:bulletin_xlsx"), {"date": D.isoformat()})
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "2020-02-20.xlsx" in download["Content-Disposition"]
    assert fastexcel.read_excel(download.content).sheet_names == list(bulletin_xlsx.SHEETS)
    assert "第 8 期" in c.get(reverse("dispatch:bulletin")).text  # default: the last day with reports
    assert c.get(reverse("dispatch:bulletin"), {"date": "2020-13-01"}).status_code == 400


def test_page_scope(world):
    hz = client_for(world.hz)
    assert hz.get(reverse("dispatch:bulletin"), {"date": D.isoformat(), "region": "330200"}).status_code == 404
    assert hz.get(reverse("dispatch:bulletin_xlsx"), {"date": D.isoformat(), "region": "330200"}).status_code == 404
    assert "杭州市" in hz.get(reverse("dispatch:bulletin"), {"date": D.isoformat()}).text
    firm = client_for(world.hz_enterprise)
    assert firm.get(reverse("dispatch:bulletin")).status_code == 404
    assert firm.get(reverse("dispatch:bulletin_xlsx")).status_code == 404
    assert Client().get(reverse("dispatch:bulletin")).status_code == 302  # to the login page
