"""Appeal services: lifecycle and illegal steps, routing, the whole escalation ladder, transfer, reopen,
scope, near-duplicates and retried submissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gulian.appeals import routing, services
from gulian.appeals.models import Appeal, AppealEvent, Department, EventKind, Level, RoutingRule, Status
from gulian.core.audit import verify
from gulian.core.models import AuditRecord, Region, Role
from gulian.core.services import OutOfScope


@pytest.fixture
def world(world, make_user):
    """The handlers of conftest.world plus the national units and Hangzhou's enterprise user."""
    w = world
    w.ministry_transport = make_user(Role.HANDLER, None, department="transport")
    w.nation = make_user(Role.TASKFORCE, None)
    w.hz_enterprise.enterprise = w.hz_firm
    w.hz_enterprise.save()
    return w


def file(w, text="园区封闭，货车无法进出，原材料运不进来", category="logistics", **kw):
    return services.submit(w.hz_enterprise, enterprise=w.hz_firm, title="物流受阻", text=text,
                           category=category, **kw).appeal


def test_submit_routes_to_the_department_of_the_enterprises_county(world):
    a = file(world)
    assert a.tracking_number.startswith("SQ") and a.tracking_number.endswith(f"{a.pk:06d}")
    assert (a.level, a.handling_region_id, a.department.code) == (Level.COUNTY, "330106", "transport")
    assert a.status == Status.SUBMITTED and a.accept_due and a.resolve_due and a.accept_due <= a.resolve_due
    assert a.suggested_category and 0 <= a.suggestion_confidence <= 1
    kinds = list(a.events.values_list("kind", flat=True))
    assert kinds == [EventKind.SUBMITTED, EventKind.ROUTED]
    assert AuditRecord.objects.filter(model="appeals.Appeal", object_pk=str(a.pk), action="create").exists()


def test_empty_category_takes_the_classifiers_suggestion(world):
    a = file(world, text="春节后返岗员工不足，一线工人缺口200人，急需招工", category="")
    assert a.category == a.suggested_category


def test_full_lifecycle_and_timeline(world):
    a = file(world)
    h = world.xihu_transport
    services.accept(h, a, "已受理")
    services.start(h, a)
    services.ask(h, a, "需要几辆车的通行证？")
    services.answer(world.hz_enterprise, a, "6辆")
    services.resolve(h, a, "已协调办理通行证 6 张")
    services.confirm(world.hz_enterprise, a, 5, "很快")
    services.close(h, a, "销号")
    a.refresh_from_db()
    assert a.status == Status.CLOSED and a.rating == 5 and a.reply.startswith("已协调")
    assert a.accepted_at <= a.resolved_at <= a.confirmed_at <= a.closed_at
    kinds = list(a.events.order_by("at", "id").values_list("kind", flat=True))
    assert kinds == ["submitted", "routed", "accepted", "started", "question", "answer", "resolved", "confirmed",
                     "closed"]
    assert list(verify()) == []


@pytest.mark.parametrize(
    "step",
    [
        lambda w, a: services.start(w.xihu_transport, a),  # not yet accepted
        lambda w, a: services.resolve(w.xihu_transport, a, "x"),
        lambda w, a: services.confirm(w.hz_enterprise, a, 5),
        lambda w, a: services.close(w.xihu_transport, a),
        lambda w, a: services.reopen(w.hz_enterprise, a, "x"),
    ],
)
def test_illegal_transitions_from_submitted_change_nothing(world, step):
    a = file(world)
    before = (a.status, a.events.count())
    with pytest.raises(services.IllegalTransition):
        step(world, a)
    a.refresh_from_db()
    assert (a.status, a.events.count()) == before


def test_illegal_transitions_later_in_the_life(world):
    a = file(world)
    h = world.xihu_transport
    services.accept(h, a)
    with pytest.raises(services.IllegalTransition):
        services.accept(h, a)  # twice
    services.resolve(h, a, "done")
    for step in (lambda: services.start(h, a), lambda: services.escalate(h, a, "r"), lambda: services.close(h, a),
                 lambda: services.ask(h, a, "?")):
        with pytest.raises(services.IllegalTransition):
            step()
    services.confirm(world.hz_enterprise, a, 4)
    with pytest.raises(services.IllegalTransition):
        services.confirm(world.hz_enterprise, a, 4)


