"""Working days on the Chinese calendar (工作日): statutory holidays and make-up workdays (调休).

The maintained ``chinese_calendar`` package holds the State Council's holiday notices
(2004 onwards; each release adds the next year once it is published). 2020, for example: Sunday
2020-01-19 was a make-up workday, and the Spring Festival holiday ran from 2020-01-24 to 2020-02-02
(extended by three days for the epidemic). For a year the package has no data it raises
``NotImplementedError``; we then count Monday to Friday and log one warning per year, so deadlines
keep working, if less exactly, until the package is upgraded (docs/appeals.md, "Deadlines").
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from functools import lru_cache

import chinese_calendar

log = logging.getLogger(__name__)

_warned_years: set[int] = set()
_warn_lock = threading.Lock()


def _warn_once(year: int) -> None:
    with _warn_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    log.warning(
        "chinese_calendar 无 %d 年的节假日数据，按周一至周五计算工作日；请升级该软件包 / "
        "no holiday data for %d in chinese_calendar: counting Monday to Friday as working days; upgrade the package",
        year,
        year,
    )


@lru_cache(maxsize=8192)
def _calendar_workday(d: dt.date) -> bool | None:
    """The package's answer, or None when it has no data for the year."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return None


def is_workday(d: dt.date) -> bool:
    """Whether ``d`` is a working day in mainland China (statutory holidays off, make-up days on)."""
    if isinstance(d, dt.datetime):
        d = d.date()
    known = _calendar_workday(d)
    if known is None:
        _warn_once(d.year)
        return d.weekday() < 5
    return known


def _step_to_workday(d: dt.date, step: int) -> dt.date:
    while not is_workday(d):
        d += dt.timedelta(days=step)
    return d


def add_workdays(d: dt.date, n: int) -> dt.date:
    """The working day ``n`` working days after ``d`` (before it when ``n`` is negative).

    Counting starts from ``d`` when it is a working day, else from the next working day (the
    previous one when going backwards); so ``add_workdays(d, 0)`` is ``d`` itself or the next
    working day, and a Saturday plus 1 is the Tuesday of a normal week.
    """
    if isinstance(d, dt.datetime):
        d = d.date()
    step = 1 if n >= 0 else -1
    d = _step_to_workday(d, step)
    for _ in range(abs(n)):
        d = _step_to_workday(d + dt.timedelta(days=step), step)
    return d


def workdays_between(a: dt.date, b: dt.date) -> int:
    """Working days ``d`` with ``a < d <= b`` (negative, counted the same way, when ``b < a``).

    For a working day ``a``, ``workdays_between(a, add_workdays(a, n)) == n``.
    """
    if isinstance(a, dt.datetime):
        a = a.date()
    if isinstance(b, dt.datetime):
        b = b.date()
    if b < a:
        return -workdays_between(b, a)
    return sum(1 for k in range(1, (b - a).days + 1) if is_workday(a + dt.timedelta(days=k)))
