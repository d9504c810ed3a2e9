"""Appeal deadlines (办理时限) in Chinese working days.

``settings.APPEALS_SLA[urgency] = (accept_days, resolve_days)`` (env ``GULIAN_APPEALS_SLA``, default
``normal=1/5,urgent=1/3,critical=0/1``). Both deadlines count from the submission (the resolve
deadline does not wait for acceptance). The rule, also in docs/appeals.md ("Deadlines"):

- the submission day counts as day 0 when it is a working day; a submission on a rest day or holiday
  counts from the next working day (as if it had arrived that morning);
- ``n`` days later is the ``n``-th working day after day 0 (:func:`gulian.appeals.workdays.add_workdays`);
  0 days means day 0 itself;
- the deadline is the end of that working day in Asia/Shanghai, 23:59:59.999999 local time,
  returned timezone-aware. An appeal becomes overdue when the sweep runs after that instant.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from gulian.appeals.workdays import add_workdays

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day of ``moment`` in Asia/Shanghai (a naive datetime is taken as local time)."""
    if timezone.is_naive(moment):
        return moment.date()
    return moment.astimezone(SHANGHAI).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59.999999 of ``day`` in Asia/Shanghai, timezone-aware."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=SHANGHAI)


def days_for(urgency: str) -> tuple[int, int]:
    """(accept_days, resolve_days) of an urgency from settings.APPEALS_SLA."""
    try:
        accept, resolve = settings.APPEALS_SLA[urgency]
    except KeyError:
        raise ValueError(f"GULIAN_APPEALS_SLA 未配置该紧急程度 / no deadline configured for urgency {urgency!r}")
    return int(accept), int(resolve)


def deadlines(urgency: str, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(accept_due, resolve_due) of an appeal of ``urgency`` submitted at ``start`` (rule in the module docstring)."""
    accept_days, resolve_days = days_for(urgency)
    day0 = local_date(start)
    return end_of_day(add_workdays(day0, accept_days)), end_of_day(add_workdays(day0, resolve_days))