def test_rating_must_be_one_to_five(world):
    a = file(world)
    services.accept(world.xihu_transport, a)
    services.resolve(world.xihu_transport, a, "done")
    for bad in (0, 6, "x"):
        with pytest.raises(ValidationError):
            services.confirm(world.hz_enterprise, a, bad)


def test_unresolvable_needs_a_reason_and_can_be_confirmed(world):
    a = file(world)
    services.accept(world.xihu_transport, a)
    with pytest.raises(ValidationError):
        services.declare_unresolvable(world.xihu_transport, a, "  ")
    services.declare_unresolvable(world.xihu_transport, a, "涉及省外管控，本级无权限")
    services.confirm(world.hz_enterprise, a, 2)
    a.refresh_from_db()
    assert a.status == Status.CONFIRMED and a.unresolvable_reason


def test_only_the_unit_holding_it_may_act(world):
    a = file(world)
    for outsider in (world.xihu_hrss, world.hz_transport, world.nb_transport, world.nb, world.hz_enterprise):
        with pytest.raises(OutOfScope):
            services.accept(outsider, a)
    with pytest.raises(OutOfScope):
        services.confirm(world.nb_enterprise, a, 5)


def test_the_whole_escalation_ladder(world):
    a = file(world)
    chain = [
        (world.xihu_transport, Level.CITY, "330100"),
        (world.hz, Level.PROVINCE, "330000"),
        (world.province, Level.MINISTRY, None),
        (world.nation, Level.STATE_COUNCIL, None),
    ]
    for actor, level, region in chain:
        services.escalate(actor, a, "需上级协调")
        a.refresh_from_db()
        assert (a.level, a.handling_region_id, a.department_id) == (level, region, None)
        assert a.status == Status.SUBMITTED
    assert a.escalation_count == 4
    with pytest.raises(services.IllegalTransition):
        services.escalate(world.nation, a, "再升级")
    ups = a.events.filter(kind=EventKind.ESCALATED).order_by("at", "id")
    assert [(e.from_level, e.to_level) for e in ups] == [
        ("county", "city"), ("city", "province"), ("province", "ministry"), ("ministry", "state_council")
    ]
    assert all(e.text == "需上级协调" for e in ups)
    # the State Council task force answers, the enterprise confirms
    services.accept(world.nation, a)
    services.resolve(world.nation, a, "已协调")
    services.confirm(world.hz_enterprise, a, 5)


def test_escalated_accepted_work_must_be_accepted_again_with_new_deadlines(world):
    a = file(world)
    services.accept(world.xihu_transport, a)
    old_due = a.resolve_due
    services.escalate(world.xihu_transport, a, "跨部门")
    a.refresh_from_db()
    assert a.status == Status.SUBMITTED and a.accepted_at is None and a.resolve_due >= old_due
    with pytest.raises(OutOfScope):
        services.accept(world.xihu_transport, a)  # it is the city task force's now
    services.accept(world.hz, a)


def test_task_force_assigns_to_a_department_at_its_level(world):
    a = file(world)
    services.escalate(world.xihu_transport, a, "需市级协调")
    hrss = Department.objects.get(code="transport")
    services.assign(world.hz, a, department=hrss, assignee=world.hz_transport, reason="市交通局牵头")
    a.refresh_from_db()
    assert (a.department.code, a.assignee, a.handling_region_id) == ("transport", world.hz_transport, "330100")
    services.accept(world.hz_transport, a)
    with pytest.raises(ValidationError):  # the assignee must work for the unit
        services.assign(world.hz, a, assignee=world.nb_transport)


