"""restrict() on risk items: region subtree for officials, change for task forces, nothing for enterprises."""

import pytest

from gulian.core.models import Region, Role
from gulian.core.services import OutOfScope
from gulian.registry.models import Chain
from gulian.risk import services
from gulian.risk.models import RiskItem, RiskStatus
from tests.risk import list_fixtures
from tests.risk.list_fixtures import finding

risk_items = list_fixtures.risk_items  # the fixture, for the tests below


def fps(qs) -> set[str]:
    return set(qs.values_list("fingerprint", flat=True))


def test_task_forces_see_and_change_their_subtree_only(risk_items):
    ns = risk_items
    hz_all = {"hz-city", "hz-province", "hz-domestic", "hz-foreign"}
    assert fps(RiskItem.objects.restrict(ns.hz, "view")) == hz_all
    assert fps(RiskItem.objects.restrict(ns.hz, "change")) == hz_all
    assert fps(RiskItem.objects.restrict(ns.nb, "view")) == {"nb-foreign"}
    assert fps(RiskItem.objects.restrict(ns.province, "change")) == hz_all | {"nb-foreign"}
    assert fps(RiskItem.objects.restrict(ns.hz_county, "view")) == set()  # a county below the city's list
    assert fps(RiskItem.objects.restrict(ns.admin, "change")) == hz_all | {"nb-foreign"}


def test_hangzhou_cannot_change_a_ningbo_item(risk_items):
    ns = risk_items
    with pytest.raises(OutOfScope):
        services.update_item(ns.hz, ns.nb_item, status=RiskStatus.DISMISSED)
    with pytest.raises(OutOfScope):
        services.upsert_items(ns.hz, Region.objects.get(code="330200"), [finding(ns, "nb-foreign", title="改写")])
    ns.nb_item.refresh_from_db()
    assert ns.nb_item.status == RiskStatus.OPEN and ns.nb_item.title == "风险nb-foreign"


def test_enterprises_see_nothing(risk_items):
    ns = risk_items
    for who in (ns.hz_enterprise, ns.nb_enterprise):
        assert not RiskItem.objects.restrict(who, "view").exists()
        with pytest.raises(OutOfScope):
            services.update_item(who, ns.hz_item, status=RiskStatus.DISMISSED)


def test_handlers_and_liaisons_read_only(risk_items):
    ns = risk_items
    for who in (ns.hz_handler, ns.liaison_hz):
        assert "hz-province" in fps(RiskItem.objects.restrict(who, "view"))
        assert not RiskItem.objects.restrict(who, "change").exists()
        with pytest.raises(OutOfScope):
            services.update_item(who, ns.hz_item, status=RiskStatus.MITIGATED)


def test_chain_office_reads_its_chains_only(risk_items):
    ns = risk_items
    office = ns.hz_chain_office
    assert fps(RiskItem.objects.restrict(office, "view")) == {"hz-city", "hz-province", "hz-domestic", "hz-foreign"}
    assert not RiskItem.objects.restrict(office, "change").exists()
    other = Chain.objects.create(code="chem", name="绿色石化", region_id="330000")
    office.chains.set([other])
    assert not RiskItem.objects.restrict(office, "view").exists()


def test_unapproved_or_inactive_see_nothing(risk_items, make_user):
    pending = make_user(Role.TASKFORCE, "330100", approved=False)
    inactive = make_user(Role.TASKFORCE, "330100", is_active=False)
    for who in (pending, inactive):
        assert not RiskItem.objects.restrict(who, "view").exists()


def test_city_reads_provincial_items_about_its_own_firms_but_cannot_change_them(two_cities):
    from gulian.risk.models import RiskItem

    ns = two_cities
    item = RiskItem.objects.create(
        region_id="330000", chain=ns.chain, enterprise=ns.nb_firm, scope="province", title="宁波丙公司 单一来源",
        fingerprint="t:city-view",
    )
    assert RiskItem.objects.restrict(ns.nb, "view").filter(pk=item.pk).exists()
    assert not RiskItem.objects.restrict(ns.nb, "change").filter(pk=item.pk).exists()
    assert not RiskItem.objects.restrict(ns.hz, "view").filter(pk=item.pk).exists()  # not Hangzhou's firm
    assert RiskItem.objects.restrict(ns.province, "change").filter(pk=item.pk).exists()
