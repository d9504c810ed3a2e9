"""Helpers for the metrics, roll-up, power and held-back tests: reports and readings written directly.

The submission services (D1) are tested on their own; these tests build the rows they read.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from gulian.dispatch.models import DailyReport, PowerReading

D = dt.date(2020, 2, 20)  # a Thursday in the 2020 resumption campaign


def day(offset: int) -> dt.date:
    """D shifted by ``offset`` days."""
    return D + dt.timedelta(days=offset)


def report(firm, date: dt.date = D, *, resumed: bool = True, util: str = "0.9", on_duty: int = 90,
           normal: int = 100, blockers: int = 0, late: bool = False) -> DailyReport:  # fmt: skip
    """A day's report of ``firm`` (utilisation as a decimal string, fraction)."""
    return DailyReport.objects.create(
        enterprise=firm,
        date=date,
        resumed=resumed,
        utilisation=Decimal(util),
        staff_on_duty=on_duty,
        staff_normal=normal,
        blockers=blockers,
        late=late,
        submitted_at=timezone.now(),
    )


def reading(firm, date: dt.date, kwh) -> PowerReading:
    """A day's kWh of ``firm``."""
    return PowerReading.objects.create(enterprise=firm, date=date, kwh=Decimal(str(kwh)))


def readings(firm, start: dt.date, values) -> None:
    """Consecutive daily readings from ``start``."""
    for i, kwh in enumerate(values):
        reading(firm, start + dt.timedelta(days=i), kwh)