def test_transfer_to_another_department_with_reason_in_the_timeline(world):
    a = file(world)
    hrss = Department.objects.get(code="hrss")
    with pytest.raises(ValidationError):
        services.transfer(world.xihu_transport, a, hrss, "")
    with pytest.raises(ValidationError):
        services.transfer(world.xihu_transport, a, a.department, "同部门")
    services.transfer(world.xihu_transport, a, hrss, "属于用工问题")
    a.refresh_from_db()
    assert a.department == hrss and a.level == Level.COUNTY
    e = a.events.get(kind=EventKind.TRANSFERRED)
    assert e.text == "属于用工问题" and "交通运输" in e.from_unit and "人力社保" in e.to_unit
    services.accept(world.xihu_hrss, a)


def test_cross_region_and_multi_department_go_to_the_lowest_common_task_force(world, make_enterprise):
    other_county = make_enterprise("330110")  # same city
    a = file(world, related_enterprises=[other_county])
    assert (a.level, a.handling_region_id, a.department) == (Level.CITY, "330100", None)
    b = file(world, text="宁波港的集装箱提不出来", related_enterprises=[world.nb_firm])
    assert (b.level, b.handling_region_id) == (Level.PROVINCE, "330000")
    c = file(world, text="湖北供应商停工，零部件断供", related_regions=[Region.objects.get(code="420100")])
    assert (c.level, c.handling_region_id) == (Level.MINISTRY, None)
    d = file(world, text="进口芯片无法到港", related_enterprises=[world.foreign_firm])
    assert d.level == Level.MINISTRY
    e = file(world, text="缺工又缺运力", secondary_categories=["labour"])
    assert (e.level, e.handling_region_id, e.department) == (Level.COUNTY, "330106", None)


def test_routing_table_change_is_followed(world):
    RoutingRule.objects.filter(category="logistics", level=Level.COUNTY).update(
        department=Department.objects.get(code="economy")
    )
    assert file(world).department.code == "economy"
    assert routing.region_at(Region.objects.get(code="330106"), Level.PROVINCE).code == "330000"
    assert routing.region_at(Region.objects.get(code="330100"), Level.COUNTY) is None


def test_reopen_within_the_window_only(world, settings):
    a = file(world)
    services.accept(world.xihu_transport, a)
    services.resolve(world.xihu_transport, a, "done")
    services.confirm(world.hz_enterprise, a, 3)
    services.close(world.xihu_transport, a)
    services.reopen(world.hz_enterprise, a, "问题又出现了")
    a.refresh_from_db()
    assert a.status == Status.IN_PROGRESS and a.reopen_count == 1 and a.rating is None and a.closed_at is None
    services.resolve(world.xihu_transport, a, "again")
    Appeal.objects.filter(pk=a.pk).update(resolved_at=timezone.now() - dt.timedelta(days=settings.APPEALS_REOPEN_DAYS + 1))
    a.refresh_from_db()
    with pytest.raises(services.IllegalTransition):
        services.reopen(world.hz_enterprise, a, "再次")
    assert "reopen" not in services.allowed_actions(world.hz_enterprise, a)


def test_bad_input_is_refused_and_nothing_is_stored(world, settings):
    settings.APPEALS_MAX_TEXT = 50
    n = Appeal.objects.count()
    for kwargs in ({"text": "   "}, {"text": "长" * 51}, {"category": "weather"}, {"urgency": "asap"}):
        with pytest.raises(ValidationError) as err:
            file(world, **kwargs)
        assert " / " in str(err.value)  # Chinese / English
    with pytest.raises(OutOfScope):
        services.submit(world.hz_enterprise, enterprise=world.nb_firm, text="代别的企业提交")
    with pytest.raises(OutOfScope):
        services.submit(world.hz, enterprise=world.hz_firm, text="专班不能代企业提交")
    assert Appeal.objects.count() == n


def test_liaison_files_for_its_enterprise(world):
    world.hz_firm.liaison = world.liaison_hz
    world.hz_firm.save()
    a = services.submit(world.liaison_hz, enterprise=world.hz_firm, text="企业缺口罩 5000 只").appeal
    assert Appeal.objects.restrict(world.liaison_hz).filter(pk=a.pk).exists()
    with pytest.raises(OutOfScope):
        services.submit(world.liaison_hz, enterprise=world.nb_firm, text="不是我联系的企业")


