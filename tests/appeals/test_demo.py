"""The demo appeals: drawn deterministically, lived through by the services' rules, loaded consistently, reset.

A small demo province (800 firms) gets a few hundred appeals through ``gulian demo``; every appeal and
its timeline is then checked against the rules the services and the overdue sweep apply.
"""

from __future__ import annotations

import datetime as dt
import io
import string
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from gulian.appeals import routing, services, sla, sweep
from gulian.appeals.models import (
    LADDER,
    Appeal,
    AppealEvent,
    Category,
    EventKind,
    Level,
    Notification,
    Status,
)
from gulian.core import audit
from gulian.core.models import AuditRecord, Region, Role, User
from gulian.demo import appeals as demo
from gulian.demo import appeals_text as tx
from gulian.demo.users import DEMO_USERS
from gulian.registry.models import Enterprise, MemberRole, Membership, SupplyLink

SMALL = ["--enterprises", "800", "--links", "3000", "--no-dispatch"]
N = 400
DOCS = Path(__file__).resolve().parents[2] / "docs"
MOVES = (EventKind.ROUTED, EventKind.ASSIGNED, EventKind.TRANSFERRED, EventKind.ESCALATED)
LABEL_TO_CATEGORY = {str(label): value for value, label in Category.choices}


def run_demo(*args) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def registry(db, settings):
    """The small demo province without appeals."""
    settings.DEMO = True
    run_demo(*SMALL, "--appeals", "0")


@pytest.fixture
def loaded(db, settings):
    """The small demo province with N appeals, through the command; returns what it printed."""
    settings.DEMO = True
    return run_demo(*SMALL, "--appeals", str(N))


# --- the phrase bank and the generator ----------------------------------------------------------


def _slots(template: str) -> set[str]:
    return {name for _t, name, _f, _c in string.Formatter().parse(template) if name}


def _templates():
    for topics in tx.TOPICS.values():
        for t in topics:
            yield from (*t.titles, *t.problems, *t.asks, *t.replies, *t.unresolvable)
    for value in vars(tx).values():
        if isinstance(value, str) and "{" in value:
            yield value
        elif isinstance(value, tuple | dict):
            items = value.values() if isinstance(value, dict) else value
            for item in items:
                if isinstance(item, str):
                    yield item
                elif isinstance(item, tuple):
                    yield from (s for s in item if isinstance(s, str))
                    yield from (s for pair in item if isinstance(pair, tuple) for s in pair)


def test_every_template_fills_from_a_context():
    firm = demo.Firm(
        pk=1, uscc="91330106MA2XXXXX0X", name="杭州恒达电子科技有限公司", region="330106", county="西湖区",
        city="杭州市", industry="计算机、通信和其他电子设备制造业", employees=320, output=52_000.0, small=False,
        chain="数字安防", role="core", products=["摄像机"], customers=[],
        suppliers=[demo.Partner(2, "昆山精密电子有限公司", "320583", "江苏省苏州市昆山市", "电子元器件", "domestic")],
        address="", contact="王强", phone="", liaison_id=None,
    )
    ctx = demo.context(np.random.default_rng(1), firm, dt.datetime(2020, 2, 18, 10, tzinfo=demo.SHANGHAI))
    templates = list(_templates())
    assert len(templates) > 200
    for template in templates:
        missing = _slots(template) - set(ctx)
        assert not missing, (template, missing)
        assert "{" not in template.format_map(ctx)
    assert ctx["supplier"] == "昆山精密电子有限公司" and ctx["supplier_place"] == "江苏省苏州市昆山市"
    assert ctx["resumed"].startswith("已于") and ctx["extra_role"] == "是数字安防产业链核心配套企业。"
    assert set(tx.MIX_EARLY) == set(tx.MIX_LATE) == set(Category.values) == set(tx.CATEGORIES)
    for table in (tx.TOPICS, tx.UNRESOLVABLE, tx.CONFUSED_WITH, tx.SECONDARY, tx.MIX_EARLY):
        assert set(table) == set(Category.values)
    for category, topics in tx.TOPICS.items():
        assert tx.UNRESOLVABLE[category] and any(not t.when for t in topics)
        assert all(t.titles and t.problems and t.asks and t.replies for t in topics)


