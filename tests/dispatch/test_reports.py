"""Submitting daily reports: versions, idempotent resubmission, late flags, rules, scope, the race, the form."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gulian.core.models import AuditRecord, Role
from gulian.core.services import OutOfScope
from gulian.dispatch import services
from gulian.dispatch.models import Blocker, DailyReport, DailyReportVersion, DirtyDay, Source
from gulian.dispatch.reportdata import normalise

DAY = dt.date(2020, 2, 10)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """An aware datetime at hh:mm Asia/Shanghai on ``day``."""
    return timezone.make_aware(
        dt.datetime(day.year, day.month, day.day, hh, mm), timezone.get_default_timezone()
    )


def data(**overrides):
    base = {"resumed": True, "utilisation": "0.85", "staff_on_duty": 80, "staff_normal": 100}
    return base | overrides


def audits() -> int:
    return AuditRecord.objects.filter(model="dispatch.DailyReport").count()


# --- versions, corrections, idempotent resubmission ----------------------------------------------


def test_first_submission_creates_version_one_with_audit_and_dirty_day(two_cities):
    ns = two_cities
    report, created = services.submit_report(
        ns.hz_enterprise, ns.hz_firm, DAY, data(blockers=["用工", "logistics"]), Source.WEB, now=at(DAY, 9)
    )
    assert created and report.version == 1
    stored = DailyReport.objects.get(enterprise=ns.hz_firm, date=DAY)
    assert stored.utilisation == Decimal("0.850") and stored.blockers == Blocker.LABOUR | Blocker.LOGISTICS
    assert stored.submitted_by == ns.hz_enterprise and stored.source == Source.WEB and not stored.late
    (version,) = DailyReportVersion.objects.filter(report=stored)
    assert version.version == 1 and version.data["utilisation"] == "0.850" and version.data["blockers"] == 5
    record = AuditRecord.objects.get(model="dispatch.DailyReport")
    assert (record.action, record.actor_id, record.object_pk) == (
        "create",
        ns.hz_enterprise.pk,
        str(stored.pk),
    )
    assert record.after["staff_on_duty"] == 80 and record.after["version"] == 1
    assert DirtyDay.objects.filter(date=DAY).exists()


def test_correction_makes_a_new_version_keeps_history_and_the_latest_counts(two_cities):
    ns = two_cities
    services.submit_report(ns.hz_enterprise, ns.hz_firm, DAY, data(), Source.WEB, now=at(DAY, 9))
    report, created = services.submit_report(
        ns.liaison_hz, ns.hz_firm, DAY, data(utilisation="92%", staff_on_duty=95), Source.API, now=at(DAY, 10)
    )
    assert not created and report.version == 2
    assert DailyReport.objects.filter(enterprise=ns.hz_firm, date=DAY).count() == 1
    stored = DailyReport.objects.get(pk=report.pk)
    assert (stored.version, stored.utilisation, stored.staff_on_duty) == (2, Decimal("0.920"), 95)
    assert stored.submitted_by == ns.liaison_hz and stored.source == Source.API
    history = list(DailyReportVersion.objects.filter(report=stored).order_by("version"))
    assert [(v.version, v.data["utilisation"], v.data["staff_on_duty"]) for v in history] == [
        (1, "0.850", 80),
        (2, "0.920", 95),
    ]
    correction = AuditRecord.objects.filter(model="dispatch.DailyReport").order_by("seq").last()
    assert correction.action == "correct"
    assert correction.before == {"version": 1, "utilisation": "0.850", "staff_on_duty": 80}
    assert correction.after == {"version": 2, "late": False, "utilisation": "0.920", "staff_on_duty": 95}


def test_identical_resubmission_writes_nothing(two_cities):
    ns = two_cities
    first = services.submit(
        ns.hz_enterprise, ns.hz_firm, DAY, data(blockers="用工"), Source.WEB, now=at(DAY, 9)
    )
    n_audit = audits()
    # the same content written differently: a percentage, a float, a label for the same blocker
    again = services.submit(
        ns.hz_enterprise,
        ns.hz_firm,
        DAY,
        data(utilisation=0.85, blockers=["labour"], blocker_note="  "),
        Source.API,
        now=at(DAY, 11),
    )
    assert again.status == services.UNCHANGED and again.report.pk == first.report.pk
    assert DailyReportVersion.objects.count() == 1 and audits() == n_audit
    assert DailyReport.objects.get().source == Source.WEB  # untouched


# --- late flags and dates ----------------------------------------------------------------------------


def test_late_flag_follows_the_deadline(two_cities, settings):
    ns = two_cities
    settings.DISPATCH_DEADLINE = "17:00"
    firm2 = ns.hz_firm2
    on_time = services.submit(ns.hz, ns.hz_firm, DAY, data(), Source.WEB, now=at(DAY, 16, 59)).report
    late = services.submit(ns.hz, firm2, DAY, data(), Source.WEB, now=at(DAY, 17, 1)).report
    assert not on_time.late and late.late
    next_day = services.submit(
        ns.hz, ns.hz_firm, DAY - dt.timedelta(days=1), data(), Source.WEB, now=at(DAY, 8)
    )
    assert next_day.report.late
    # a correction after the deadline is flagged on its version; the day's report stays on time
    corrected = services.submit(ns.hz, ns.hz_firm, DAY, data(staff_on_duty=90), Source.WEB, now=at(DAY, 20))
    assert corrected.report.version == 2 and not DailyReport.objects.get(pk=on_time.pk).late
    assert [v.late for v in DailyReportVersion.objects.filter(report=on_time).order_by("version")] == [
        False,
        True,
    ]
    settings.DISPATCH_DEADLINE = "09:30"
    assert services.is_late(DAY, at(DAY, 9, 31)) and not services.is_late(DAY, at(DAY, 9, 30))


def test_late_flag_uses_shanghai_time_not_utc(two_cities):
    # 08:30 UTC is 16:30 in Shanghai: on time; 09:30 UTC is 17:30: late
    assert not services.is_late(DAY, dt.datetime(2020, 2, 10, 8, 30, tzinfo=dt.UTC))
    assert services.is_late(DAY, dt.datetime(2020, 2, 10, 9, 30, tzinfo=dt.UTC))
    assert services.local_today(dt.datetime(2020, 2, 10, 17, 0, tzinfo=dt.UTC)) == dt.date(2020, 2, 11)


def test_future_dates_are_rejected(two_cities):
    ns = two_cities
    with pytest.raises(ValidationError) as e:
        services.submit(ns.hz, ns.hz_firm, DAY + dt.timedelta(days=1), data(), Source.WEB, now=at(DAY, 9))
    assert "日期不能晚于今天" in e.value.message_dict["date"][0]
    assert not DailyReport.objects.exists()


# --- field rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"utilisation": "1.6"}, "utilisation", "utilisation_range"),
        ({"utilisation": "-0.1"}, "utilisation", "utilisation_range"),
        ({"utilisation": "abc"}, "utilisation", "number"),
        ({"utilisation": None}, "utilisation", "required"),
        ({"resumed": False}, "utilisation", "idle_utilisation"),
        ({"staff_normal": 0, "staff_on_duty": 0}, "staff_normal", "staff_normal_zero"),
        ({"staff_on_duty": 201}, "staff_on_duty", "staff_ratio"),
        ({"staff_returned_outside": 250}, "staff_returned_outside", "staff_ratio"),
        ({"staff_on_duty": 2.5}, "staff_on_duty", "integer"),
        ({"staff_on_duty": -1}, "staff_on_duty", "negative"),
        ({"staff_on_duty": None}, "staff_on_duty", "required"),
        ({"resumed": "maybe"}, "resumed", "boolean"),
        ({"order_change": "-1.2"}, "order_change", "order_change_range"),
        ({"inventory_days": "-3"}, "inventory_days", "negative"),
        ({"blockers": ["用工", "天气"]}, "blockers", "blocker_unknown"),
        ({"blocker_note": "很" * 1001}, "blocker_note", "too_long"),
    ],
)
def test_rules(overrides, field, code):
    _values, problems = normalise(data(**overrides))
    assert [(p.field, p.code) for p in problems] == [(field, code)]
    assert " / " in problems[0].message  # Chinese / English


def test_values_are_normalised():
    values, problems = normalise(
        data(
            resumed=False,
            utilisation=None,
            staff_returned_outside=12,
            inventory_days=7.25,
            output_value="1,250,000.456",
            order_change="-20%",
            blockers="原材料/零部件、物流，其他",
            blocker_note=" 缺 芯片\n",
        )
    )
    assert not problems
    assert values["utilisation"] == Decimal("0") and values["inventory_days"] == Decimal("7.3")
    assert values["output_value"] == Decimal("1250000.46") and values["order_change"] == Decimal("-0.200")
    assert values["blockers"] == Blocker.MATERIALS | Blocker.LOGISTICS | Blocker.OTHER
    assert values["blocker_note"] == "缺 芯片"
    assert normalise(data(blockers=[1, "ENERGY", "Logistics"]))[0]["blockers"] == 1 | 128 | 4
    assert normalise(data(blockers="无"))[0]["blockers"] == 0


def test_service_reports_every_problem_by_field(two_cities):
    with pytest.raises(ValidationError) as e:
        services.submit(
            two_cities.hz,
            two_cities.hz_firm,
            DAY,
            data(utilisation=2, staff_normal=0),
            Source.API,
            now=at(DAY, 9),
        )
    assert set(e.value.message_dict) == {"utilisation", "staff_normal"}


# --- scope ---------------------------------------------------------------------------------------------


def test_who_may_report_for_whom(two_cities, make_user):
    ns = two_cities
    now = at(DAY, 9)
    allowed = [
        (ns.hz_enterprise, ns.hz_firm),
        (ns.liaison_hz, ns.hz_firm),
        (ns.hz_county, ns.hz_firm),
        (ns.hz, ns.hz_firm2),
        (ns.province, ns.nb_firm),
        (ns.admin, ns.nb_firm),
    ]
    for n, (user, firm) in enumerate(allowed, start=1):
        services.submit(user, firm, DAY, data(staff_on_duty=n), Source.WEB, now=now)
    handler = make_user(Role.HANDLER, "330100")
    refused = [
        (ns.hz_enterprise, ns.hz_firm2),
        (ns.liaison_hz, ns.hz_firm2),  # not assigned to this liaison
        (ns.hz_county, ns.hz_firm2),  # 330110 is another county
        (ns.hz_county, ns.nb_firm),
        (ns.nb, ns.hz_firm),
        (handler, ns.hz_firm),  # handlers read, they do not report
    ]
    for user, firm in refused:
        with pytest.raises(OutOfScope):
            services.submit(user, firm, DAY, data(), Source.WEB, now=now)
    assert DailyReport.objects.filter(enterprise=ns.nb_firm).count() == 1


def test_reads_are_scoped(two_cities):
    ns = two_cities
    for firm in (ns.hz_firm, ns.hz_firm2, ns.nb_firm):
        services.submit(ns.admin, firm, DAY, data(), Source.WEB, now=at(DAY, 9))
    visible = {u: set(DailyReport.objects.restrict(u).values_list("enterprise_id", flat=True)) for u in
               (ns.hz_county, ns.hz, ns.nb, ns.hz_enterprise, ns.province)}  # fmt: skip
    assert visible[ns.hz_county] == {ns.hz_firm.pk}
    assert visible[ns.hz] == {ns.hz_firm.pk, ns.hz_firm2.pk}
    assert visible[ns.nb] == {ns.nb_firm.pk}
    assert visible[ns.hz_enterprise] == {ns.hz_firm.pk}
    assert visible[ns.province] == {ns.hz_firm.pk, ns.hz_firm2.pk, ns.nb_firm.pk}


# --- batches ---------------------------------------------------------------------------------------------


def test_batch_is_all_or_nothing_and_reports_each_problem(two_cities):
    ns = two_cities
    items = [
        {"enterprise": ns.hz_firm.pk, "date": "2020-02-10", **data()},
        {"uscc": ns.hz_firm2.uscc, "date": "2020-02-10", **data(utilisation="3")},
        {"enterprise": ns.nb_firm.pk, "date": "2020-02-10", **data()},  # Ningbo: outside a Hangzhou scope
        {"enterprise": ns.hz_firm.pk, "date": "2020-02-10", **data()},  # the same day twice
        {"date": "2020-02-31", **data()},
    ]
    result = services.submit_batch(ns.hz, items, Source.API, now=at(DAY, 9))
    assert not result.applied and not result.outcomes
    assert [(i, p.field, p.code) for i, p in result.problems] == [
        (1, "utilisation", "utilisation_range"),
        (2, "enterprise", "enterprise_scope"),
        (3, "date", "duplicate_report"),
        (4, "enterprise", "enterprise_required"),
        (4, "date", "date"),
    ]
    assert not DailyReport.objects.exists() and not DirtyDay.objects.exists() and audits() == 0


def test_batch_applies_creates_corrections_and_unchanged_in_one_go(two_cities):
    ns = two_cities
    services.submit(ns.hz, ns.hz_firm, DAY, data(), Source.WEB, now=at(DAY, 9))
    services.submit(ns.hz, ns.hz_firm2, DAY, data(), Source.WEB, now=at(DAY, 9))
    items = [
        {"enterprise": ns.hz_firm.pk, "date": DAY, **data()},  # unchanged
        {"uscc": "９１" + ns.hz_firm2.uscc[2:].lower(), "date": DAY, **data(utilisation="0.5")},  # corrected
        {"enterprise": ns.hz_firm.pk, "date": DAY - dt.timedelta(days=1), **data()},  # created, late
    ]
    result = services.submit_batch(ns.hz, items, Source.API, now=at(DAY, 10))
    assert result.applied
    assert [(o.index, o.status, o.report.version) for o in result.outcomes] == [
        (0, services.UNCHANGED, 1),
        (1, services.CORRECTED, 2),
        (2, services.CREATED, 1),
    ]
    assert result.outcomes[2].report.late
    assert audits() == 4  # two first versions, one correction, one new report
    assert set(DirtyDay.objects.values_list("date", flat=True)) == {DAY, DAY - dt.timedelta(days=1)}


# --- the race -------------------------------------------------------------------------------------------


def _race(work, n: int = 2) -> list:
    """Run ``work(i)`` in n threads released together, each on its own connection; returns the errors."""
    barrier = threading.Barrier(n)
    errors: list = []

    def run(i):
        try:
            barrier.wait()
            work(i)
        except Exception as e:  # noqa: BLE001 - collected and asserted on
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_end_as_one_report_and_two_versions(make_user, make_enterprise):
    firm = make_enterprise("330106")
    user = make_user(Role.TASKFORCE, "330100")
    now = at(DAY, 9)
    for round_ in range(3):  # several rounds: the interleaving differs from run to run
        day = DAY - dt.timedelta(days=round_)
        errors = _race(
            lambda i, day=day: services.submit(
                user, firm, day, data(staff_on_duty=50 + i), Source.API, now=now
            )
        )
        assert errors == []
        report = DailyReport.objects.get(enterprise=firm, date=day)
        assert report.version == 2
        assert list(DailyReportVersion.objects.filter(report=report).values_list("version", flat=True)) == [
            1,
            2,
        ]
        # the latest version is the one the report holds
        latest = DailyReportVersion.objects.get(report=report, version=2)
        assert latest.data["staff_on_duty"] == report.staff_on_duty
    assert DailyReport.objects.count() == 3
    assert AuditRecord.objects.filter(model="dispatch.DailyReport").count() == 6


@pytest.mark.django_db(transaction=True)
def test_simultaneous_identical_submissions_make_one_version(make_user, make_enterprise):
    firm = make_enterprise("330106")
    user = make_user(Role.TASKFORCE, "330100")
    errors = _race(lambda i: services.submit(user, firm, DAY, data(), Source.API, now=at(DAY, 9)))
    assert errors == []
    assert DailyReport.objects.count() == 1 and DailyReportVersion.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_overlapping_batches(make_user, make_enterprise):
    firms = [make_enterprise("330106") for _ in range(20)]
    user = make_user(Role.TASKFORCE, "330100")

    def work(i):
        items = [{"enterprise": f.pk, "date": DAY, **data(staff_on_duty=10 + i)} for f in firms]
        result = services.submit_batch(user, items if i == 0 else items[::-1], Source.API, now=at(DAY, 9))
        assert result.applied

    assert _race(work) == []
    assert DailyReport.objects.count() == 20
    assert sorted(DailyReport.objects.values_list("version", flat=True)) == [2] * 20
    assert DailyReportVersion.objects.count() == 40


# --- the web form and the history page ---------------------------------------------------------------------


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


FORM = {
    "resumed": "1",
    "utilisation": "85",
    "staff_on_duty": "80",
    "staff_normal": "100",
    "staff_returned_outside": "",
    "inventory_days": "6.5",
    "output_value": "",
    "order_change": "-20",
    "blockers": ["labour", "materials"],
    "blocker_note": "缺芯片",
}


def test_enterprise_fills_in_today_and_gets_yesterday_prefilled(two_cities):
    ns = two_cities
    today = services.local_today()
    yesterday = today - dt.timedelta(days=1)
    services.submit(
        ns.hz_enterprise, ns.hz_firm, yesterday, data(utilisation="0.625", blockers=["物流"]), Source.WEB
    )
    c = client_for(ns.hz_enterprise)
    page = c.get(reverse("dispatch:report_today"))
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["utilisation"] == "62.5" and form.initial["blockers"] == ["logistics"]
    assert form.initial["date"] == today and "已按" in page.text
    r = c.post(reverse("dispatch:report_today"), {**FORM, "date": today.isoformat()})
    assert r.status_code == 302
    report = DailyReport.objects.get(enterprise=ns.hz_firm, date=today)
    assert report.utilisation == Decimal("0.850") and report.order_change == Decimal("-0.200")
    assert report.blockers == Blocker.LABOUR | Blocker.MATERIALS and report.source == Source.WEB
    again = c.get(r.url)
    assert "已提交" in again.text and again.context["current"] == report


def test_form_shows_service_errors_on_the_fields(two_cities):
    ns = two_cities
    c = client_for(ns.hz_enterprise)
    day = services.local_today().isoformat()
    r = c.post(
        reverse("dispatch:report_today"), {**FORM, "date": day, "resumed": "0", "staff_on_duty": "500"}
    )
    assert r.status_code == 200
    assert "未复工企业的产能利用率应为0" in str(r.context["form"].errors["utilisation"])
    assert "不应超过正常用工人数" in str(r.context["form"].errors["staff_on_duty"])
    assert not DailyReport.objects.exists()


def test_form_scope_is_a_404(two_cities):
    ns = two_cities
    county = client_for(ns.hz_county)
    assert county.get(reverse("dispatch:report_for", args=[ns.nb_firm.pk])).status_code == 404
    assert county.post(reverse("dispatch:report_for", args=[ns.nb_firm.pk]), FORM).status_code == 404
    assert county.get(reverse("dispatch:report_for", args=[ns.hz_firm.pk])).status_code == 200
    assert county.get(reverse("dispatch:report_history", args=[ns.nb_firm.pk])).status_code == 404
    own = client_for(ns.hz_enterprise)
    assert own.get(reverse("dispatch:report_for", args=[ns.hz_firm2.pk])).status_code == 404
    assert own.get(reverse("dispatch:report_history", args=[ns.hz_firm2.pk])).status_code == 404
    # a liaison fills in for its own enterprises; task forces start from the missing list
    liaison = client_for(ns.liaison_hz)
    day = (services.local_today() - dt.timedelta(days=2)).isoformat()
    r = liaison.post(
        reverse("dispatch:report_for", args=[ns.hz_firm.pk]) + f"?date={day}", {**FORM, "date": day}
    )
    assert r.status_code == 302 and DailyReport.objects.get().late
    assert client_for(ns.hz).get(reverse("dispatch:report_today")).url == reverse("dispatch:missing")


def test_history_lists_versions_with_constant_queries(two_cities):
    ns = two_cities
    c = client_for(ns.hz)
    url = reverse("dispatch:report_history", args=[ns.hz_firm.pk])

    def grow(days, start):
        for n in range(start, start + days):
            day = DAY - dt.timedelta(days=n)
            services.submit(ns.hz, ns.hz_firm, day, data(), Source.WEB, now=at(DAY, 9))
            services.submit(
                ns.liaison_hz, ns.hz_firm, day, data(staff_on_duty=81), Source.API, now=at(DAY, 10)
            )

    counts = []
    for days, start in ((2, 0), (20, 2)):
        grow(days, start)
        c.get(url)
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(url)
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    assert len(r.context["rows"]) == 22 and r.context["rows"][0]["versions"][0]["changed"] == ["到岗人数"]
    assert "2 个版本" in r.text