def test_retried_submission_is_not_duplicated(world):
    r1 = services.submit(world.hz_enterprise, enterprise=world.hz_firm, text="缺工 30 人", client_token="abc")
    r2 = services.submit(world.hz_enterprise, enterprise=world.hz_firm, text="缺工 30 人", client_token="abc")
    assert r1.created and not r2.created and r1.appeal.pk == r2.appeal.pk
    assert Appeal.objects.filter(enterprise=world.hz_firm).count() == 1


def test_near_duplicate_within_24h_is_flagged_and_linked_not_merged(world):
    first = file(world, text="园区封闭，货车无法进出，原材料运不进来，请协调通行证")
    second = services.submit(world.hz_enterprise, enterprise=world.hz_firm, title="物流受阻",
                             text="园区封闭，货车无法进出，原材料运不进来，请尽快协调通行证", category="logistics")
    assert second.created and second.duplicate_of == first and second.appeal.duplicate_of == first
    assert second.appeal.events.filter(kind=EventKind.DUPLICATE).exists()
    unrelated = file(world, text="企业申请稳岗补贴，资金至今未到账", category="policy")
    assert unrelated.duplicate_of is None
    later = services.submit(world.hz_enterprise, enterprise=world.hz_firm, title="物流受阻",
                            text="园区封闭，货车无法进出，原材料运不进来，请协调通行证",
                            at=timezone.now() + dt.timedelta(hours=25)).appeal
    assert later.duplicate_of is None
    assert Appeal.objects.filter(enterprise=world.hz_firm).count() == 4


def test_who_sees_what(world, make_user):
    a = file(world)
    sees = {u.username for u in (world.hz_enterprise, world.nb_enterprise, world.xihu_transport, world.xihu_hrss,
                                 world.hz_transport, world.nb_transport, world.hz, world.nb, world.province,
                                 world.hz_county)
            if Appeal.objects.restrict(u).filter(pk=a.pk).exists()}
    # the city's transport handler oversees its counties' transport appeals; no other department or city
    assert sees == {world.hz_enterprise.username, world.xihu_transport.username, world.hz_transport.username,
                    world.hz.username, world.province.username, world.hz_county.username}
    # once escalated to the city, the city's transport handler sees it only when it is assigned to them
    services.escalate(world.xihu_transport, a, "升级")
    assert not Appeal.objects.restrict(world.hz_transport).filter(pk=a.pk).exists()
    # the enterprise never sees internal notes, but officials do
    services.meeting_note(world.hz, a, "会商：交通局牵头")
    assert a.events.filter(internal=True).count() >= 1
    with pytest.raises(OutOfScope):
        services.comment(world.hz_enterprise, a, "内部", internal=True)
    with pytest.raises(OutOfScope):
        services.comment(world.nb_enterprise, a, "看不到")


def test_allowed_actions_follow_status_and_role(world):
    a = file(world)
    assert {"accept", "transfer", "escalate"} <= services.allowed_actions(world.xihu_transport, a)
    assert "accept" not in services.allowed_actions(world.hz_enterprise, a)
    assert {"answer", "comment"} <= services.allowed_actions(world.hz_enterprise, a)
    assert services.allowed_actions(world.nb_enterprise, a) == set()
    services.accept(world.xihu_transport, a)
    services.resolve(world.xihu_transport, a, "ok")
    assert "confirm" in services.allowed_actions(world.hz_enterprise, a)


def test_events_are_audited_and_timestamped(world):
    a = file(world)
    services.accept(world.xihu_transport, a)
    assert AuditRecord.objects.filter(model="appeals.Appeal", object_pk=str(a.pk), action="update").count() == 1
    ts = list(AppealEvent.objects.filter(appeal=a).values_list("at", flat=True))
    assert ts == sorted(ts) and all(t is not None for t in ts)