def test_volume_peaks_in_february_and_the_mix_moves_on():
    w = demo.day_weights()
    assert len(w) == (demo.END - demo.START).days + 1
    peak = demo.START + dt.timedelta(days=int(np.argmax(w)))
    assert dt.date(2020, 2, 12) <= peak <= dt.date(2020, 2, 26)
    feb, may = w[:29].sum(), w[-31:].sum()
    assert feb > 3 * may and w[-31:].min() > 0
    early, late = demo._mix(dt.date(2020, 2, 15)), demo._mix(dt.date(2020, 5, 15))
    share = dict(zip(tx.CATEGORIES, early, strict=True)), dict(zip(tx.CATEGORIES, late, strict=True))
    first = {tx.LABOUR, tx.LOGISTICS, tx.SUPPLY, tx.EPIDEMIC, tx.FINANCE}
    assert sum(share[0][c] for c in first) > 0.8
    assert set(sorted(share[0], key=share[0].get)[-5:]) == first
    assert share[1][tx.MARKET] + share[1][tx.POLICY] > 0.4 > share[0][tx.MARKET] + share[0][tx.POLICY] + 0.3


def test_plan_is_deterministic_and_shaped(registry):
    inputs = demo.read_inputs()
    assert len(inputs.firms) == 800 and inputs.users.keys() >= {"zj_taskforce", "hz_handler", "hz_liaison"}
    a = demo.plan(inputs, seed=7, n=300)
    b = demo.plan(demo.read_inputs(), seed=7, n=300)
    assert a.fingerprint == b.fingerprint
    assert [p.text for p in a.appeals] == [p.text for p in b.appeals]
    assert demo.plan(inputs, seed=8, n=300).fingerprint != a.fingerprint
    assert 295 <= len(a.appeals) <= 300  # a re-filed look-alike after the cut-off is not filed
    created = [p.created for p in a.appeals]
    assert created == sorted(created) and demo.START <= created[0].date() and created[-1] < demo.AS_OF
    feb = Counter(p.true_category for p in a.appeals if p.created.month == 2)
    later = Counter(p.true_category for p in a.appeals if p.created.month >= 4)
    assert sum(feb.values()) > 2 * sum(later.values())
    assert (later[tx.MARKET] + later[tx.POLICY]) / sum(later.values()) > (feb[tx.MARKET] + feb[tx.POLICY]) / sum(
        feb.values())
    # texts name the enterprise's own products and suppliers
    supply = [p for p in a.appeals if p.related and p.true_category == tx.SUPPLY]
    assert supply and all(p.related[0].name in p.text or p.related[0].product in p.text for p in supply)
    assert all(p.firm.region.startswith("33") for p in a.appeals)
    assert len({p.text for p in a.appeals}) > 0.9 * len(a.appeals)
    assert demo.plan(inputs, seed=7, n=0).appeals == []
    with pytest.raises(ValueError, match="不能为负"):
        demo.plan(inputs, seed=7, n=-1)


# --- the loaded appeals -------------------------------------------------------------------------


def _filed_category(appeal: Appeal, events: list[AppealEvent]) -> str:
    corrections = [e for e in events if e.kind == EventKind.CATEGORY]
    return LABEL_TO_CATEGORY[corrections[0].text.split(" → ")[0]] if corrections else appeal.category


