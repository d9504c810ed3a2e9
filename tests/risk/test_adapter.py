"""Registry → engine adapter: firms, values, scopes, groupings and scoping (gulian.risk.adapter)."""

from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gulian.core.models import Industry
from gulian.engine.types import Scope
from gulian.registry.models import Chain, MemberRole, Membership, Segment
from gulian.risk.adapter import DAYS_PER_YEAR, INPUT_SHARE, build_network
from tests.conftest import make_link


def test_whole_network_without_user(two_cities):
    ns = two_cities
    ns.hz_link.annual_value = Decimal("365000")
    ns.hz_link.inventory_days = Decimal("7.5")
    ns.hz_link.save()
    rn = build_network()
    assert set(rn.index) == {ns.hz_firm.pk, ns.hz_firm2.pk, ns.nb_firm.pk, ns.foreign_firm.pk}
    net = rn.net
    assert net.n_links == 3
    i_nb, i_hz = rn.index[ns.nb_firm.pk], rn.index[ns.hz_firm.pk]
    assert net.links[i_nb, i_hz] == pytest.approx(1000.0)
    k = rn.links.position[list(rn.links.pk).index(ns.hz_link.pk)]
    assert net.link_supplier[k] == i_nb and net.link_customer[k] == i_hz
    assert net.link_inventory_days[k] == 7.5
    assert net.link_scope[k] == Scope.PROVINCE
    i_f = rn.index[ns.foreign_firm.pk]
    assert net.foreign[i_f] and net.region[i_f] == 0
    assert net.region[i_hz] == 330106 and not net.foreign[i_hz]
    k_f = rn.links.position[list(rn.links.pk).index(ns.foreign_link.pk)]
    assert net.link_scope[k_f] == Scope.OVERSEAS
    assert list(rn.owners) == [i_hz]
    g = rn.chain_groups["auto"]
    assert g[i_hz] == 0 and g[i_nb] == 0 and g[i_f] == -1
    assert rn.segment_ids["auto"] == [ns.segment.pk]
    assert rn.segment_groups["auto"][i_hz] == 0
    prov = rn.province_groups
    assert prov[i_f] == -1 and rn.province_labels[prov[i_hz]] == "330000"
    pref = rn.region_groups
    assert rn.region_labels[pref[i_nb]] == "330200" and pref[i_f] == -1
    assert set(rn.groups()) >= {"chain:auto", "segment:auto", "prefecture", "province"}
    assert rn.owner_chains == {i_hz: [ns.chain.pk]}
    assert rn.link_ids[k] == ns.hz_link.pk and rn.link_ids.size == net.n_links


def test_output_final_demand_and_value_fallbacks(two_cities):
    ns = two_cities
    # Ningbo firm: baseline 365 million a year → 1 million a day; two inputs, one with a value
    ns.nb_firm.baseline_output = Decimal("365000000")
    ns.nb_firm.save()
    ns.nb_link.annual_value = Decimal("36500000")  # 100,000 a day
    ns.nb_link.save()
    rn = build_network()
    net = rn.net
    i_nb, i_f, i_hz2 = rn.index[ns.nb_firm.pk], rn.index[ns.foreign_firm.pk], rn.index[ns.hz_firm2.pk]
    assert net.output[i_nb] == pytest.approx(1e6)
    # the value-less Murata link gets the customer's unexplained input: 1e6 × 0.75 − 1e5
    assert net.links[i_f, i_nb] == pytest.approx(1e6 * INPUT_SHARE - 1e5)
    # the nb→hz link has no value and Hangzhou's firm no baseline: median known daily value
    i_hz = rn.index[ns.hz_firm.pk]
    assert net.links[i_nb, i_hz] == pytest.approx(1e5)  # median of the one originally known value
    assert not rn.links.value_known[list(rn.links.pk).index(ns.foreign_link.pk)]
    # x0 = c + sales everywhere; a firm without baseline produces at least its inputs / INPUT_SHARE
    assert np.allclose(net.output, net.final_demand + net.sales_to_firms)
    assert net.output[i_hz] == pytest.approx(max(net.sales_to_firms[i_hz], net.input_totals[i_hz] / INPUT_SHARE))
    assert net.output[i_hz2] == pytest.approx(1e5)  # sells 1e5/day, buys nothing: no final demand
    assert net.final_demand[i_hz2] == 0
    assert rn.output_known[i_nb] and not rn.output_known[i_hz]


def test_baseline_below_sales_is_raised_to_sales(two_cities):
    ns = two_cities
    ns.hz_firm2.baseline_output = Decimal(str(DAYS_PER_YEAR * 10))
    ns.hz_firm2.save()
    ns.nb_link.annual_value = Decimal(str(DAYS_PER_YEAR * 50))
    ns.nb_link.save()
    rn = build_network()
    i = rn.index[ns.hz_firm2.pk]
    assert rn.net.output[i] == pytest.approx(50.0)


