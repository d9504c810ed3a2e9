"""Risk item services: upsert by fingerprint, human fields kept, audit, all-or-nothing, scope."""

import pytest
from django.core.exceptions import ValidationError

from gulian.core.audit import verify
from gulian.core.models import AuditRecord, Region
from gulian.core.services import OutOfScope
from gulian.engine.types import Scope
from gulian.risk import services
from gulian.risk.models import Mitigation, RiskItem, RiskSource, RiskStatus, Severity
from gulian.risk.services import FindingIn


def finding(ns, fp="screen:single:1", **kw):
    base = dict(
        enterprise=ns.nb_firm.pk, fingerprint=fp, title="宁波丙公司单一来源电池", scope=Scope.PROVINCE,
        source=RiskSource.SCREEN, chain=ns.chain.pk, segment=ns.segment.pk, affected_owners=(ns.hz_firm.pk,),
        input_category="电池", days_to_impact=5, severity=Severity.HIGH, score=0.8, evidence={"share": 1.0},
    )
    base.update(kw)
    return FindingIn(**base)


def audit_count():
    return AuditRecord.objects.filter(model="risk.RiskItem").count()


def test_upsert_creates_then_is_idempotent(two_cities):
    ns = two_cities
    zj = Region.objects.get(code="330000")
    r = services.upsert_items(ns.province, zj, [finding(ns), finding(ns, "screen:single:2", enterprise=ns.hz_firm2.pk)])
    assert len(r.created) == 2 and not r.updated
    item = RiskItem.objects.get(fingerprint="screen:single:1")
    assert item.scope == "province" and item.region_id == "330000" and item.created_by == ns.province
    assert list(item.affected_owners.values_list("pk", flat=True)) == [ns.hz_firm.pk]
    assert item.evidence == {"share": 1.0}
    n_audit = audit_count()
    assert n_audit == 2
    again = services.upsert_items(ns.province, zj, [finding(ns), finding(ns, "screen:single:2", enterprise=ns.hz_firm2.pk)])
    assert again.unchanged == 2 and not again.created and not again.updated
    assert RiskItem.objects.count() == 2 and audit_count() == n_audit
    assert list(verify()) == []


def test_upsert_updates_machine_fields_and_keeps_human_ones(two_cities):
    ns = two_cities
    zj = Region.objects.get(code="330000")
    services.upsert_items(ns.province, zj, [finding(ns)])
    item = RiskItem.objects.get()
    services.update_item(
        ns.province, item, status=RiskStatus.IN_PROGRESS, mitigation=Mitigation.RESERVE,
        mitigation_note="增加安全库存", department="经信厅", responsible=ns.hz,
    )
    r = services.upsert_items(
        ns.province, zj, [finding(ns, days_to_impact=3, score=0.9, affected_owners=(ns.hz_firm.pk, ns.hz_firm2.pk))]
    )
    assert len(r.updated) == 1
    item.refresh_from_db()
    assert item.days_to_impact == 3 and item.score == 0.9
    assert item.status == RiskStatus.IN_PROGRESS and item.mitigation == Mitigation.RESERVE
    assert item.mitigation_note == "增加安全库存" and item.department == "经信厅" and item.responsible == ns.hz
    assert set(item.affected_owners.values_list("pk", flat=True)) == {ns.hz_firm.pk, ns.hz_firm2.pk}
    last = AuditRecord.objects.filter(model="risk.RiskItem").order_by("-seq").first()
    assert last.action == "update" and last.before["days_to_impact"] == 5 and last.after["days_to_impact"] == 3
    assert sorted(last.after["affected_owners"]) == sorted([ns.hz_firm.pk, ns.hz_firm2.pk])


def test_upsert_is_all_or_nothing(two_cities):
    ns = two_cities
    zj = Region.objects.get(code="330000")
    with pytest.raises(ValidationError):
        services.upsert_items(ns.province, zj, [finding(ns), finding(ns, "x", enterprise=999_999)])
    with pytest.raises(ValidationError):
        services.upsert_items(ns.province, zj, [finding(ns), finding(ns)])  # duplicate fingerprint
    with pytest.raises(ValidationError):
        services.upsert_items(ns.province, zj, [finding(ns, severity="extreme")])
    assert RiskItem.objects.count() == 0 and audit_count() == 0