def _check_timeline(a: Appeal, events: list[AppealEvent]) -> None:
    assert a.tracking_number == f"SQ{timezone.localtime(a.created_at):%Y%m%d}{a.pk:06d}"
    assert [e.kind for e in events[:2]] == [EventKind.SUBMITTED, EventKind.ROUTED]
    assert events[0].at == a.created_at and events[0].actor_id == a.submitted_by_id
    times = [e.at for e in events]
    assert times == sorted(times) and times[-1] < demo.AS_OF
    # the status is where the last step left it
    assert [e.to_status for e in events if e.to_status][-1] == a.status
    for e in events:
        if e.kind in (EventKind.OVERDUE,):
            assert e.from_status == e.to_status and e.from_status in (Status.SUBMITTED, Status.ACCEPTED,
                                                                        Status.IN_PROGRESS)
    # the route: the routing table's at intake, then each move's target
    filed = _filed_category(a, events)
    route = routing.initial_route(a.enterprise, filed, a.secondary_categories, list(a.related_enterprises.all()),
                                  list(a.related_regions.all()))
    assert events[1].to_unit == routing.unit_label(route.level, route.region, route.department)
    moves = [e for e in events if e.kind in MOVES]
    assert moves[-1].to_unit == a.handler_label and moves[-1].to_level == a.level
    if a.level in (Level.MINISTRY, Level.STATE_COUNCIL):
        assert a.handling_region_id is None
    else:
        assert routing.level_of(a.handling_region) == a.level
        assert a.enterprise.region_id.startswith(a.handling_region.prefix)
    if a.level == Level.STATE_COUNCIL:
        assert a.department_id is None
    ups = [e for e in events if e.kind == EventKind.ESCALATED]
    assert a.escalation_count == len(ups)
    for e in ups:
        assert LADDER.index(e.to_level) == LADDER.index(e.from_level) + 1 and e.text
    for e in events:
        if e.kind == EventKind.TRANSFERRED:
            assert e.from_level == e.to_level and e.from_unit != e.to_unit and e.text
    assert a.reopen_count == sum(e.kind == EventKind.REOPENED for e in events)
    answers = [e for e in events if e.kind in (EventKind.RESOLVED, EventKind.UNRESOLVABLE)]
    if a.status not in (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS):
        field = "reply" if answers[-1].kind == EventKind.RESOLVED else "unresolvable_reason"
        assert getattr(a, field) == answers[-1].text and answers[-1].at == a.resolved_at
    assert a.category_confirmed == any(e.kind == EventKind.CATEGORY for e in events)
    # deadlines from the last move (a reopening restarts only the resolution clock)
    accept_due, resolve_due = sla.deadlines(a.urgency, moves[-1].at)
    reopened = [e for e in events if e.kind == EventKind.REOPENED and e.at > moves[-1].at]
    if reopened:
        resolve_due = sla.deadlines(a.urgency, reopened[-1].at)[1]
    assert (a.accept_due, a.resolve_due) == (accept_due, resolve_due)


def _check_fields(a: Appeal) -> None:
    steps = [a.created_at, a.accepted_at, a.resolved_at, a.confirmed_at, a.closed_at]
    present = [s for s in steps if s is not None]
    assert present == sorted(present)
    if a.status == Status.SUBMITTED:
        assert a.accepted_at is None and a.resolved_at is None
    if a.status in (Status.ACCEPTED, Status.IN_PROGRESS):
        assert a.accepted_at is not None and a.resolved_at is None and a.rating is None
    if a.status in (Status.RESOLVED, Status.UNRESOLVABLE, Status.CONFIRMED, Status.CLOSED):
        assert a.resolved_at is not None and a.accepted_at is not None and not a.overdue
        assert a.reply or a.unresolvable_reason
    if a.status in (Status.CONFIRMED, Status.CLOSED):
        assert a.confirmed_at is not None and 1 <= a.rating <= 5
    else:
        assert a.confirmed_at is None and a.rating is None
    assert (a.closed_at is not None) == (a.status == Status.CLOSED)
    if a.overdue:
        assert a.is_open and a.overdue_since is not None and a.overdue_since < demo.AS_OF
        assert a.overdue_since == (a.accept_due if a.status == Status.SUBMITTED else a.resolve_due)
    else:
        assert a.overdue_since is None


