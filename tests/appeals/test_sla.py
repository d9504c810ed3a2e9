"""Working days on the Chinese calendar and appeal deadlines (the 2020 Spring Festival, make-up days, fallback)."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest

from gulian.appeals import sla, workdays
from gulian.appeals.workdays import add_workdays, is_workday, workdays_between

SH = ZoneInfo("Asia/Shanghai")
D = dt.date.fromisoformat


def at(text: str) -> dt.datetime:
    """A Beijing-time moment."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def end(day: str) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(23, 59, 59, 999999), tzinfo=SH)


@pytest.fixture(autouse=True)
def _sla(settings):
    settings.APPEALS_SLA = {"normal": (1, 5), "urgent": (1, 3), "critical": (0, 1)}


def test_the_2020_spring_festival_and_its_make_up_workday():
    # chinese_calendar: 2020-01-19 (Sunday) was a make-up workday; the holiday ran 01-24 … 02-02
    # (the State Council extended it to Sunday 2 February); Monday 2020-02-03 was a working day again.
    assert is_workday(D("2020-01-19")) and D("2020-01-19").weekday() == 6
    assert is_workday(D("2020-01-23"))
    holiday = [D("2020-01-24") + dt.timedelta(days=k) for k in range(10)]
    assert [d for d in holiday if is_workday(d)] == []
    assert not is_workday(D("2020-01-31"))  # a Friday: the extension
    assert is_workday(D("2020-02-03"))
    assert not is_workday(D("2020-01-18"))  # an ordinary Saturday
    assert is_workday(D("2020-10-10"))  # Saturday after the National Day week: make-up
    assert not is_workday(D("2020-10-05"))  # Monday inside the National Day week


def test_add_workdays_and_workdays_between_across_the_holiday():
    assert add_workdays(D("2020-01-23"), 0) == D("2020-01-23")
    assert add_workdays(D("2020-01-23"), 1) == D("2020-02-03")
    assert add_workdays(D("2020-01-23"), 5) == D("2020-02-07")
    assert add_workdays(D("2020-01-25"), 0) == D("2020-02-03")  # from a holiday: the next working day
    assert add_workdays(D("2020-01-25"), 1) == D("2020-02-04")
    assert add_workdays(D("2020-01-17"), 1) == D("2020-01-19")  # Friday + 1 = the make-up Sunday
    assert add_workdays(D("2020-02-03"), -1) == D("2020-01-23")
    assert add_workdays(D("2020-01-30"), -1) == D("2020-01-22")  # backwards from a holiday: from 01-23
    assert workdays_between(D("2020-01-23"), D("2020-02-07")) == 5
    assert workdays_between(D("2020-02-07"), D("2020-01-23")) == -5
    assert workdays_between(D("2020-01-24"), D("2020-02-02")) == 0
    assert workdays_between(D("2020-01-17"), D("2020-01-20")) == 2  # Sunday 19th and Monday 20th


def test_add_and_between_agree_over_a_year():
    day = D("2020-01-01")
    while day.year == 2020:
        if is_workday(day):
            for n in (0, 1, 3, 7):
                assert workdays_between(day, add_workdays(day, n)) == n, (day, n)
        day += dt.timedelta(days=1)


def test_deadlines_of_a_submission_on_the_eve_of_the_spring_festival():
    # Thursday 2020-01-23, the last working day before the holiday; normal = 1 / 5 working days
    accept, resolve = sla.deadlines("normal", at("2020-01-23T10:00"))
    assert accept == end("2020-02-03") and resolve == end("2020-02-07")
    assert accept.utcoffset() == dt.timedelta(hours=8)
    assert accept.astimezone(dt.UTC) == dt.datetime(2020, 2, 3, 15, 59, 59, 999999, tzinfo=dt.UTC)


def test_deadlines_count_the_make_up_sunday_and_start_on_holidays_from_the_next_workday():
    accept, resolve = sla.deadlines("normal", at("2020-01-19T09:00"))  # the make-up Sunday is day 0
    assert accept == end("2020-01-20") and resolve == end("2020-02-03")  # 20, 21, 22, 23, then 3 Feb
    accept, resolve = sla.deadlines("normal", at("2020-01-17T18:00"))  # Friday: the next day is Sunday 19th
    assert accept == end("2020-01-19") and resolve == end("2020-01-23")
    accept, resolve = sla.deadlines("critical", at("2020-01-25T09:00"))  # 0 days on a holiday → first workday
    assert accept == end("2020-02-03") and resolve == end("2020-02-04")
    accept, _ = sla.deadlines("critical", at("2020-02-05T16:00"))  # 0 days on a workday → the same day
    assert accept == end("2020-02-05")
    accept, resolve = sla.deadlines("urgent", at("2020-02-01T09:00"))  # Saturday in the holiday → 3 Feb is day 0
    assert accept == end("2020-02-04") and resolve == end("2020-02-06")


def test_the_day_is_the_beijing_day_of_the_submission():
    # 2020-01-22 23:30 UTC is 2020-01-23 07:30 in Beijing: day 0 is the 23rd
    accept, _ = sla.deadlines("urgent", dt.datetime(2020, 1, 22, 23, 30, tzinfo=dt.UTC))
    assert accept == end("2020-02-03")
    # 2020-01-23 17:00 UTC is already Friday the 24th (a holiday) in Beijing
    accept, _ = sla.deadlines("critical", dt.datetime(2020, 1, 23, 17, 0, tzinfo=dt.UTC))
    assert accept == end("2020-02-03")


def test_the_sla_comes_from_settings(settings):
    settings.APPEALS_SLA = {"normal": (2, 10)}
    accept, resolve = sla.deadlines("normal", at("2020-01-23T10:00"))
    assert accept == end("2020-02-04") and resolve == end("2020-02-14")
    with pytest.raises(ValueError, match="urgent"):
        sla.deadlines("urgent", at("2020-01-23T10:00"))


def test_years_without_holiday_data_fall_back_to_monday_to_friday_with_one_warning(caplog):
    workdays._warned_years.discard(2040)
    workdays._warned_years.discard(2041)
    with caplog.at_level(logging.WARNING, logger="gulian.appeals.workdays"):
        assert is_workday(D("2040-01-02"))  # Monday 2 January (no New Year data: plain weekdays)
        assert is_workday(D("2040-10-01"))  # Monday 1 October: National Day unknown, a weekday
        assert not is_workday(D("2040-01-07"))  # Saturday
        assert add_workdays(D("2040-01-06"), 1) == D("2040-01-09")  # Friday + 1 = Monday
    assert [r.getMessage().count("2040") > 0 for r in caplog.records] == [True]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gulian.appeals.workdays"):
        assert is_workday(D("2041-01-01"))  # Tuesday, New Year unknown
        assert workdays_between(D("2041-01-01"), D("2041-01-08")) == 5
    assert len(caplog.records) == 1 and "2041" in caplog.records[0].getMessage()


def test_the_package_has_data_for_the_years_we_rely_on():
    import chinese_calendar

    for year in (2004, 2020, 2025):
        chinese_calendar.is_workday(dt.date(year, 6, 1))  # raises NotImplementedError when missing
