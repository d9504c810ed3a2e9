"""Risk list pages: tabs and counts, filters, detail with history, edit, manual create, export, queries."""

import io

import polars as pl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gulian.core.models import Region
from gulian.risk import services
from gulian.risk.models import RiskItem, RiskStatus
from tests.risk import list_fixtures
from tests.risk.list_fixtures import finding

risk_items = list_fixtures.risk_items  # the fixture, for the tests below


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def rows(response) -> set[str]:
    html = response.content.decode()
    return {it.fingerprint for it in RiskItem.objects.all() if f'data-item="{it.pk}"' in html}


def test_tabs_count_and_filter_the_four_lists(risk_items):
    ns = risk_items
    c = client_for(ns.hz)
    r = c.get(reverse("risk:item_list"))
    assert r.status_code == 200
    tabs = {t["key"]: t["count"] for t in r.context["tabs"]}
    assert tabs == {"": 4, "city": 1, "province": 1, "domestic": 1, "foreign": 1, "overseas": 1}
    assert rows(r) == {"hz-city", "hz-province", "hz-domestic", "hz-foreign"}
    assert rows(c.get(reverse("risk:item_list"), {"list": "domestic"})) == {"hz-domestic"}
    assert rows(c.get(reverse("risk:item_list"), {"list": "overseas"})) == {"hz-foreign"}
    assert rows(c.get(reverse("risk:item_list"), {"severity": "low"})) == {"hz-city"}
    assert rows(c.get(reverse("risk:item_list"), {"source": "nowcast"})) == {"hz-foreign"}
    r = c.get(reverse("risk:item_list"), {"severity": "high"})
    assert {t["key"]: t["count"] for t in r.context["tabs"]}["city"] == 0  # counts follow the other filters
    r = c.get(reverse("risk:item_list"), {"sort": "days"})
    assert [it.fingerprint for it in r.context["page"]] == ["hz-foreign", "hz-province", "hz-domestic", "hz-city"]
    r = c.get(reverse("risk:item_list"), {"chain": "abc"})
    assert r.status_code == 200 and r.context["bad_filters"] == ["chain"]


def test_lists_are_scoped(risk_items):
    ns = risk_items
    assert rows(client_for(ns.nb).get(reverse("risk:item_list"))) == {"nb-foreign"}
    assert len(rows(client_for(ns.province).get(reverse("risk:item_list")))) == 5
    assert rows(client_for(ns.hz_handler).get(reverse("risk:item_list"))) >= {"hz-province"}
    for who in (ns.hz_enterprise, ns.nb_enterprise):
        assert client_for(who).get(reverse("risk:item_list")).status_code == 404
    anon = Client().get(reverse("risk:item_list"))
    assert anon.status_code == 302


def test_detail_shows_evidence_owners_and_history(risk_items):
    ns = risk_items
    c = client_for(ns.hz)
    services.update_item(ns.hz, ns.hz_item, status=RiskStatus.IN_PROGRESS, department="市经信局")
    r = c.get(reverse("risk:item_detail", args=[ns.hz_item.pk]))
    assert r.status_code == 200
    html = r.content.decode()
    assert ns.hz_firm.name in html and "share" in html and "市经信局" in html
    assert [t["action"] for t in r.context["timeline"]] == ["create", "update"]
    assert r.context["can_edit"]
    # a task force cannot file for an enterprise (only its liaison can): no 发起诉求 button
    assert r.context["follow_ups"] == []
    assert c.get(reverse("risk:item_detail", args=[ns.nb_item.pk])).status_code == 404


