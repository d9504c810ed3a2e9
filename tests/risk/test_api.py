"""Risk item API: list with filters and pages, one item, PATCH through the services (audited, scoped)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from gulian.core.models import AuditRecord, Region
from gulian.risk import services
from gulian.risk.models import RiskItem
from tests.core.test_api import TokenClient
from tests.risk import list_fixtures
from tests.risk.list_fixtures import finding

risk_items = list_fixtures.risk_items  # the fixture, for the tests below

URL = "/api/risk/items"


def fps(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {it["title"].removeprefix("风险") for it in response.json()["items"]}


def test_list_filters_and_shape(risk_items):
    ns = risk_items
    api = TokenClient(ns.hz)
    r = api.get(URL)
    body = r.json()
    assert body["count"] == 4 and fps(r) == {"hz-city", "hz-province", "hz-domestic", "hz-foreign"}
    assert fps(api.get(URL, list="overseas")) == {"hz-foreign"}
    assert fps(api.get(URL, list="city")) == {"hz-city"}
    assert fps(api.get(URL, severity="medium")) == {"hz-domestic"}
    assert fps(api.get(URL, source="nowcast", open="true")) == {"hz-foreign"}
    assert fps(api.get(URL, chain=ns.chain.pk, segment=ns.segment.pk)) == {"hz-city", "hz-province", "hz-domestic",
                                                                         "hz-foreign"}  # fmt: skip
    assert api.get(URL, list="nowhere").status_code == 422
    one = next(it for it in body["items"] if it["title"] == "风险hz-province")
    assert one["scope"] == "province" and one["chain_name"] == ns.chain.name and one["segment_name"] == ns.segment.name
    assert one["affected_owners"] == [ns.hz_firm.pk] and one["enterprise_name"] == ns.nb_firm.name
    assert one["evidence"] == {"share": 1.0, "paths": [1, 2]} and one["region"] == "330100"


def test_get_and_scope(risk_items):
    ns = risk_items
    assert TokenClient(ns.hz).get(f"{URL}/{ns.hz_item.pk}").json()["id"] == ns.hz_item.pk
    assert TokenClient(ns.hz).get(f"{URL}/{ns.nb_item.pk}").status_code == 404
    assert TokenClient(ns.nb).get(f"{URL}/{ns.hz_item.pk}").status_code == 404
    assert TokenClient(ns.hz_enterprise).get(URL).json()["count"] == 0
    assert TokenClient(ns.hz_enterprise).get(f"{URL}/{ns.hz_item.pk}").status_code == 404
    assert TokenClient(ns.province).get(URL).json()["count"] == 5


def test_patch_by_task_force_audited(risk_items):
    ns = risk_items
    api = TokenClient(ns.hz)
    r = api.patch(f"{URL}/{ns.hz_item.pk}", {"status": "in_progress", "mitigation": "substitute",
                                             "department": "市经信局", "responsible": ns.hz.pk, "days_to_impact": 3})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["status"], body["mitigation"], body["responsible"], body["days_to_impact"]) == (
        "in_progress", "substitute", ns.hz.pk, 3)
    rec = AuditRecord.objects.filter(model="risk.RiskItem", object_pk=str(ns.hz_item.pk)).order_by("-seq").first()
    assert rec.action == "update" and rec.after["status"] == "in_progress" and rec.actor_name == ns.hz.username
    r = api.patch(f"{URL}/{ns.hz_item.pk}", {"mitigation": None, "responsible": None})
    assert r.json()["mitigation"] == "" and r.json()["responsible"] is None
    assert api.patch(f"{URL}/{ns.hz_item.pk}", {"status": "gone"}).status_code == 422
    assert api.patch(f"{URL}/{ns.hz_item.pk}", {"responsible": ns.nb.pk}).status_code == 422


def test_patch_refused_outside_scope_and_for_readers(risk_items):
    ns = risk_items
    assert TokenClient(ns.nb).patch(f"{URL}/{ns.hz_item.pk}", {"status": "dismissed"}).status_code == 404
    assert TokenClient(ns.hz_handler).patch(f"{URL}/{ns.hz_item.pk}", {"status": "dismissed"}).status_code == 403
    assert TokenClient(ns.hz_enterprise).patch(f"{URL}/{ns.hz_item.pk}", {"status": "dismissed"}).status_code == 404
    ns.hz_item.refresh_from_db()
    assert ns.hz_item.status == "open"


def test_list_query_count_is_flat(risk_items, make_enterprise):
    ns = risk_items
    api = TokenClient(ns.hz)
    api.get(URL)
    with CaptureQueriesContext(connection) as few:
        api.get(URL)
    owners = tuple(make_enterprise("330106", f"链主{k}").pk for k in range(3))
    services.upsert_items(ns.hz, Region.objects.get(code="330100"),
                          [finding(ns, f"m{k}", affected_owners=owners) for k in range(25)])
    with CaptureQueriesContext(connection) as many:
        assert api.get(URL).json()["count"] == 29
    assert len(many.captured_queries) == len(few.captured_queries)
    assert RiskItem.objects.count() == 30