def test_sector_is_division_with_fallbacks(two_cities):
    ns = two_cities
    division = Industry.objects.filter(level="division", code__startswith="36").first()
    group = Industry.objects.create(code="384", name="电池制造", level="group", parent_id="38")
    cls = Industry.objects.create(code="3841", name="锂离子电池制造", level="class", parent=group)
    ns.hz_firm.industry = division
    ns.hz_firm.save()
    ns.nb_firm.industry = cls
    ns.nb_firm.save()
    ns.hz_firm2.industry_id = "C"  # a section only
    ns.hz_firm2.save()
    rn = build_network()
    labels = rn.net.sector_labels
    assert labels[rn.net.sector[rn.index[ns.hz_firm.pk]]] == "36"
    assert labels[rn.net.sector[rn.index[ns.nb_firm.pk]]] == "38"
    assert labels[rn.net.sector[rn.index[ns.hz_firm2.pk]]] == "C"
    assert labels[rn.net.sector[rn.index[ns.foreign_firm.pk]]] == "unknown"


def test_several_categories_between_two_firms_are_summed(two_cities):
    ns = two_cities
    make_link(ns.nb_firm, ns.hz_firm, "电芯", annual_value=Decimal("730"), inventory_days=Decimal("3"))
    ns.hz_link.annual_value = Decimal("365")
    ns.hz_link.inventory_days = Decimal("9")
    ns.hz_link.save()
    rn = build_network()
    i_nb, i_hz = rn.index[ns.nb_firm.pk], rn.index[ns.hz_firm.pk]
    assert rn.net.links[i_nb, i_hz] == pytest.approx(3.0)
    k = rn.links.position[list(rn.links.pk).index(ns.hz_link.pk)]
    assert rn.net.link_inventory_days[k] == 3.0  # the input that runs out first
    assert len(rn.links.pk) == 4 and rn.net.n_links == 3
    assert set(rn.links.categories) == {"电池", "电芯", "电机", "电容"}


def test_only_members_and_their_upstream(two_cities, make_enterprise):
    ns = two_cities
    downstream = make_enterprise("330106", "下游客户")
    make_link(ns.hz_firm, downstream, "整车")
    tier3 = make_enterprise("330203", "三级供应商")
    make_link(tier3, ns.hz_firm2, "钢材")
    rn = build_network()
    assert downstream.pk not in rn.index  # customers of members are not upstream
    assert tier3.pk in rn.index  # tier 3 of the owner (via nb ← hz2 ← tier3)


def test_scoped_by_user_and_region(two_cities):
    ns = two_cities
    hz = build_network(user=ns.hz)
    # Hangzhou sees its own chain member, the Ningbo supplier of the Hangzhou link and that
    # supplier's Hangzhou supplier; not Murata → Ningbo (no end in Hangzhou)
    assert set(hz.index) == {ns.hz_firm.pk, ns.nb_firm.pk, ns.hz_firm2.pk}
    assert ns.foreign_link.pk not in set(hz.links.pk)
    assert list(hz.owners) == [hz.index[ns.hz_firm.pk]]
    nb = build_network(user=ns.nb)
    assert ns.hz_firm.pk not in nb.index and len(nb.owners) == 0
    # an enterprise user sees its own record and its own links only
    assert set(build_network(user=ns.hz_enterprise).index) <= {ns.hz_firm.pk, ns.nb_firm.pk}
    # a region limits members to those located there
    by_region = build_network(region="330200")
    assert set(by_region.index) == {ns.nb_firm.pk, ns.hz_firm2.pk, ns.foreign_firm.pk}


def test_chain_selection_by_code_and_empty(two_cities):
    ns = two_cities
    other = Chain.objects.create(code="chem", name="绿色石化", region_id="330000")
    seg = Segment.objects.create(chain=other, order=1, name="炼化")
    Membership.objects.create(enterprise=ns.hz_firm2, chain=other, segment=seg, role=MemberRole.OWNER)
    rn = build_network(chains=["chem"])
    assert [c.code for c in rn.chains] == ["chem"]
    assert set(rn.index) == {ns.hz_firm2.pk}
    assert rn.chain_of_owner(0)[0].code == "chem"
    assert rn.segment_of(0) == seg.pk
    empty = build_network(chains=[])
    assert empty.n_firms == 0 and empty.net.n_links == 0


def test_fixed_number_of_queries(two_cities, make_enterprise):
    ns = two_cities
    with CaptureQueriesContext(connection) as small:
        build_network(user=ns.province)
    for k in range(20):
        s = make_enterprise("330106", f"供应商{k}")
        make_link(s, ns.hz_firm, f"类别{k}")
    with CaptureQueriesContext(connection) as big:
        rn = build_network(user=ns.province)
    assert rn.n_firms >= 23
    assert len(big.captured_queries) == len(small.captured_queries)