def test_edit_by_task_force_only(risk_items):
    ns = risk_items
    url = reverse("risk:item_edit", args=[ns.hz_item.pk])
    data = {"status": "in_progress", "mitigation": "reserve", "mitigation_note": "增加库存",
            "department": "市经信局", "responsible": ns.hz.pk, "days_to_impact": "4"}  # fmt: skip
    r = client_for(ns.hz).post(url, data)
    assert r.status_code == 302
    ns.hz_item.refresh_from_db()
    assert ns.hz_item.mitigation == "reserve" and ns.hz_item.responsible == ns.hz and ns.hz_item.days_to_impact == 4
    for who in (ns.nb, ns.hz_handler, ns.hz_chain_office):
        assert client_for(who).post(url, {**data, "status": "dismissed"}).status_code == 404
    ns.hz_item.refresh_from_db()
    assert ns.hz_item.status == "in_progress"
    # a responsible person outside the actor's view is refused on the form
    r = client_for(ns.hz).post(url, {**data, "responsible": ns.nb.pk})
    assert r.status_code == 200 and r.context["form"].errors


def test_manual_create(risk_items):
    ns = risk_items
    c = client_for(ns.hz)
    assert c.get(reverse("risk:item_create")).status_code == 200
    data = {"region": "330100", "enterprise": f"#{ns.foreign_firm.pk}", "chain": ns.chain.pk,
            "segment": ns.segment.pk, "scope": "foreign", "overseas_dependence": "on", "title": "进口MLCC断供",
            "affected_owners": ns.hz_firm.uscc, "severity": "high", "days_to_impact": "10"}  # fmt: skip
    r = c.post(reverse("risk:item_create"), data)
    assert r.status_code == 302, r.context["form"].errors if r.context else r
    item = RiskItem.objects.get(title="进口MLCC断供")
    assert item.source == "manual" and list(item.affected_owners.all()) == [ns.hz_firm]
    r = c.post(reverse("risk:item_create"), {**data, "region": "330200", "title": "越权"})
    assert r.status_code == 200 and not RiskItem.objects.filter(title="越权").exists()
    assert client_for(ns.hz_handler).get(reverse("risk:item_create")).status_code == 404


def test_export_has_the_four_lists_and_overseas(risk_items):
    ns = risk_items
    r = client_for(ns.hz).get(reverse("risk:item_export"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    data = b"".join(r.streaming_content)
    sheets = pl.read_excel(io.BytesIO(data), sheet_id=0, engine="calamine")
    assert list(sheets) == ["市内清单", "省内清单", "省外清单", "境外清单", "境外依赖清单"]
    assert sheets["省内清单"]["风险描述"].to_list() == ["风险hz-province"]
    assert sheets["境外依赖清单"]["风险企业"].to_list() == ["Murata Manufacturing"]
    assert sheets["市内清单"].height == 1 and sheets["境外清单"].height == 1
    # filters apply; Ningbo's item is never in Hangzhou's file
    r = client_for(ns.hz).get(reverse("risk:item_export"), {"severity": "low"})
    sheets = pl.read_excel(io.BytesIO(b"".join(r.streaming_content)), sheet_id=0, engine="calamine")
    assert sum(s.height for s in sheets.values()) == 1
    assert client_for(ns.hz_enterprise).get(reverse("risk:item_export")).status_code == 404


@pytest.mark.parametrize("view", ["risk:item_list", "risk:item_export"])
def test_query_count_does_not_grow_with_items(risk_items, make_enterprise, view):
    ns = risk_items
    c = client_for(ns.hz)
    c.get(reverse(view))
    with CaptureQueriesContext(connection) as few:
        r = c.get(reverse(view))
        if view == "risk:item_export":
            b"".join(r.streaming_content)
    hz = Region.objects.get(code="330100")
    owners = [make_enterprise("330106", f"链主{k}") for k in range(3)]
    services.upsert_items(ns.hz, hz, [
        finding(ns, f"more-{k}", affected_owners=tuple(o.pk for o in owners))
        for k in range(30)
    ])  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        r = c.get(reverse(view))
        if view == "risk:item_export":
            b"".join(r.streaming_content)
    assert len(many.captured_queries) == len(few.captured_queries)
