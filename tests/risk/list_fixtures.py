"""Risk items in Hangzhou's and Ningbo's lists, for the list pages, API and permission tests."""

import pytest

from gulian.core.models import Region, Role
from gulian.engine.types import Scope
from gulian.risk import services
from gulian.risk.models import RiskItem, RiskSource, Severity
from gulian.risk.services import FindingIn


def finding(ns, fp, **kw):
    base = dict(
        enterprise=ns.nb_firm.pk, fingerprint=fp, title=f"风险{fp}", scope=Scope.PROVINCE, source=RiskSource.SCREEN,
        chain=ns.chain.pk, segment=ns.segment.pk, affected_owners=(ns.hz_firm.pk,), input_category="电池",
        days_to_impact=5, severity=Severity.HIGH, score=0.5, evidence={"share": 1.0, "paths": [1, 2]},
    )
    base.update(kw)
    return FindingIn(**base)


@pytest.fixture
def risk_items(two_cities, make_user):
    """Hangzhou: one item per list (city, province, domestic, foreign + overseas); Ningbo: one item.

    Adds ``hz_item`` (the province-scope Hangzhou item), ``nb_item``, and users ``hz_handler``,
    ``hz_chain_office`` to the namespace.
    """
    ns = two_cities
    hz, nb = Region.objects.get(code="330100"), Region.objects.get(code="330200")
    services.upsert_items(ns.hz, hz, [
        finding(ns, "hz-city", scope=Scope.CITY, enterprise=ns.hz_firm2.pk, severity=Severity.LOW, days_to_impact=20),
        finding(ns, "hz-province", scope=Scope.PROVINCE),
        finding(ns, "hz-domestic", scope=Scope.OUT_OF_PROVINCE, severity=Severity.MEDIUM, days_to_impact=9),
        finding(ns, "hz-foreign", scope=Scope.OVERSEAS, enterprise=ns.foreign_firm.pk, overseas_dependence=True,
                days_to_impact=2, source=RiskSource.NOWCAST),
    ])  # fmt: skip
    services.upsert_items(ns.nb, nb, [finding(ns, "nb-foreign", scope=Scope.OVERSEAS, enterprise=ns.foreign_firm.pk)])
    ns.hz_item = RiskItem.objects.get(fingerprint="hz-province")
    ns.nb_item = RiskItem.objects.get(fingerprint="nb-foreign")
    ns.hz_handler = make_user(Role.HANDLER, "330100")
    ns.hz_chain_office = make_user(Role.CHAIN_OFFICE, "330100")
    ns.hz_chain_office.chains.add(ns.chain)
    return ns
