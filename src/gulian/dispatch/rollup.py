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

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, FloatField, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from gulian.dispatch.models import Blocker, ChainDay, DailyReport, DirtyDay, PowerReading, RegionDay
from gulian.dispatch.power import WindowBaselines, baseline_matrix, raw_rows
from gulian.registry.models import Enterprise, Membership

COUNTS = ("expected", "reporting", "late", "resumed", "recovered", "staff_on_duty", "staff_normal")
SUMS = ("output_weight", "weighted_utilisation", "kwh", "kwh_baseline")
MEASURES = COUNTS + SUMS
BLOCKER_BITS = tuple(int(b) for b in Blocker)
INSERT_BATCH = 5000
REBUILD_DAYS = 31  # dates per recompute in a rebuild: bounds memory (days × firms matrices)


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
    """Measures per cell key of one date while it is being recomputed (all expected cells present)."""

    def __init__(self, expected: dict[tuple, int]):
        self.cells: dict[tuple, dict] = {k: EMPTY | {"expected": n, "blockers": {}} for k, n in expected.items()}

    def cell(self, key: tuple) -> dict:
        """The cell of ``key``, created empty when no enterprise is expected in it."""
        found = self.cells.get(key)
        if found is None:
            found = self.cells[key] = EMPTY | {"blockers": {}}
        return found

    def add_reports(self, key: tuple, row: dict) -> None:
        """Add one aggregated row of reports."""
        cell = self.cell(key)
        for name in ("reporting", "late", "resumed", "recovered", "staff_on_duty", "staff_normal"):
            cell[name] += row[f"n_{name}"] or 0
        cell["output_weight"] += row["n_output_weight"] or 0.0
        cell["weighted_utilisation"] += row["n_weighted_utilisation"] or 0.0
        for bit in BLOCKER_BITS:
            n = (row[f"b{bit}"] or 0) // bit
            if n:
                cell["blockers"][str(bit)] = cell["blockers"].get(str(bit), 0) + n


EMPTY = dict.fromkeys(MEASURES, 0)


def _key(row: dict, by_chain: bool) -> tuple:
    firm = (row["county"], row["scale_"], row["above"])
    return (*firm, row["chain_"], row["segment_"]) if by_chain else firm


def _report_rows(start: dt.date, end: dt.date, by_chain: bool):
    qs = DailyReport.objects.filter(date__range=(start, end), enterprise__country="CN").order_by()
    return qs.values("date", **FIRM, **(CHAIN if by_chain else {})).annotate(**_report_aggregates())


def _expected(by_chain: bool) -> dict[tuple, int]:
    """{cell key: enterprises expected}: the same for every date, so read once per recompute."""
    if by_chain:
        qs = Membership.objects.filter(enterprise__country="CN", enterprise__region__isnull=False)
        rows = qs.order_by().values(**FIRM, chain_=F("chain_id"), segment_=F("segment_id")).annotate(n=Count("id"))
    else:
        qs = Enterprise.objects.filter(country="CN", region__isnull=False).order_by()
        firm = {"county": F("region_id"), "scale_": F("scale"), "above": F("above_designated_size")}
        rows = qs.values(**firm).annotate(n=Count("id"))
    out: dict[tuple, int] = defaultdict(int)
    for row in rows:
        out[_key(row, by_chain)] += row["n"]
    return out


def _power(days: list[dt.date], region: list[Cells], chain: list[Cells], window: WindowBaselines) -> None:
    """Add Σ kWh and Σ baseline of the firms with a reading that day and a baseline (per chain too).

    One query for the readings of the range, one for the baselines (power.baseline_matrix); sums
    per cell with numpy, adding firms in id order so that any range gives the same floats.
    """
    readings = PowerReading.objects.filter(
        date__range=(days[0], days[-1]), enterprise__country="CN", enterprise__region__isnull=False
    ).order_by()
    rows = list(raw_rows(readings.values_list("enterprise_id", "date", Cast("kwh", FloatField())), days[0]))
    if not rows:
        return
    firms = sorted({r[0] for r in rows})
    column = {f: i for i, f in enumerate(firms)}
    kwh = np.full((len(days), len(firms)), np.nan)
    for firm, offset, value in rows:
        kwh[offset, column[firm]] = value
    base = baseline_matrix(firms, days, window=window)
    info = Enterprise.objects.filter(pk__in=readings.values("enterprise_id")).order_by()
    keys = {pk: (county, scale, above) for pk, county, scale, above in
            info.values_list("pk", "region_id", "scale", "above_designated_size")}  # fmt: skip
    region_keys = sorted({keys[f] for f in firms}, key=str)
    region_index = {k: i for i, k in enumerate(region_keys)}
    region_cell = np.array([region_index[keys[f]] for f in firms], dtype=int)
    members = Membership.objects.filter(enterprise_id__in=readings.values("enterprise_id")).order_by()
    pairs = sorted(members.values_list("enterprise_id", "chain_id", "segment_id"), key=lambda m: (m[0], m[1]))
    chain_keys = sorted({(*keys[f], c, s) for f, c, s in pairs}, key=str)
    chain_index = {k: i for i, k in enumerate(chain_keys)}
    member_firm = np.array([column[f] for f, _c, _s in pairs], dtype=int)
    member_cell = np.array([chain_index[(*keys[f], c, s)] for f, c, s in pairs], dtype=int)
    for k in range(len(days)):
        counted = ~np.isnan(kwh[k]) & ~np.isnan(base[k])
        if not counted.any():
            continue
        _add(region[k], region_keys, region_cell[counted], kwh[k][counted], base[k][counted])
        if len(pairs):
            on = counted[member_firm]
            cells, firm = member_cell[on], member_firm[on]
            _add(chain[k], chain_keys, cells, kwh[k][firm], base[k][firm])


