"""Appeals in other apps' pages: the held-back list's "open appeal" column and the risk item's 发起诉求 button."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from gulian.appeals import hooks, services
from gulian.appeals.models import Status
from gulian.core.models import Role
from gulian.dispatch import heldback
from gulian.registry.models import Chain, MemberRole, Membership
from tests.conftest import make_link
from tests.dispatch.metrics_fixtures import D, day, report
from tests.risk import list_fixtures

pytestmark = pytest.mark.django_db
risk_items = list_fixtures.risk_items  # the fixture, for the risk page test


@pytest.fixture
def chain(make_enterprise, make_user):
    """Owner O (Xihu) held back by core suppliers K1 (Xihu, below threshold) and K2 (Ningbo, not resumed)."""

    class C:
        pass

    c = C()
    c.o = make_enterprise("330106", "链主O")
    c.k1 = make_enterprise("330106", "核心K1")
    c.k2 = make_enterprise("330203", "核心K2")
    c.chain = Chain.objects.create(code="auto", name="汽车", region_id="330000")
    for firm, role in ((c.o, MemberRole.OWNER), (c.k1, MemberRole.CORE), (c.k2, MemberRole.CORE)):
        Membership.objects.create(enterprise=firm, chain=c.chain, role=role)
    make_link(c.k1, c.o, "电池", share=Decimal("0.6"), annual_value=Decimal(600))
    make_link(c.k2, c.o, "电机", share=Decimal("0.3"), annual_value=Decimal(300))
    report(c.k1, day(-1), util="0.5")
    report(c.k1, D, util="0.6")
    report(c.k2, D, resumed=False, util="0")
    report(c.o, D, util="0.5")
    c.province = make_user(Role.TASKFORCE, "330000")
    c.k1_user = make_user(Role.ENTERPRISE, "330106", enterprise=c.k1)
    c.handler = make_user(Role.HANDLER, "330106", department="economy")  # 西湖区经信部门: supply appeals here
    return c


def _open(user) -> dict[str, bool | None]:
    return {r.supplier_name: r.appeal_open for r in heldback.held_back(user, D)}


def test_the_hook_is_connected():
    assert heldback.OPEN_ITEM_SOURCES["appeal"] is hooks.enterprises_with_open_appeals


def test_held_back_list_shows_an_open_appeal_until_it_is_closed(chain):
    c = chain
    assert _open(c.province) == {"核心K1": False, "核心K2": False}  # connected: False, not "not connected"

    result = services.submit(c.k1_user, enterprise=c.k1, title="电池隔膜断供", category="supply",
                             text="我司为链主O配套生产电池，隔膜供应商未复工，产能利用率仅60%，请求协调。", heldback_owner=c.o)
    appeal = result.appeal
    assert appeal.heldback_owner == c.o and appeal.department.code == "economy"
    assert _open(c.province) == {"核心K1": True, "核心K2": False}
    # the page shows it too
    client = Client()
    client.force_login(c.province)
    page = client.get(reverse("dispatch:held_back"), {"date": D.isoformat()})
    assert {x["r"].supplier_name: x["r"].appeal_open for x in page.context["fmt_rows"]} == {
        "核心K1": True, "核心K2": False}

    services.accept(c.handler, appeal)
    services.start(c.handler, appeal)
    assert _open(c.province)["核心K1"] is True  # still being handled
    services.resolve(c.handler, appeal, "已协调隔膜供应商复工，首批货物已发出。")
    assert _open(c.province)["核心K1"] is False  # answered: no longer open
    services.reopen(c.k1_user, appeal, "供应商又停产了。")
    assert appeal.status == Status.IN_PROGRESS and _open(c.province)["核心K1"] is True
    services.resolve(c.handler, appeal, "已协调替代供应商供货。")
    services.confirm(c.k1_user, appeal, 5, "谢谢")
    services.close(c.handler, appeal)
    assert appeal.status == Status.CLOSED
    assert _open(c.province) == {"核心K1": False, "核心K2": False}


def test_an_appeal_of_another_enterprise_does_not_count(chain, make_user):
    c = chain
    o_user = make_user(Role.ENTERPRISE, "330106", enterprise=c.o)
    services.submit(o_user, enterprise=c.o, category="supply", related_enterprises=[c.k2],
                    text="配套企业K2未复工，我司电机库存只够三天，请求协调宁波有关部门。")
    # the owner's own appeal names K2, but K2 has filed nothing: the column is per supplier
    assert _open(c.province) == {"核心K1": False, "核心K2": False}
    assert hooks.enterprises_with_open_appeals({c.o.pk, c.k1.pk, c.k2.pk}) == {c.o.pk}


def _appeal_buttons(user, item) -> tuple[list[dict], str]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("risk:item_detail", args=[item.pk]))
    assert response.status_code == 200
    return [f for f in response.context["follow_ups"] if f["key"] == "appeal"], response.content.decode()


def test_risk_item_page_offers_to_file_an_appeal(risk_items, make_user):
    """发起诉求 for those who may file for the item's enterprise (its liaison, administrators), with the item's ids."""
    ns = risk_items
    item = ns.hz_item  # the Ningbo firm's item on Hangzhou's list
    url = f"{reverse('appeals:appeal_create')}?risk_item={item.pk}&enterprise={item.enterprise_id}"
    liaison = make_user(Role.LIAISON, "330100")
    ns.nb_firm.liaison = liaison
    ns.nb_firm.save()
    for user in (liaison, ns.admin):
        buttons, html = _appeal_buttons(user, item)
        assert buttons == [{"key": "appeal", "label": "发起诉求", "url": url}]
        assert url.replace("&", "&amp;") in html
    # a task force reads the item but does not file for the enterprise: no button
    assert _appeal_buttons(ns.hz, item)[0] == []


def test_the_button_opens_the_form_and_the_appeal_links_the_item(risk_items):
    """The enterprise at risk follows the button to the form; the appeal it files links the risk item."""
    ns = risk_items
    item = ns.hz_item  # the Ningbo firm's item on Hangzhou's list
    client = Client()
    client.force_login(ns.nb_enterprise)
    url = f"{reverse('appeals:appeal_create')}?risk_item={item.pk}&enterprise={item.enterprise_id}"
    response = client.get(url)
    assert response.status_code == 200
    result = services.submit(ns.nb_enterprise, enterprise=ns.nb_firm, category="supply", risk_item=item,
                             text="风险清单提示电池单一来源，我司正在认证替代供应商，请求协调。")
    assert result.appeal.risk_item == item and list(item.appeals.all()) == [result.appeal]
