"""Missing reports: who has not reported on a day, grouped by liaison with contacts; page, export, scope."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gulian.core.models import Role
from gulian.dispatch import services
from gulian.dispatch.missing import missing_reports, write_missing_xlsx
from gulian.dispatch.models import Source

DAY = dt.date(2020, 2, 10)
REPORT = {"resumed": True, "utilisation": "0.8", "staff_on_duty": 8, "staff_normal": 10}


def report(firm, day=DAY):
    from gulian.registry.io import SYSTEM

    services.submit(SYSTEM, firm, day, REPORT, Source.API)


def test_grouped_by_liaison_with_contacts(two_cities, make_user, make_enterprise):
    ns = two_cities
    wang = make_user(Role.LIAISON, "330100", first_name="王", last_name="联络", phone="13900000001")
    a = make_enterprise("330106", "杭州丁公司", liaison=wang, contact_name="李四", contact_phone="0571-1")
    make_enterprise("330108", "杭州戊公司", liaison=wang)
    reported = make_enterprise("330108", "杭州己公司", liaison=wang)
    ns.hz_firm.contact_name, ns.hz_firm.contact_phone = "张三", "13800000000"
    ns.hz_firm.save()
    report(ns.nb_firm)
    report(reported)
    report(a, DAY - dt.timedelta(days=1))  # another day does not count
    result = missing_reports(ns.province, DAY)
    # expected: the province's domestic firms; the Japanese supplier never reports
    assert (result.expected, result.reported, result.missing) == (6, 2, 4)
    names = [(g.liaison, g.liaison_name, g.liaison_phone, g.count) for g in result.groups]
    assert names == [  # by name, the unassigned last
        (ns.liaison_hz.pk, ns.liaison_hz.username, "", 1),
        (wang.pk, "王 联络", "13900000001", 2),
        (None, "", "", 1),
    ]
    wangs = result.groups[1].enterprises
    assert [(e.name, e.contact_name, e.contact_phone) for e in wangs] == [("杭州丁公司", "李四", "0571-1"),
                                                                          ("杭州戊公司", "", "")]  # fmt: skip
    assert wangs[0].region_name.endswith("西湖区")
    assert result.groups[0].enterprises[0].contact_phone == "13800000000"
    assert result.groups[2].enterprises[0].name == "杭州乙公司"
    assert not result.truncated and abs(result.rate - 2 / 6) < 1e-9


def test_scope_and_narrowing(two_cities):
    ns = two_cities
    county = missing_reports(ns.hz_county, DAY)
    assert county.expected == 1 and [e.name for g in county.groups for e in g.enterprises] == ["杭州甲公司"]
    assert missing_reports(ns.nb, DAY).expected == 1
    liaison = missing_reports(ns.liaison_hz, DAY)
    assert liaison.expected == 1 and liaison.groups[0].liaison == ns.liaison_hz.pk
    assert missing_reports(ns.province, DAY, prefix="330110").expected == 1
    assert missing_reports(ns.province, DAY, liaison=0).missing == 2  # the unassigned ones
    assert missing_reports(ns.province, DAY, liaison=ns.liaison_hz.pk).missing == 1
    report(ns.hz_firm)
    assert missing_reports(ns.hz_county, DAY).missing == 0
    assert missing_reports(ns.hz_county, DAY + dt.timedelta(days=1)).missing == 1  # each day on its own


def test_limit_keeps_the_counts(two_cities, make_enterprise):
    ns = two_cities
    for _ in range(5):
        make_enterprise("330106", liaison=ns.liaison_hz)
    result = missing_reports(ns.province, DAY, limit=3)
    assert result.missing == 8 and result.truncated
    assert sum(len(g.enterprises) for g in result.groups) == 3


def test_export_opens_back(two_cities):
    ns = two_cities
    report(ns.hz_firm2)
    buf = io.BytesIO()
    write_missing_xlsx(missing_reports(ns.province, DAY), buf)
    rows = pl.read_excel(buf.getvalue(), sheet_name="未报企业")
    assert rows.columns[:4] == ["联络员", "联络员电话", "统一社会信用代码", "企业名称"]
    assert set(rows.get_column("企业名称").to_list()) == {"杭州甲公司", "宁波丙公司"}
    assert "（未分配联络员）" in rows.get_column("联络员").to_list()
    summary = pl.read_excel(buf.getvalue(), sheet_name="汇总", has_header=False).rows()
    # the reader sees the mixed column as text
    assert [r[:2] for r in summary[1:4]] == [("应报企业", "3"), ("已报企业", "1"), ("未报企业", "2")]
    assert summary[-1] == ("（未分配联络员）", "", "1")


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_page_and_its_export(two_cities):
    ns = two_cities
    c = client_for(ns.hz)
    url = reverse("dispatch:missing")
    r = c.get(url, {"date": DAY.isoformat()})
    assert r.status_code == 200
    assert r.context["result"].expected == 2 and "杭州甲公司" in r.text and "未分配联络员" in r.text
    assert reverse("dispatch:report_for", args=[ns.hz_firm.pk]) in r.text  # fill in for it
    export = c.get(url, {"date": DAY.isoformat(), "format": "xlsx"})
    assert export.status_code == 200
    rows = pl.read_excel(io.BytesIO(b"".join(export.streaming_content)), sheet_name="未报企业")
    assert rows.height == 2
    future = c.get(url, {"date": "2999-01-01"})
    assert future.context["day"] == services.local_today()  # not after today
    assert client_for(ns.hz_enterprise).get(url).status_code == 404
    assert client_for(ns.liaison_hz).get(url).context["result"].expected == 1


def test_page_query_count_does_not_grow(two_cities, make_enterprise, make_user):
    ns = two_cities
    c = client_for(ns.province)
    url = reverse("dispatch:missing")
    counts = []
    for n in (3, 40):
        for i in range(n):
            liaison = make_user(Role.LIAISON, "330100") if i % 4 == 0 else ns.liaison_hz
            make_enterprise("330108", contact_name="联系人", liaison=liaison)
        c.get(url)
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(url, {"date": DAY.isoformat()})
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert r.context["result"].missing == 46 and counts[0] == counts[1], counts
