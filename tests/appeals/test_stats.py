"""Appeal statistics on hand-built sets (figures worked out by hand), the page, and the .xlsx export."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from contextlib import contextmanager
from unittest import mock
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gulian.appeals import services, stats
from gulian.appeals.filters import AppealFilter
from gulian.appeals.models import Appeal
from gulian.core.models import Role

SH = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)


def at(day: str, hm: str = "09:00") -> dt.datetime:
    """A Shanghai time, e.g. at("2024-03-04", "09:00") (March 2024 has no holidays)."""
    return dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=SH)


@contextmanager
def clock(moment: dt.datetime):
    """The services see ``moment`` as now (accepted_at, resolved_at … are stamped with it)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def world(two_cities, make_user):
    w = two_cities
    w.xihu_transport = make_user(Role.HANDLER, "330106", department="transport")
    w.xihu_hrss = make_user(Role.HANDLER, "330106", department="hrss")
    w.xihu_finance = make_user(Role.HANDLER, "330106", department="finance")
    w.nb_hrss = make_user(Role.HANDLER, "330203", department="hrss")
    w.hz_enterprise.enterprise = w.hz_firm
    w.hz_enterprise.save()
    return w


def file(w, firm, category="logistics", when=None, **kw) -> Appeal:
    n = next(_n)
    return services.submit(w.admin, enterprise=firm, title=f"统计诉求{n}", category=category, at=when,
                           text=f"第{n}号：{category}方面的困难，编号{n * 7919}，请协调解决", **kw).appeal


@pytest.fixture
def handbuilt(world):
    """Five appeals in the week of Monday 2024-03-04, worked through at known times.

    a1 Mon 09:00 → accepted 11:00 (2 h) → resolved Tue 09:00 (24 h) → rated 5
    a2 Mon 10:00 → accepted 15:00 (5 h) → resolved 16:00 (6 h) → rated 3
    a3 Fri 17:00 → accepted Mon 09:00 (64 h; on working days 7 h + 9 h = 16 h) → still accepted
    a4 Mon 09:30, Ningbo, labour → never touched
    a5 Mon 09:40, finance → escalated at 12:00 to the Hangzhou task force, never accepted
    """
    h = world.xihu_transport
    a1 = file(world, world.hz_firm, "logistics", at("2024-03-04", "09:00"))
    a2 = file(world, world.hz_firm, "logistics", at("2024-03-04", "10:00"))
    a3 = file(world, world.hz_firm, "logistics", at("2024-03-08", "17:00"))
    a4 = file(world, world.nb_firm, "labour", at("2024-03-04", "09:30"))
    a5 = file(world, world.hz_firm, "finance", at("2024-03-04", "09:40"))
    with clock(at("2024-03-04", "11:00")):
        services.accept(h, a1)
    with clock(at("2024-03-04", "15:00")):
        services.accept(h, a2)
    with clock(at("2024-03-04", "16:00")):
        services.resolve(h, a2, "已协调")
    with clock(at("2024-03-05", "09:00")):
        services.resolve(h, a1, "已解决")
    with clock(at("2024-03-11", "09:00")):
        services.accept(h, a3)
    with clock(at("2024-03-04", "12:00")):
        services.escalate(world.xihu_finance, a5, "需市级协调")
    with clock(at("2024-03-06", "10:00")):
        services.confirm(world.hz_enterprise, a1, 5)
        services.confirm(world.hz_enterprise, a2, 3)
    return [a1, a2, a3, a4, a5]


def test_percentile_and_working_days_by_hand():
    assert stats.percentile([2, 5, 64], 50) == 5
    assert stats.percentile([2, 5, 64], 90) == pytest.approx(52.2)  # 5 + 0.8 × 59
    assert stats.percentile([], 50) is None and stats.percentile([7], 90) == 7
    # Friday 17:00 → Monday 09:00: the weekend does not count
    assert stats.working_days(at("2024-03-08", "17:00"), at("2024-03-11", "09:00")) == pytest.approx(16 / 24)
    # the 2024 Spring Festival holiday (10–17 Feb) does not count; Sunday 4 Feb and Sunday 18 Feb were workdays
    assert stats.working_days(at("2024-02-09", "00:00"), at("2024-02-18", "12:00")) == pytest.approx(1.5)