def test_loaded_appeals_are_consistent(loaded):
    assert "企业诉求演示数据" in loaded
    appeals = list(Appeal.objects.select_related("enterprise__region", "handling_region", "department",
                                                 "submitted_by").prefetch_related(
        "related_enterprises", "related_regions").order_by("pk"))
    assert N - 5 <= len(appeals) <= N
    events: dict[int, list[AppealEvent]] = {}
    for e in AppealEvent.objects.order_by("at", "pk"):
        events.setdefault(e.appeal_id, []).append(e)
    for a in appeals:
        _check_timeline(a, events[a.pk])
        _check_fields(a)
        assert services.may_file_for(a.submitted_by, a.enterprise), a.tracking_number
        assert a.enterprise.region_id.startswith("33") and demo.START <= a.created_at.date()
    assert len({a.tracking_number for a in appeals}) == len(appeals)

    # the overdue sweep, run at the demo's "now", finds nothing left to flag or escalate
    report = sweep.sweep(now=demo.AS_OF)
    assert report.marked_overdue == [] and report.escalated == []

    # near-duplicates are exactly what submit would flag
    dups = [a for a in appeals if a.duplicate_of_id]
    assert dups
    for a in appeals:
        found = services.find_near_duplicate(a.enterprise, a.title, a.text, a.created_at, exclude_pk=a.pk)
        assert (found.pk if found else None) == a.duplicate_of_id, a.tracking_number
    for a in dups:
        flag = [e for e in events[a.pk] if e.kind == EventKind.DUPLICATE]
        assert len(flag) == 1 and a.duplicate_of.tracking_number in flag[0].text and flag[0].internal

    # roughly the mix asked for
    n = len(appeals)
    by_status = Counter(a.status for a in appeals)
    answered = [a for a in appeals if a.status not in (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS)]
    resolved = [a for a in answered if a.reply]
    assert 0.8 <= len(resolved) / n <= 0.95
    assert 0.03 <= sum(bool(a.unresolvable_reason) for a in answered) / n <= 0.16
    assert by_status[Status.CLOSED] > 0.6 * n and by_status[Status.CONFIRMED] and by_status[Status.RESOLVED]
    ever_overdue = {e.appeal_id for es in events.values() for e in es if e.kind == EventKind.OVERDUE}
    assert 0.05 <= len(ever_overdue) / n <= 0.2
    escalated = [a for a in appeals if a.escalation_count]
    assert 0.03 <= len(escalated) / n <= 0.15
    levels = Counter(e.to_level for es in events.values() for e in es if e.kind == EventKind.ESCALATED)
    assert levels[Level.CITY] > levels[Level.PROVINCE] > 0 and 1 <= levels[Level.STATE_COUNCIL] <= 3
    assert any(e.kind == EventKind.TRANSFERRED for es in events.values() for e in es)
    ratings = [a.rating for a in appeals if a.rating]
    assert sum(r >= 4 for r in ratings) > 0.65 * len(ratings)
    assert any(a.reopen_count for a in appeals)
    assert any(a.related_enterprises.all() and a.level == Level.MINISTRY for a in appeals)

    # who filed: enterprise accounts that cannot sign in, the liaison, the demo enterprise user
    submitters = Counter(a.submitted_by.username for a in appeals)
    assert submitters["hz_liaison"] and submitters["hz_enterprise"]
    accounts = User.objects.filter(username__startswith=demo.ACCOUNT_PREFIX)
    assert accounts.exists() and not any(u.has_usable_password() for u in accounts)
    assert all(u.role == Role.ENTERPRISE and u.username == f"qy_{u.enterprise.uscc}" for u in accounts)

    # every role has something to see, and some unread notices
    for username, sees in (("hz_handler", 1), ("zj_economy", 1), ("hz_taskforce", 10), ("zj_taskforce", n),
                           ("hz_liaison", 1), ("hz_enterprise", 1)):
        user = User.objects.get(username=username)
        visible = Appeal.objects.restrict(user, "view")
        assert visible.count() >= sees, username
    handler = User.objects.get(username="hz_handler")
    assert set(Appeal.objects.restrict(handler, "view").values_list("department__code", flat=True)) == {"economy"}
    notices = Notification.objects.filter(read_at__isnull=True)
    assert notices.exists()
    demo_names = {u.username for u in DEMO_USERS}
    for notice in notices.select_related("recipient", "appeal"):
        assert notice.recipient.username in demo_names
        assert Appeal.objects.restrict(notice.recipient, "view").filter(pk=notice.appeal_id).exists()
        assert notice.appeal.tracking_number in notice.message

    # one audit record for the whole load, and the chain still verifies
    record = AuditRecord.objects.get(action=demo.AUDIT_ACTION)
    assert record.after["appeals"] == n and record.after["events"] == AppealEvent.objects.count()
    assert record.after["seed"] == 2020 and len(record.after["fingerprint"]) == 64
    assert list(audit.verify()) == []


