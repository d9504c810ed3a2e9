"""REST API for appeals: filing (idempotent), list and detail in scope, every step, 409/422/403/404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gulian.appeals.models import Appeal, AppealEvent, EventKind, Level, Status
from gulian.core.models import AuditRecord, Role
from tests.core.test_api import TokenClient

URL = "/api/appeals"
TEXT = "园区封闭，货车无法进出，原材料运不进来，急需办理通行证"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64



def post(user, path, body=None, **headers):
    return TokenClient(user).client.post(path, body or {}, content_type="application/json", **headers)


def file(user, **body):
    body = {"title": "物流受阻", "text": TEXT, "category": "logistics", **body}
    r = post(user, URL, body)
    assert r.status_code == 201, r.content
    return r.json()


def step(user, appeal_id, action, body=None, expect=200):
    r = post(user, f"{URL}/{appeal_id}/{action}", body)
    assert r.status_code == expect, (action, r.status_code, r.content)
    return r.json()


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {a["id"] for a in response.json()["items"]}


# --- filing ---------------------------------------------------------------------------------------


def test_file_an_appeal(world):
    body = file(world.hz_enterprise)  # an enterprise user need not name its own enterprise
    a = Appeal.objects.get(pk=body["id"])
    assert body["tracking_number"] == a.tracking_number and body["tracking_number"].startswith("SQ")
    assert body["created"] is True and body["status"] == "submitted" and body["channel"] == "api"
    assert (body["enterprise"], body["level"], body["handling_region"], body["department"]) == (
        world.hz_firm.pk, "county", "330106", "transport")
    assert "西湖区" in body["unit"] and body["category"] == "logistics" and body["category_label"] == "物流运输"
    assert body["suggested_category"] and 0 <= body["confidence"] <= 1
    assert body["accept_due"] and body["resolve_due"] and body["duplicate_of"] is None
    assert a.submitted_by == world.hz_enterprise
    # the response is the appeal as stored: the same as reading it back
    stored = TokenClient(world.hz_enterprise).get(f"{URL}/{a.pk}").json()
    assert {k: v for k, v in body.items() if k != "created"} == {k: stored[k] for k in body if k != "created"}
    assert AuditRecord.objects.filter(model="appeals.Appeal", object_pk=str(a.pk), action="create").exists()


def test_file_by_uscc_or_id_and_the_classifier_fills_the_category(world):
    body = file(world.liaison_hz, uscc=world.hz_firm.uscc.lower(), text="春节后返岗员工不足，一线工人缺口200人，急需招工",
                category="")
    assert body["enterprise"] == world.hz_firm.pk and body["category"] == body["suggested_category"]
    body = file(world.admin, enterprise=world.nb_firm.pk, urgency="critical")
    assert body["handling_region"] == "330203" and body["urgency"] == "critical"


def test_related_enterprises_and_regions_route_to_the_common_level(world):
    # a supplier in another city, by USCC: the province's task force
    body = file(world.hz_enterprise, related_uscc=[world.nb_firm.uscc, world.hz_firm2.uscc, world.hz_firm.uscc])
    assert (body["level"], body["handling_region"], body["department"]) == ("province", "330000", None)
    assert body["related_enterprises"] == sorted([world.nb_firm.pk, world.hz_firm2.pk])  # not itself
    stored = TokenClient(world.hz_enterprise).get(f"{URL}/{body['id']}").json()
    assert {k: stored[k] for k in body if k != "created"} == {k: v for k, v in body.items() if k != "created"}
    # the foreign supplier of the Ningbo firm, by id (linked to it, though not in its user's view)
    body = file(world.nb_enterprise, related_enterprises=[world.foreign_firm.pk], text="境外电容断供")
    assert (body["level"], body["handling_region"]) == ("ministry", None)
    # a region of another city
    body = file(world.hz_enterprise, related_regions=["330200"], text="宁波港集装箱无法提货")
    assert body["level"] == "province" and body["related_regions"] == ["330200"]


def test_held_back_owner_is_a_linked_enterprise(world):
    # the Ningbo supplier files about the Hangzhou chain owner it holds back (its customer)
    body = file(world.nb_enterprise, heldback_owner=world.hz_firm.pk, text="电池产线停工，影响杭州整车厂")
    assert body["heldback_owner"] == world.hz_firm.pk
    r = post(world.hz_enterprise, URL, {"text": TEXT, "heldback_owner": world.hz_firm2.pk})  # no link between them
    assert r.status_code == 422 and "heldback_owner" in r.json()["errors"]


def test_idempotent_retry_returns_the_same_appeal(world):
    key = {"HTTP_IDEMPOTENCY_KEY": "form-7f3a"}
    first = post(world.hz_enterprise, URL, {"text": TEXT}, **key)
    again = post(world.hz_enterprise, URL, {"text": TEXT}, **key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["created"] is False
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Appeal.objects.count() == 1
    # another key files a second appeal, flagged (not merged) as a near-duplicate of the first
    other = post(world.hz_enterprise, URL, {"text": TEXT}, HTTP_IDEMPOTENCY_KEY="form-8b21")
    assert other.status_code == 201
    assert other.json()["duplicate_of"] == first.json()["id"]
    assert other.json()["duplicate_of_tracking_number"] == first.json()["tracking_number"]
    assert Appeal.objects.count() == 2
    too_long = post(world.hz_enterprise, URL, {"text": TEXT}, HTTP_IDEMPOTENCY_KEY="k" * 65)
    assert too_long.status_code == 422 and "Idempotency-Key" in too_long.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"text": TEXT, "category": "weather"}, "category"),
        ({"text": TEXT, "urgency": "soon"}, "urgency"),
        ({"text": TEXT, "secondary_categories": ["labour", "nope"]}, "secondary_categories"),
        ({"text": TEXT, "related_uscc": ["91330106MA2XXXXXXX"]}, "related_uscc"),
        ({"text": TEXT, "related_regions": ["999999"]}, "related_regions"),
        ({"text": TEXT, "risk_item": 999999}, "risk_item"),
        ({"title": "x"}, "text"),
        ({"text": TEXT, "urgency": ["normal"]}, "urgency"),
    ],
)
def test_bad_input_is_422_on_the_field(world, body, field, settings):
    settings.APPEALS_MAX_TEXT = 5000
    r = post(world.hz_enterprise, URL, body)
    assert r.status_code == 422, r.content
    assert field in r.json()["errors"] and r.json()["detail"]
    assert Appeal.objects.count() == 0


def test_filing_for_another_enterprise(world):
    # not visible: a 422 on the field, the same words as a missing enterprise
    r = post(world.nb_enterprise, URL, {"enterprise": world.hz_firm.pk, "text": TEXT})
    missing = post(world.nb_enterprise, URL, {"enterprise": 999999, "text": TEXT})
    assert r.status_code == missing.status_code == 422 and r.json() == missing.json()
    r = post(world.nb_enterprise, URL, {"uscc": world.hz_firm.uscc, "text": TEXT})
    assert r.status_code == 422 and "uscc" in r.json()["errors"]
    # a supplier that is not linked to the filing enterprise cannot be named by id
    r = post(world.hz_enterprise, URL, {"text": TEXT, "related_enterprises": [world.foreign_firm.pk]})
    assert r.status_code == 422 and "related_enterprises" in r.json()["errors"]
    # visible, but a task force does not file appeals: 403
    r = post(world.hz, URL, {"enterprise": world.hz_firm.pk, "text": TEXT})
    assert r.status_code == 403 and " / " in r.json()["detail"]
    assert Appeal.objects.count() == 0


def test_no_token_is_401(world):
    assert Client().post(URL, {"text": TEXT}, content_type="application/json").status_code == 401
    assert Client().get(URL).status_code == 401


# --- reading --------------------------------------------------------------------------------------


def test_list_is_scoped_and_filtered(world):
    first = file(world.hz_enterprise)
    a = first["id"]
    b = file(world.hz_enterprise, text="一线工人缺口200人，急需招工", category="labour")["id"]
    c = file(world.nb_enterprise, text="宁波港集装箱无法提货")["id"]
    get = lambda user, **q: TokenClient(user).get(URL, **q)  # noqa: E731
    assert ids(get(world.hz_enterprise)) == {a, b}
    assert ids(get(world.nb_enterprise)) == {c}
    assert ids(get(world.xihu_transport)) == {a}  # their department in their county
    assert ids(get(world.xihu_hrss)) == {b}
    assert ids(get(world.hz_transport)) == {a}  # the city's department sees its counties' appeals
    assert ids(get(world.nb_transport)) == {c}
    assert ids(get(world.hz)) == {a, b} and ids(get(world.province)) == {a, b, c}
    assert ids(get(world.province, category="labour")) == {b}
    assert ids(get(world.province, region="3302")) == {c}
    assert ids(get(world.province, status="open", department="transport")) == {a, c}
    assert ids(get(world.province, q=first["tracking_number"])) == {a}
    assert ids(get(world.hz, region="3302")) == set()  # a filter never widens the scope
    body = get(world.province, page_size=2).json()
    assert body["count"] == 3 and len(body["items"]) == 2
    bad = get(world.province, status="lost")
    assert bad.status_code == 422 and "status" in bad.json()["errors"]


def test_list_query_count_does_not_grow(world):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert TokenClient(world.province).get(URL).status_code == 200
        return len(ctx.captured_queries)

    file(world.hz_enterprise, related_uscc=[world.nb_firm.uscc], related_regions=["330200"])
    few = count()
    for k in range(5):
        file(world.nb_enterprise, text=f"第{k}批货物滞留，需要协调", related_uscc=[world.hz_firm.uscc])
    assert count() == few


def test_detail_hides_internal_notes_from_the_enterprise(world):
    a = file(world.hz_enterprise)["id"]
    step(world.xihu_transport, a, "meeting", {"text": "与交警会商：开通绿色通道"})
    step(world.xihu_transport, a, "comment", {"text": "内部：请物流科跟进", "internal": True})
    step(world.hz_enterprise, a, "comment", {"text": "谢谢"})
    official = TokenClient(world.xihu_transport).get(f"{URL}/{a}").json()
    own = TokenClient(world.hz_enterprise).get(f"{URL}/{a}").json()
    kinds = [e["kind"] for e in official["timeline"]]
    assert kinds == ["submitted", "routed", "meeting", "comment", "comment"]
    assert [e["kind"] for e in own["timeline"]] == ["submitted", "routed", "comment"]
    assert own["timeline"][-1]["actor_name"] == world.hz_enterprise.username
    assert {"accept", "transfer", "escalate", "meeting", "category"} <= set(official["actions"])
    assert "accept" not in own["actions"] and "answer" in own["actions"]
    # the enterprise side may not post internal notes
    r = post(world.hz_enterprise, f"{URL}/{a}/comment", {"text": "x", "internal": True})
    assert r.status_code == 403


# --- the steps ------------------------------------------------------------------------------------


def test_whole_lifecycle_through_the_api(world):
    a = file(world.hz_enterprise)["id"]
    h, e = world.xihu_transport, world.hz_enterprise
    assert step(h, a, "accept")["status"] == "accepted"  # no body needed
    assert step(h, a, "start", {"note": "联系交警"})["status"] == "in_progress"
    step(h, a, "ask", {"text": "需要几辆车的通行证？"})
    step(e, a, "answer", {"text": "6辆"})
    body = step(h, a, "resolve", {"reply": "已协调办理通行证 6 张"})
    assert body["status"] == "resolved" and body["reply"].startswith("已协调")
    body = step(e, a, "confirm", {"rating": 5, "comment": "很快"})
    assert (body["status"], body["rating"]) == ("confirmed", 5)
    assert step(h, a, "close", {"note": "销号"})["status"] == "closed"
    body = step(e, a, "reopen", {"reason": "通行证被收回"})
    assert body["status"] == "in_progress" and body["reopen_count"] == 1
    body = step(h, a, "unresolvable", {"reason": "超出本级权限"})
    assert body["status"] == "unresolvable" and body["unresolvable_reason"] == "超出本级权限"
    kinds = list(AppealEvent.objects.filter(appeal_id=a).values_list("kind", flat=True))
    assert kinds == ["submitted", "routed", "accepted", "started", "question", "answer", "resolved", "confirmed",
                     "closed", "reopened", "unresolvable"]


def test_bad_step_input_is_422(world):
    a = file(world.hz_enterprise)["id"]
    h = world.xihu_transport
    step(h, a, "accept")
    assert "reply" in step(h, a, "resolve", {"reply": "  "}, expect=422)["errors"]
    assert "reply" in step(h, a, "resolve", {}, expect=422)["errors"]
    assert "department" in step(h, a, "transfer", {"department": "nowhere", "reason": "x"}, expect=422)["errors"]
    assert "category" in step(h, a, "category", {"category": "weather"}, expect=422)["errors"]
    step(h, a, "resolve", {"reply": "已办"})
    assert "rating" in step(world.hz_enterprise, a, "confirm", {"rating": 9}, expect=422)["errors"]
    assert Appeal.objects.get(pk=a).status == Status.RESOLVED


def test_illegal_transition_is_409(world):
    a = file(world.hz_enterprise)["id"]
    h = world.xihu_transport
    r = step(h, a, "start", expect=409)
    assert "已提交" in r["detail"] and " / " in r["detail"]
    step(h, a, "resolve", {"reply": "x"}, expect=409)
    step(world.hz_enterprise, a, "confirm", {"rating": 5}, expect=409)
    step(h, a, "close", expect=409)
    step(world.hz_enterprise, a, "reopen", {"reason": "x"}, expect=409)
    step(h, a, "accept")
    step(h, a, "accept", expect=409)
    assert Appeal.objects.get(pk=a).status == Status.ACCEPTED


def test_transfer_escalate_assign_category(world, make_user):
    a = file(world.hz_enterprise)["id"]
    body = step(world.xihu_transport, a, "transfer", {"department": "hrss", "reason": "实为用工问题"})
    assert body["department"] == "hrss" and body["level"] == "county"
    # the transport handler no longer sees it; the human-resources handler does
    assert TokenClient(world.xihu_transport).get(f"{URL}/{a}").status_code == 404
    assert TokenClient(world.xihu_hrss).get(f"{URL}/{a}").status_code == 200
    body = step(world.xihu_hrss, a, "category", {"category": "labour"})
    assert (body["category"], body["category_confirmed"]) == ("labour", True)
    body = step(world.xihu_hrss, a, "escalate", {"reason": "涉及跨区调配"})
    assert (body["level"], body["handling_region"], body["department"], body["escalation_count"]) == (
        "city", "330100", None, 1)
    body = step(world.hz, a, "assign", {"department": "transport", "assignee": world.hz_transport.pk,
                                        "reason": "由市交通部门牵头"})
    assert (body["level"], body["department"], body["assignee"]) == ("city", "transport", world.hz_transport.pk)
    step(world.hz_transport, a, "accept")
    events = AppealEvent.objects.filter(appeal_id=a)
    transfer = events.get(kind=EventKind.TRANSFERRED)
    escalation = events.get(kind=EventKind.ESCALATED)
    assert transfer.text == "实为用工问题" and (escalation.from_level, escalation.to_level) == (Level.COUNTY, Level.CITY)
    # an assignee outside the unit is refused
    outsider = make_user(Role.HANDLER, "330100", department="finance")
    assert "assignee" in step(world.hz, a, "assign", {"assignee": outsider.pk}, expect=422)["errors"]


def test_scope_404_and_403(world):
    a = file(world.hz_enterprise)["id"]
    # a Ningbo enterprise can neither read nor act on a Hangzhou appeal
    nb = world.nb_enterprise
    assert TokenClient(nb).get(f"{URL}/{a}").status_code == 404
    for action, body in [("answer", {"text": "x"}), ("comment", {"text": "x"}), ("confirm", {"rating": 5}),
                         ("reopen", {"reason": "x"})]:
        step(nb, a, action, body, expect=404)
    # handlers of another department, or of the same department elsewhere, do not see it
    for user in (world.xihu_hrss, world.nb_transport, world.nb):
        assert TokenClient(user).get(f"{URL}/{a}").status_code == 404
        step(user, a, "accept", expect=404)
    # the city's transport department sees its county's appeal but does not handle it: 403
    assert TokenClient(world.hz_transport).get(f"{URL}/{a}").status_code == 200
    assert " / " in step(world.hz_transport, a, "accept", expect=403)["detail"]
    # the enterprise may not take the handler's steps
    step(world.hz_enterprise, a, "accept", expect=403)
    assert TokenClient(world.hz_enterprise).get(f"{URL}/999999").status_code == 404
    assert Appeal.objects.get(pk=a).status == Status.SUBMITTED


def test_attachments(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    a = file(world.hz_enterprise)["id"]
    client = TokenClient(world.hz_enterprise).client
    r = client.post(f"{URL}/{a}/attachments", {"file": SimpleUploadedFile("通行证.png", PNG, "image/png")})
    assert r.status_code == 201, r.content
    assert (r.json()["name"], r.json()["size"]) == ("通行证.png", len(PNG))
    bad = client.post(f"{URL}/{a}/attachments", {"file": SimpleUploadedFile("x.png", b"MZ\x90\x00", "image/png")})
    assert bad.status_code == 422
    detail = client.get(f"{URL}/{a}").json()
    assert [f["name"] for f in detail["attachments"]] == ["通行证.png"]
    other = TokenClient(world.nb_enterprise).client.post(
        f"{URL}/{a}/attachments", {"file": SimpleUploadedFile("y.png", PNG, "image/png")})
    assert other.status_code == 404