def test_durations_rates_and_satisfaction_by_hand(handbuilt, world):
    now = at("2024-03-11", "10:00")
    s = stats.summarize(Appeal.objects.restrict(world.province, "view"), base_prefix="33", now=now)
    assert s.total == 5 and s.open == 3 and s.done == 2
    # time to accept: 2 h, 5 h, 64 h
    assert s.accept.count == 3
    assert s.accept.median_hours == pytest.approx(5)
    assert s.accept.p90_hours == pytest.approx(52.2)
    assert s.accept.median_workdays == pytest.approx(5 / 24)
    assert s.accept.p90_workdays == pytest.approx((5 + 0.8 * 11) / 24)
    # time to resolve: 24 h (a1), 6 h (a2)
    assert (s.resolve.count, s.resolve.median_hours, s.resolve.p90_hours) == (2, pytest.approx(15), pytest.approx(22.2))
    # satisfaction
    assert s.mean_rating == pytest.approx(4) and s.rated == 2
    assert s.ratings == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    # overdue at 2024-03-11 10:00: a4 (accept due end of 03-05) and a5 (re-routed 03-04 12:00, same deadline)
    assert s.overdue == 2 and s.overdue_rate == pytest.approx(0.4)
    assert s.escalated == 1 and s.escalation_rate == pytest.approx(0.2)
    cats = {r.key: r.total for r in s.by_category}
    assert cats["logistics"] == 3 and cats["labour"] == 1 and cats["finance"] == 1 and cats["energy"] == 0
    assert [r.label for r in s.by_category][:2] == ["物流运输", "用工"]
    # by region under the province: the cities
    assert [(r.key, r.label, r.total) for r in s.by_region] == [("3301", "杭州市", 4), ("3302", "宁波市", 1)]
    assert s.weekly == [(dt.date(2024, 3, 4), 5)]
    # answered late counts as overdue ever: a1 answered after its resolve deadline would count; here none did
    later = stats.summarize(Appeal.objects.all(), now=at("2024-04-30", "10:00"))
    assert later.overdue == 3  # now a3 (accepted, resolve due 2024-03-15) is past due as well


def test_region_breakdown_follows_the_scope(handbuilt, world):
    hz = stats.summarize(Appeal.objects.restrict(world.hz, "view"), base_prefix="3301")
    assert [(r.key, r.total) for r in hz.by_region] == [("330106", 4)]
    nation = stats.summarize(Appeal.objects.all(), base_prefix="")
    assert [(r.key, r.label, r.total) for r in nation.by_region] == [("33", "浙江省", 5)]


def test_weekly_volume_fills_empty_weeks(world):
    file(world, world.hz_firm, when=at("2024-03-05"))
    file(world, world.hz_firm, when=at("2024-03-10", "23:30"))  # Sunday night, local time: still that week
    file(world, world.hz_firm, when=at("2024-03-20"))
    s = stats.summarize(Appeal.objects.all())
    assert s.weekly == [(dt.date(2024, 3, 4), 2), (dt.date(2024, 3, 11), 0), (dt.date(2024, 3, 18), 1)]


def test_answered_after_the_deadline_counts_as_overdue(world):
    a = file(world, world.hz_firm, "logistics", at("2024-03-04", "09:00"))  # resolve due end of 03-11
    with clock(at("2024-03-04", "10:00")):
        services.accept(world.xihu_transport, a)
    with clock(at("2024-03-13", "10:00")):
        services.resolve(world.xihu_transport, a, "迟复")
    s = stats.summarize(Appeal.objects.all(), now=at("2024-03-14"))
    assert (s.total, s.overdue) == (1, 1)