def test_late_appeals_at_the_end_agree_with_the_sweep(registry, monkeypatch):
    """Filed in the last two weeks, mostly late: the timelines still match what the sweep would have done."""
    days = (demo.END - demo.START).days + 1
    weights = np.zeros(days)
    weights[-14:] = 1.0
    monkeypatch.setattr(demo, "day_weights", lambda: weights)
    for name, value in (("P_LATE_ACCEPT", 0.5), ("P_LATE_RESOLVE", 0.6), ("P_VERY_LATE", 0.6), ("P_ESCALATE", 0.3)):
        monkeypatch.setattr(demo, name, value)
    demo.load(2021, 300)
    report = sweep.sweep(now=demo.AS_OF)
    assert report.marked_overdue == [] and report.escalated == []
    appeals = list(Appeal.objects.select_related("enterprise__region", "handling_region", "department"))
    events: dict[int, list[AppealEvent]] = {}
    for e in AppealEvent.objects.order_by("at", "pk"):
        events.setdefault(e.appeal_id, []).append(e)
    for a in appeals:
        _check_timeline(a, events[a.pk])
        _check_fields(a)
    auto = [e for es in events.values() for e in es if e.kind == EventKind.ESCALATED and e.actor_id is None
            and "自动升级" in e.text]
    assert len(auto) > 10 and sum(a.overdue for a in appeals) > 5
    assert sum(a.is_open for a in appeals) > 0.2 * len(appeals)


def test_links_to_risk_items_and_the_held_back_list(registry):
    """Appeals come from the risk list and the held-back list when those exist."""
    from gulian.risk import services as risk_services
    from gulian.risk.services import FindingIn
    from tests.dispatch.metrics_fixtures import report

    zj = User.objects.get(username="zj_taskforce")
    firms = list(Enterprise.objects.filter(region__code__startswith="33").order_by("uscc")[:6])
    risk_services.upsert_items(zj, "330000", [
        FindingIn(enterprise=f.pk, title=f"单一来源：{f.name}的关键物料", scope="domestic", input_category="芯片",
                  fingerprint=f"demo-{f.pk}")
        for f in firms
    ])
    owner = Membership.objects.filter(role=MemberRole.OWNER).order_by("enterprise__uscc").first().enterprise
    link = SupplyLink.objects.filter(customer=owner, supplier__region__code__startswith="33").order_by("pk").first()
    report(link.supplier, dt.date(2020, 2, 24), resumed=False, util="0")
    report(owner, dt.date(2020, 2, 24), util="0.5")

    made = demo.load(2020, 500)
    assert made.counts["appeals"] >= 495
    from_risk = Appeal.objects.filter(risk_item__isnull=False).select_related("risk_item")
    assert from_risk.count() == 6
    for a in from_risk:
        assert a.enterprise_id == a.risk_item.enterprise_id and a.category == Category.SUPPLY
        assert a.risk_item.title in a.text and dt.date(2020, 2, 20) <= timezone.localtime(a.created_at).date()
    held = Appeal.objects.get(heldback_owner__isnull=False)
    assert held.enterprise_id == link.supplier_id and held.heldback_owner_id == owner.pk
    assert owner.name in held.text or owner.name in held.title


