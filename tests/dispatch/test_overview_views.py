"""Dispatch pages and metrics API: load per role, keep to scope, drill down, constant query counts."""

from __future__ import annotations

import json
from decimal import Decimal

import polars as pl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gulian.core.models import ApiToken
from gulian.dispatch import rollup
from gulian.dispatch.models import PowerReading
from gulian.registry.models import Chain, MemberRole, Membership
from tests.conftest import make_link
from tests.dispatch.metrics_fixtures import D, day, reading, readings, report

pytestmark = pytest.mark.django_db
DATE = D.isoformat()


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def world(two_cities):
    """two_cities plus reports on D and D−1, a power history for the Hangzhou owner, a held-back supplier."""
    ns = two_cities
    ns.hz_firm.baseline_output = Decimal(1000)
    ns.hz_firm.save()
    report(ns.hz_firm, util="0.9")
    report(ns.hz_firm2, util="0.5")
    report(ns.nb_firm, resumed=False, util="0")  # the Hangzhou owner's core supplier in Ningbo
    report(ns.hz_firm, day(-1), util="0.3")
    readings(ns.hz_firm, D.replace(year=2019) - (D - day(-3)), [100] * 7)
    reading(ns.hz_firm, D, 20)  # index 20 against a reported 90 %: an anomaly
    rollup.mark_dirty(D, day(-1))
    return ns


OFFICIALS = ["province", "hz", "hz_county", "liaison_hz", "admin"]


@pytest.mark.parametrize("who", OFFICIALS)
def test_pages_load_for_officials(world, who):
    c = client_for(getattr(world, who))
    for name in ("dispatch:overview", "dispatch:held_back", "dispatch:anomalies"):
        response = c.get(reverse(name), {"date": DATE})
        assert response.status_code == 200, (who, name)
    assert "日调度" in c.get(reverse("home")).text  # the navigation entry


def test_enterprise_users_get_404(world):
    c = client_for(world.hz_enterprise)
    for name in ("dispatch:overview", "dispatch:held_back", "dispatch:held_back_export", "dispatch:anomalies",
                 "dispatch:power_import"):  # fmt: skip
        assert c.get(reverse(name)).status_code == 404, name
    assert c.get("/api/dispatch/overview").status_code == 404
    assert "日调度" not in c.get(reverse("home")).text


def test_overview_page_figures_and_drill_down(world):
    page = client_for(world.province).get(reverse("dispatch:overview"), {"date": DATE}).text
    # province: 3 expected domestic firms, 3 reporting; resumed 2 of 3; recovered 1 of 3
    assert "66.7%" in page and "33.3%" in page
    assert "region=330100" in page and "杭州市" in page and "宁波市" in page
    city = client_for(world.province).get(reverse("dispatch:overview"), {"date": DATE, "region": "330100"}).text
    assert "西湖区" in city and "返回上一级" in city
    # the bulletin button carries the same day and region, and the bulletin opens
    bulletin = city.split('id="bulletin-link" href="')[1].split('"')[0].replace("&amp;", "&")
    assert f"date={DATE}" in bulletin and "region=330100" in bulletin
    assert client_for(world.province).get(bulletin).status_code == 200
    county = client_for(world.province).get(reverse("dispatch:overview"), {"date": DATE, "region": "330106"}).text
    assert reverse("registry:enterprise_list") + "?region=330106" in county  # a county drills into its firms
    data = json.loads(city.split('id="trend-data" type="application/json">')[1].split("</script>")[0])
    assert len(data["dates"]) == 30 and data["dates"][-1] == DATE
    assert data["series"][0]["data"][-1] == 100.0  # Hangzhou: both firms resumed on D


def test_county_user_is_kept_to_its_county(world):
    c = client_for(world.hz_county)
    page = c.get(reverse("dispatch:overview"), {"date": DATE}).text
    assert "宁波市" not in page and "杭州乙公司" not in page
    assert c.get(reverse("dispatch:overview"), {"date": DATE, "region": "330200"}).status_code == 404
    assert c.get(reverse("dispatch:overview"), {"region": "330100"}).status_code == 404  # wider than its scope
    assert c.get(reverse("dispatch:anomalies"), {"region": "330203"}).status_code == 404


def test_overview_queries_do_not_grow_with_rows(world, make_enterprise):
    c = client_for(world.province)

    def count():
        rollup.refresh_dirty()
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(reverse("dispatch:overview"), {"date": DATE}).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for code in ("330106", "330110", "330203", "330212", "330102"):
        for n in range(3):
            report(make_enterprise(code, f"新增{code}-{n}"), util="0.8")
    chain = Chain.objects.create(code="ic", name="集成电路", region_id="330000")
    Membership.objects.create(enterprise=world.hz_firm2, chain=chain, role=MemberRole.OWNER)
    rollup.mark_dirty(D)
    assert count() == before