def test_stats_page_for_the_scope_with_filters(handbuilt, world, client):
    client.force_login(world.province)
    r = client.get(reverse("appeals:stats"))
    assert r.status_code == 200
    s = r.context["s"]
    assert s.total == 5 and s.accept.median_hours == pytest.approx(5)
    body = r.content.decode()
    assert 'id="chart-category"' in body and "vendor/echarts.min.js" in body and 'id="stats-data"' in body
    assert 'id="by-category"' in body and 'id="timeliness"' in body  # the table alternative
    assert r.context["charts"]["region"]["labels"] == ["杭州市", "宁波市"]
    # the same filters as the board
    only = client.get(reverse("appeals:stats"), {"category": "logistics"}).context["s"]
    assert only.total == 3 and only.accept.count == 3
    nb = client.get(reverse("appeals:stats"), {"region": "3302"}).context["s"]
    assert nb.total == 1 and [(x.key, x.total) for x in nb.by_region] == [("330203", 1)]
    # a Hangzhou city user sees Hangzhou's only, by county
    client.force_login(world.hz)
    hz = client.get(reverse("appeals:stats")).context["s"]
    assert hz.total == 4 and [x.key for x in hz.by_region] == ["330106"]
    # a county handler: their department's appeals in their county
    client.force_login(world.xihu_transport)
    assert client.get(reverse("appeals:stats")).context["s"].total == 3


def test_stats_query_count_does_not_grow_with_rows(world, client):
    client.force_login(world.province)
    for i in range(5):
        file(world, world.hz_firm if i % 2 else world.nb_firm, "logistics" if i % 2 else "labour")
    client.get(reverse("appeals:stats"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("appeals:stats"))
    for i in range(25):
        a = file(world, world.hz_firm, "logistics")
        if i % 5 == 0:
            services.accept(world.xihu_transport, a)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("appeals:stats")).context["s"].total == 30
    assert len(many) == len(few)


def test_export_has_the_rows_and_the_summary_sheets(handbuilt, world, client):
    client.force_login(world.province)
    r = client.get(reverse("appeals:stats_export"), {"status": ["accepted", "submitted", "confirmed"]})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    data = b"".join(r.streaming_content)
    sheets = pl.read_excel(io.BytesIO(data), sheet_id=0, engine="calamine")
    assert list(sheets) == ["诉求清单", "按类别", "按地区", "时效"]
    rows = sheets["诉求清单"]
    assert rows.height == 5 and set(rows["受理编号"].to_list()) == {a.tracking_number for a in handbuilt}
    by_number = {row["受理编号"]: row for row in rows.iter_rows(named=True)}
    a1 = handbuilt[0]
    assert by_number[a1.tracking_number]["受理时间"] == "2024-03-04 11:00"
    assert by_number[a1.tracking_number]["满意度"] == 5
    cats = {row["诉求类别"]: row["诉求数"] for row in sheets["按类别"].iter_rows(named=True)}
    assert cats["物流运输"] == 3 and cats["用工"] == 1
    regions = {row["地市"]: row["诉求数"] for row in sheets["按地区"].iter_rows(named=True)}
    assert regions == {"杭州市": 4, "宁波市": 1}
    timely = {row["指标"]: row["数值"] for row in sheets["时效"].iter_rows(named=True)}
    assert timely["受理时长：中位数"] == pytest.approx(5)
    assert timely["办结时长：中位数"] == pytest.approx(15)
    assert timely["平均满意度"] == pytest.approx(4)
    # filtered: only the logistics ones
    r = client.get(reverse("appeals:stats_export"), {"category": "logistics"})
    rows = pl.read_excel(io.BytesIO(b"".join(r.streaming_content)), sheet_name="诉求清单", engine="calamine")
    assert rows.height == 3


def test_export_respects_the_scope(handbuilt, world, client):
    client.force_login(world.nb_hrss)
    r = client.get(reverse("appeals:stats_export"))
    rows = pl.read_excel(io.BytesIO(b"".join(r.streaming_content)), sheet_name="诉求清单", engine="calamine")
    assert rows["受理编号"].to_list() == [handbuilt[3].tracking_number]


def test_filter_is_shared_with_stats(handbuilt, world):
    f = AppealFilter.from_params({"escalated": "true"})
    s = stats.summarize(f.apply(Appeal.objects.all()))
    assert s.total == 1 and s.escalated == 1
