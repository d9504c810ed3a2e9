"""risk.adapter.build_network: the registry as an engine network."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gulian.engine.types import Scope
from gulian.registry.models import Chain, Membership
from gulian.risk.adapter import build_network
from tests.conftest import make_link


def test_chain_members_and_everything_upstream(two_cities, make_enterprise):
    ns = two_cities
    tier2 = make_enterprise("420100", "武汉二级供应商")  # out of province, supplies the Hangzhou firm2
    make_link(tier2, ns.hz_firm2, "铸件", annual_value=Decimal("365000"))
    unrelated = make_enterprise("330106", "无关企业")
    make_link(ns.hz_firm, unrelated, "整车")  # downstream of the owner: not part of its supply network
    rn = build_network(user=ns.province)
    names = set(rn.names)
    assert {"杭州甲公司", "宁波丙公司", "杭州乙公司", "Murata Manufacturing", "武汉二级供应商"} == names
    assert rn.net.n_firms == 5 and rn.net.n_links == 4
    owner = rn.firm(ns.hz_firm.pk)
    assert rn.owners.tolist() == [owner] and rn.owner_chains[owner] == [ns.chain.pk]
    # value per day = annual / 365
    t2, f2 = rn.firm(tier2.pk), rn.firm(ns.hz_firm2.pk)
    k = np.flatnonzero((rn.net.link_supplier == t2) & (rn.net.link_customer == f2))[0]
    assert rn.net.links.data[k] == pytest.approx(1000.0)
    assert rn.net.link_scope[k] == Scope.OUT_OF_PROVINCE
    # steady-state baseline: output = sales + final demand, never below sales
    np.testing.assert_allclose(rn.net.output, rn.net.sales_to_firms + rn.net.final_demand)
    assert rn.chain_groups["auto"][owner] == 0 and rn.chain_groups["auto"][t2] == -1
    assert rn.net.foreign[rn.firm(ns.foreign_firm.pk)]
    assert rn.region_labels == ["330100", "330200", "420100"]
    assert rn.region_groups[rn.firm(ns.foreign_firm.pk)] == -1


def test_two_categories_of_one_pair_are_one_link(two_cities):
    ns = two_cities
    make_link(ns.nb_firm, ns.hz_firm, "电机", annual_value=Decimal("730"), inventory_days=Decimal("3"))
    ns.hz_link.annual_value, ns.hz_link.inventory_days = Decimal("365"), Decimal("9")
    ns.hz_link.save()
    rn = build_network(user=ns.province)
    k = np.flatnonzero(rn.net.link_supplier == rn.firm(ns.nb_firm.pk))
    k = k[rn.net.link_customer[k] == rn.firm(ns.hz_firm.pk)]
    assert k.size == 1
    assert rn.net.links.data[k[0]] == pytest.approx(3.0)
    assert rn.net.link_inventory_days[k[0]] == 3.0  # the shorter cover
    assert rn.link_ids.size == rn.net.n_links


def test_chains_are_chosen_within_the_users_view(two_cities, make_enterprise):
    ns = two_cities
    other = Chain.objects.create(code="nb-only", name="宁波链", region_id="330200")
    Membership.objects.create(enterprise=ns.nb_firm, chain=other, role="owner")
    assert [c.code for c in build_network(user=ns.hz).chains] == ["auto"]  # the provincial chain covers Hangzhou
    assert {c.code for c in build_network(user=ns.nb).chains} == {"auto", "nb-only"}
    assert [c.code for c in build_network(user=ns.nb, chains=["nb-only"]).chains] == ["nb-only"]
    assert build_network(user=ns.hz_enterprise, chains=["nb-only"]).net.n_firms == 0


def test_query_count_does_not_grow_with_firms(two_cities, make_enterprise):
    ns = two_cities
    with CaptureQueriesContext(connection) as small:
        build_network(user=ns.province)
    for i in range(20):
        make_link(make_enterprise("330106", f"补充{i}"), ns.hz_firm2, f"件{i}")
    with CaptureQueriesContext(connection) as large:
        rn = build_network(user=ns.province)
    assert rn.net.n_firms == 24
    assert len(large.captured_queries) == len(small.captured_queries)


def test_registry_baseline_is_a_steady_state(two_cities, make_enterprise):
    """Mixed and just-in-time inventory days must not make an unshocked network drift."""
    from gulian.engine.propagate import PropagationParams, simulate
    from gulian.engine.scenario import Scenario

    ns = two_cities
    second = make_enterprise("330203", "宁波第二电池厂", industry_id=ns.nb_firm.industry_id)
    make_link(second, ns.hz_firm, "电池", annual_value=Decimal("3650"), inventory_days=Decimal("0.5"))
    ns.hz_link.annual_value, ns.hz_link.inventory_days = Decimal("7300"), Decimal("20")
    ns.hz_link.save()
    rn = build_network(user=ns.province)
    assert np.nanmin(rn.net.link_inventory_days) >= 1.0
    res = simulate(rn.net, Scenario(steps=30), PropagationParams(steps=30))
    np.testing.assert_allclose(res.total_production, res.total_production[0], rtol=1e-12)
