"""restrict() rules for the registry, at the queryset level (views and API are tested separately)."""

import pytest

from gulian.core.models import Role, User
from gulian.core.services import OutOfScope
from gulian.registry import services
from gulian.registry.models import Chain, Enterprise, Membership, SupplyLink
from tests.conftest import next_uscc


def ids(qs):
    return set(qs.values_list("pk", flat=True))


def test_city_task_force_sees_only_its_city(two_cities):
    ns = two_cities
    firms = Enterprise.objects.restrict(ns.hz, "view")
    assert ns.hz_firm in firms and ns.hz_firm2 in firms
    assert ns.nb_firm not in firms
    # foreign suppliers belong to no region: officials may read them
    assert ns.foreign_firm in firms
    assert ns.nb_firm in Enterprise.objects.restrict(ns.nb, "view")
    assert ns.hz_firm not in Enterprise.objects.restrict(ns.nb, "view")


def test_county_narrower_than_city_and_province_wider(two_cities):
    ns = two_cities
    assert ids(Enterprise.objects.domestic(ns.hz_county)) == {ns.hz_firm.pk}
    assert ids(Enterprise.objects.domestic(ns.province)) == {ns.hz_firm.pk, ns.hz_firm2.pk, ns.nb_firm.pk}
    assert ids(Enterprise.objects.restrict(ns.admin)) == ids(Enterprise.objects.all())


def test_links_visible_from_either_end_only(two_cities):
    ns = two_cities
    hz_links = ids(SupplyLink.objects.restrict(ns.hz))
    # nb→hz (customer in Hangzhou) and hz→nb (supplier in Hangzhou) are both Hangzhou's business
    assert hz_links == {ns.hz_link.pk, ns.nb_link.pk}
    # the Murata→Ningbo link is not Hangzhou's, even though Murata itself is readable
    assert ns.foreign_link.pk not in hz_links
    assert ns.foreign_link.pk in ids(SupplyLink.objects.restrict(ns.nb))
    assert ids(SupplyLink.objects.restrict(ns.hz_county)) == {ns.hz_link.pk}


def test_chain_and_memberships_follow_scope(two_cities):
    ns = two_cities
    # a provincial chain is visible to the cities it covers, but only their own members
    assert ns.chain in Chain.objects.restrict(ns.hz)
    members = Membership.objects.restrict(ns.hz)
    assert {m.enterprise_id for m in members} == {ns.hz_firm.pk}
    # a city may not change a provincial chain; the province may
    assert ns.chain not in Chain.objects.restrict(ns.hz, "change")
    assert ns.chain in Chain.objects.restrict(ns.province, "change")
    # a chain in Ningbo is invisible to Hangzhou
    nb_chain = Chain.objects.create(code="nb-tex", name="宁波纺织", region_id="330200")
    assert nb_chain not in Chain.objects.restrict(ns.hz)
    assert nb_chain in Chain.objects.restrict(ns.province)


def test_enterprise_user_sees_only_its_own(two_cities):
    ns = two_cities
    u = ns.hz_enterprise
    assert ids(Enterprise.objects.restrict(u)) == {ns.hz_firm.pk}
    assert ids(SupplyLink.objects.restrict(u)) == {ns.hz_link.pk}
    assert ids(Chain.objects.restrict(u)) == {ns.chain.pk}
    assert not Chain.objects.restrict(u, "change").exists()
    assert ids(Enterprise.objects.restrict(u, "change")) == {ns.hz_firm.pk}


def test_liaison_sees_assigned_enterprises(two_cities):
    ns = two_cities
    assert ids(Enterprise.objects.domestic(ns.liaison_hz)) == {ns.hz_firm.pk}


def test_unapproved_inactive_and_anonymous_see_nothing(two_cities, make_user):
    from django.contrib.auth.models import AnonymousUser

    ns = two_cities
    pending = make_user(Role.ENTERPRISE, "330106", enterprise=ns.hz_firm, approved=False)
    inactive = make_user(Role.TASKFORCE, "330000", is_active=False)
    for u in (pending, inactive, AnonymousUser(), None):
        assert not Enterprise.objects.restrict(u).exists()
        assert not SupplyLink.objects.restrict(u).exists()
        assert not Chain.objects.restrict(u).exists()


def test_city_user_cannot_change_or_create_in_another_city(two_cities):
    ns = two_cities
    with pytest.raises(OutOfScope):
        services.update_enterprise(ns.hz, ns.nb_firm, employees=10)
    # nor move one of its own firms into Ningbo
    with pytest.raises(OutOfScope):
        services.update_enterprise(ns.hz, ns.hz_firm, region_id="330203")
    ns.hz_firm.refresh_from_db()
    assert ns.hz_firm.region_id == "330106"
    with pytest.raises(OutOfScope):
        services.create_enterprise(ns.hz, uscc=next_uscc("330203"), name="越界公司", region_id="330203")
    assert not Enterprise.objects.filter(name="越界公司").exists()
    with pytest.raises(OutOfScope):
        services.save_link(ns.hz, ns.foreign_firm, ns.nb_firm, "电阻")


def test_link_scope_is_derived_and_rederived(two_cities):
    ns = two_cities
    assert ns.hz_link.scope == "province"  # Ningbo → Hangzhou
    assert ns.foreign_link.scope == "foreign"
    link = services.save_link(ns.province, ns.hz_firm2, ns.hz_firm, "芯片")
    assert link.scope == "city"
    services.update_enterprise(ns.province, ns.hz_firm2, region_id="330203")
    link.refresh_from_db()
    assert link.scope == "province"


def test_approve_scope(two_cities, make_user):
    ns = two_cities
    pending = make_user(Role.ENTERPRISE, "330106", enterprise=ns.hz_firm, approved=False)
    assert pending in User.objects.restrict(ns.hz, "approve")
    assert pending in User.objects.restrict(ns.liaison_hz, "approve")
    assert pending not in User.objects.restrict(ns.nb, "approve")


def test_enterprise_user_edits_only_contact_and_size_fields(two_cities):
    ns = two_cities
    services.update_enterprise(ns.hz_enterprise, ns.hz_firm, contact_phone="0571-88888888", employees=300)
    ns.hz_firm.refresh_from_db()
    assert (ns.hz_firm.contact_phone, ns.hz_firm.employees) == ("0571-88888888", 300)
    for field, value in [("region_id", "330110"), ("uscc", next_uscc("330106")), ("liaison", None)]:
        with pytest.raises(OutOfScope):
            services.update_enterprise(ns.hz_enterprise, ns.hz_firm, **{field: value})
    ns.hz_firm.refresh_from_db()
    assert ns.hz_firm.region_id == "330106" and ns.hz_firm.liaison_id == ns.liaison_hz.pk


def test_link_ends_cannot_be_changed(two_cities):
    ns = two_cities
    with pytest.raises(OutOfScope):
        services.update_link(ns.hz, ns.hz_link, supplier=ns.hz_firm2)
    link = services.update_link(ns.hz, ns.hz_link, input_category="动力电池", lead_time_days=7)
    link.refresh_from_db()
    assert (link.input_category, link.lead_time_days, link.supplier_id) == ("动力电池", 7, ns.nb_firm.pk)