def _add(cells: Cells, keys: list[tuple], index: np.ndarray, kwh: np.ndarray, base: np.ndarray) -> None:
    """Add per-firm kWh and baselines to the cells ``keys[index]`` (summed in firm order)."""
    sums, bases = np.bincount(index, kwh, len(keys)), np.bincount(index, base, len(keys))
    for i in np.unique(index):
        cell = cells.cell(keys[i])
        cell["kwh"] += float(sums[i])
        cell["kwh_baseline"] += float(bases[i])


def recompute(day: dt.date, *, window: WindowBaselines | None = None) -> None:
    """Replace the RegionDay and ChainDay rows of ``day`` with fresh ones (one transaction)."""
    recompute_range(day, day, window=window)


def recompute_range(start: dt.date, end: dt.date, *, window: WindowBaselines | None = None) -> None:
    """Replace the roll-up rows of ``start``..``end`` with fresh ones (one transaction).

    A fixed number of queries for the whole range: expected counts once (they do not depend on
    the date), reports grouped by date and cell, readings and baselines of the range at once.
    """
    days = [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
    if not days:
        return
    index = {d: k for k, d in enumerate(days)}
    region_expected, chain_expected = _expected(False), _expected(True)
    region = [Cells(region_expected) for _d in days]
    chain = [Cells(chain_expected) for _d in days]
    for row in _report_rows(start, end, False):
        region[index[row["date"]]].add_reports(_key(row, False), row)
    for row in _report_rows(start, end, True):
        if row["chain_"] is not None:
            chain[index[row["date"]]].add_reports(_key(row, True), row)
    _power(days, region, chain, window or WindowBaselines())
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                RegionDay.objects.filter(date__range=(start, end)).delete()
                ChainDay.objects.filter(date__range=(start, end)).delete()
                _insert(RegionDay, days, region, ())
                _insert(ChainDay, days, chain, ("chain_id", "segment_id"))
            return
        except IntegrityError:
            # PostgreSQL: another request wrote the same day's cells after our DELETE's snapshot;
            # deleting again now sees (and replaces) them.
            if attempt == 2:
                raise


def _insert(model, days: list[dt.date], per_day: list[Cells], extra: tuple[str, ...]) -> None:
    """Insert the cells with executemany: tens of thousands of rows per day, no model instances.

    Building and preparing model instances for bulk_create took most of a recompute, so only the
    date and the JSON column go through their fields.
    """
    meta = model._meta
    names = ("date", "county", "scale", "above_size", *extra, *MEASURES, "blockers")
    columns = ", ".join(connection.ops.quote_name(meta.get_field(n).column) for n in names)
    sql = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
    blockers = meta.get_field("blockers")
    empty = blockers.get_db_prep_save({}, connection)
    rows = []
    for day, cells in zip(days, per_day, strict=True):
        date_value = meta.get_field("date").get_db_prep_save(day, connection)
        rows.extend(
            (date_value, key[0], key[1] or "", key[2], *key[3:], *(v[m] for m in MEASURES),
             blockers.get_db_prep_save(v["blockers"], connection) if v["blockers"] else empty)
            for key, v in cells.cells.items()
        )  # fmt: skip
    with connection.cursor() as cursor:
        for first in range(0, len(rows), INSERT_BATCH):
            cursor.executemany(sql, rows[first : first + INSERT_BATCH])


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
    """Recompute every date from ``start`` to ``end`` inclusive; returns the number of days.

    Ranges of up to REBUILD_DAYS dates share one recompute (and one transaction each).
    """
    window = WindowBaselines()
    first, n = start, 0
    while first <= end:
        last = min(end, first + dt.timedelta(days=REBUILD_DAYS - 1))
        with transaction.atomic():
            DirtyDay.objects.filter(date__range=(first, last)).delete()
            recompute_range(first, last, window=window)
        n += (last - first).days + 1
        first = last + dt.timedelta(days=1)
    return n