def test_held_back_page_and_export(world):
    c = client_for(world.hz)
    page = c.get(reverse("dispatch:held_back"), {"date": DATE}).text
    assert "宁波丙公司" in page and "未复工" in page and "省内" in page
    response = c.get(reverse("dispatch:held_back_export"), {"date": DATE, "scope": "province"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    frame = pl.read_excel(response.content, engine="calamine", read_options={"header_row": 1})
    assert frame["配套企业"].to_list() == ["宁波丙公司"] and frame["链主企业"].to_list() == ["杭州甲公司"]
    assert frame["产能利用率"].null_count() == 1  # a Ningbo firm's figure is not shown in Hangzhou
    assert client_for(world.nb).get(reverse("dispatch:held_back"), {"date": DATE}).text.count("宁波丙公司") == 0


def test_anomalies_page(world):
    page = client_for(world.hz).get(reverse("dispatch:anomalies"), {"date": DATE}).text
    assert "杭州甲公司" in page and "+70.0" in page  # 0.90 − 20/100 = +70 points
    assert "杭州甲公司" not in client_for(world.nb).get(reverse("dispatch:anomalies"), {"date": DATE}).text


def test_power_import_page(world):
    c = client_for(world.hz)
    data = f"户号,统一社会信用代码,日期,用电量\nH1,{world.hz_firm.uscc},2020-02-21,55\n".encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = c.post(reverse("dispatch:power_import"), {"file": SimpleUploadedFile("p.csv", data)})
    assert response.status_code == 200 and 'id="count-created">1<' in response.text
    assert PowerReading.objects.filter(enterprise=world.hz_firm, date=day(1)).exists()
    bad = c.post(reverse("dispatch:power_import"), {"file": SimpleUploadedFile("p.csv", data.replace(b"55", b"x"))})
    assert "不是有效数字" in bad.text
    assert c.get(reverse("dispatch:power_import_errors")).status_code == 200
    assert c.get(reverse("dispatch:power_template", args=["power"])).status_code == 200
    assert client_for(world.liaison_hz).get(reverse("dispatch:power_import")).status_code == 404


# ---- API --------------------------------------------------------------------------------------------


def api(user):
    _token, key = ApiToken.issue(user, "t")
    c = Client()
    return lambda path, **params: c.get(path, params, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_api_overview_breakdown_series(world):
    get = api(world.province)
    body = get("/api/dispatch/overview", date=DATE).json()
    assert (body["expected"], body["reporting"], body["resumed"]) == (3, 3, 2)
    assert body["resumption_rate"] == pytest.approx(2 / 3)
    assert body["day_on_day"]["reporting_rate"] == pytest.approx(1 - 1 / 3)  # D−1: 1 of 3 reported
    rows = get("/api/dispatch/breakdown", date=DATE).json()
    assert [(r["key"], r["expected"]) for r in rows] == [("330100", 2), ("330200", 1)]
    chains = get("/api/dispatch/breakdown", date=DATE, by="chain").json()
    assert [(r["key"], r["expected"], r["reporting"]) for r in chains] == [("auto", 2, 2)]
    series = get("/api/dispatch/series", start=day(-1).isoformat(), end=DATE).json()
    assert [p["reporting"] for p in series] == [1, 3]
    assert get("/api/dispatch/breakdown", date=DATE, by="colour").status_code == 422
    assert get("/api/dispatch/overview", date="2020-13-01").status_code == 422


def test_api_scope_and_lists(world):
    get = api(world.hz_county)
    assert get("/api/dispatch/overview", date=DATE).json()["expected"] == 1
    for path in ("/api/dispatch/overview", "/api/dispatch/breakdown", "/api/dispatch/series", "/api/dispatch/anomalies"):
        assert get(path, date=DATE, region="330200").status_code == 404, path
    held = api(world.hz)("/api/dispatch/held-back", date=DATE).json()
    assert held["count"] == 1
    assert held["items"][0]["supplier_name"] == "宁波丙公司" and held["items"][0]["utilisation"] is None
    assert held["items"][0]["appeal_open"] is False  # the appeals app is connected; no open appeal
    anomalies = api(world.hz)("/api/dispatch/anomalies", date=DATE).json()
    assert [a["name"] for a in anomalies["items"]] == ["杭州甲公司"]
    assert anomalies["items"][0]["power_index"] == 20.0


def test_a_new_report_shows_at_once(world, make_enterprise):
    get = api(world.province)
    assert get("/api/dispatch/overview", date=DATE).json()["reporting"] == 3
    late_firm = make_enterprise("330110", "晚报公司")
    report(late_firm, util="1.0")
    rollup.mark_dirty(D)  # what the submission service does
    body = get("/api/dispatch/overview", date=DATE).json()
    assert (body["expected"], body["reporting"]) == (4, 4)


def test_link_scope_on_held_back_rows(world, make_enterprise):
    far = make_enterprise("320102", "南京供应商")  # Jiangsu: 省外
    make_link(far, world.hz_firm, "玻璃")
    rows = api(world.province)("/api/dispatch/held-back", date=DATE, scope="domestic").json()["items"]
    assert [(r["supplier_name"], r["status"], r["scope_label"]) for r in rows] == [("南京供应商", "missing", "省外")]


def test_list_pages_queries_do_not_grow_with_rows(world, make_enterprise):
    c = client_for(world.province)

    def count(name):
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(reverse(name), {"date": DATE}).status_code == 200
        return len(ctx.captured_queries)

    before = {name: count(name) for name in ("dispatch:held_back", "dispatch:anomalies")}
    chain = Chain.objects.get(code="auto")
    for n in range(4):
        owner = make_enterprise("330106", f"链主{n}")
        Membership.objects.create(enterprise=owner, chain=chain, role=MemberRole.OWNER)
        supplier = make_enterprise("330212", f"配套{n}")
        make_link(supplier, owner, "件")
        report(supplier, resumed=False, util="0")
        readings(supplier, D.replace(year=2019) - (D - day(-3)), [100] * 7)
        reading(supplier, D, 90)  # index 90 against a reported 0: an anomaly each
    assert {name: count(name) for name in before} == before
    page = c.get(reverse("dispatch:anomalies"), {"date": DATE}).text
    assert page.count("配套") >= 4


def test_overview_defaults_to_the_last_day_with_reports(world):
    page = client_for(world.province).get(reverse("dispatch:overview")).text
    # no date asked: the page shows the last reported day, not an empty today
    assert "66.7%" in page and "33.3%" in page