def test_rerun_keeps_and_reset_removes(loaded):
    first = AuditRecord.objects.get(action=demo.AUDIT_ACTION).after
    out = run_demo(*SMALL, "--appeals", str(N))
    assert "演示数据已存在" in out and "企业诉求演示数据" not in out
    assert Appeal.objects.count() == first["appeals"]

    out = run_demo("--reset", *SMALL, "--appeals", str(N))
    assert "appeals.Appeal" in out and "企业诉求演示数据" in out
    gone = AuditRecord.objects.get(action=demo.AUDIT_RESET).before
    assert gone["appeals.Appeal"] == first["appeals"] and gone["appeals.AppealEvent"] == first["events"]
    again = AuditRecord.objects.filter(action=demo.AUDIT_ACTION).latest("seq").after
    assert again["fingerprint"] == first["fingerprint"]  # the same registry and seed: the same appeals

    counts = demo.reset()
    assert counts["appeals.Appeal"] == first["appeals"] and counts["enterprise_accounts"] > 0
    assert not Appeal.objects.exists() and not AppealEvent.objects.exists()
    assert not Notification.objects.filter(appeal__isnull=False).exists()
    assert not User.objects.filter(username__startswith=demo.ACCOUNT_PREFIX).exists()
    assert User.objects.filter(username__in=[u.username for u in DEMO_USERS]).count() == len(DEMO_USERS)
    assert list(audit.verify()) == []
    # nothing points at the registry any more: it can be deleted
    from gulian.demo import load as demo_load

    demo_load.reset_registry()
    assert not Enterprise.objects.exists()


def test_size_options(db, settings):
    settings.DEMO = True
    with pytest.raises(CommandError, match="不能为负"):
        run_demo(*SMALL, "--appeals", "-1")
    run_demo(*SMALL, "--appeals", "0")
    assert not Appeal.objects.exists()
    out = run_demo(*SMALL)  # the province exists: the default number of appeals is added to it
    assert "企业诉求演示数据" in out
    assert Appeal.objects.count() == pytest.approx(demo.default_count(800), abs=3)
    assert demo.default_count(20_000) == 5000


def test_demo_users_for_appeals(registry):
    for username, region, department in (("hz_handler", "330100", "economy"), ("hz_transport", "330100", "transport"),
                                         ("zj_economy", "330000", "economy")):
        user = User.objects.get(username=username)
        assert (user.role, user.region_id, user.department) == (Role.HANDLER, region, department)
        route = routing.Route(routing.level_of(Region.objects.get(code=region)), user.region,
                              routing.department_for("supply" if department == "economy" else "logistics",
                                                     routing.level_of(user.region)))
        assert list(routing.users_of_unit(route.level, route.region, route.department)) == [user]


def test_documented():
    cli = (DOCS / "cli.md").read_text(encoding="utf-8")
    section = cli.split("## gulian demo", 1)[1].split("\n## ", 1)[0]
    assert "--appeals" in section
    guide = (DOCS / "demo.md").read_text(encoding="utf-8")
    assert "企业诉求" in guide and "qy_" in guide and "--appeals" in guide
    for username in ("hz_transport", "zj_economy"):
        assert username in guide
    appeals_doc = (DOCS / "appeals.md").read_text(encoding="utf-8")
    section = appeals_doc.split("## Demo data", 1)[1]
    assert "5,000" in section or "5000" in section
