"""Registry web pages: they load for each role, keep to scope (404 outside), write through services."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gulian.core.models import AuditRecord, Role
from gulian.core.uscc import make as make_uscc
from gulian.registry.models import Chain, Enterprise, MemberRole, Membership, Segment, SupplyLink
from tests.conftest import make_link, next_uscc


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def nb_only(two_cities, make_enterprise):
    """A second Ningbo firm and a Ningbo-internal link, which no Hangzhou user may see."""
    nb2 = make_enterprise("330212", "宁波丁公司")
    return nb2, make_link(nb2, two_cities.nb_firm, "模具")


# ---- pages load for every role ----------------------------------------------------------------------

ROLES = ["province", "hz", "hz_county", "hz_enterprise", "liaison_hz", "admin"]


@pytest.mark.parametrize("who", ROLES)
def test_pages_load_for_each_role(two_cities, who):
    ns = two_cities
    c = client_for(getattr(ns, who))
    for name in ("home", "registry:chain_list", "registry:enterprise_list", "registry:link_list", "tokens"):
        response = c.get(reverse(name))
        assert response.status_code == 200, (who, name)
    assert c.get(reverse("registry:chain_detail", args=[ns.chain.pk])).status_code == 200
    assert c.get(reverse("registry:enterprise_detail", args=[ns.hz_firm.pk])).status_code == 200


def test_navigation_follows_role(two_cities):
    ns = two_cities
    assert "账号审核" in client_for(ns.hz).get(reverse("home")).text
    page = client_for(ns.hz_enterprise).get(reverse("home")).text
    assert "账号审核" not in page and "杭州甲公司" in page  # its own enterprise is on its landing page
    assert 'class="active"' in client_for(ns.hz).get(reverse("registry:chain_list")).text


def test_anonymous_is_sent_to_login(two_cities):
    response = Client().get(reverse("registry:enterprise_detail", args=[two_cities.hz_firm.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# ---- scope: Hangzhou vs Ningbo ----------------------------------------------------------------------


def test_hangzhou_gets_404_on_ningbo_records(two_cities, nb_only):
    ns = two_cities
    nb2, nb_link = nb_only
    c = client_for(ns.hz)
    for url in (
        reverse("registry:enterprise_detail", args=[ns.nb_firm.pk]),
        reverse("registry:enterprise_edit", args=[ns.nb_firm.pk]),
        reverse("registry:enterprise_detail", args=[nb2.pk]),
        reverse("registry:link_edit", args=[nb_link.pk]),
        reverse("registry:link_edit", args=[ns.foreign_link.pk]),
        reverse(
            "registry:chain_edit", args=[ns.chain.pk]
        ),  # a city may read the provincial chain, not change it
        reverse("registry:segment_edit", args=[ns.segment.pk]),
    ):
        response = c.get(url)
        assert response.status_code == 404, url
        assert "宁波丙公司" not in response.text and "宁波丁公司" not in response.text
    # POSTs are refused the same way and change nothing
    assert (
        c.post(reverse("registry:enterprise_edit", args=[ns.nb_firm.pk]), {"name": "被改名"}).status_code
        == 404
    )
    assert c.post(reverse("registry:link_delete", args=[nb_link.pk])).status_code == 404
    nb_member = Membership.objects.get(enterprise=ns.nb_firm)
    assert c.post(reverse("registry:membership_remove", args=[nb_member.pk])).status_code == 404
    ns.nb_firm.refresh_from_db()
    assert ns.nb_firm.name == "宁波丙公司" and SupplyLink.objects.filter(pk=nb_link.pk).exists()
    assert Membership.objects.filter(pk=nb_member.pk).exists()


def test_hangzhou_lists_show_no_ningbo_records(two_cities, nb_only):
    ns = two_cities
    nb2, nb_link = nb_only
    c = client_for(ns.hz)
    firms = c.get(reverse("registry:enterprise_list")).text
    assert "杭州甲公司" in firms and "杭州乙公司" in firms
    assert "宁波丙公司" not in firms and "宁波丁公司" not in firms
    # even when asked for by filter
    assert "宁波丙公司" not in c.get(reverse("registry:enterprise_list"), {"region": "3302"}).text
    links = c.get(reverse("registry:link_list")).text
    assert "模具" not in links and "电容" not in links  # Ningbo-internal and Murata→Ningbo links
    assert "电池" in links and "电机" in links  # links with a Hangzhou end
    # the chain page lists Hangzhou's members only
    chain = c.get(reverse("registry:chain_detail", args=[ns.chain.pk])).text
    assert "杭州甲公司" in chain and "宁波丙公司" not in chain
    # the province sees both
    assert (
        "宁波丙公司" in client_for(ns.province).get(reverse("registry:chain_detail", args=[ns.chain.pk])).text
    )


def test_cannot_move_a_firm_into_ningbo(two_cities):
    ns = two_cities
    c = client_for(ns.hz)
    url = reverse("registry:enterprise_edit", args=[ns.hz_firm.pk])
    form = c.get(url)
    assert 'value="330203"' not in form.text  # Ningbo regions are not even offered
    data = {"uscc": ns.hz_firm.uscc, "name": ns.hz_firm.name, "country": "CN", "region": "330203"}
    response = c.post(url, data)
    assert response.status_code == 200 and "errorlist" in response.text
    ns.hz_firm.refresh_from_db()
    assert ns.hz_firm.region_id == "330106"
    # a change inside Hangzhou goes through, audited
    response = c.post(url, {**data, "region": "330110", "employees": "850"})
    assert response.status_code == 302
    ns.hz_firm.refresh_from_db()
    assert ns.hz_firm.region_id == "330110" and ns.hz_firm.employees == 850
    record = AuditRecord.objects.filter(model="registry.Enterprise", action="update").latest("seq")
    assert record.actor_id == ns.hz.pk and record.after["region_id"] == "330110"


def test_enterprise_user_sees_and_edits_only_its_own(two_cities):
    ns = two_cities
    c = client_for(ns.hz_enterprise)
    listing = c.get(reverse("registry:enterprise_list")).text
    assert "杭州甲公司" in listing and "杭州乙公司" not in listing and "宁波丙公司" not in listing
    assert c.get(reverse("registry:enterprise_detail", args=[ns.hz_firm2.pk])).status_code == 404
    own = reverse("registry:enterprise_edit", args=[ns.hz_firm.pk])
    form = c.get(own)
    assert form.status_code == 200
    assert (
        'id="id_region"' not in form.text and 'id="id_uscc"' not in form.text
    )  # identity stays with officials
    assert (
        c.post(own, {"contact_name": "李四", "contact_phone": "0571-1", "region": "330203"}).status_code
        == 302
    )
    ns.hz_firm.refresh_from_db()
    assert ns.hz_firm.contact_name == "李四" and ns.hz_firm.region_id == "330106"
    assert c.get(reverse("registry:enterprise_edit", args=[ns.hz_firm2.pk])).status_code == 404


def test_list_filters_sorting_and_bad_input(two_cities):
    ns = two_cities
    c = client_for(ns.province)
    Enterprise.objects.filter(pk=ns.hz_firm.pk).update(scale="small")
    Enterprise.objects.filter(pk=ns.nb_firm.pk).update(scale="large")
    text = c.get(reverse("registry:enterprise_list"), {"q": "甲"}).text
    assert "杭州甲公司" in text and "杭州乙公司" not in text
    text = c.get(reverse("registry:enterprise_list"), {"sort": "scale"}).text
    assert text.index("宁波丙公司") < text.index("杭州甲公司")  # large before small
    text = c.get(reverse("registry:enterprise_list"), {"sort": "-name", "chain": "notanumber"}).text
    assert "chain" in text and "已忽略" in text
    text = c.get(reverse("registry:link_list"), {"scope": "foreign"}).text
    assert "电容" in text and "电池" not in text


# ---- writes through the pages -----------------------------------------------------------------------


def test_create_enterprise_and_link_across_regions(two_cities):
    ns = two_cities
    c = client_for(ns.hz)
    uscc = next_uscc("330106")
    response = c.post(
        reverse("registry:enterprise_create"),
        {"uscc": uscc, "name": "杭州新材料公司", "country": "CN", "region": "330106", "scale": "medium"},
    )
    assert response.status_code == 302
    firm = Enterprise.objects.get(uscc=uscc)
    assert AuditRecord.objects.filter(
        model="registry.Enterprise", action="create", object_pk=str(firm.pk)
    ).exists()
    # Hangzhou may not register a firm in Ningbo
    response = c.post(
        reverse("registry:enterprise_create"),
        {"uscc": next_uscc("330203"), "name": "越界公司", "country": "CN", "region": "330203"},
    )
    assert response.status_code == 200 and not Enterprise.objects.filter(name="越界公司").exists()
    # a Hangzhou customer may record a Ningbo supplier, named by its credit code
    response = c.post(
        reverse("registry:link_create"),
        {"supplier": ns.nb_firm.uscc, "customer": f"#{firm.pk}", "input_category": "铝材",
         "annual_value": "1200000", "share_percent": "35"},
    )  # fmt: skip
    assert response.status_code == 302
    link = SupplyLink.objects.get(customer=firm, input_category="铝材")
    assert link.scope == "province" and link.share == Decimal("0.3500")
    # but not a link between two Ningbo firms
    nb2 = Enterprise.objects.create(uscc=next_uscc("330212"), name="宁波戊公司", region_id="330212")
    response = c.post(
        reverse("registry:link_create"),
        {"supplier": nb2.uscc, "customer": ns.nb_firm.uscc, "input_category": "钢材"},
    )
    assert response.status_code == 200 and not SupplyLink.objects.filter(input_category="钢材").exists()
    # editing keeps the key and changes the figures
    edit = reverse("registry:link_edit", args=[link.pk])
    assert (
        c.post(
            edit, {"input_category": "ignored", "share_percent": "50", "alternatives_known": "on"}
        ).status_code
        == 302
    )
    link.refresh_from_db()
    assert link.input_category == "铝材" and link.share == Decimal("0.5") and link.alternatives_known


def test_chain_segments_and_memberships_through_the_pages(two_cities):
    ns = two_cities
    c = client_for(ns.province)
    response = c.post(
        reverse("registry:chain_create"),
        {
            "code": "ic",
            "name": "集成电路",
            "region": "330000",
            "leader": "副省长",
            "segments": "设计\n制造\n封测",
        },
    )
    assert response.status_code == 302
    chain = Chain.objects.get(code="ic")
    assert list(chain.segments.values_list("name", flat=True)) == ["设计", "制造", "封测"]
    assert c.post(reverse("registry:segment_create", args=[chain.pk]), {"name": "材料"}).status_code == 302
    assert chain.segments.get(name="材料").order == 4
    seg = chain.segments.get(name="制造")
    add = reverse("registry:membership_add", args=[chain.pk])
    c.post(add, {"enterprise": ns.nb_firm.uscc, "segment": seg.pk, "role": "owner"})
    c.post(add, {"enterprise": "杭州甲公司", "segment": seg.pk, "role": "core"})
    assert set(Membership.objects.filter(chain=chain).values_list("enterprise__name", "role")) == {
        ("宁波丙公司", "owner"),
        ("杭州甲公司", "core"),
    }
    page = c.get(reverse("registry:chain_detail", args=[chain.pk])).text
    assert "宁波丙公司" in page and "链主企业" in page and "核心配套企业" in page
    member = Membership.objects.get(chain=chain, enterprise=ns.nb_firm)
    assert c.post(reverse("registry:membership_remove", args=[member.pk])).status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    # the chain page removes rows with htmx: the response is empty and the row is dropped in place
    other = Membership.objects.get(chain=chain, enterprise=ns.hz_firm)
    assert (
        f'hx-post="/registry/memberships/{other.pk}/remove/"'
        in c.get(reverse("registry:chain_detail", args=[chain.pk])).text
    )
    removed = c.post(reverse("registry:membership_remove", args=[other.pk]), HTTP_HX_REQUEST="true")
    assert removed.status_code == 200 and removed.content == b""
    assert not Membership.objects.filter(pk=other.pk).exists()
    assert AuditRecord.objects.filter(model="registry.Membership", action="delete").exists()
    # a city task force cannot add members to the provincial chain
    hz = client_for(ns.hz)
    assert hz.post(add, {"enterprise": ns.hz_firm2.uscc, "role": "supplier"}).status_code == 404
    assert not Membership.objects.filter(chain=chain, enterprise=ns.hz_firm2).exists()


# ---- the chain page ---------------------------------------------------------------------------------


def test_chain_page_shows_segments_roles_scope_mix_and_graph(two_cities):
    ns = two_cities
    Enterprise.objects.filter(pk=ns.hz_firm.pk).update(baseline_output=Decimal("5000000000"))
    SupplyLink.objects.filter(pk=ns.hz_link.pk).update(annual_value=Decimal("20000000"))
    response = client_for(ns.province).get(reverse("registry:chain_detail", args=[ns.chain.pk]))
    text = response.text
    for expected in (
        "节能与新能源汽车",
        "整车",
        "链主企业",
        "核心配套企业",
        "配套企业",
        "供应关系四清单",
        "chain-graph",
    ):
        assert expected in text
    page = response.context["page"]
    mix = {r.scope: (r.count, r.value) for r in page.link_mix}
    # the chain's links are the inputs its members buy: nb→hz (省内), hz2→nb (省内), Murata→nb (境外)
    assert mix["province"] == (2, Decimal("20000000"))
    assert mix["foreign"][0] == 1 and mix["city"][0] == 0
    graph = json.loads(text.split('id="chain-graph-data" type="application/json">')[1].split("</script>")[0])
    assert {n["name"] for n in graph["nodes"]} == {"杭州甲公司", "宁波丙公司"}
    owner = next(n for n in graph["nodes"] if n["name"] == "杭州甲公司")
    assert owner["symbol"] == "diamond" and owner["symbolSize"] == 40.0
    assert [(e["source"], e["target"], e["scope"]) for e in graph["links"]] == [
        (str(ns.nb_firm.pk), str(ns.hz_firm.pk), "province")
    ]
    assert "echarts.min.js" in text and not page.graph_capped


def build_chain(n_members: int, region: str = "330100") -> Chain:
    """A chain with ``n_members`` Hangzhou members over three segments, an owner, and links between them."""
    chain = Chain.objects.create(code=f"bench{n_members}", name=f"测试链{n_members}", region_id="330000")
    segments = [Segment.objects.create(chain=chain, order=i, name=f"环节{i}") for i in (1, 2, 3)]
    counties = ["330102", "330105", "330106", "330108", "330110", "330212"]
    firms = Enterprise.objects.bulk_create(
        Enterprise(
            uscc=make_uscc(counties[i % len(counties)], f"B{n_members:03d}{i:04d}"),
            name=f"成员{i:05d}",
            region_id=counties[i % len(counties)],
            baseline_output=Decimal(10_000_000 * (i + 1)),
        )
        for i in range(n_members)
    )
    Membership.objects.bulk_create(
        Membership(enterprise=f, chain=chain, segment=segments[i % 3],
                   role=MemberRole.OWNER if i == 0 else MemberRole.CORE if i % 10 == 1 else MemberRole.SUPPLIER)
        for i, f in enumerate(firms)
    )  # fmt: skip
    SupplyLink.objects.bulk_create(
        SupplyLink(supplier=firms[i], customer=firms[(i * 7 + 1) % n_members], input_category="件",
                   scope="city", annual_value=Decimal(1000 * i))
        for i in range(n_members) if firms[i].pk != firms[(i * 7 + 1) % n_members].pk
    )  # fmt: skip
    return chain


def test_chain_page_query_count_does_not_grow_with_members(two_cities):
    small, large = build_chain(10), build_chain(200)
    c = client_for(two_cities.province)
    counts = []
    for chain in (small, large):
        c.get(reverse("registry:chain_detail", args=[chain.pk]))  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            response = c.get(reverse("registry:chain_detail", args=[chain.pk]))
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    page = response.context["page"]
    assert page.member_count == 200 and page.role_counts["owner"] == 1
    assert sum(g.count for b in page.segments for g in b.groups) == 200


def test_chain_page_caps_lists_and_graph(two_cities, monkeypatch):
    from gulian.registry import chainpage

    monkeypatch.setattr(chainpage, "GRAPH_NODES", 20)
    monkeypatch.setattr(chainpage, "MEMBERS_PER_GROUP", 5)
    chain = build_chain(60)
    # the owner is the smallest firm: it is drawn all the same
    response = client_for(two_cities.province).get(reverse("registry:chain_detail", args=[chain.pk]))
    page = response.context["page"]
    names = [n["name"] for n in page.graph["nodes"]]
    assert len(names) == 21 and "成员00000" in names and "成员00059" in names
    assert page.graph_capped and "图中仅显示" in response.text
    suppliers = next(g for g in page.segments[0].groups if g.role == "supplier")
    assert len(suppliers.members) == 5 and suppliers.hidden == suppliers.count - 5
    assert suppliers.members[0].output >= suppliers.members[-1].output  # the largest are listed
    assert "查看全部" in response.text


def test_chain_page_region_switcher_narrows_members(two_cities):
    chain = build_chain(30)
    c = client_for(two_cities.province)
    c.post(reverse("switch_region"), {"region": "330200"})
    page = c.get(reverse("registry:chain_detail", args=[chain.pk])).context["page"]
    assert page.member_count == 5  # the Ningbo (330212) sixth of the members
    assert {m.scope for b in page.segments for g in b.groups for m in g.members} == {"province"}


def test_enterprise_detail_shows_both_directions_with_scope(two_cities):
    ns = two_cities
    text = client_for(ns.province).get(reverse("registry:enterprise_detail", args=[ns.nb_firm.pk])).text
    suppliers = text.split('id="suppliers"')[1].split("</table>")[0]
    customers = text.split('id="customers"')[1].split("</table>")[0]
    assert "杭州乙公司" in suppliers and "Murata" in suppliers and "境外" in suppliers and "省内" in suppliers
    assert "杭州甲公司" in customers and "电池" in customers
    assert "节能与新能源汽车" in text


def test_liaison_sees_assigned_enterprises(two_cities):
    ns = two_cities
    text = client_for(ns.liaison_hz).get(reverse("registry:enterprise_list")).text
    assert "杭州甲公司" in text and "杭州乙公司" not in text
    assert ns.liaison_hz.role == Role.LIAISON
