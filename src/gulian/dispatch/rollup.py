"""Daily roll-ups: RegionDay (date × county × scale × 规上) and ChainDay (… × chain × segment).

One date is recomputed from scratch in a handful of aggregate queries (GROUP BY the enterprise's
county, scale and 规上 flag, and for chains also the membership's chain and segment) plus one
pass over that day's power readings, then its rows are replaced in one transaction. Writers of
reports and readings call :func:`mark_dirty`; readers call :func:`refresh_dirty` first, so an
overview reads only the few hundred roll-up rows of a day and never rescans history.

Measures (all additive; docs/dispatch.md gives the rates built from them):
expected = domestic enterprises (country CN) in the registry; reporting/late/resumed/recovered
from that day's reports (recovered = resumed and utilisation ≥ settings.RECOVERY_THRESHOLD);
output_weight/weighted_utilisation use the enterprise's baseline output; kwh/kwh_baseline only
for firms with both a reading that day and a baseline (power.py); blockers = {bit: reports}.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, FloatField, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from gulian.dispatch.models import Blocker, ChainDay, DailyReport, DirtyDay, PowerReading, RegionDay
from gulian.dispatch.power import WindowBaselines, baselines
from gulian.registry.models import Enterprise, Membership

COUNTS = ("expected", "reporting", "late", "resumed", "recovered", "staff_on_duty", "staff_normal")
SUMS = ("output_weight", "weighted_utilisation", "kwh", "kwh_baseline")
MEASURES = COUNTS + SUMS
BLOCKER_BITS = tuple(int(b) for b in Blocker)
INSERT_BATCH = 5000


def mark_dirty(*dates: dt.date) -> None:
    """Mark dates whose roll-ups must be recomputed (call in the same transaction as the write).

    An upsert that always moves ``marked_at``: on PostgreSQL it waits for a refresher holding the
    row, so a write that lands while a day is being recomputed leaves the day dirty again.
    """
    days = sorted(set(dates))
    if not days:
        return
    now = timezone.now()
    DirtyDay.objects.bulk_create(
        [DirtyDay(date=d, marked_at=now) for d in days],
        update_conflicts=True,
        unique_fields=["date"],
        update_fields=["marked_at"],
    )


def _report_aggregates() -> dict:
    threshold = Decimal(str(settings.RECOVERY_THRESHOLD))
    weight = Cast("enterprise__baseline_output", FloatField())
    # prefixed names: an annotation named like a field ("resumed") would shadow it in the filters
    aggregates = {
        "n_reporting": Count("id"),
        "n_late": Count("id", filter=Q(late=True)),
        "n_resumed": Count("id", filter=Q(resumed=True)),
        "n_recovered": Count("id", filter=Q(resumed=True, utilisation__gte=threshold)),
        "n_output_weight": Sum(weight, output_field=FloatField()),
        "n_weighted_utilisation": Sum(weight * Cast("utilisation", FloatField()), output_field=FloatField()),
        "n_staff_on_duty": Sum("staff_on_duty"),
        "n_staff_normal": Sum("staff_normal"),
    }
    # Σ (mask & bit) = bit × (reports naming that blocker); divided back below
    aggregates.update({f"b{bit}": Sum(F("blockers").bitand(bit)) for bit in BLOCKER_BITS})
    return aggregates


FIRM = {
    "county": F("enterprise__region_id"),
    "scale_": F("enterprise__scale"),
    "above": F("enterprise__above_designated_size"),
}
CHAIN = {"chain_": F("enterprise__memberships__chain_id"), "segment_": F("enterprise__memberships__segment_id")}


class Cells:
    """Measures per cell key while a date is being recomputed."""

    def __init__(self):
        self.cells: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(MEASURES, 0) | {"blockers": {}})

    def add_reports(self, key: tuple, row: dict) -> None:
        """Add one aggregated row of reports."""
        cell = self.cells[key]
        for name in ("reporting", "late", "resumed", "recovered", "staff_on_duty", "staff_normal"):
            cell[name] += row[f"n_{name}"] or 0
        cell["output_weight"] += row["n_output_weight"] or 0.0
        cell["weighted_utilisation"] += row["n_weighted_utilisation"] or 0.0
        for bit in BLOCKER_BITS:
            n = (row[f"b{bit}"] or 0) // bit
            if n:
                cell["blockers"][str(bit)] = cell["blockers"].get(str(bit), 0) + n


def _report_rows(day: dt.date, by_chain: bool):
    qs = DailyReport.objects.filter(date=day, enterprise__country="CN").order_by()
    return qs.values(**FIRM, **(CHAIN if by_chain else {})).annotate(**_report_aggregates())


def _expected_rows(by_chain: bool):
    if by_chain:
        qs = Membership.objects.filter(enterprise__country="CN", enterprise__region__isnull=False)
        return qs.order_by().values(**FIRM, chain_=F("chain_id"), segment_=F("segment_id")).annotate(n=Count("id"))
    qs = Enterprise.objects.filter(country="CN", region__isnull=False).order_by()
    firm = {"county": F("region_id"), "scale_": F("scale"), "above": F("above_designated_size")}
    return qs.values(**firm).annotate(n=Count("id"))


def _power(day: dt.date, region: Cells, chain: Cells, window: WindowBaselines | None) -> None:
    """Add Σ kWh and Σ baseline of the firms with a reading that day and a baseline (per chain too)."""
    readings = PowerReading.objects.filter(date=day, enterprise__country="CN", enterprise__region__isnull=False)
    rows = readings.order_by().values_list(
        "enterprise_id", "kwh", "enterprise__region_id", "enterprise__scale", "enterprise__above_designated_size"
    )
    if not readings.exists():
        return
    firms = PowerReading.objects.filter(date=day).values("enterprise_id")
    base = baselines(firms, day, window=window)
    if not base:
        return
    counted: dict[int, tuple[tuple, float]] = {}  # firm -> (cell key, kWh)
    for firm, kwh, county, scale, above in rows:
        b = base.get(firm)
        if b is None:
            continue
        key = (county, scale, above)
        counted[firm] = (key, float(kwh))
        cell = region.cells[key]
        cell["kwh"] += float(kwh)
        cell["kwh_baseline"] += b
    members = Membership.objects.filter(enterprise_id__in=firms).order_by()
    for firm, chain_id, segment_id in members.values_list("enterprise_id", "chain_id", "segment_id"):
        if firm in counted:
            key, kwh = counted[firm]
            cell = chain.cells[(*key, chain_id, segment_id)]
            cell["kwh"] += kwh
            cell["kwh_baseline"] += base[firm]


def recompute(day: dt.date, *, window: WindowBaselines | None = None) -> None:
    """Replace the RegionDay and ChainDay rows of ``day`` with fresh ones (one transaction)."""
    region, chain = Cells(), Cells()
    for row in _expected_rows(False):
        region.cells[(row["county"], row["scale_"], row["above"])]["expected"] += row["n"]
    for row in _expected_rows(True):
        key = (row["county"], row["scale_"], row["above"], row["chain_"], row["segment_"])
        chain.cells[key]["expected"] += row["n"]
    for row in _report_rows(day, False):
        region.add_reports((row["county"], row["scale_"], row["above"]), row)
    for row in _report_rows(day, True):
        if row["chain_"] is not None:
            chain.add_reports((row["county"], row["scale_"], row["above"], row["chain_"], row["segment_"]), row)
    _power(day, region, chain, window)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                RegionDay.objects.filter(date=day).delete()
                ChainDay.objects.filter(date=day).delete()
                _insert(RegionDay, day, region.cells, ())
                _insert(ChainDay, day, chain.cells, ("chain_id", "segment_id"))
            return
        except IntegrityError:
            # PostgreSQL: another request wrote the same day's cells after our DELETE's snapshot;
            # deleting again now sees (and replaces) them.
            if attempt == 2:
                raise


def _insert(model, day: dt.date, cells: dict[tuple, dict], extra: tuple[str, ...]) -> None:
    """Insert the cells with executemany: tens of thousands of rows per day, no model instances.

    A ChainDay day can hold ~40,000 cells; building and preparing model instances for bulk_create
    took most of a recompute, so only the date and the JSON column go through their fields.
    """
    if not cells:
        return
    meta = model._meta
    names = ("date", "county", "scale", "above_size", *extra, *MEASURES, "blockers")
    columns = ", ".join(connection.ops.quote_name(meta.get_field(n).column) for n in names)
    sql = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
    date_value = meta.get_field("date").get_db_prep_save(day, connection)
    blockers = meta.get_field("blockers")
    rows = [
        (date_value, key[0], key[1] or "", key[2], *key[3:], *(v[m] for m in MEASURES),
         blockers.get_db_prep_save(v["blockers"], connection))
        for key, v in cells.items()
    ]  # fmt: skip
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            cursor.executemany(sql, rows[start : start + INSERT_BATCH])


def refresh_dirty(start: dt.date | None = None, end: dt.date | None = None) -> list[dt.date]:
    """Recompute every DirtyDay (only those from ``start`` to ``end`` when given) and clear it.

    Returns the dates recomputed. Pages pass the dates they read, so a request never pays for a
    backlog of other days (after a bulk import, run `gulian rollup`). Each date is handled in its own transaction holding its DirtyDay row (FOR UPDATE SKIP LOCKED
    on PostgreSQL, so concurrent refreshers share the work; SQLite serialises writers anyway). The
    row is deleted only if nobody re-marked it after it was read.
    """
    pending = DirtyDay.objects.order_by("date")
    if start is not None:
        pending = pending.filter(date__gte=start)
    if end is not None:
        pending = pending.filter(date__lte=end)
    pending = list(pending.values_list("date", flat=True))
    window = WindowBaselines()
    done = []
    for day in pending:
        with transaction.atomic():
            row = DirtyDay.objects.select_for_update(skip_locked=True).filter(date=day).first()
            if row is None:
                continue  # another refresher has it, or it finished it already
            recompute(day, window=window)
            DirtyDay.objects.filter(date=day, marked_at=row.marked_at).delete()
        done.append(day)
    return done


def ensure_day(day: dt.date) -> None:
    """Compute ``day`` once if it has no roll-up rows yet (a day nobody has reported for so far)."""
    if day <= timezone.localdate() and not RegionDay.objects.filter(date=day).exists():
        recompute(day)


def rebuild(start: dt.date, end: dt.date) -> int:
    """Recompute every date from ``start`` to ``end`` inclusive; returns the number of days."""
    window = WindowBaselines()
    day, n = start, 0
    while day <= end:
        with transaction.atomic():
            DirtyDay.objects.filter(date=day).delete()
            recompute(day, window=window)
        day += dt.timedelta(days=1)
        n += 1
    return n
