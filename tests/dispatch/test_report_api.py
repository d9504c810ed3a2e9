"""REST API for daily reports: one report, idempotent batches, reading with versions, scope, query counts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gulian.core.models import AuditRecord, Role
from gulian.dispatch import services
from gulian.dispatch.models import DailyReport, DailyReportVersion, IdempotencyKey, Source
from tests.core.test_api import TokenClient

R = "/api/dispatch/reports"
B = "/api/dispatch/reports/batch"


def yesterday() -> str:
    # a past day: every submission is late whatever the time the test runs, and never in the future
    return (services.local_today() - dt.timedelta(days=1)).isoformat()


def body(firm, **overrides) -> dict:
    base = {"enterprise": firm.pk, "date": yesterday(), "resumed": True, "utilisation": 0.85,
            "staff_on_duty": 80, "staff_normal": 100}  # fmt: skip
    return base | overrides


def batch(api: TokenClient, items: list, key: str | None = "key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.client.post(B, json.dumps({"items": items}), content_type="application/json", **headers)


# --- one report --------------------------------------------------------------------------------------


def test_post_creates_then_corrects_then_is_unchanged(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz_enterprise)
    r = api.post(R, body(ns.hz_firm, blockers=["用工", "logistics"], output_value="1250000.5"))
    assert r.status_code == 201, r.content
    first = r.json()
    assert (first["outcome"], first["version"], first["enterprise_name"], first["late"]) == (
        "created", 1, "杭州甲公司", True
    )  # fmt: skip
    assert first["blockers"] == ["labour", "logistics"] and first["blocker_labels"] == ["用工", "物流"]
    assert first["output_value"] == "1250000.50" and first["utilisation"] == 0.85 and first["source"] == "api"
    same = api.post(
        R, body(ns.hz_firm, utilisation="0.850", blockers=["物流", "用工"], output_value=1250000.5)
    )
    assert same.status_code == 200 and same.json()["outcome"] == "unchanged" and same.json()["version"] == 1
    changed = api.post(R, body(ns.hz_firm, utilisation=0.9))
    assert changed.status_code == 200
    assert (changed.json()["outcome"], changed.json()["version"], changed.json()["blockers"]) == (
        "corrected",
        2,
        [],
    )
    assert DailyReport.objects.count() == 1 and DailyReportVersion.objects.count() == 2


def test_post_by_uscc_and_validation_errors(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    r = api.post(R, body(ns.hz_firm2, enterprise=None, uscc=ns.hz_firm2.uscc.lower()))
    assert r.status_code == 201 and r.json()["enterprise"] == ns.hz_firm2.pk
    bad = api.post(R, body(ns.hz_firm, utilisation=1.8, staff_on_duty=500, resumed=True))
    assert bad.status_code == 422
    errors = bad.json()["errors"]
    assert set(errors) == {"utilisation", "staff_on_duty"} and "0–150%" in errors["utilisation"][0]
    future = api.post(R, body(ns.hz_firm, date=(services.local_today() + dt.timedelta(days=1)).isoformat()))
    assert future.status_code == 422 and "date" in future.json()["errors"]
    schema = api.post(R, {"enterprise": ns.hz_firm.pk, "date": yesterday()})
    assert schema.status_code == 422 and "resumed" in schema.json()["errors"]
    neither = api.post(R, body(ns.hz_firm, enterprise=None))
    assert neither.status_code == 422 and "enterprise" in neither.json()["errors"]


def test_out_of_scope_enterprise_is_a_422_on_the_field_and_reports_404(two_cities):
    ns = two_cities
    services.submit(ns.admin, ns.nb_firm, yesterday(), body(ns.nb_firm), Source.API)
    nb_report = DailyReport.objects.get(enterprise=ns.nb_firm)
    county = TokenClient(ns.hz_county)
    r = county.post(R, body(ns.nb_firm))
    assert r.status_code == 422 and r.json()["errors"]["enterprise"][0].startswith(
        "企业不存在或不在管辖范围内"
    )
    missing = county.post(R, body(ns.nb_firm, enterprise=999999))
    assert missing.json() == r.json()  # the same words whether it exists or not
    assert county.post(R, body(ns.nb_firm, enterprise=None, uscc=ns.nb_firm.uscc)).status_code == 422
    assert county.get(f"{R}/{nb_report.pk}").status_code == 404
    assert county.get(R).json()["count"] == 0
    assert TokenClient(ns.nb_enterprise).get(f"{R}/{nb_report.pk}").status_code == 200
    assert TokenClient(ns.hz_enterprise).get(f"{R}/{nb_report.pk}").status_code == 404
    assert TokenClient(ns.hz_enterprise).post(R, body(ns.hz_firm2)).status_code == 422
    assert DailyReport.objects.count() == 1


def test_detail_lists_every_version(two_cities):
    ns = two_cities
    api = TokenClient(ns.liaison_hz)
    api.post(R, body(ns.hz_firm))
    r = api.post(R, body(ns.hz_firm, staff_on_duty=90, blockers=["资金"]))
    detail = api.get(f"{R}/{r.json()['id']}").json()
    assert detail["version"] == 2
    assert [(v["version"], v["data"]["staff_on_duty"], v["data"]["blockers"], v["submitted_by_name"])
            for v in detail["versions"]] == [(1, 80, 0, ns.liaison_hz.username),
                                             (2, 90, 8, ns.liaison_hz.username)]  # fmt: skip


def test_list_filters_and_scope(two_cities, settings):
    ns = two_cities
    settings.DISPATCH_DEADLINE = "23:59"  # today's report is on time whenever the suite runs (not after 17:00)
    today, before = services.local_today(), services.local_today() - dt.timedelta(days=3)
    for firm in (ns.hz_firm, ns.hz_firm2, ns.nb_firm):
        services.submit(ns.admin, firm, before, body(firm), Source.API)
    services.submit(ns.admin, ns.hz_firm, today, body(ns.hz_firm), Source.WEB)
    province = TokenClient(ns.province)

    def ids(**params):
        r = province.get(R, **params)
        assert r.status_code == 200, r.content
        return sorted((item["enterprise"], item["date"]) for item in r.json()["items"])

    assert len(ids()) == 4
    assert ids(date=today.isoformat()) == [(ns.hz_firm.pk, today.isoformat())]
    assert len(ids(date_from=before.isoformat(), date_to=before.isoformat())) == 3
    assert [e for e, _d in ids(region="3302")] == [ns.nb_firm.pk]
    assert [e for e, _d in ids(uscc=ns.hz_firm2.uscc)] == [ns.hz_firm2.pk]
    assert len(ids(late=True)) == 3 and len(ids(source="web")) == 1
    assert TokenClient(ns.hz).get(R, region="3302").json()["count"] == 0  # filters never widen the scope


def test_list_query_count_does_not_grow(two_cities, make_enterprise):
    ns = two_cities
    api = TokenClient(ns.hz)
    counts = []
    for n in (3, 40):
        for _ in range(n):
            firm = make_enterprise("330108")
            services.submit(ns.admin, firm, yesterday(), body(firm), Source.API)
        with CaptureQueriesContext(connection) as ctx:
            r = api.get(R, page_size=500)
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert r.json()["count"] == 43 and counts[0] == counts[1], counts


# --- batches -------------------------------------------------------------------------------------------


def test_batch_applies_once_per_idempotency_key(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    items = [body(ns.hz_firm), body(ns.hz_firm2, enterprise=None, uscc=ns.hz_firm2.uscc, utilisation="0.6")]
    r = batch(api, items, "k-2020-02-10")
    assert r.status_code == 200, r.content
    result = r.json()
    assert (result["created"], result["corrected"], result["unchanged"]) == (2, 0, 0)
    assert [(i["index"], i["outcome"], i["version"], i["late"]) for i in result["items"]] == [
        (0, "created", 1, True), (1, "created", 1, True)
    ]  # fmt: skip
    assert "Idempotent-Replayed" not in r.headers
    audit_before = AuditRecord.objects.count()
    # the client did not see the answer and sends the same batch again (JSON spacing differs): replayed
    raw = json.dumps({"items": items}, indent=2)
    again = api.client.post(B, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-2020-02-10")
    assert again.status_code == 200 and again.json() == result
    assert again.headers["Idempotent-Replayed"] == "true"
    assert AuditRecord.objects.count() == audit_before and DailyReportVersion.objects.count() == 2
    # the same key with another body is a conflict; nothing is applied
    conflict = batch(api, [body(ns.hz_firm, utilisation=0.1)], "k-2020-02-10")
    assert conflict.status_code == 409 and "Idempotency-Key" in conflict.json()["detail"]
    assert DailyReport.objects.get(enterprise=ns.hz_firm).version == 1
    # a new key with changed content corrects
    corrected = batch(api, [body(ns.hz_firm, utilisation=0.1)], "k-2")
    assert corrected.json()["corrected"] == 1 and DailyReport.objects.get(enterprise=ns.hz_firm).version == 2
    # keys belong to their user: another user's identical key is independent
    other = batch(TokenClient(ns.province), [body(ns.nb_firm)], "k-2020-02-10")
    assert other.status_code == 200 and other.json()["created"] == 1


def test_rejected_batch_writes_nothing_and_keeps_no_key(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    items = [body(ns.hz_firm), body(ns.nb_firm), body(ns.hz_firm2, resumed=False)]
    r = batch(api, items, "retry-me")
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"items.1.enterprise", "items.2.utilisation"}
    assert "2 条日报未通过校验" in r.json()["detail"]
    assert not DailyReport.objects.exists() and not IdempotencyKey.objects.exists()
    fixed = batch(api, [items[0], body(ns.hz_firm2, resumed=False, utilisation=0)], "retry-me")
    assert fixed.status_code == 200 and fixed.json()["created"] == 2


def test_batch_needs_a_key_and_checks_the_schema(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    r = batch(api, [body(ns.hz_firm)], key=None)
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["errors"]
    assert batch(api, [body(ns.hz_firm)], key="x" * 129).status_code == 422
    schema = batch(api, [body(ns.hz_firm), {"enterprise": ns.hz_firm2.pk}])
    assert schema.status_code == 422 and "items.1.resumed" in schema.json()["errors"]
    assert not DailyReport.objects.exists()


def test_batch_scope_for_an_enterprise_user(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz_enterprise)
    assert batch(api, [body(ns.hz_firm)]).status_code == 200
    r = batch(api, [body(ns.hz_firm2)], "k2")
    assert r.status_code == 422 and "items.0.enterprise" in r.json()["errors"]


@pytest.mark.parametrize("n", [300])
def test_batch_queries_do_not_grow_with_items(two_cities, make_enterprise, n):
    ns = two_cities
    firms = [make_enterprise("330108") for _ in range(n)]
    api = TokenClient(ns.hz)
    counts = []
    for size, key in ((5, "a"), (n, "b")):
        with CaptureQueriesContext(connection) as ctx:
            r = batch(api, [body(f) for f in firms[:size]], key)
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
    # SQLite splits long INSERTs by its variable limit; the count must not be one query per item
    assert counts[1] <= counts[0] + 6, counts


# --- missing reports -------------------------------------------------------------------------------------


def test_missing_api(two_cities, make_user):
    ns = two_cities
    day = yesterday()
    services.submit(ns.admin, ns.hz_firm2, day, body(ns.hz_firm2), Source.API)
    r = TokenClient(ns.hz).get("/api/dispatch/missing", date=day)
    assert r.status_code == 200
    out = r.json()
    assert (out["expected"], out["reported"], out["missing"]) == (2, 1, 1)
    (group,) = out["groups"]
    assert group["liaison"] == ns.liaison_hz.pk and group["count"] == 1
    assert [e["id"] for e in group["enterprises"]] == [ns.hz_firm.pk]
    assert TokenClient(ns.nb).get("/api/dispatch/missing", date=day).json()["expected"] == 1
    narrowed = TokenClient(ns.province).get("/api/dispatch/missing", date=day, region="3302").json()
    assert narrowed["expected"] == 1 and narrowed["groups"][0]["liaison"] is None
    assert TokenClient(make_user(Role.LIAISON, "330200")).get("/api/dispatch/missing").json()["expected"] == 0
