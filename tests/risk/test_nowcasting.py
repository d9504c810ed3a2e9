"""The nowcast from the registry and daily reports: owner, day, supplier; scope; page, API, CLI, items."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gulian.core.models import Role
from gulian.dispatch import services as dispatch_services
from gulian.registry.models import Chain, MemberRole, Membership, Segment
from gulian.risk import nowcasting
from gulian.risk.models import RiskItem, RiskSource, Severity
from tests.conftest import make_link
from tests.core.test_api import TokenClient

D = dt.date(2020, 2, 20)
NOW = timezone.make_aware(dt.datetime(2020, 2, 21, 9, 0))
YEAR = Decimal(365_000_000)  # 1,000,000 yuan a day


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def report(actor, firm, day, *, resumed=True, util="1.0", inventory=None, now=NOW):
    data = {"resumed": resumed, "utilisation": util if resumed else "0", "staff_on_duty": 90 if resumed else 0,
            "staff_normal": 100}  # fmt: skip
    if inventory is not None:
        data["inventory_days"] = str(inventory)
    dispatch_services.submit(actor, firm, day, data, "web", now=now)


@pytest.fixture
def world(two_cities, make_enterprise):
    """Hangzhou owner ← Ningbo battery maker (stopped); a Ningbo chain whose owner ← a stopped supplier.

    Hangzhou's owner holds 4 days of stock; Ningbo's owner 2 days. Everyone else runs at 100 %.
    """
    ns = two_cities
    for firm in (ns.hz_firm, ns.nb_firm, ns.hz_firm2):
        firm.baseline_output = YEAR
        firm.save()
    for link in (ns.hz_link, ns.nb_link, ns.foreign_link):
        link.annual_value = YEAR / 2
        link.save()
    ns.nb_owner = make_enterprise("330203", "宁波丁整机厂", baseline_output=YEAR)
    ns.nb_sup = make_enterprise("330205", "宁波戊配件厂", baseline_output=YEAR)
    ns.nb_chain = Chain.objects.create(code="nbmold", name="宁波模具", region_id="330200")
    seg = Segment.objects.create(chain=ns.nb_chain, order=1, name="整机")
    Membership.objects.create(enterprise=ns.nb_owner, chain=ns.nb_chain, segment=seg, role=MemberRole.OWNER)
    make_link(ns.nb_sup, ns.nb_owner, "模架", annual_value=YEAR / 2)
    for offset in range(3, -1, -1):
        day = D - dt.timedelta(days=offset)
        report(ns.admin, ns.nb_firm, day, resumed=False)
        report(ns.admin, ns.nb_sup, day, resumed=False)
        report(ns.admin, ns.hz_firm, day, inventory=4)
        report(ns.admin, ns.hz_firm2, day)
        report(ns.admin, ns.nb_owner, day, inventory=2)
    return ns


def owners(result):
    return [(r["owner"]["name"], r["stall_date"], r["cause"]["name"] if r["cause"] else None) for r in result["rows"]]


def test_the_owner_stalls_when_its_stock_runs_out_through_the_stopped_supplier(world):
    result = nowcasting.compute(world.hz, D)
    assert owners(result) == [("杭州甲公司", "2020-02-24", "宁波丙公司")]
    row = result["rows"][0]
    assert row["days"] == 4
    assert row["direct"]["id"] == world.nb_firm.pk
    assert row["cause"]["status"] == "not_resumed"
    assert row["cause"]["scope"] == "province"  # Ningbo → Hangzhou: 省内
    assert row["cause"]["visible"] is False and row["cause"]["utilisation"] is None  # not in Hangzhou's scope
    assert row["chains"][0]["code"] == "auto"
    assert len(row["curve"]) == 30 and row["curve"][3] == pytest.approx(1.0) and row["curve"][4] < 0.9


def test_another_regions_owners_do_not_appear(world):
    assert [r["owner"]["name"] for r in nowcasting.compute(world.nb, D)["rows"]] == ["宁波丁整机厂"]
    assert [r["owner"]["name"] for r in nowcasting.compute(world.hz, D)["rows"]] == ["杭州甲公司"]
    province = nowcasting.compute(world.province, D)
    assert owners(province) == [("宁波丁整机厂", "2020-02-22", "宁波戊配件厂"), ("杭州甲公司", "2020-02-24", "宁波丙公司")]


def test_a_resumed_supplier_removes_the_stall_and_the_cache_notices(world):
    assert nowcasting.compute(world.hz, D)["cached"] is False
    assert nowcasting.compute(world.hz, D)["cached"] is True
    report(world.admin, world.nb_firm, D, util="1.0")  # a correction: resumed after all
    again = nowcasting.compute(world.hz, D)
    assert again["cached"] is False
    assert again["rows"] == []


def test_without_reports_the_supplier_counts_as_running_unless_told(world):
    later = D + dt.timedelta(days=10)  # outside the window: only the owner reports that day
    report(world.admin, world.hz_firm, later, inventory=4, now=NOW + dt.timedelta(days=10))
    assert nowcasting.compute(world.hz, later)["rows"] == []
    worst = nowcasting.compute(world.hz, later, unknown_capacity=0.0)
    assert worst["rows"] and "cause_unreported" in worst["rows"][0]["caveats"]


def test_page_for_a_task_force_and_not_for_an_enterprise(world, client):
    client.force_login(world.hz)
    r = client.get(reverse("risk:nowcast"), {"date": D.isoformat()})
    assert r.status_code == 200
    body = r.content.decode()
    assert "杭州甲公司" in body and "宁波丙公司" in body and "2020-02-24" in body
    assert "宁波丁整机厂" not in body
    assert 'id="nowcast-create-items"' in body
    default = client.get(reverse("risk:nowcast"))  # the latest day with reports
    assert default.status_code == 200 and "2020-02-24" in default.content.decode()
    other = Client()
    other.force_login(world.hz_enterprise)
    assert other.get(reverse("risk:nowcast")).status_code == 404
    assert other.post(reverse("risk:nowcast_create_items"), {"date": D.isoformat()}).status_code == 404


def test_only_task_forces_put_predictions_on_the_risk_list(world, client):
    client.force_login(world.liaison_hz)
    page = client.get(reverse("risk:nowcast"), {"date": D.isoformat()})
    assert page.status_code == 200 and 'id="nowcast-create-items"' not in page.content.decode()
    assert client.post(reverse("risk:nowcast_create_items"), {"date": D.isoformat()}).status_code == 403
    assert not RiskItem.objects.exists()
    client.force_login(world.hz)
    r = client.post(reverse("risk:nowcast_create_items"), {"date": D.isoformat()})
    assert r.status_code == 302
    item = RiskItem.objects.get()
    assert item.source == RiskSource.NOWCAST
    assert item.enterprise_id == world.nb_firm.pk
    assert list(item.affected_owners.values_list("pk", flat=True)) == [world.hz_firm.pk]
    assert item.days_to_impact == 4 and item.severity == Severity.HIGH
    assert item.chain_id == world.chain.pk
    assert item.evidence["stall_date"] == "2020-02-24"
    client.post(reverse("risk:nowcast_create_items"), {"date": D.isoformat()})
    assert RiskItem.objects.count() == 1  # re-running updates the item


def test_api(world):
    r = TokenClient(world.hz).get("/api/risk/nowcast", date=D.isoformat())
    assert r.status_code == 200, r.content
    data = r.json()
    assert [row["owner"]["name"] for row in data["rows"]] == ["杭州甲公司"]
    assert data["rows"][0]["stall_date"] == "2020-02-24"
    assert TokenClient(world.hz_enterprise).get("/api/risk/nowcast", date=D.isoformat()).status_code == 404
    assert TokenClient(world.hz).get("/api/risk/nowcast", region="3302").status_code == 404
    assert TokenClient(world.hz).get("/api/risk/nowcast", horizon=0).status_code == 422


def test_cli_writes_the_predictions(world, tmp_path, make_user):
    out = tmp_path / "nowcast.csv"
    call_command("risk", "nowcast", "--date", D.isoformat(), "--user", world.province.username, "--out", str(out))
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("预计停产日,天数,链主企业")
    assert lines[1].startswith("2020-02-22,2,宁波丁整机厂") and lines[2].startswith("2020-02-24,4,杭州甲公司")
    handler = make_user(Role.HANDLER, "330000")
    with pytest.raises(Exception, match="专班"):
        call_command("risk", "nowcast", "--date", D.isoformat(), "--user", handler.username, "--create-items")
    assert not RiskItem.objects.exists()


def test_report_state_takes_the_latest_report_and_the_trend(two_cities):
    ns = two_cities
    for offset, util in ((2, "0.2"), (1, "0.4"), (0, "0.6")):
        report(ns.admin, ns.hz_firm2, D - dt.timedelta(days=offset), util=util, inventory=3 + offset)
    report(ns.admin, ns.nb_firm, D - dt.timedelta(days=1), resumed=False)
    report(ns.admin, ns.hz_firm, D - dt.timedelta(days=9), util="0.5")  # outside the 7-day window
    state = nowcasting.report_state([ns.hz_firm2.pk, ns.nb_firm.pk, ns.hz_firm.pk], D)
    assert state["capacity"][:2].tolist() == pytest.approx([0.6, 0.0])
    assert state["inventory"][0] == 3.0
    assert state["trend"][0] == pytest.approx(0.2)
    assert state["age"][:2].tolist() == [0.0, 1.0]
    assert all(math.isnan(state[key][2]) for key in ("capacity", "inventory", "trend", "age"))
    assert math.isnan(state["trend"][1])


def test_page_lists_stalls_traced_to_a_supplier_first(world, client, monkeypatch):
    real = nowcasting.compute

    def with_an_untraced_stall(*args, **kwargs):
        result = real(*args, **kwargs)
        traced = result["rows"][0]
        untraced = {**traced, "owner": {**traced["owner"], "name": "需求下降链主"}, "cause": None, "direct": None,
                    "days": 0, "caveats": ["cause_unknown"]}  # fmt: skip
        return {**result, "rows": [untraced, *result["rows"]]}

    monkeypatch.setattr(nowcasting, "compute", with_an_untraced_stall)
    client.force_login(world.hz)
    r = client.get(reverse("risk:nowcast"), {"date": D.isoformat()})
    rows = r.context["rows"]
    assert [row["cause"] is None for row in rows] == [False] * (len(rows) - 1) + [True]  # day 0, yet listed last
    assert r.context["traced"] == len(rows) - 1


def test_risk_index_goes_to_the_lists(world, client):
    client.force_login(world.hz)
    assert client.get("/risk/").url == reverse("risk:item_list")
