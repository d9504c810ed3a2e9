"""Metrics over the roll-ups: rates, changes, breakdowns, series, and scope (404 outside)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from gulian.core.models import Role
from gulian.dispatch import metrics, rollup
from gulian.registry.models import Chain, MemberRole, Membership, Segment
from tests.dispatch.metrics_fixtures import D, day, reading, readings, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_enterprise, make_user):
    """Xihu: A (large 规上, output 1000), B (small, 3000); Ningbo: C (medium 规上, 2000); Xiaoshan: E.

    D:    A resumed 0.9 (90/100 on duty; 用工+物流), B resumed 0.5 (20/40; 物流), C not resumed (0/50; 订单不足)
    D−1:  A resumed 0.5 (50/100), B not resumed (0/40)
    D−7:  A not resumed (0/100), B not resumed (0/40)
    Power on D: A 80 kWh against last year's 100; B 125 against a window mean of 250.
    """

    class W:
        pass

    w = W()
    w.a = make_enterprise("330106", "甲", scale="large", above_designated_size=True, baseline_output=Decimal(1000))
    w.b = make_enterprise("330106", "乙", scale="small", baseline_output=Decimal(3000))
    w.c = make_enterprise("330203", "丙", scale="medium", above_designated_size=True, baseline_output=Decimal(2000))
    w.e = make_enterprise("330110", "戊")
    report(w.a, util="0.9", on_duty=90, normal=100, blockers=1 | 4)
    report(w.b, util="0.5", on_duty=20, normal=40, blockers=4)
    report(w.c, resumed=False, util="0", on_duty=0, normal=50, blockers=32, late=True)
    report(w.a, day(-1), util="0.5", on_duty=50, normal=100)
    report(w.b, day(-1), resumed=False, util="0", on_duty=0, normal=40)
    report(w.a, day(-7), resumed=False, util="0", on_duty=0, normal=100)
    report(w.b, day(-7), resumed=False, util="0", on_duty=0, normal=40)
    readings(w.a, dt.date(2019, 2, 17), [100] * 7)
    reading(w.a, D, 80)
    reading(w.b, dt.date(2019, 12, 5), 250)
    reading(w.b, D, 125)
    rollup.mark_dirty(D, day(-1), day(-7))
    w.province = make_user(Role.TASKFORCE, "330000")
    w.xihu = make_user(Role.TASKFORCE, "330106")
    w.hz = make_user(Role.TASKFORCE, "330100")
    w.admin = make_user(Role.ADMIN)
    return w


def test_province_overview_arithmetic(world):
    ov = metrics.overview(world.province, D)
    assert (ov.expected, ov.reporting, ov.late, ov.resumed, ov.recovered) == (4, 3, 1, 2, 1)
    assert ov.reporting_rate == 0.75  # 3 / 4
    assert ov.resumption_rate == pytest.approx(2 / 3)
    assert ov.recovery_rate == pytest.approx(1 / 3)
    assert ov.utilisation == pytest.approx(0.4)  # (1000×0.9 + 3000×0.5 + 2000×0) / 6000 = 2400 / 6000
    assert ov.on_duty_rate == pytest.approx(110 / 190)
    assert ov.power_index == pytest.approx(100 * 205 / 350)  # (80 + 125) / (100 + 250)
    assert ov.blockers == {1: 1, 4: 2, 32: 1}
    assert ov.region == "330000" and ov.region_name


def test_county_user_sees_its_county_only(world):
    ov = metrics.overview(world.xihu, D)
    assert (ov.expected, ov.reporting, ov.resumed, ov.recovered) == (2, 2, 2, 1)
    assert ov.utilisation == pytest.approx(0.6)  # 2400 / 4000
    assert ov.on_duty_rate == pytest.approx(110 / 140)
    assert ov.blockers == {1: 1, 4: 2}
    for region in ("330200", "330000", "330100", "999999"):  # Ningbo, the province, the city, nonsense
        with pytest.raises(Http404):
            metrics.overview(world.xihu, D, region=region)
    with pytest.raises(Http404):
        metrics.breakdown(world.xihu, D, region="330203")
    with pytest.raises(Http404):
        metrics.series(world.xihu, day(-7), D, region="330200")
    # a city user may narrow to its county
    assert metrics.overview(world.hz, D, region="330106").expected == 2


def test_day_on_day_and_week_on_week(world):
    ov = metrics.overview(world.xihu, D)
    # resumption: D 2/2 = 1.0; D−1 1/2 = 0.5; D−7 0/2 = 0
    assert ov.day_on_day["resumption_rate"] == pytest.approx(0.5)
    assert ov.week_on_week["resumption_rate"] == pytest.approx(1.0)
    # recovery: D 1/2; D−1 0/2 (0.5 < 0.8); D−7 0
    assert ov.day_on_day["recovery_rate"] == pytest.approx(0.5)
    # utilisation: D 0.6; D−1 (1000×0.5 + 3000×0) / 4000 = 0.125 → +0.475
    assert ov.day_on_day["utilisation"] == pytest.approx(0.475)
    # on duty: D 110/140; D−1 50/140 → +60/140
    assert ov.day_on_day["on_duty_rate"] == pytest.approx(60 / 140)
    assert ov.week_on_week["on_duty_rate"] == pytest.approx(110 / 140)
    # reporting rate unchanged (2/2 each day); power index: no readings on D−1, so no change
    assert ov.day_on_day["reporting_rate"] == 0
    assert ov.day_on_day["power_index"] is None


def test_changes_are_none_without_the_earlier_day(world):
    ov = metrics.overview(world.xihu, day(-1))  # D−2 and D−8 were never computed
    assert set(ov.day_on_day.values()) == {None} and set(ov.week_on_week.values()) == {None}


def test_breakdown_by_region_levels(world):
    rows = metrics.breakdown(world.province, D)
    assert [(r.key, r.label, r.expected, r.reporting) for r in rows] == [
        ("330100", "杭州市", 3, 2),
        ("330200", "宁波市", 1, 1),
    ]
    city = metrics.breakdown(world.province, D, region="330100")
    assert [(r.key, r.level, r.expected) for r in city] == [("330106", "county", 2), ("330110", "county", 1)]
    county = metrics.breakdown(world.province, D, region="330106")
    assert [(r.key, r.expected) for r in county] == [("330106", 2)]
    nationwide = metrics.breakdown(world.admin, D)
    assert [(r.key, r.expected) for r in nationwide] == [("330000", 4)]


def test_breakdown_by_scale_and_size(world):
    by_scale = metrics.breakdown(world.province, D, by="scale")
    assert [(r.key, r.expected, r.reporting) for r in by_scale] == [
        ("large", 1, 1),
        ("medium", 1, 1),
        ("small", 1, 1),
        ("", 1, 0),
    ]
    by_size = metrics.breakdown(world.province, D, by="above_size")
    assert [(r.key, r.expected, r.resumed) for r in by_size] == [("true", 2, 1), ("false", 2, 1)]
    only_above = metrics.overview(world.province, D, above_size=True)
    assert (only_above.expected, only_above.resumed) == (2, 1)
    with pytest.raises(ValidationError):
        metrics.breakdown(world.province, D, by="colour")


def test_chain_and_segment_slices(world):
    chain = Chain.objects.create(code="auto", name="汽车", region_id="330000")
    seg1 = Segment.objects.create(chain=chain, order=1, name="零部件")
    seg2 = Segment.objects.create(chain=chain, order=2, name="整车")
    Membership.objects.create(enterprise=world.a, chain=chain, segment=seg2, role=MemberRole.OWNER)
    Membership.objects.create(enterprise=world.b, chain=chain, segment=seg1, role=MemberRole.CORE)
    Membership.objects.create(enterprise=world.c, chain=chain, segment=seg1, role=MemberRole.CORE)
    rollup.mark_dirty(D)
    ov = metrics.overview(world.province, D, chain="auto")
    assert (ov.expected, ov.reporting, ov.resumed) == (3, 3, 2)
    seg = metrics.overview(world.province, D, chain=chain.pk, segment=seg1.pk)
    assert (seg.expected, seg.resumed, seg.recovered) == (2, 1, 0)
    rows = metrics.breakdown(world.province, D, by="segment", chain="auto")
    assert [(r.label, r.expected) for r in rows] == [("零部件", 2), ("整车", 1)]
    chains = metrics.breakdown(world.province, D, by="chain")
    assert [(r.key, r.expected, r.reporting) for r in chains] == [("auto", 3, 3)]
    assert metrics.overview(world.xihu, D, chain="auto").expected == 2  # the chain's Xihu members only
    with pytest.raises(Http404):
        metrics.overview(world.province, D, chain="no-such-chain")


def test_series_fills_every_day(world):
    points = metrics.series(world.xihu, day(-7), D)
    assert [p.date for p in points] == [day(k) for k in range(-7, 1)]
    assert [p.resumption_rate for p in points] == [0.0, None, None, None, None, None, 0.5, 1.0]
    assert points[-1].power_index == pytest.approx(100 * 205 / 350)
    with pytest.raises(ValidationError):
        metrics.series(world.xihu, D, day(-1))


def test_enterprise_users_have_no_metrics(world, make_user):
    firm_user = make_user(Role.ENTERPRISE, "330106", enterprise=world.a)
    with pytest.raises(Http404):
        metrics.overview(firm_user, D)


def test_to_dict_holds_rates_and_changes(world):
    data = metrics.overview(world.xihu, D).to_dict()
    assert data["reporting"] == 2 and data["resumption_rate"] == 1.0
    assert data["date"] == "2020-02-20" and data["blockers"] == {1: 1, 4: 2}
    assert data["day_on_day"]["resumption_rate"] == pytest.approx(0.5)
