"""The overdue sweep with frozen time across the 2020 Spring Festival: mark once, notify, auto-escalate."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from gulian.appeals import services
from gulian.appeals.models import LADDER, AppealEvent, EventKind, Level, Notification, Status
from gulian.appeals.sweep import overdue_workdays, sweep
from gulian.core.models import AuditRecord, Role

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def end(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.max, tzinfo=SH)


@pytest.fixture
def world(two_cities, make_user, settings):
    settings.APPEALS_SLA = {"normal": (1, 5), "urgent": (1, 3), "critical": (0, 1)}
    settings.APPEALS_AUTO_ESCALATE_DAYS = 2
    settings.APPEALS_WEBHOOK_URL = ""
    w = two_cities
    w.handler = make_user(Role.HANDLER, "330106", department="transport")
    w.nb_transport = make_user(Role.HANDLER, "330203", department="transport")
    return w


def file(w, when: str, **kw):
    kw.setdefault("text", "园区封闭，货车无法进出，原材料运不进来")
    kw.setdefault("category", "logistics")
    return services.submit(w.hz_enterprise, enterprise=w.hz_firm, title="物流受阻", at=at(when), **kw).appeal


def overdue_events(appeal):
    return list(AppealEvent.objects.filter(appeal=appeal, kind=EventKind.OVERDUE).order_by("at", "id"))


def test_not_overdue_during_the_holiday_but_on_the_first_workday_after_the_deadline(world):
    a = file(world, "2020-01-23T10:00")  # the eve of the Spring Festival; accept within 1 working day
    assert a.accept_due == end("2020-02-03") and a.resolve_due == end("2020-02-07")
    for moment in ("2020-01-24T09:00", "2020-01-31T12:00", "2020-02-02T23:00", "2020-02-03T23:59:59"):
        assert sweep(at(moment)).marked_overdue == [], moment
    a.refresh_from_db()
    assert not a.overdue and overdue_events(a) == []

    report = sweep(at("2020-02-04T00:05"))
    assert report.marked_overdue == [a.tracking_number]
    a.refresh_from_db()
    assert a.overdue and a.overdue_since == end("2020-02-03") and a.status == Status.SUBMITTED
    [event] = overdue_events(a)
    assert event.actor is None and event.at == at("2020-02-04T00:05") and "受理" in event.text
    assert AuditRecord.objects.filter(model="appeals.Appeal", object_pk=str(a.pk), actor_name="system").exists()
    # the handling unit and the task force of its region are told; the enterprise and others are not
    told = set(Notification.objects.filter(kind=EventKind.OVERDUE).values_list("recipient", flat=True))
    assert told == {world.handler.pk, world.hz_county.pk}


def test_overdue_is_marked_once_per_deadline(world):
    a = file(world, "2020-01-23T10:00")
    sweep(at("2020-02-04T09:00"))
    for moment in ("2020-02-04T09:10", "2020-02-04T09:20", "2020-02-04T18:00"):
        assert sweep(at(moment)).marked_overdue == []
    assert len(overdue_events(a)) == 1
    assert Notification.objects.filter(kind=EventKind.OVERDUE, recipient=world.handler).count() == 1
    # accepting clears the flag; the resolution deadline (7 Feb) is a new deadline, flagged once
    services.accept(world.handler, a, "已受理")
    a.refresh_from_db()
    assert not a.overdue and a.overdue_since is None
    assert sweep(at("2020-02-07T23:00")).marked_overdue == []
    assert sweep(at("2020-02-08T08:00")).marked_overdue == [a.tracking_number]  # Saturday: past the deadline
    assert sweep(at("2020-02-08T09:00")).marked_overdue == []
    events = overdue_events(a)
    assert len(events) == 2 and events[1].from_status == Status.ACCEPTED and "办结" in events[1].text
    a.refresh_from_db()
    assert a.overdue_since == end("2020-02-07")


def test_an_answered_appeal_is_never_overdue(world):
    a = file(world, "2020-01-23T10:00")
    services.accept(world.handler, a)
    services.resolve(world.handler, a, "已协调解决")
    assert sweep(at("2020-03-01T09:00")).marked_overdue == []
    assert overdue_events(a) == []


def test_escalates_after_n_working_days_overdue_counting_only_working_days(world):
    a = file(world, "2020-01-23T10:00")  # accept due Monday 2020-02-03
    sweep(at("2020-02-04T09:00"))
    a.refresh_from_db()
    assert overdue_workdays(a, at("2020-02-05T18:00")) == 1  # only Tuesday 4th has passed in full
    assert sweep(at("2020-02-05T18:00")).escalated == []
    a.refresh_from_db()
    assert a.level == Level.COUNTY and a.overdue

    report = sweep(at("2020-02-06T00:30"))  # Tuesday and Wednesday have passed: 2 working days
    assert report.escalated == [a.tracking_number] and report.escalation_errors == []
    a.refresh_from_db()
    assert (a.level, a.handling_region_id, a.department_id) == (Level.CITY, "330100", None)
    assert a.escalation_count == 1 and not a.overdue and a.status == Status.SUBMITTED
    esc = AppealEvent.objects.get(appeal=a, kind=EventKind.ESCALATED)
    assert esc.actor is None and esc.text.startswith("超期 2 个工作日未办结，自动升级")
    assert esc.from_level == Level.COUNTY and esc.to_level == Level.CITY
    # the new unit (Hangzhou's task force) and the enterprise hear of it
    assert Notification.objects.filter(kind=EventKind.ESCALATED, recipient=world.hz).exists()
    assert Notification.objects.filter(kind=EventKind.ESCALATED, recipient=world.hz_enterprise).exists()
    # nothing more on the next runs: the new unit has fresh deadlines
    assert sweep(at("2020-02-06T00:40")).escalated == []
    assert AppealEvent.objects.filter(appeal=a, kind=EventKind.ESCALATED).count() == 1


def test_weekends_and_holidays_do_not_count_towards_escalation(world):
    a = file(world, "2020-02-06T10:00")  # Thursday: accept due Friday 2020-02-07
    sweep(at("2020-02-08T10:00"))
    a.refresh_from_db()
    assert a.overdue and a.overdue_since == end("2020-02-07")
    assert sweep(at("2020-02-10T23:00")).escalated == []  # Sat, Sun, Mon (not yet full)
    assert sweep(at("2020-02-11T23:00")).escalated == []  # Monday is the only full working day
    assert sweep(at("2020-02-12T00:01")).escalated == [a.tracking_number]  # Monday and Tuesday


def test_zero_days_turns_auto_escalation_off(world, settings):
    settings.APPEALS_AUTO_ESCALATE_DAYS = 0
    a = file(world, "2020-01-23T10:00")
    report = sweep(at("2020-03-02T09:00"))
    assert report.marked_overdue == [a.tracking_number] and report.escalated == []
    a.refresh_from_db()
    assert a.level == Level.COUNTY and a.overdue


def test_at_the_top_rung_the_sweep_only_marks(world):
    a = file(world, "2020-01-23T10:00")
    for _ in range(len(LADDER) - 1):
        services.escalate(None, a, "测试：逐级升级")
    a.refresh_from_db()
    assert a.level == Level.STATE_COUNCIL
    later = a.accept_due + dt.timedelta(days=40)
    report = sweep(later)
    assert report.marked_overdue == [a.tracking_number]
    assert report.escalated == [] and report.escalation_errors == []
    a.refresh_from_db()
    assert a.level == Level.STATE_COUNCIL and a.overdue


def test_the_command_runs_the_sweep(world, capsys):
    a = file(world, "2020-01-23T10:00")
    call_command("appeals", "sweep", "--now", "2020-02-04T09:00")
    out = capsys.readouterr().out
    assert "2020-02-04 09:00" in out and a.tracking_number in out
    a.refresh_from_db()
    assert a.overdue
    with pytest.raises(CommandError):
        call_command("appeals", "sweep", "--now", "2020-02-31")


def test_sweep_uses_the_real_clock_by_default(world):
    a = file(world, "2020-01-23T10:00")
    report = sweep()
    assert abs((report.now - timezone.now()).total_seconds()) < 60
    assert a.tracking_number in report.marked_overdue  # long past by now
