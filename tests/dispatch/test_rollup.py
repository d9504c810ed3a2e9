"""Daily roll-ups: cell arithmetic, chains and segments, power sums, incremental refresh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gulian.core.models import Role
from gulian.dispatch import metrics, rollup
from gulian.dispatch.models import Blocker, ChainDay, DirtyDay, RegionDay
from gulian.registry.models import Chain, MemberRole, Membership, Segment
from tests.dispatch.metrics_fixtures import D, day, reading, readings, report

pytestmark = pytest.mark.django_db

L, M = Blocker.LABOUR.value, Blocker.LOGISTICS.value  # 1, 4


@pytest.fixture
def firms(make_enterprise):
    """A (Xihu, large, 规上, output 1000), B (Xihu, small, 规下, 3000), C (Ningbo, medium, 规上, 2000),
    E (Xiaoshan 330110, no scale, never reports)."""
    a = make_enterprise("330106", "甲", scale="large", above_designated_size=True, baseline_output=Decimal(1000))
    b = make_enterprise("330106", "乙", scale="small", baseline_output=Decimal(3000))
    c = make_enterprise("330203", "丙", scale="medium", above_designated_size=True, baseline_output=Decimal(2000))
    e = make_enterprise("330110", "戊")
    report(a, util="0.9", on_duty=90, normal=100, blockers=L | M)
    report(b, util="0.5", on_duty=20, normal=40, blockers=M)
    report(c, resumed=False, util="0", on_duty=0, normal=50, blockers=Blocker.ORDERS, late=True)
    return a, b, c, e


def cell(model=RegionDay, **lookup):
    return model.objects.get(date=D, **lookup)


def test_region_cells(firms):
    rollup.recompute(D)
    assert RegionDay.objects.filter(date=D).count() == 4
    a = cell(county="330106", scale="large", above_size=True)
    assert (a.expected, a.reporting, a.late, a.resumed, a.recovered) == (1, 1, 0, 1, 1)
    assert (a.output_weight, a.weighted_utilisation, a.staff_on_duty, a.staff_normal) == (1000, 900, 90, 100)
    assert a.blockers == {"1": 1, "4": 1}
    b = cell(county="330106", scale="small", above_size=False)
    assert (b.resumed, b.recovered, b.weighted_utilisation) == (1, 0, 1500)  # 0.5 < 0.8: resumed, not recovered
    c = cell(county="330203")
    assert (c.late, c.resumed, c.recovered, c.weighted_utilisation, c.blockers) == (1, 0, 0, 0, {"32": 1})
    e = cell(county="330110")
    assert (e.scale, e.expected, e.reporting) == ("", 1, 0)


def test_threshold_setting(firms, settings):
    settings.RECOVERY_THRESHOLD = 0.5
    rollup.recompute(D)
    assert cell(county="330106", scale="small").recovered == 1  # 0.5 ≥ 0.5


def test_chain_and_segment_cells(firms):
    a, b, c, e = firms
    chain = Chain.objects.create(code="auto", name="汽车", region_id="330000")
    up = Segment.objects.create(chain=chain, order=1, name="零部件")
    Membership.objects.create(enterprise=a, chain=chain, segment=None, role=MemberRole.OWNER)
    Membership.objects.create(enterprise=b, chain=chain, segment=up, role=MemberRole.CORE)
    Membership.objects.create(enterprise=e, chain=chain, segment=up, role=MemberRole.SUPPLIER)
    other = Chain.objects.create(code="ic", name="集成电路", region_id="330000")
    Membership.objects.create(enterprise=a, chain=other, role=MemberRole.SUPPLIER)  # a firm in two chains
    rollup.recompute(D)
    rows = {(r.chain_id, r.segment_id, r.county): r for r in ChainDay.objects.filter(date=D)}
    assert set(rows) == {(chain.pk, None, "330106"), (chain.pk, up.pk, "330106"), (chain.pk, up.pk, "330110"),
                         (other.pk, None, "330106")}  # fmt: skip
    owner = rows[(chain.pk, None, "330106")]
    assert (owner.expected, owner.reporting, owner.recovered, owner.weighted_utilisation) == (1, 1, 1, 900)
    assert rows[(chain.pk, up.pk, "330110")].reporting == 0 and rows[(chain.pk, up.pk, "330110")].expected == 1
    assert rows[(other.pk, None, "330106")].reporting == 1


def test_power_sums_only_firms_with_a_baseline(firms):
    a, b, c, e = firms
    readings(a, dt.date(2019, 2, 17), [100] * 7)  # baseline 100
    reading(a, D, 80)
    reading(b, dt.date(2019, 12, 5), 250)  # window baseline 250
    reading(b, D, 125)
    reading(e, D, 999)  # no baseline: left out of both sums
    rollup.recompute(D)
    assert (cell(county="330106", scale="large").kwh, cell(county="330106", scale="large").kwh_baseline) == (80, 100)
    assert (cell(county="330106", scale="small").kwh, cell(county="330106", scale="small").kwh_baseline) == (125, 250)
    assert (cell(county="330110").kwh, cell(county="330110").kwh_baseline) == (0, 0)


def test_refresh_dirty_recomputes_marked_days_only(firms, make_user):
    a, b, c, e = firms
    report(a, day(-1), util="0.4")
    rollup.recompute(D)
    rollup.recompute(day(-1))
    before = {(r.pk, r.reporting) for r in RegionDay.objects.filter(date=day(-1))}
    report(e, D, util="1.0")  # a new report for D, as a submission would write it
    rollup.mark_dirty(D)
    assert rollup.refresh_dirty() == [D]
    assert not DirtyDay.objects.exists()
    assert cell(county="330110").reporting == 1
    assert {(r.pk, r.reporting) for r in RegionDay.objects.filter(date=day(-1))} == before  # untouched
    assert rollup.refresh_dirty() == []


def test_a_day_re_marked_during_its_refresh_stays_dirty(firms, monkeypatch):
    rollup.mark_dirty(D)
    original = rollup.recompute

    def recompute_while_a_writer_marks(d, **kw):
        original(d, **kw)
        DirtyDay.objects.filter(date=d).update(marked_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))

    monkeypatch.setattr(rollup, "recompute", recompute_while_a_writer_marks)
    assert rollup.refresh_dirty() == [D]
    assert DirtyDay.objects.filter(date=D).exists()  # picked up by the next refresh


def test_rebuild_and_overview_reads_roll_ups_only(firms, make_user, django_assert_max_num_queries):
    assert rollup.rebuild(day(-7), D) == 8
    province = make_user(Role.TASKFORCE, "330000")
    with django_assert_max_num_queries(4):  # refresh check, ensure_day, region, roll-up rows
        ov = metrics.overview(province, D)
    assert (ov.expected, ov.reporting) == (4, 3)


def _all_rows(model) -> list[tuple]:
    fields = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    return sorted(tuple(str(v) for v in row) for row in model.objects.values_list(*fields))


def test_rebuild_of_a_range_equals_recomputing_each_day(firms):
    """Ranges share one computation (rebuild); a single day (refresh) must give the very same rows."""
    a, b, c, e = firms
    chain = Chain.objects.create(code="auto", name="汽车", region_id="330000")
    up = Segment.objects.create(chain=chain, order=1, name="零部件")
    Membership.objects.create(enterprise=a, chain=chain, role=MemberRole.OWNER)
    Membership.objects.create(enterprise=b, chain=chain, segment=up, role=MemberRole.CORE)
    Membership.objects.create(enterprise=c, chain=chain, segment=up, role=MemberRole.SUPPLIER)
    for offset in (-3, -2, 1, 2):
        report(a, day(offset), util="0.7", blockers=L)
        report(c, day(offset), resumed=offset > 0, util="0.85", blockers=M | L)
    report(e, day(1), util="0.95")
    readings(a, dt.date(2019, 2, 12), [100.25, 90.5, 110, 95.75, 101, 99.5, 103, 97, 100, 104, 96, 98.5, 102, 99])
    readings(b, dt.date(2019, 12, 5), [250.5, 260.25])  # window baseline only
    readings(c, dt.date(2019, 2, 14), [300, 310.5, 290])  # too few last-year days: window missing too → none
    for offset in range(-3, 3):
        for firm, kwh in ((a, 80.5 + offset), (b, 125.25 - offset), (c, 200), (e, 50)):
            reading(firm, day(offset), kwh)
    assert rollup.rebuild(day(-3), day(2)) == 6
    ranged = _all_rows(RegionDay), _all_rows(ChainDay)
    assert RegionDay.objects.filter(date=day(-3), kwh__gt=0).exists()
    assert ChainDay.objects.filter(date=day(1), kwh_baseline__gt=0).exists()
    RegionDay.objects.all().delete()
    ChainDay.objects.all().delete()
    for offset in range(-3, 3):
        rollup.mark_dirty(day(offset))
    assert len(rollup.refresh_dirty()) == 6
    assert (_all_rows(RegionDay), _all_rows(ChainDay)) == ranged
