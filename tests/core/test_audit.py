import pytest
from django.core.management import CommandError, call_command

from gulian.core import audit
from gulian.core.models import AuditHead, AuditRecord
from gulian.registry import services
from tests.conftest import next_uscc


@pytest.fixture
def chain_of_writes(two_cities):
    ns = two_cities
    services.update_enterprise(ns.hz, ns.hz_firm, employees=120)
    services.update_enterprise(ns.hz, ns.hz_firm, employees=130, contact_name="张三")
    services.create_enterprise(ns.hz, uscc=next_uscc("330108"),
                               name="滨江新公司", region_id="330108")
    return ns


def test_writes_append_chained_records(chain_of_writes):
    recs = list(AuditRecord.objects.order_by("seq"))
    assert [r.seq for r in recs] == [1, 2, 3]
    assert recs[0].prev_hash == audit.GENESIS
    assert recs[1].prev_hash == recs[0].hash
    assert recs[1].before == {"employees": 120, "contact_name": ""}
    assert recs[1].after == {"employees": 130, "contact_name": "张三"}
    assert recs[0].actor_name == chain_of_writes.hz.username
    assert recs[2].action == "create" and recs[2].model == "registry.Enterprise"
    assert list(audit.verify()) == []
    call_command("audit", "verify")


def test_altered_record_is_detected(chain_of_writes):
    AuditRecord.objects.filter(seq=2).update(after={"employees": 999, "contact_name": "张三"})
    problems = list(audit.verify())
    assert [(p.seq, p.kind) for p in problems] == [(2, "altered")]
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_rehashed_record_breaks_the_link_to_the_next(chain_of_writes):
    # a forger who recomputes the hash of record 2 still breaks record 3's prev_hash
    r = AuditRecord.objects.get(seq=2)
    r.actor_name = "someone-else"
    r.hash = audit._digest(r.prev_hash, audit._fields(r))
    r.save()
    kinds = {(p.seq, p.kind) for p in audit.verify()}
    assert (3, "relinked") in kinds


def test_removed_record_is_detected(chain_of_writes):
    AuditRecord.objects.filter(seq=2).delete()
    assert ("removed" in {p.kind for p in audit.verify()})


def test_removed_tail_is_detected(chain_of_writes):
    AuditRecord.objects.filter(seq=3).delete()
    problems = list(audit.verify())
    assert problems and problems[-1].kind == "removed"
    assert AuditHead.objects.get().seq == 3


def test_unchanged_update_writes_no_record(two_cities):
    services.update_enterprise(two_cities.hz, two_cities.hz_firm, name=two_cities.hz_firm.name)
    assert AuditRecord.objects.count() == 0


def test_failed_write_leaves_no_record(two_cities):
    from gulian.core.services import OutOfScope

    with pytest.raises(OutOfScope):
        services.update_enterprise(two_cities.hz, two_cities.nb_firm, employees=5)
    assert AuditRecord.objects.count() == 0
    two_cities.nb_firm.refresh_from_db()
    assert two_cities.nb_firm.employees is None


def test_deleting_a_user_keeps_the_chain_intact(chain_of_writes):
    chain_of_writes.hz.delete()
    assert list(audit.verify()) == []
    assert AuditRecord.objects.get(seq=1).actor_id is not None
