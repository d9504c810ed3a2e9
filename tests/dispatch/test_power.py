"""Power data: baselines (same period last year vs pre-disruption window), index, anomalies, import."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import xlsxwriter

from gulian.core.models import AuditRecord, Role
from gulian.dispatch import power
from gulian.dispatch.models import DirtyDay, PowerMeter, PowerReading
from gulian.dispatch.power_io import affected_days, import_power, parse_date_cell
from gulian.registry.io.access import SYSTEM
from tests.dispatch.metrics_fixtures import D, reading, readings, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def firms(make_enterprise):
    """Four Xihu firms P, Q, R, S with hand-made power histories (D = 2020-02-20)."""
    p, q, r, s = (make_enterprise("330106", f"电力{n}公司") for n in "PQRS")
    # P: 6 of the 7 days 2019-02-17..23 (centred on 2019-02-20): 100+110+90+100+120+80 = 600 → mean 100.
    # Its window readings (mean 500) are ignored because last year has ≥ 4 days.
    readings(p, dt.date(2019, 2, 17), [100, 110, 90, 100, 120, 80])
    readings(p, dt.date(2019, 12, 1), [500, 500])
    # Q: only 3 days last year (< 4), so the window 2019-12-01..2020-01-10 counts:
    # 200 on 12-01 and 400 on 01-10 (both ends inclusive) → mean 300; 11-30 and 01-11 lie outside.
    readings(q, dt.date(2019, 2, 17), [60, 60, 60])
    reading(q, dt.date(2019, 12, 1), 200)
    reading(q, dt.date(2020, 1, 10), 400)
    reading(q, dt.date(2019, 11, 30), 9999)
    reading(q, dt.date(2020, 1, 11), 9999)
    # R: readings just outside the ±3-day period and none in the window → no baseline.
    reading(r, dt.date(2019, 2, 16), 50)
    reading(r, dt.date(2019, 2, 24), 50)
    # S: exactly 4 days last year, 2019-02-20..23: (10+20+30+40)/4 = 25.
    readings(s, dt.date(2019, 2, 20), [10, 20, 30, 40])
    return p, q, r, s


def test_baseline_from_last_year_or_window(firms):
    p, q, r, s = firms
    details = power.baseline_details([p.pk, q.pk, r.pk, s.pk], D)
    assert details[p.pk] == power.Baseline(100.0, "last_year")
    assert details[q.pk] == power.Baseline(300.0, "window")
    assert r.pk not in details
    assert details[s.pk] == power.Baseline(25.0, "last_year")
    # the queryset form (used by the roll-ups) gives the same figures
    from gulian.registry.models import Enterprise

    qs = Enterprise.objects.filter(pk__in=[p.pk, q.pk, r.pk, s.pk]).values("pk")
    assert power.baselines(qs, D) == {p.pk: 100.0, q.pk: 300.0, s.pk: 25.0}


def test_baseline_window_follows_settings(firms, settings):
    p, q, r, s = firms
    settings.POWER_BASELINE_WINDOW = "2019-11-30:2019-12-01"  # now 9999 and 200 → mean 5099.5
    assert power.baselines([q.pk], D) == {q.pk: 5099.5}


def test_last_year_period_of_29_february():
    assert power.last_year_period(dt.date(2020, 2, 29)) == (dt.date(2019, 2, 25), dt.date(2019, 3, 3))
    assert power.last_year_period(D) == (dt.date(2019, 2, 17), dt.date(2019, 2, 23))


def test_index_arithmetic(firms):
    p, q, r, s = firms
    reading(p, D, 85)  # 100 × 85 / 100 = 85
    reading(q, D, 240)  # 100 × 240 / 300 = 80
    reading(r, D, 50)  # no baseline → None
    # S has a baseline but no reading on D → None
    assert power.index([p.pk, q.pk, r.pk, s.pk], D) == {p.pk: 85.0, q.pk: 80.0, r.pk: None, s.pk: None}


def test_anomalies_compare_utilisation_with_index(firms, make_user, make_enterprise):
    p, q, r, s = firms
    reading(p, D, 85)
    report(p, util="0.9")  # 0.90 − 0.85 = 0.05 ≤ 0.3: consistent
    reading(q, D, 240)
    report(q, util="0.2")  # 0.20 − 0.80 = −0.60: the meter shows far more than reported
    report(s, util="1.0")  # no reading on D: cannot be compared
    reading(r, D, 50)
    report(r, util="0.1")  # no baseline: cannot be compared
    nb = make_enterprise("330203", "宁波电力公司")
    readings(nb, dt.date(2019, 2, 17), [100] * 7)
    reading(nb, D, 30)
    report(nb, util="1.2")  # 1.20 − 0.30 = 0.90
    province = make_user(Role.TASKFORCE, "330000")
    found = power.anomalies(province, D)
    assert [(a.name, round(a.gap, 6), a.power_index, a.utilisation) for a in found] == [
        ("宁波电力公司", 0.9, 30.0, 1.2),
        ("电力Q公司", -0.6, 80.0, 0.2),
    ]
    assert found[1].baseline == 300.0 and found[1].baseline_source == "window" and found[1].kwh == 240.0
    # scope: the Xihu task force does not see the Ningbo firm; asking for Ningbo is a 404
    xihu = make_user(Role.TASKFORCE, "330106")
    assert [a.name for a in power.anomalies(xihu, D)] == ["电力Q公司"]
    from django.http import Http404

    with pytest.raises(Http404):
        power.anomalies(xihu, D, region="330200")
    # a wider margin: only the 0.9 gap remains; exactly at the margin is not "more than"
    assert [a.name for a in power.anomalies(province, D, margin=0.6)] == ["宁波电力公司"]


# ---- import ---------------------------------------------------------------------------------------


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def _xlsx(rows: list[list]) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer)
    ws = wb.add_worksheet()
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_format)
            else:
                ws.write(r, c, value)
    wb.close()
    return buffer.getvalue()


def test_import_sums_meters_and_maps_them(make_enterprise):
    a = make_enterprise("330106", "甲")
    b = make_enterprise("330106", "乙")
    data = _csv(
        "用电数据（2020年2月）\n"  # a title row above the header is skipped
        "户号,统一社会信用代码,户名,日期,日用电量（千瓦时）\n"
        f"M1,{a.uscc},甲,2020-02-20,100\n"
        f"M2,{a.uscc},甲,2020/2/20,\"1,250.5\"\n"  # the enterprise's second meter: summed
        f"M3,{b.uscc},乙,2020年2月20日,７０\n"  # full-width digits
        "M3,,乙,20200221,80\n"  # the mapping from the row above serves this row
    )
    result = import_power(SYSTEM, data, "power.csv")
    assert result.ok and result.applied, [e.reason for e in result.errors]
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert dict(PowerMeter.objects.values_list("meter_id", "enterprise_id")) == {"M1": a.pk, "M2": a.pk, "M3": b.pk}
    got = {(r.enterprise_id, r.date): r.kwh for r in PowerReading.objects.all()}
    assert got == {(a.pk, D): Decimal("1350.50"), (b.pk, D): Decimal("70.00"), (b.pk, dt.date(2020, 2, 21)): Decimal("80.00")}
    assert set(DirtyDay.objects.values_list("date", flat=True)) == {D, dt.date(2020, 2, 21)}
    assert AuditRecord.objects.filter(model="dispatch.PowerReading", action="import_create").count() == 3
    assert AuditRecord.objects.filter(model="dispatch.PowerMeter", action="import_create").count() == 3
    # the same file again changes nothing; a corrected figure updates the day
    again = import_power(SYSTEM, data, "power.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    fixed = import_power(SYSTEM, _csv("户号,日期,用电量\nM3,2020-02-21,90\n"), "fix.csv")
    assert (fixed.created, fixed.updated) == (0, 1)
    assert PowerReading.objects.get(enterprise=b, date=dt.date(2020, 2, 21)).kwh == Decimal("90.00")


def test_import_with_a_separate_mapping_file_in_xlsx(make_enterprise):
    a = make_enterprise("330106", "甲")
    meters = _xlsx([["电表对照表"], ["户号", "信用代码", "企业名称"], [3301000001, a.uscc, "甲"]])
    data = _xlsx([["户号", "日期", "用电量"], [3301000001, D, 42.5], [3301000001, dt.date(2020, 2, 21), 40]])
    result = import_power(SYSTEM, data, "readings.xlsx", meters=(meters, "meters.xlsx"))
    assert result.ok and result.applied, [(e.row, e.column, e.reason) for e in result.errors]
    assert PowerMeter.objects.get().meter_id == "3301000001"  # Excel's number 3301000001.0 kept as an id
    assert sorted(PowerReading.objects.values_list("date", "kwh")) == [
        (D, Decimal("42.50")),
        (dt.date(2020, 2, 21), Decimal("40.00")),
    ]
    assert result.days == [D, dt.date(2020, 2, 21)]


def test_rejected_rows_of_the_mapping_file_stop_the_import(make_enterprise):
    a = make_enterprise("330106", "甲")
    meters = _csv(f"户号,统一社会信用代码\nM1,{a.uscc}\nM2,91330106MA27XA1B0X\n")  # row 3: bad check digit
    data = _csv("户号,日期,用电量\nM1,2020-02-20,10\n")
    result = import_power(SYSTEM, data, "r.csv", meters=(meters, "m.csv"))
    assert not result.applied and not result.dry_run
    assert [(e.row, e.column, e.code) for e in result.errors] == [(3, "[电表对照表] 统一社会信用代码", "uscc_checksum")]
    assert not PowerMeter.objects.exists() and not PowerReading.objects.exists()
    assert import_power(SYSTEM, data, "r.csv", meters=(meters, "m.csv"), partial=True).applied
    assert PowerReading.objects.get().kwh == Decimal("10.00")


def test_mapping_only_file_is_recognised(make_enterprise):
    a = make_enterprise("330106", "甲")
    result = import_power(SYSTEM, _csv(f"户号,统一社会信用代码\nX9,{a.uscc}\n"), "meters.csv")
    assert result.applied and result.created == 1
    assert PowerMeter.objects.get(meter_id="X9").enterprise_id == a.pk


def test_rejected_rows_are_reported_and_nothing_lands(make_enterprise, make_user):
    a = make_enterprise("330106", "甲")
    nb = make_enterprise("330203", "宁波")
    data = _csv(
        "户号,统一社会信用代码,日期,用电量\n"
        f"M1,{a.uscc},2020-02-20,100\n"  # fine
        "M9,,2020-02-20,5\n"  # row 3: meter not mapped
        f"M1,{a.uscc},2020-02-31,5\n"  # row 4: no such date
        f"M1,{a.uscc},2020-02-21,-5\n"  # row 5: negative
        f"M4,{nb.uscc},2020-02-20,5\n"  # row 6: Ningbo firm, outside a Xihu user's scope
        f"M1,{a.uscc},2020-02-20,7\n"  # row 7: the same meter and day twice
    )
    xihu = make_user(Role.TASKFORCE, "330106")
    result = import_power(xihu, data, "power.csv")
    assert not result.applied
    assert [(e.row, e.code) for e in result.errors] == [
        (3, "meter_unknown"),
        (4, "date"),
        (5, "negative"),
        (6, "out_of_scope"),
        (7, "duplicate"),
    ]
    assert "户号没有对应的企业" in result.errors[0].reason and " / " in result.errors[0].reason
    assert not PowerReading.objects.exists() and not PowerMeter.objects.exists()
    assert not DirtyDay.objects.exists()
    # partial: the good row lands; a day with a rejected meter row of the same firm does not
    partial = import_power(xihu, data, "power.csv", partial=True)
    assert partial.applied
    assert list(PowerReading.objects.values_list("enterprise_id", "date")) == []  # row 7 spoils 2020-02-20 of 甲
    assert any(e.code == "day_rejected" and e.row == 2 for e in partial.errors)


def test_missing_column_and_dry_run(make_enterprise):
    a = make_enterprise("330106", "甲")
    no_kwh = import_power(SYSTEM, _csv("户号,日期\nM1,2020-02-20\n"), "x.csv")
    assert [e.code for e in no_kwh.errors] == ["missing_column"]
    dry = import_power(SYSTEM, _csv(f"信用代码,日期,用电量\n{a.uscc},2020-02-20,12\n"), "x.csv", dry_run=True)
    assert dry.ok and not dry.applied and dry.created == 1
    assert not PowerReading.objects.exists()


def test_parse_date_cell_forms():
    for text in ("2020-02-20", "2020/2/20", "2020年2月20日", "20200220", "2020-02-20 00:00:00", "43881"):
        assert parse_date_cell(text) == D, text


def test_affected_days_follow_baselines(make_enterprise):
    from gulian.dispatch import rollup

    make_enterprise("330106")  # so that a recomputed day has roll-up rows
    rollup.recompute(dt.date(2020, 2, 21))
    rollup.recompute(dt.date(2020, 3, 5))
    # a reading of 2019-02-20 changes the baseline of 2020-02-17..23; only 02-21 has roll-ups now
    assert affected_days({dt.date(2019, 2, 20)}) == {dt.date(2019, 2, 20), dt.date(2020, 2, 21)}
    # a reading inside the pre-disruption window changes every day that has roll-ups
    assert affected_days({dt.date(2019, 12, 5)}) == {dt.date(2019, 12, 5), dt.date(2020, 2, 21), dt.date(2020, 3, 5)}


# ---- commands -------------------------------------------------------------------------------------


def test_power_commands(firms, tmp_path):
    from django.core.management import CommandError, call_command

    p, q, r, s = firms
    path = tmp_path / "p.csv"
    path.write_text(f"户号,统一社会信用代码,日期,用电量\nMP,{p.uscc},2020-02-20,85\nMQ,{q.uscc},2020-02-20,240\n", encoding="utf-8")
    out = io.StringIO()
    call_command("power", "import", str(path), stdout=out)
    assert "新增 2" in out.getvalue()
    out = io.StringIO()
    call_command("power", "baseline", "--date", "2020-02-20", "--csv", str(tmp_path / "b.csv"), stdout=out)
    # P and Q have readings and baselines: 100 × (85 + 240) / (100 + 300) = 81.25
    assert "电力复工指数 81.2" in out.getvalue() or "power index 81.2" in out.getvalue()
    rows = (tmp_path / "b.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[1].split(",")[3:] == ["100.00", "last_year", "85.00"]
    out = io.StringIO()
    call_command("power", "baseline", "--date", "2020-02-20", "--uscc", q.uscc, stdout=out)
    assert "300.00 (window)" in out.getvalue() and "80.0" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("户号,日期,用电量\nNOPE,2020-02-20,1\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("power", "import", str(bad), "--errors", str(tmp_path / "e.xlsx"), stdout=io.StringIO())
    assert (tmp_path / "e.xlsx").exists()


def test_rollup_command(firms):
    from django.core.management import call_command

    from gulian.dispatch.models import RegionDay

    out = io.StringIO()
    call_command("rollup", "--start", "2020-02-19", "--end", "2020-02-20", stdout=out)
    assert "2 天" in out.getvalue()
    assert set(RegionDay.objects.values_list("date", flat=True)) == {D - dt.timedelta(days=1), D}
