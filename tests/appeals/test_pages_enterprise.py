"""Appeal pages: filing (and bad input, nothing stored), retried posts, my appeals, the detail page's scope,
internal notes, every step form, illegal steps, attachment downloads, the category suggestion."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gulian.appeals import services
from gulian.appeals.models import Appeal, AppealAttachment, AppealEvent, Department, EventKind, Level, Status
from gulian.core.models import Region, Role
from tests.conftest import next_uscc

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(two_cities, make_user):
    w = two_cities
    w.xihu_transport = make_user(Role.HANDLER, "330106", department="transport")
    w.xihu_hrss = make_user(Role.HANDLER, "330106", department="hrss")
    w.nb_transport = make_user(Role.HANDLER, "330200", department="transport")
    return w


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def msgs(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def pdf(name="证明.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def form_data(w, **kw):
    data = {
        "enterprise": str(w.hz_firm.pk), "title": "物流受阻", "text": "园区封闭，货车无法进出，原材料运不进来，急需通行证",
        "category": "logistics", "urgency": "urgent", "related_enterprises": "", "related_regions": "",
        "client_token": "",
    }
    data.update(kw)
    return data


def file_one(w, text="园区封闭，货车无法进出，原材料运不进来", **kw) -> Appeal:
    return services.submit(w.hz_enterprise, enterprise=w.hz_firm, title="物流受阻", text=text,
                           category=kw.pop("category", "logistics"), **kw).appeal


# --- filing -----------------------------------------------------------------------------------------


def test_filing_via_the_page(world):
    c = client_for(world.hz_enterprise)
    r = c.get(reverse("appeals:appeal_create"))
    assert r.status_code == 200
    html = r.content.decode()
    assert world.hz_firm.name in html and 'id="fixed-enterprise"' in html
    token = r.context["form"].initial["client_token"]
    assert re.fullmatch(r"[0-9a-f]{32}", token) and f'value="{token}"' in html
    data = form_data(world, client_token=token, related_enterprises=f"{world.nb_firm.uscc}\n",
                     related_regions="宁波市", secondary_categories=["labour"])
    data["attachments"] = [pdf(), SimpleUploadedFile("清单.csv", "品名,数量\n电池,100\n".encode(), "text/csv")]
    r = c.post(reverse("appeals:appeal_create"), data, follow=True)
    assert r.status_code == 200
    appeal = Appeal.objects.get()
    assert r.redirect_chain[-1][0] == reverse("appeals:appeal_detail", args=[appeal.pk])
    assert appeal.tracking_number.startswith("SQ")
    assert any(appeal.tracking_number in m for m in msgs(r))
    html = r.content.decode()
    assert f'id="tracking-number">{appeal.tracking_number}<' in html
    assert (appeal.enterprise, appeal.submitted_by, appeal.urgency) == (world.hz_firm, world.hz_enterprise, "urgent")
    assert appeal.category == "logistics" and appeal.secondary_categories == ["labour"]
    assert list(appeal.related_enterprises.all()) == [world.nb_firm]  # another city's firm, by its credit code
    assert list(appeal.related_regions.values_list("code", flat=True)) == ["330200"]
    # Hangzhou and Ningbo: the provincial task force coordinates
    assert (appeal.level, appeal.handling_region_id, appeal.department) == (Level.PROVINCE, "330000", None)
    names = sorted(appeal.attachments.values_list("name", flat=True))
    assert names == ["清单.csv", "证明.pdf"]
    stored = appeal.attachments.get(name="证明.pdf")
    assert stored.file.read() == PDF and stored.size == len(PDF)
    assert "证明.pdf" in html and world.nb_firm.name in html


def test_empty_category_takes_the_suggestion(world):
    c = client_for(world.hz_enterprise)
    r = c.post(reverse("appeals:appeal_create"), form_data(world, category="", title=""))
    appeal = Appeal.objects.get()
    assert r.status_code == 302
    assert appeal.category == appeal.suggested_category != ""
    assert appeal.title == appeal.text[:30]


def test_liaison_picks_among_their_enterprises(world):
    c = client_for(world.liaison_hz)
    r = c.get(reverse("appeals:appeal_create"))
    html = r.content.decode()
    assert f'<option value="{world.hz_firm.pk}">{world.hz_firm.name}</option>' in html
    assert world.nb_firm.name not in html
    r = c.post(reverse("appeals:appeal_create"), form_data(world))
    assert r.status_code == 302
    assert Appeal.objects.get().submitted_by == world.liaison_hz
    # not theirs: refused on the form
    r = c.post(reverse("appeals:appeal_create"), form_data(world, enterprise=str(world.nb_firm.pk), text="另一家企业的事"))
    assert r.status_code == 200 and "只能为本企业" in str(r.context["form"].errors["enterprise"])
    assert Appeal.objects.count() == 1


def _bad_cases(w, settings):
    long_text = "字" * (settings.APPEALS_MAX_TEXT + 1)
    unknown = next_uscc("330203")  # valid check digits, not in the registry
    bad_digit = w.nb_firm.uscc[:-1] + ("0" if w.nb_firm.uscc[-1] != "0" else "1")
    return {
        "empty text": (form_data(w, text="   "), "text", "不能为空"),
        "oversized text": (form_data(w, text=long_text), "text", f"不能超过 {settings.APPEALS_MAX_TEXT} 字"),
        "exe renamed pdf": (dict(form_data(w), attachments=[pdf("合同.pdf", EXE)]), "attachments", "内容与扩展名不符"),
        "exe": (dict(form_data(w), attachments=[SimpleUploadedFile("a.exe", EXE)]), "attachments", "文件类型不允许"),
        "too big": (dict(form_data(w), attachments=[pdf("大.pdf", PDF + b"0" * 3000)]), "attachments", "超过"),
        "unknown uscc": (form_data(w, related_enterprises=unknown), "related_enterprises", "第 1 行"),
        "bad uscc": (form_data(w, related_enterprises=f"{w.hz_firm2.uscc}\n{bad_digit}"), "related_enterprises",
                     "第 2 行"),
        "unknown name": (form_data(w, related_enterprises="不存在的公司"), "related_enterprises", "未找到该企业"),
        "unknown region": (form_data(w, related_regions="330203 火星市"), "related_regions", "火星市"),
        "another enterprise": (form_data(w, enterprise=str(w.nb_firm.pk)), "enterprise", "只能为本企业"),
        "no such enterprise": (form_data(w, enterprise="999999"), "enterprise", "未找到该企业"),
        "bad category": (form_data(w, category="weather"), "category", ""),
    }


@pytest.mark.parametrize("case", ["empty text", "oversized text", "exe renamed pdf", "exe", "too big", "unknown uscc",
                                  "bad uscc", "unknown name", "unknown region", "another enterprise",
                                  "no such enterprise", "bad category"])
def test_bad_input_is_refused_with_a_clear_error_and_nothing_stored(world, settings, case):
    settings.APPEALS_MAX_ATTACHMENT_MB = 0.002  # about 2 KB
    data, field, text = _bad_cases(world, settings)[case]
    r = client_for(world.hz_enterprise).post(reverse("appeals:appeal_create"), data)
    assert r.status_code == 200
    errors = r.context["form"].errors
    assert field in errors, errors
    assert text in " ".join(errors[field])
    assert text in r.content.decode()
    assert Appeal.objects.count() == 0 and AppealAttachment.objects.count() == 0 and AppealEvent.objects.count() == 0


def test_errors_in_english(world):
    c = client_for(world.hz_enterprise)
    c.post(reverse("set_language"), {"language": "en", "next": "/"})
    r = c.post(reverse("appeals:appeal_create"), form_data(world, enterprise=str(world.nb_firm.pk)))
    assert "you may file appeals only for your own enterprise" in " ".join(r.context["form"].errors["enterprise"])
    assert Appeal.objects.count() == 0


def test_a_double_post_with_the_same_token_files_one_appeal(world):
    c = client_for(world.hz_enterprise)
    data = form_data(world, client_token="3f2c7a0e9b1d4c56a8e7f0b2c4d6e8fa")
    first = c.post(reverse("appeals:appeal_create"), data)
    second = c.post(reverse("appeals:appeal_create"), data, follow=True)
    assert Appeal.objects.count() == 1
    appeal = Appeal.objects.get()
    assert first["Location"] == reverse("appeals:appeal_detail", args=[appeal.pk])
    assert second.redirect_chain[-1][0] == first["Location"]
    assert any("此前已提交" in m and appeal.tracking_number in m for m in msgs(second))
    # a fresh form gets a fresh token: a second, different appeal is filed
    r = c.get(reverse("appeals:appeal_create"))
    assert r.context["form"].initial["client_token"] != data["client_token"]


def test_a_near_duplicate_is_announced_and_linked(world):
    first = file_one(world, text="园区封闭，货车无法进出，原材料运不进来，急需通行证")
    r = client_for(world.hz_enterprise).post(reverse("appeals:appeal_create"), form_data(world), follow=True)
    assert any(f"与 {first.tracking_number} 内容相近，已关联" in m for m in msgs(r))
    second = Appeal.objects.exclude(pk=first.pk).get()
    assert second.duplicate_of == first
    assert 'id="duplicate-link"' in r.content.decode()


def test_officials_cannot_file(world):
    for user in (world.hz, world.xihu_transport):
        assert client_for(user).get(reverse("appeals:appeal_create")).status_code == 404


# --- links from the risk list --------------------------------------------------------------------------


@pytest.fixture
def risk_items(world):
    from gulian.risk import services as risk_services
    from gulian.risk.models import RiskItem
    from tests.risk.list_fixtures import finding

    risk_services.upsert_items(world.hz, Region.objects.get(code="330100"),
                               [finding(world, "hz-own", enterprise=world.hz_firm.pk)])
    risk_services.upsert_items(world.nb, Region.objects.get(code="330200"), [finding(world, "nb-own")])
    world.hz_item = RiskItem.objects.get(fingerprint="hz-own")
    world.nb_item = RiskItem.objects.get(fingerprint="nb-own")
    return world


def test_the_risk_items_button_prefills_the_link(risk_items):
    w = risk_items
    c = client_for(w.liaison_hz)
    url = reverse("appeals:appeal_create")
    r = c.get(url, {"risk_item": w.hz_item.pk, "enterprise": w.hz_firm.pk})
    assert r.context["form"].initial["risk_item"] == w.hz_item.pk
    assert r.context["form"].initial["enterprise"] == str(w.hz_firm.pk)
    assert w.hz_item.title in r.content.decode()
    r = c.post(url, form_data(w, risk_item=str(w.hz_item.pk)))
    assert r.status_code == 302 and Appeal.objects.get().risk_item == w.hz_item
    # an item the liaison may not see: not prefilled, refused when posted
    r = c.get(url, {"risk_item": w.nb_item.pk})
    assert "risk_item" not in r.context["form"].initial and w.nb_item.title not in r.content.decode()
    r = c.post(url, form_data(w, risk_item=str(w.nb_item.pk), text="另一个问题：用工短缺"))
    assert r.status_code == 200 and "风险条目" in " ".join(r.context["form"].non_field_errors())
    assert Appeal.objects.count() == 1


def test_heldback_owner_link(world):
    c = client_for(world.nb_enterprise)
    url = reverse("appeals:appeal_create")
    # Ningbo's firm supplies Hangzhou's chain owner (two_cities' hz_link): it may name it
    r = c.get(url, {"heldback_owner": world.hz_firm.pk})
    assert r.context["form"].initial["heldback_owner"] == world.hz_firm.pk
    data = form_data(world, enterprise=str(world.nb_firm.pk), heldback_owner=str(world.hz_firm.pk))
    r = c.post(url, data)
    assert r.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.heldback_owner == world.hz_firm
    # an unrelated firm is refused
    r = c.post(url, dict(data, heldback_owner=str(world.hz_firm2.pk), text="别的事情：用工短缺"))
    assert r.status_code == 200 and "受阻链主" in " ".join(r.context["form"].non_field_errors())


# --- my appeals -----------------------------------------------------------------------------------


def test_my_appeals_lists_own_newest_first_with_filters(world):
    a1 = file_one(world, text="春节后返岗员工不足，一线工人缺口200人", category="labour")
    a2 = file_one(world, text="银行抽贷，流动资金紧张", category="finance")
    services.submit(world.nb_enterprise, enterprise=world.nb_firm, text="宁波的事情：电费", category="energy")
    services.accept(world.xihu_hrss, a1)
    services.resolve(world.xihu_hrss, a1, "已协调人社部门组织招工")
    c = client_for(world.hz_enterprise)
    url = reverse("appeals:my_appeals")
    r = c.get(url)
    assert r.status_code == 200
    assert [a.pk for a in r.context["page"]] == [a2.pk, a1.pk]
    html = r.content.decode()
    assert a1.tracking_number in html and "宁波的事情" not in html
    tabs = {t["key"]: t["count"] for t in r.context["tabs"]}
    assert tabs == {"": 2, "open": 1, "answered": 1, "confirmed": 0, "closed": 0, "overdue": 0}
    assert [a.pk for a in c.get(url, {"status": "answered"}).context["page"]] == [a1.pk]
    assert [a.pk for a in c.get(url, {"status": "submitted"}).context["page"]] == [a2.pk]
    assert [a.pk for a in c.get(url, {"q": a2.tracking_number}).context["page"]] == [a2.pk]
    assert [a.pk for a in c.get(url, {"category": "labour"}).context["page"]] == [a1.pk]
    r = c.get(url, {"status": "nonsense"})
    assert r.status_code == 200 and r.context["bad_filters"] == ["status"]
    # the liaison sees the enterprise's appeals; officials have their own pages
    assert {a.pk for a in client_for(world.liaison_hz).get(url).context["page"]} == {a1.pk, a2.pk}
    assert client_for(world.xihu_transport).get(url).status_code == 404


def test_overdue_tab_and_badge(world):
    from django.utils import timezone

    a = file_one(world)
    Appeal.objects.filter(pk=a.pk).update(accept_due=timezone.now() - timezone.timedelta(hours=1))
    r = client_for(world.hz_enterprise).get(reverse("appeals:my_appeals"), {"overdue": "true"})
    assert [x.pk for x in r.context["page"]] == [a.pk] and "badge late" in r.content.decode()
    assert {t["key"]: t["count"] for t in r.context["tabs"]}["overdue"] == 1


# --- the detail page --------------------------------------------------------------------------------


def test_detail_page_is_scoped(world):
    a = file_one(world)
    url = reverse("appeals:appeal_detail", args=[a.pk])
    for user in (world.hz_enterprise, world.liaison_hz, world.xihu_transport, world.hz, world.province):
        assert client_for(user).get(url).status_code == 200, user
    for user in (world.nb_enterprise, world.nb, world.nb_transport, world.xihu_hrss):
        assert client_for(user).get(url).status_code == 404, user
    assert Client().get(url).status_code == 302  # to the login page


def test_internal_notes_are_hidden_from_the_enterprise(world):
    a = file_one(world)
    h = client_for(world.xihu_transport)
    h.post(reverse("appeals:appeal_action", args=[a.pk, "meeting_note"]), {"text": "会商：请交通局协调高速口"})
    h.post(reverse("appeals:appeal_action", args=[a.pk, "comment"]), {"text": "内部备注：企业曾多次反映", "internal": "on"})
    h.post(reverse("appeals:appeal_action", args=[a.pk, "comment"]), {"text": "已联系园区管委会"})
    assert a.events.filter(internal=True).count() == 2
    official = h.get(reverse("appeals:appeal_detail", args=[a.pk])).content.decode()
    assert "会商：请交通局协调高速口" in official and "内部备注" in official and "已联系园区管委会" in official
    for user in (world.hz_enterprise, world.liaison_hz):
        r = client_for(user).get(reverse("appeals:appeal_detail", args=[a.pk]))
        html = r.content.decode()
        assert "会商" not in html and "内部备注" not in html
        assert "已联系园区管委会" in html
        assert all(not e.internal for e in r.context["events"])
        # and the enterprise side cannot post internal notes: no box, and the service refuses it
        assert 'name="internal"' not in html
    c = client_for(world.hz_enterprise)
    r = c.post(reverse("appeals:appeal_action", args=[a.pk, "comment"]), {"text": "偷偷的", "internal": "on"})
    assert not a.events.filter(text="偷偷的", internal=True).exists()


def _forms_on_page(client, appeal) -> set[str]:
    html = client.get(reverse("appeals:appeal_detail", args=[appeal.pk])).content.decode()
    return set(re.findall(r'id="step-([a-z_]+)"', html))


def act(client, appeal, action, data=None, **kw):
    r = client.post(reverse("appeals:appeal_action", args=[appeal.pk, action]), data or {}, **kw)
    assert r.status_code == 302 and r["Location"] == reverse("appeals:appeal_detail", args=[appeal.pk])
    appeal.refresh_from_db()
    return r


def test_every_step_form_posts_and_changes_the_appeal(world):
    a = file_one(world)
    ent, h = client_for(world.hz_enterprise), client_for(world.xihu_transport)
    assert _forms_on_page(h, a) == services.allowed_actions(world.xihu_transport, a)
    assert {"accept", "transfer", "escalate", "ask", "confirm_category", "meeting_note"} <= _forms_on_page(h, a)
    assert _forms_on_page(ent, a) == {"answer", "comment", "add_attachment"}

    act(h, a, "confirm_category", {"category": "supply"})
    assert a.category == "supply" and a.category_confirmed
    act(h, a, "accept")
    assert a.status == Status.ACCEPTED and a.assignee == world.xihu_transport
    act(h, a, "start", {"note": "联系园区"})
    assert a.status == Status.IN_PROGRESS
    act(h, a, "ask", {"text": "需要几张通行证？"})
    act(ent, a, "answer", {"text": "6 张"})
    assert list(a.events.filter(kind__in=["question", "answer"]).values_list("text", flat=True)) == ["需要几张通行证？", "6 张"]
    r = act(ent, a, "add_attachment", {"file": pdf("车辆清单.pdf")})
    assert a.attachments.get().name == "车辆清单.pdf" and "附件已上传" in msgs(r)
    act(h, a, "resolve", {"reply": "已办理通行证 6 张"})
    assert a.status == Status.RESOLVED and a.reply == "已办理通行证 6 张"
    assert "confirm" in _forms_on_page(ent, a) and "reopen" in _forms_on_page(ent, a)
    act(ent, a, "reopen", {"reason": "通行证只给了 3 张"})
    assert a.status == Status.IN_PROGRESS and a.reopen_count == 1
    act(h, a, "declare_unresolvable", {"reason": "高速口由省交通厅管理"})
    assert a.status == Status.UNRESOLVABLE and a.unresolvable_reason == "高速口由省交通厅管理"
    act(ent, a, "confirm", {"rating": "4", "comment": "说明清楚"})
    assert (a.status, a.rating, a.rating_comment) == (Status.CONFIRMED, 4, "说明清楚")
    page = ent.get(reverse("appeals:appeal_detail", args=[a.pk])).content.decode()
    assert "★★★★" in page and "高速口由省交通厅管理" in page
    act(h, a, "close", {"note": "销号"})
    assert a.status == Status.CLOSED and a.closed_at


def test_transfer_escalate_and_assign_forms(world, make_user):
    a = file_one(world)
    h = client_for(world.xihu_transport)
    act(h, a, "transfer", {"department": str(Department.objects.get(code="hrss").pk), "reason": "属于用工问题"})
    assert a.department.code == "hrss" and a.events.filter(kind=EventKind.TRANSFERRED, text="属于用工问题").exists()
    hr = client_for(world.xihu_hrss)
    page = hr.get(reverse("appeals:appeal_detail", args=[a.pk])).content.decode()
    assert "将升级至：杭州市 · 专班" in page
    act(hr, a, "escalate", {"reason": "需要市级协调"})
    assert (a.level, a.handling_region_id, a.department) == (Level.CITY, "330100", None)
    city_transport = make_user(Role.HANDLER, "330100", department="transport")
    tf = client_for(world.hz)
    assert "assign" in _forms_on_page(tf, a)
    transport = Department.objects.get(code="transport")
    act(tf, a, "assign", {"department": str(transport.pk), "assignee": str(city_transport.pk), "reason": "交通局牵头"})
    assert (a.department, a.assignee) == (transport, city_transport)
    # a person outside the unit is refused
    r = act(tf, a, "assign", {"assignee": str(world.xihu_hrss.pk)})
    assert a.assignee == city_transport and any("分派未完成" in m for m in msgs(r))


def test_an_illegal_step_shows_the_error_and_changes_nothing(world):
    a = file_one(world)
    before = a.events.count()
    ent = client_for(world.hz_enterprise)
    r = act(ent, a, "confirm", {"rating": "5"})
    assert any("不能确认" in m for m in msgs(r))
    assert a.status == Status.SUBMITTED and a.rating is None and a.events.count() == before
    r = ent.get(r["Location"])
    assert "不能确认" in r.content.decode()  # shown on the page
    # the form's draft is kept for the page: the rating the user chose is filled in again
    r = act(ent, a, "reopen", {"reason": "再看看"})
    assert a.status == Status.SUBMITTED and any("重新办理" in m for m in msgs(r))
    # a step the user has no right to: refused as a message (the enterprise accepting its own appeal)
    r = act(ent, a, "accept")
    assert a.status == Status.SUBMITTED and any("无权" in m for m in msgs(r))
    # a handler missing a required reply: a form error as a message
    r = act(client_for(world.xihu_transport), a, "resolve", {"reply": ""})
    assert a.status == Status.SUBMITTED and any("不能为空" in m for m in msgs(r))
    r = act(ent, a, "confirm", {"rating": "9"})
    assert any("1–5" in m for m in msgs(r))


def test_refused_steps_keep_the_typed_text(world):
    a = file_one(world)
    h = client_for(world.xihu_transport)
    own = str(a.department_id)
    r = act(h, a, "transfer", {"department": own, "reason": "属于其他部门的事"})  # the same department: refused
    assert a.department_id == int(own) and any("转办未完成" in m for m in msgs(r))
    r = h.get(reverse("appeals:appeal_detail", args=[a.pk]))
    step = next(s for s in r.context["actions"] if s["name"] == "transfer")
    assert step["open"] and step["form"].initial == {"department": own, "reason": "属于其他部门的事"}
    assert "属于其他部门的事</textarea>" in r.content.decode()
    # only once
    r = h.get(reverse("appeals:appeal_detail", args=[a.pk]))
    assert not next(s for s in r.context["actions"] if s["name"] == "transfer")["open"]


def test_action_endpoint_refuses_unknown_steps_other_methods_and_strangers(world):
    a = file_one(world)
    c = client_for(world.xihu_transport)
    assert c.post(reverse("appeals:appeal_action", args=[a.pk, "delete"])).status_code == 404
    assert c.get(reverse("appeals:appeal_action", args=[a.pk, "accept"])).status_code == 405
    assert client_for(world.nb_transport).post(reverse("appeals:appeal_action", args=[a.pk, "accept"])).status_code == 404
    a.refresh_from_db()
    assert a.status == Status.SUBMITTED


# --- attachments ------------------------------------------------------------------------------------


def test_attachment_download_is_scoped(world):
    a = file_one(world, attachments=[pdf("营业执照.pdf")])
    att = a.attachments.get()
    url = reverse("appeals:attachment", args=[att.pk])
    r = client_for(world.hz_enterprise).get(url)
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    assert r["Content-Disposition"].startswith("attachment;") and "%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf" in r[
        "Content-Disposition"]
    assert client_for(world.xihu_transport).get(url).status_code == 200
    for user in (world.nb_enterprise, world.nb, world.xihu_hrss):
        assert client_for(user).get(url).status_code == 404
    assert client_for(world.hz_enterprise).get(reverse("appeals:attachment", args=[att.pk + 100])).status_code == 404


def test_add_attachment_checks_the_file(world):
    a = file_one(world)
    r = act(client_for(world.hz_enterprise), a, "add_attachment", {"file": pdf("x.pdf", EXE)})
    assert any("内容与扩展名不符" in m for m in msgs(r)) and a.attachments.count() == 0
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    r = act(client_for(world.xihu_transport), a, "add_attachment", {"file": SimpleUploadedFile("回复.docx", buf.getvalue())})
    assert a.attachments.get().name == "回复.docx"


# --- the category suggestion ----------------------------------------------------------------------------


def test_suggest_returns_category_chips_and_the_unit(world):
    c = client_for(world.hz_enterprise)
    r = c.post(reverse("appeals:suggest"), {"text": "货车通行证办不下来，物流运输受阻，原材料进不来",
                                            "enterprise": str(world.hz_firm.pk)})
    assert r.status_code == 200
    chips = r.context["chips"]
    assert 1 <= len(chips) <= 3 and all(0 <= ch["percent"] <= 100 for ch in chips)
    html = r.content.decode()
    assert html.count('class="chip"') == len(chips)
    for ch in chips:
        assert f'data-category="{ch["category"]}"' in html and ch["unit"]
    # the unit is the routing table's at the enterprise's county: 西湖区 · <department>
    assert all(ch["unit"].startswith("西湖区 · ") for ch in chips)
    logistics = [ch for ch in chips if ch["category"] == "logistics"]
    if logistics:
        assert logistics[0]["unit"] == "西湖区 · 交通运输部门"
    r = c.get(reverse("appeals:suggest"), {"text": "你好"})
    assert r.context["chips"] == [] and r.context["too_short"]
    # another enterprise's id is ignored: no routing of a firm the user may not file for
    r = c.post(reverse("appeals:suggest"), {"text": "货车通行证办不下来，物流运输受阻", "enterprise": str(world.nb_firm.pk)})
    assert all(not ch["unit"].startswith("鄞州区") for ch in r.context["chips"])


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_pages_do_not_grow_queries_with_more_appeals(world, make_enterprise):
    c = client_for(world.liaison_hz)
    other = make_enterprise("330110", "杭州丁公司", liaison=world.liaison_hz)
    a = file_one(world, text="第一件：园区封闭", attachments=[pdf()])
    mine = reverse("appeals:my_appeals")
    detail = reverse("appeals:appeal_detail", args=[a.pk])
    few_list, few_detail = _queries(c, mine), _queries(c, detail)
    for i in range(6):
        services.submit(world.liaison_hz, enterprise=other if i % 2 else world.hz_firm, text=f"第{i}件不同的事情{i * 7}",
                        category="energy", attachments=[pdf(f"{i}.pdf")])
        services.comment(world.liaison_hz, a, f"留言 {i}")
        services.add_attachment(world.liaison_hz, a, pdf(f"补充{i}.pdf"))
    assert _queries(c, mine) == few_list
    assert _queries(c, detail) == few_detail