def test_upsert_outside_scope_rolls_back(two_cities):
    ns = two_cities
    nb = Region.objects.get(code="330200")
    with pytest.raises(OutOfScope):
        services.upsert_items(ns.hz, nb, [finding(ns)])
    with pytest.raises(OutOfScope):
        services.upsert_items(ns.hz_enterprise, Region.objects.get(code="330100"), [finding(ns)])
    assert RiskItem.objects.count() == 0 and audit_count() == 0
    # the command line (no user) is the system
    r = services.upsert_items(None, nb, [finding(ns)])
    assert len(r.created) == 1
    assert AuditRecord.objects.get(model="risk.RiskItem").actor_name == "system"


def test_same_fingerprint_in_two_regions_is_two_items(two_cities):
    ns = two_cities
    services.upsert_items(ns.hz, Region.objects.get(code="330100"), [finding(ns)])
    services.upsert_items(ns.nb, Region.objects.get(code="330200"), [finding(ns)])
    assert RiskItem.objects.count() == 2


def test_update_item_only_human_fields_and_scope(two_cities):
    ns = two_cities
    services.upsert_items(ns.nb, Region.objects.get(code="330200"), [finding(ns)])
    item = RiskItem.objects.get()
    with pytest.raises(OutOfScope):
        services.update_item(ns.nb, item, title="改标题")
    with pytest.raises(OutOfScope):
        services.update_item(ns.hz, item, status=RiskStatus.DISMISSED)
    with pytest.raises(ValidationError):
        services.update_item(ns.nb, item, responsible=ns.hz)  # a Hangzhou user Ningbo cannot see
    services.update_item(ns.nb, item, status=RiskStatus.MITIGATED, mitigation=Mitigation.SUBSTITUTE)
    item.refresh_from_db()
    assert item.status == RiskStatus.MITIGATED
    rec = AuditRecord.objects.filter(model="risk.RiskItem", action="update").get()
    assert rec.after == {"status": "mitigated", "mitigation": "substitute"}


def test_create_item_manual(two_cities):
    ns = two_cities
    item = services.create_item(
        ns.hz, region=Region.objects.get(code="330100"), enterprise=ns.foreign_firm, chain=ns.chain,
        segment=ns.segment, scope="foreign", overseas_dependence=True, title="进口电容断供", affected_owners=[ns.hz_firm],
    )
    assert item.source == RiskSource.MANUAL and item.fingerprint.startswith("manual:")
    assert list(item.affected_owners.all()) == [ns.hz_firm]
    assert AuditRecord.objects.filter(model="risk.RiskItem", object_pk=str(item.pk)).count() == 2
    with pytest.raises(OutOfScope):
        services.create_item(ns.hz, region=Region.objects.get(code="330200"), enterprise=ns.nb_firm, scope="city",
                             title="越权")
    with pytest.raises(ValidationError):
        services.create_item(ns.hz, region=Region.objects.get(code="330100"), enterprise=ns.nb_firm, scope="city",
                             title="坏字段", fingerprint="x", created_at=None)
    assert RiskItem.objects.count() == 1


def test_default_fingerprint_region_code_and_iteration(two_cities):
    ns = two_cities
    f = FindingIn(enterprise=ns.nb_firm.pk, title="宁波丙公司断供", scope="province", source=RiskSource.NOWCAST,
                  chain=ns.chain.pk, affected_owners=[ns.hz_firm.pk])
    assert f.key() == f"nowcast:{ns.chain.pk}:{ns.nb_firm.pk}"
    r = services.upsert_items(ns.hz, "330100", [f])
    assert [it.fingerprint for it in r] == [f.key()] and len(r) == 1
    assert len(services.upsert_items(ns.hz, "330100", [f])) == 0  # unchanged
    with pytest.raises(ValidationError):
        services.upsert_items(ns.hz, "339999", [f])
    # numpy values in evidence become plain JSON numbers; NaN becomes null
    import numpy as np

    g = FindingIn(enterprise=ns.nb_firm.pk, title="t", scope=np.int8(1), evidence={"x": np.float64(0.5),
                  "v": np.array([1, 2]), "nan": float("nan")})  # fmt: skip
    services.upsert_items(ns.hz, "330100", [g])
    assert RiskItem.objects.get(fingerprint=g.key()).evidence == {"x": 0.5, "v": [1, 2], "nan": None}
