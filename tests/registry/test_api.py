"""REST API for the registry: list/filter/paginate/read/create/update, scope, audit, query counts."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gulian.core.models import AuditRecord, Role
from gulian.registry.models import Chain, Enterprise, Membership, Segment, SupplyLink
from tests.conftest import make_link, next_uscc
from tests.core.test_api import TokenClient

E = "/api/registry/enterprises"
C = "/api/registry/chains"
S = "/api/registry/segments"
M = "/api/registry/memberships"
L = "/api/registry/links"


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def audit_count(model: str) -> int:
    return AuditRecord.objects.filter(model=model).count()


@pytest.fixture
def hz_chain(two_cities):
    """A Hangzhou-level chain with two segments, which the Hangzhou task force may change."""
    chain = Chain.objects.create(code="hz-ai", name="人工智能", region_id="330100")
    Segment.objects.create(chain=chain, order=1, name="芯片")
    Segment.objects.create(chain=chain, order=2, name="算法")
    return chain


# --- enterprises -------------------------------------------------------------------------------


def test_enterprise_list_is_scoped(two_cities):
    ns = two_cities
    assert ids(TokenClient(ns.hz).get(E)) == {ns.hz_firm.pk, ns.hz_firm2.pk, ns.foreign_firm.pk}
    assert ids(TokenClient(ns.nb).get(E)) == {ns.nb_firm.pk, ns.foreign_firm.pk}
    assert ids(TokenClient(ns.hz_county).get(E)) == {ns.hz_firm.pk, ns.foreign_firm.pk}
    assert ids(TokenClient(ns.province).get(E)) == {
        ns.hz_firm.pk,
        ns.hz_firm2.pk,
        ns.nb_firm.pk,
        ns.foreign_firm.pk,
    }
    assert ids(TokenClient(ns.liaison_hz).get(E)) == {ns.hz_firm.pk, ns.foreign_firm.pk}


def test_enterprise_user_sees_only_its_own(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz_enterprise)
    assert ids(api.get(E)) == {ns.hz_firm.pk}
    assert api.get(f"{E}/{ns.hz_firm2.pk}").status_code == 404
    assert api.get(f"{E}/{ns.foreign_firm.pk}").status_code == 404
    assert ids(api.get(L)) == {ns.hz_link.pk}
    r = api.patch(f"{E}/{ns.hz_firm.pk}", {"contact_phone": "0571-88888888"})
    assert r.status_code == 200 and r.json()["contact_phone"] == "0571-88888888"
    assert api.post(E, {"name": "新公司", "uscc": next_uscc("330106"), "region": "330106"}).status_code == 403


def test_enterprise_filters(two_cities):
    ns = two_cities
    api = TokenClient(ns.province)
    assert ids(api.get(E, region="330110")) == {ns.hz_firm2.pk}
    assert ids(api.get(E, region="3302")) == {ns.nb_firm.pk}
    assert ids(api.get(E, q="甲")) == {ns.hz_firm.pk}
    assert ids(api.get(E, q=ns.nb_firm.uscc[-8:])) == {ns.nb_firm.pk}
    assert ids(api.get(E, country="JP")) == {ns.foreign_firm.pk}
    assert ids(api.get(E, chain=ns.chain.pk)) == {ns.hz_firm.pk, ns.nb_firm.pk}
    assert ids(api.get(E, liaison=ns.liaison_hz.pk)) == {ns.hz_firm.pk}
    # the filter narrows within the scope, never widens it
    assert ids(TokenClient(ns.hz).get(E, region="3302")) == set()


def test_enterprise_pagination(two_cities, make_enterprise):
    for i in range(60):
        make_enterprise("330108", f"滨江企业{i:02d}")
    api = TokenClient(two_cities.hz)
    first = api.get(E).json()
    assert first["count"] == 63 and len(first["items"]) == 50
    second = api.get(E, page=2).json()
    assert len(second["items"]) == 13
    assert not {x["id"] for x in first["items"]} & {x["id"] for x in second["items"]}
    small = api.get(E, page_size=10, page=3).json()
    assert [x["name"] for x in small["items"]] == [x["name"] for x in first["items"][20:30]]
    assert len(api.get(E, page_size=5000).json()["items"]) == 63  # below the 500 cap
    assert api.get(E, page_size=0).status_code == 422


def test_enterprise_read(two_cities):
    ns = two_cities
    Enterprise.objects.filter(pk=ns.hz_firm.pk).update(scale="large", industry_id="36", employees=800)
    r = TokenClient(ns.hz).get(f"{E}/{ns.hz_firm.pk}")
    assert r.status_code == 200
    body = r.json()
    assert body["uscc"] == ns.hz_firm.uscc and body["region"] == "330106"
    assert body["region_name"] == "浙江省杭州市西湖区" and body["industry"] == "36"
    assert (body["scale"], body["scale_label"], body["employees"]) == ("large", "大型", 800)
    assert body["liaison"] == ns.liaison_hz.pk


def test_hangzhou_cannot_read_or_change_ningbo_enterprise(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    r = api.get(f"{E}/{ns.nb_firm.pk}")
    assert r.status_code == 404 and r.json() == {"detail": "未找到 / not found"}
    assert "宁波丙公司" not in r.content.decode()
    r = api.patch(f"{E}/{ns.nb_firm.pk}", {"name": "改名"})
    assert r.status_code == 404
    ns.nb_firm.refresh_from_db()
    assert ns.nb_firm.name == "宁波丙公司"
    # a missing id looks exactly the same
    assert api.get(f"{E}/987654").json() == r.json()


def test_create_enterprise(two_cities):
    ns = two_cities
    uscc = next_uscc("330108")
    body = {
        "name": "滨江新公司",
        "uscc": uscc.lower(),
        "region": "330108",
        "industry": "39",
        "scale": "small",
        "employees": 40,
        "baseline_output": "12500000.50",
        "contact_email": "a@b.cn",
    }
    before = audit_count("registry.Enterprise")
    r = TokenClient(ns.hz).post(E, body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["uscc"] == uscc  # compacted to upper case
    assert (out["region"], out["industry"], out["scale_label"]) == ("330108", "39", "小型")
    assert out["baseline_output"] == "12500000.50"
    firm = Enterprise.objects.get(pk=out["id"])
    assert firm.region_id == "330108" and firm.employees == 40
    rec = AuditRecord.objects.filter(model="registry.Enterprise").order_by("-seq").first()
    assert audit_count("registry.Enterprise") == before + 1
    assert (rec.action, rec.actor_id, rec.object_pk) == ("create", ns.hz.pk, str(firm.pk))


def test_create_foreign_enterprise(two_cities):
    r = TokenClient(two_cities.hz).post(E, {"name": "Bosch GmbH", "country": "de"})
    assert r.status_code == 201
    assert (r.json()["country"], r.json()["region"], r.json()["uscc"]) == ("DE", None, None)


def test_hangzhou_cannot_create_enterprise_in_ningbo(two_cities):
    before = Enterprise.objects.count(), AuditRecord.objects.count()
    r = TokenClient(two_cities.hz).post(
        E, {"name": "宁波新公司", "uscc": next_uscc("330203"), "region": "330203"}
    )
    assert r.status_code == 403
    assert "outside your scope" in r.json()["detail"] and "超出管辖范围" in r.json()["detail"]
    assert (Enterprise.objects.count(), AuditRecord.objects.count()) == before


def test_create_enterprise_validation_errors(two_cities):
    api = TokenClient(two_cities.hz)
    good = next_uscc("330106")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # the same code with a wrong check digit
    r = api.post(E, {"name": "坏代码公司", "uscc": bad, "region": "330106"})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "数据校验未通过 / validation failed"
    assert "校验码" in body["errors"]["uscc"][0]
    r = api.post(E, {"name": "无区域公司", "uscc": next_uscc("330106")})
    assert r.status_code == 422 and "region" in r.json()["errors"]
    r = api.post(E, {"name": "怪区域公司", "uscc": next_uscc("330106"), "region": "339999"})
    assert r.status_code == 422 and "region" in r.json()["errors"]
    r = api.post(E, {"name": "重复公司", "uscc": two_cities.hz_firm.uscc, "region": "330106"})
    assert r.status_code == 422 and "uscc" in r.json()["errors"]
    r = api.post(E, {"name": "负人数公司", "uscc": next_uscc("330106"), "region": "330106", "employees": -1})
    assert r.status_code == 422
    assert r.json()["detail"] == "请求数据格式错误 / invalid request data"
    assert list(r.json()["errors"]) == ["employees"]
    assert api.post(E, {"uscc": next_uscc("330106")}).json()["errors"].keys() == {"name"}


def test_update_enterprise_is_audited(two_cities):
    ns = two_cities
    r = TokenClient(ns.hz).patch(f"{E}/{ns.hz_firm.pk}", {"employees": 321, "scale": "medium"})
    assert r.status_code == 200
    assert (r.json()["employees"], r.json()["scale"], r.json()["name"]) == (321, "medium", "杭州甲公司")
    rec = AuditRecord.objects.order_by("-seq").first()
    assert (rec.action, rec.model, rec.actor_id) == ("update", "registry.Enterprise", ns.hz.pk)
    assert rec.before == {"employees": None, "scale": ""} and rec.after == {
        "employees": 321,
        "scale": "medium",
    }


def test_update_cannot_move_enterprise_out_of_scope(two_cities):
    ns = two_cities
    r = TokenClient(ns.hz).patch(f"{E}/{ns.hz_firm.pk}", {"region": "330203"})
    assert r.status_code == 403
    ns.hz_firm.refresh_from_db()
    assert ns.hz_firm.region_id == "330106"


def test_view_only_role_cannot_update(two_cities, make_user):
    handler = make_user(Role.HANDLER, "330100")
    api = TokenClient(handler)
    assert api.get(f"{E}/{two_cities.hz_firm.pk}").status_code == 200
    assert api.patch(f"{E}/{two_cities.hz_firm.pk}", {"employees": 1}).status_code == 403


def test_liaison_reference_must_be_a_visible_liaison(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    r = api.patch(f"{E}/{ns.hz_firm2.pk}", {"liaison": ns.liaison_hz.pk})
    assert r.status_code == 200 and r.json()["liaison"] == ns.liaison_hz.pk
    r = api.patch(f"{E}/{ns.hz_firm2.pk}", {"liaison": ns.nb.pk})
    assert r.status_code == 422 and "liaison" in r.json()["errors"]
    r = api.patch(f"{E}/{ns.hz_firm2.pk}", {"liaison": None})
    assert r.status_code == 200 and r.json()["liaison"] is None


def test_session_login_reads_and_writes(two_cities):
    ns = two_cities
    client = Client()
    client.force_login(ns.hz)
    assert ids(client.get(E)) == {ns.hz_firm.pk, ns.hz_firm2.pk, ns.foreign_firm.pk}
    assert client.get(f"{E}/{ns.nb_firm.pk}").status_code == 404
    r = client.patch(f"{E}/{ns.hz_firm.pk}", '{"address": "文三路 1 号"}', content_type="application/json")
    assert r.status_code == 200 and r.json()["address"] == "文三路 1 号"


# --- chains and segments -----------------------------------------------------------------------


def test_chain_list_read_filter(two_cities, hz_chain):
    ns = two_cities
    nb_chain = Chain.objects.create(code="nb-port", name="港航物流", region_id="330200")
    api = TokenClient(ns.hz)
    assert ids(api.get(C)) == {ns.chain.pk, hz_chain.pk}
    assert ids(TokenClient(ns.province).get(C)) == {ns.chain.pk, hz_chain.pk, nb_chain.pk}
    assert ids(TokenClient(ns.hz_enterprise).get(C)) == {ns.chain.pk}
    assert ids(api.get(C, q="智能")) == {hz_chain.pk}
    assert ids(api.get(C, region="3301")) == {hz_chain.pk}
    body = api.get(f"{C}/{hz_chain.pk}").json()
    assert (body["code"], body["region"], body["region_name"]) == ("hz-ai", "330100", "浙江省杭州市")
    assert [s["name"] for s in body["segments"]] == ["芯片", "算法"]
    assert api.get(f"{C}/{nb_chain.pk}").status_code == 404


def test_create_and_update_chain(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    before = AuditRecord.objects.count()
    r = api.post(
        C,
        {
            "code": "hz-bio",
            "name": "生物医药",
            "region": "330100",
            "leader": "副市长 某某",
            "segments": ["原料药", "制剂", "流通"],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert [(s["order"], s["name"]) for s in body["segments"]] == [(1, "原料药"), (2, "制剂"), (3, "流通")]
    assert AuditRecord.objects.count() == before + 4  # the chain and its three segments
    r = api.patch(f"{C}/{body['id']}", {"leader": "市长 某某", "description": None})
    assert r.status_code == 200 and r.json()["leader"] == "市长 某某" and r.json()["description"] == ""
    assert api.post(C, {"code": "hz-bio", "name": "另一条", "region": "330100"}).status_code == 422
    assert api.post(C, {"code": "bad code!", "name": "坏编码", "region": "330100"}).status_code == 422


def test_chain_writes_outside_scope(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    assert api.post(C, {"code": "nb-x", "name": "宁波链", "region": "330200"}).status_code == 403
    assert not Chain.objects.filter(code="nb-x").exists()
    # the provincial chain is visible to Hangzhou but maintained by the province
    assert api.patch(f"{C}/{ns.chain.pk}", {"leader": "某某"}).status_code == 403
    assert TokenClient(ns.province).patch(f"{C}/{ns.chain.pk}", {"leader": "副省长 某某"}).status_code == 200


def test_segments(two_cities, hz_chain):
    ns = two_cities
    api = TokenClient(ns.hz)
    assert {s["name"] for s in api.get(S, chain=hz_chain.pk).json()["items"]} == {"芯片", "算法"}
    assert len(ids(api.get(S))) == 3  # the provincial chain's segment as well
    r = api.post(S, {"chain": hz_chain.pk, "name": "应用"})
    assert r.status_code == 201 and (r.json()["order"], r.json()["chain_name"]) == (3, "人工智能")
    seg = r.json()["id"]
    r = api.patch(f"{S}/{seg}", {"name": "行业应用", "description": "安防、交通"})
    assert r.status_code == 200 and r.json()["name"] == "行业应用"
    assert api.get(f"{S}/{seg}").json()["description"] == "安防、交通"
    assert api.post(S, {"chain": hz_chain.pk, "name": "芯片"}).status_code == 422  # name taken
    assert AuditRecord.objects.filter(model="registry.Segment", object_pk=str(seg)).count() == 2


def test_segments_outside_scope(two_cities):
    ns = two_cities
    nb_chain = Chain.objects.create(code="nb-port", name="港航物流", region_id="330200")
    nb_seg = Segment.objects.create(chain=nb_chain, order=1, name="码头")
    api = TokenClient(ns.hz)
    assert api.get(f"{S}/{nb_seg.pk}").status_code == 404
    assert api.patch(f"{S}/{nb_seg.pk}", {"name": "x"}).status_code == 404
    r = api.post(S, {"chain": nb_chain.pk, "name": "堆场"})
    assert r.status_code == 422 and "chain" in r.json()["errors"]
    assert api.post(S, {"chain": ns.chain.pk, "name": "电池"}).status_code == 403  # visible, not changeable


# --- memberships -------------------------------------------------------------------------------


def test_membership_list_is_scoped(two_cities):
    ns = two_cities
    hz_m = Membership.objects.get(enterprise=ns.hz_firm)
    nb_m = Membership.objects.get(enterprise=ns.nb_firm)
    api = TokenClient(ns.hz)
    assert ids(api.get(M)) == {hz_m.pk}
    assert api.get(f"{M}/{nb_m.pk}").status_code == 404
    assert api.patch(f"{M}/{nb_m.pk}", {"note": "x"}).status_code == 404
    nb_m.refresh_from_db()
    assert nb_m.note == ""
    assert ids(TokenClient(ns.province).get(M)) == {hz_m.pk, nb_m.pk}
    assert ids(TokenClient(ns.province).get(M, role="core")) == {nb_m.pk}
    assert ids(TokenClient(ns.province).get(M, region="3301", chain=ns.chain.pk)) == {hz_m.pk}
    body = api.get(f"{M}/{hz_m.pk}").json()
    assert (body["enterprise_name"], body["chain_name"], body["segment_name"]) == (
        "杭州甲公司",
        "节能与新能源汽车",
        "整车",
    )
    assert (body["role"], body["role_label"]) == ("owner", "链主企业")


def test_create_and_update_membership(two_cities, hz_chain):
    ns = two_cities
    api = TokenClient(ns.hz)
    seg = hz_chain.segments.get(order=2)
    r = api.post(M, {"enterprise": ns.hz_firm2.pk, "chain": hz_chain.pk, "segment": seg.pk, "role": "core"})
    assert r.status_code == 201, r.content
    m = r.json()
    assert (m["segment_name"], m["role_label"]) == ("算法", "核心配套企业")
    r = api.post(M, {"enterprise": ns.hz_firm2.pk, "chain": hz_chain.pk})
    assert r.status_code == 422  # one membership per enterprise and chain
    r = api.patch(f"{M}/{m['id']}", {"role": "owner", "segment": None})
    assert r.status_code == 200 and (r.json()["role"], r.json()["segment"]) == ("owner", None)
    r = api.patch(f"{M}/{m['id']}", {"segment": ns.segment.pk})  # a segment of another chain
    assert r.status_code == 422 and "segment" in r.json()["errors"]
    r = api.patch(f"{M}/{m['id']}", {"role": "boss"})
    assert r.status_code == 422 and "role" in r.json()["errors"]
    actions = AuditRecord.objects.filter(model="registry.Membership", object_pk=str(m["id"]))
    assert list(actions.values_list("action", flat=True)) == ["create", "update"]


def test_membership_create_outside_scope(two_cities, hz_chain):
    ns = two_cities
    api = TokenClient(ns.hz)
    r = api.post(M, {"enterprise": ns.nb_firm.pk, "chain": hz_chain.pk})
    assert r.status_code == 422 and "enterprise" in r.json()["errors"]
    assert api.post(M, {"enterprise": ns.hz_firm2.pk, "chain": ns.chain.pk}).status_code == 403
    assert not Membership.objects.filter(enterprise=ns.hz_firm2).exists()


# --- supply links ------------------------------------------------------------------------------


def test_link_list_read_and_scope_labels(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    assert ids(api.get(L)) == {ns.hz_link.pk, ns.nb_link.pk}
    body = api.get(f"{L}/{ns.hz_link.pk}").json()
    assert (body["supplier"], body["supplier_name"]) == (ns.nb_firm.pk, "宁波丙公司")
    assert (body["customer"], body["customer_name"]) == (ns.hz_firm.pk, "杭州甲公司")
    assert (body["scope"], body["scope_label"], body["input_category"]) == ("province", "省内", "电池")
    foreign = TokenClient(ns.nb).get(f"{L}/{ns.foreign_link.pk}").json()
    assert (foreign["scope"], foreign["scope_label"], foreign["supplier_name"]) == (
        "foreign",
        "境外",
        "Murata Manufacturing",
    )


def test_hangzhou_cannot_read_or_change_ningbo_link(two_cities, make_enterprise):
    ns = two_cities
    nb_only = make_link(make_enterprise("330205", "宁波丁公司"), ns.nb_firm, "钢材")
    api = TokenClient(ns.hz)
    for link in (ns.foreign_link, nb_only):
        assert api.get(f"{L}/{link.pk}").status_code == 404
        assert api.patch(f"{L}/{link.pk}", {"share": 0.5}).status_code == 404
        link.refresh_from_db()
        assert link.share is None
    assert not {ns.foreign_link.pk, nb_only.pk} & ids(api.get(L, page_size=500))


def test_link_filters(two_cities):
    ns = two_cities
    api = TokenClient(ns.province)
    assert ids(api.get(L, scope="foreign")) == {ns.foreign_link.pk}
    assert ids(api.get(L, customer=ns.nb_firm.pk)) == {ns.nb_link.pk, ns.foreign_link.pk}
    assert ids(api.get(L, supplier=ns.nb_firm.pk)) == {ns.hz_link.pk}
    assert ids(api.get(L, enterprise=ns.nb_firm.pk)) == {ns.hz_link.pk, ns.nb_link.pk, ns.foreign_link.pk}
    assert ids(api.get(L, input_category="电")) == {ns.hz_link.pk, ns.nb_link.pk, ns.foreign_link.pk}
    assert ids(api.get(L, region="3301")) == {ns.hz_link.pk}
    assert ids(api.get(L, chain=ns.chain.pk, scope="province")) == {ns.hz_link.pk, ns.nb_link.pk}


def test_create_and_update_link(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    body = {
        "supplier": ns.hz_firm2.pk,
        "customer": ns.hz_firm.pk,
        "input_category": "线束",
        "share": 0.35,
        "annual_value": 1200000,
        "lead_time_days": 7,
        "inventory_days": 4.5,
    }
    r = api.post(L, body)
    assert r.status_code == 201, r.content
    link = r.json()
    assert (link["scope"], link["scope_label"]) == ("city", "市内")
    assert link["share"] == 0.35 and isinstance(link["share"], float)
    assert link["inventory_days"] == 4.5 and link["annual_value"] == "1200000.00"
    assert api.post(L, body).status_code == 422  # the same key again
    r = api.patch(f"{L}/{link['id']}", {"share": 0.6, "alternatives_known": True})
    assert r.status_code == 200 and (r.json()["share"], r.json()["alternatives_known"]) == (0.6, True)
    r = api.patch(f"{L}/{link['id']}", {"input_category": "高压线束"})
    assert r.status_code == 200 and r.json()["input_category"] == "高压线束"
    assert SupplyLink.objects.get(pk=link["id"]).input_category == "高压线束"
    recs = AuditRecord.objects.filter(model="registry.SupplyLink", object_pk=str(link["id"])).order_by("seq")
    assert [r.action for r in recs] == ["create", "update", "update"]
    assert recs[1].before == {"share": "0.3500", "alternatives_known": False}
    assert all(r.actor_id == ns.hz.pk for r in recs)


def test_link_validation(two_cities):
    ns = two_cities
    api = TokenClient(ns.hz)
    r = api.post(L, {"supplier": ns.nb_firm.pk, "customer": ns.hz_firm.pk, "input_category": "电芯"})
    assert r.status_code == 422 and list(r.json()["errors"]) == ["supplier"]  # Ningbo firm not visible
    r = api.post(
        L, {"supplier": ns.hz_firm2.pk, "customer": ns.hz_firm.pk, "input_category": "x", "share": 1.5}
    )
    assert r.status_code == 422 and list(r.json()["errors"]) == ["share"]
    r = api.post(L, {"supplier": ns.hz_firm.pk, "customer": ns.hz_firm.pk, "input_category": "自供"})
    assert r.status_code == 422 and "__all__" in r.json()["errors"]
    r = api.post(
        L, {"supplier": ns.hz_firm2.pk, "customer": ns.hz_firm.pk, "input_category": "x", "share": 0.12345}
    )
    assert r.status_code == 422 and "share" in r.json()["errors"]  # more than 4 decimals


def test_create_link_with_foreign_supplier(two_cities):
    ns = two_cities
    r = TokenClient(ns.hz).post(
        L, {"supplier": ns.foreign_firm.pk, "customer": ns.hz_firm.pk, "input_category": "电容", "share": 1}
    )
    assert r.status_code == 201 and r.json()["scope"] == "foreign"


# --- query counts ------------------------------------------------------------------------------


def _grow(ns, n, make_enterprise):
    """Add n enterprises in Hangzhou, each in a new Hangzhou chain with a segment, and n links."""
    for _ in range(n):
        firm = make_enterprise("330108")
        chain = Chain.objects.create(code=f"c{firm.pk}", name=f"链{firm.pk}", region_id="330100")
        seg = Segment.objects.create(chain=chain, order=1, name="环节")
        Membership.objects.create(enterprise=firm, chain=chain, segment=seg)
        make_link(firm, ns.hz_firm, f"品类{firm.pk}")


def _queries(api, path):
    with CaptureQueriesContext(connection) as ctx:
        r = api.get(path, page_size=500)
    assert r.status_code == 200
    return len(ctx.captured_queries), r.json()["count"]


@pytest.mark.parametrize("path", [E, C, S, M, L])
def test_list_query_count_does_not_grow(two_cities, make_enterprise, path):
    api = TokenClient(two_cities.hz)
    _grow(two_cities, 5, make_enterprise)
    few, n_few = _queries(api, path)
    _grow(two_cities, 45, make_enterprise)
    many, n_many = _queries(api, path)
    assert n_many >= n_few + 45
    assert many == few, f"{path}: {few} queries for {n_few} rows, {many} for {n_many}"
    assert many <= 6


@pytest.mark.parametrize("path", [C, S, M, L])
def test_every_list_paginates(two_cities, make_enterprise, path):
    _grow(two_cities, 55, make_enterprise)
    api = TokenClient(two_cities.hz)
    first, second = api.get(path).json(), api.get(path, page=2).json()
    assert first["count"] == second["count"] > 55
    assert len(first["items"]) == 50 and len(second["items"]) == first["count"] - 50
    assert not {x["id"] for x in first["items"]} & {x["id"] for x in second["items"]}
    assert len(api.get(path, page_size=20).json()["items"]) == 20
