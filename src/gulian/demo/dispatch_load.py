"""Read the registry for the dispatch generator, and write its reports and power readings fast.

The rows are streamed day by day into the tables — COPY on PostgreSQL, ``executemany`` on SQLite —
with the tables' secondary indexes dropped during the load and rebuilt after it (several times
faster than keeping them up to date row by row). Like the registry demo (load.py), the audit log
gets one record per model (action ``demo_dispatch``) with the seed, the count and the plan's
fingerprint, not one per row. Only corrected reports get DailyReportVersion rows (versions 1 and 2); a report
without versions is its own version 1 (docs/demo.md). The roll-ups are then rebuilt with the
dispatch app's own :func:`gulian.dispatch.rollup.rebuild`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction

from gulian.core import audit
from gulian.demo import dispatch as gen
from gulian.demo.dispatch_days import DayReports, power_dates, power_readings, report_days
from gulian.demo.load import BatchRecord
from gulian.dispatch import rollup
from gulian.dispatch.models import (
    ChainDay,
    DailyReport,
    DailyReportVersion,
    DirtyDay,
    IdempotencyKey,
    PowerMeter,
    PowerReading,
    RegionDay,
)
from gulian.dispatch.power import baseline_window
from gulian.registry.models import Enterprise, MemberRole, Membership, SupplyLink

ROLE_RANK = {MemberRole.SUPPLIER: gen.SUPPLIER, MemberRole.CORE: gen.CORE, MemberRole.OWNER: gen.OWNER}
SCOPE_CODE = {"city": gen.CITY, "province": gen.PROVINCE, "domestic": gen.DOMESTIC, "foreign": gen.FOREIGN}
DISPATCH_MODELS = (DailyReportVersion, DailyReport, PowerReading, PowerMeter, RegionDay, ChainDay, DirtyDay,
                   IdempotencyKey)
REPORT_FIELDS = ["id", "enterprise", "date", "version", "resumed", "utilisation", "staff_on_duty", "staff_normal",
                 "staff_returned_outside", "inventory_days", "output_value", "order_change", "blockers",
                 "blocker_note", "late", "source", "submitted_at"]
VERSION_FIELDS = ["report", "version", "data", "late", "source", "submitted_at"]
AUDIT_ACTION, AUDIT_RESET = "demo_dispatch", "demo_dispatch_reset"  # the registry demo's are demo_generate/reset
CHUNK_ROWS = 3_000_000  # rows sorted and written at once (about 0.5 GB at most)


def read_inputs(prefix: str = "33") -> tuple[gen.DispatchInputs, np.ndarray]:
    """Every domestic enterprise with a region (in id order) as generator inputs, and their ids.

    These are the firms the roll-ups expect a report from; ``prefix`` is the home province whose
    published curve is followed (the others are its suppliers elsewhere).
    """
    rows = list(Enterprise.objects.filter(country="CN", region__isnull=False).order_by("id").values_list(
        "id", "baseline_output", "employees", "above_designated_size", "scale", "industry_id", "name", "region_id"))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    index = {pk: k for k, pk in enumerate(ids.tolist())}
    role = np.zeros(len(ids), dtype=np.int8)
    members = Membership.objects.filter(enterprise__country="CN", enterprise__region__isnull=False)
    for firm, r in members.values_list("enterprise_id", "role"):
        k = index[firm]
        role[k] = max(role[k], ROLE_RANK.get(r, gen.NONE))
    links = list(SupplyLink.objects.filter(customer__country="CN", customer__region__isnull=False)
                 .order_by("id").values_list("supplier_id", "customer_id", "share", "scope", "supplier__region_id"))
    inputs = gen.DispatchInputs(
        output=np.array([float(r[1] or 0) for r in rows]),
        employees=np.array([r[2] or 1 for r in rows], dtype=np.int64),
        above=np.array([bool(r[3]) for r in rows]),
        small=np.array([r[4] in ("small", "micro", "") for r in rows]),
        division=[(r[5] or "")[:2] for r in rows],
        role=role,
        name=[r[6] for r in rows],
        link_supplier=np.array([index.get(s, -1) for s, *_ in links], dtype=np.int64),
        link_customer=np.array([index[c] for _s, c, *_ in links], dtype=np.int64),
        link_share=np.array([float(x[2] or 0) for x in links]),
        link_scope=np.array([SCOPE_CODE.get(x[3], gen.DOMESTIC) for x in links], dtype=np.int8),
        link_hubei=np.array([bool(x[4] and x[4].startswith("42")) for x in links], dtype=bool),
        home=np.array([r[7].startswith(prefix) for r in rows], dtype=bool),
        in_hubei=np.array([r[7].startswith("42") for r in rows], dtype=bool),
    )
    return inputs, ids


def has_dispatch_data() -> bool:
    """True when any daily report is stored."""
    return DailyReport.objects.exists()


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def reset(actor=None) -> dict[str, int]:
    """Delete every dispatch row (reports, versions, readings, meters, roll-ups, keys); audit the counts.

    Plain statements, children first: Django's cascading delete would load millions of rows. On
    PostgreSQL the tables are counted and truncated; on SQLite the big tables' secondary indexes are
    dropped during the DELETE (half the time) and rebuilt on the empty tables.
    """
    counts = {}
    tables = {model: _qn(model._meta.db_table) for model in DISPATCH_MODELS}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model, table in tables.items():
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                counts[model._meta.label] = cursor.fetchone()[0]
            # fire deferred FK checks first: TRUNCATE refuses tables with pending trigger events
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables.values())}")
        else:
            with indexes_dropped(DailyReport, PowerReading):
                for model, table in tables.items():
                    cursor.execute(f"DELETE FROM {table}")
                    counts[model._meta.label] = cursor.rowcount
        audit.record_many(actor, [
            audit.Change(AUDIT_RESET, BatchRecord(model, "*", "演示日调度数据清空 / demo dispatch data reset"),
                         {"count": counts[model._meta.label]}, None)
            for model in DISPATCH_MODELS if counts[model._meta.label]
        ])
    return counts


def _secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's plain indexes (not primary keys or unique ones)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                           "AND sql IS NOT NULL", [table])
        rows = cursor.fetchall()
    return [(name, sql) for name, sql in rows if sql and "UNIQUE" not in sql.upper()]


@contextmanager
def indexes_dropped(*models) -> Iterator[None]:
    """Drop the models' secondary indexes for a bulk load and create them again afterwards."""
    saved = [spec for model in models for spec in _secondary_indexes(model._meta.db_table)]
    with connection.cursor() as cursor:
        for name, _sql in saved:
            cursor.execute(f"DROP INDEX {_qn(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, sql in saved:
            cursor.execute(sql)


def write_frame(model, fields: list[str], frame: pl.DataFrame) -> None:
    """Insert the frame's rows (columns in ``fields`` order, values database-ready): COPY or executemany."""
    if not len(frame):
        return
    columns = ", ".join(_qn(model._meta.get_field(f).column) for f in fields)
    table = _qn(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.BytesIO()
            frame.write_csv(buffer, include_header=False, null_value="\\N")
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
                copy.write(buffer.getvalue())
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        cursor.executemany(sql, frame.iter_rows(buffer_size=50_000))


def _timestamps(values: np.ndarray) -> pl.Series:
    """UTC datetime64 values as the text each database stores (SQLite: naive UTC; PostgreSQL: +00:00)."""
    text = pl.Series(values.astype("datetime64[ms]")).dt.strftime("%Y-%m-%d %H:%M:%S")
    return text + "+00:00" if connection.vendor == "postgresql" else text


def _late(block: DayReports, at: np.ndarray, deadline_hour: int) -> np.ndarray:
    deadline = np.datetime64(block.date.isoformat(), "s") + np.timedelta64(deadline_hour - 8, "h")
    return at > deadline


def _snapshot(block: DayReports, k: int, utilisation: float) -> str:
    """A version's data as D1's services store it (decimals as exact strings, blockers as the mask)."""
    def dec(x: float, places: int) -> str | None:
        return None if np.isnan(x) else f"{x:.{places}f}"

    returned = int(block.returned[k])
    return json.dumps({
        "resumed": bool(block.resumed[k]), "utilisation": f"{utilisation:.3f}",
        "staff_on_duty": int(block.staff_on_duty[k]), "staff_normal": int(block.staff_normal[k]),
        "staff_returned_outside": returned if returned >= 0 else None,
        "inventory_days": dec(block.inventory_days[k], 1), "output_value": dec(block.output_value[k], 2),
        "order_change": dec(block.order_change[k], 3), "blockers": int(block.blockers[k]),
        "blocker_note": block.note[k],
    }, ensure_ascii=False)


def _report_frames(block: DayReports, ids: np.ndarray, first_id: int, deadline_hour: int):
    """The day's DailyReport rows (ids from ``first_id``) and the version rows of its corrected reports."""
    n = len(block)
    pk = np.arange(first_id, first_id + n, dtype=np.int64)
    corrected = block.corrected
    first_late = _late(block, np.where(corrected, block.first_at, block.submitted_at), deadline_hour)
    reports = pl.DataFrame({
        "id": pk, "enterprise": ids[block.firm], "date": [block.date.isoformat()] * n,
        "version": np.where(corrected, 2, 1), "resumed": block.resumed,
        "utilisation": block.utilisation,
        "staff_on_duty": block.staff_on_duty, "staff_normal": block.staff_normal,
        "staff_returned_outside": pl.Series(block.returned).replace(-1, None),
        "inventory_days": pl.Series(block.inventory_days, nan_to_null=True),
        "output_value": pl.Series(block.output_value, nan_to_null=True),
        "order_change": pl.Series(block.order_change, nan_to_null=True),
        "blockers": block.blockers, "blocker_note": block.note, "late": first_late,
        "source": block.source, "submitted_at": _timestamps(block.submitted_at),
    })
    rows = np.flatnonzero(corrected)
    versions = pl.DataFrame({
        "report": np.repeat(pk[rows], 2), "version": np.tile([1, 2], len(rows)),
        "data": [s for k in rows.tolist() for s in (_snapshot(block, k, float(block.first_utilisation[k])),
                                                    _snapshot(block, k, float(block.utilisation[k])))],
        "late": np.column_stack([first_late[rows], _late(block, block.submitted_at, deadline_hour)[rows]]).ravel(),
        "source": np.repeat(block.source[rows], 2),
        "submitted_at": _timestamps(np.column_stack([block.first_at[rows], block.submitted_at[rows]]).ravel()),
    }, schema_overrides={"data": pl.String})
    return reports, versions


def _next_id(model) -> int:
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


def _sorted_chunks(frames: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Concatenate day frames into chunks of about CHUNK_ROWS rows, each sorted by (enterprise, date).

    Rows in the order of the (enterprise, date) unique index go in about twice as fast as rows in
    date order, whose every row lands somewhere else in that index.
    """
    pending, size = [], 0
    for frame in frames:
        pending.append(frame)
        size += len(frame)
        if size >= CHUNK_ROWS:
            yield pl.concat(pending).sort(["enterprise", "date"])
            pending, size = [], 0
    if pending:
        yield pl.concat(pending).sort(["enterprise", "date"])


def write_reports(plan: gen.DispatchPlan, ids: np.ndarray, deadline_hour: int = 17) -> tuple[int, int]:
    """Insert every day's reports and the corrected reports' versions; returns (reports, versions)."""
    next_id = _next_id(DailyReport)
    version_frames: list[pl.DataFrame] = []

    def frames() -> Iterator[pl.DataFrame]:
        nonlocal next_id
        for block in report_days(plan, deadline_hour):
            reports, versions = _report_frames(block, ids, next_id, deadline_hour)
            next_id += len(block)
            version_frames.append(versions)
            yield reports

    n_reports = 0
    with indexes_dropped(DailyReport, DailyReportVersion):
        for chunk in _sorted_chunks(frames()):
            write_frame(DailyReport, REPORT_FIELDS, chunk)
            n_reports += len(chunk)
        versions = pl.concat(version_frames) if version_frames else pl.DataFrame()
        write_frame(DailyReportVersion, VERSION_FIELDS, versions)
    if connection.vendor == "postgresql":  # explicit ids: move the sequence past them
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [DailyReport]):
                cursor.execute(sql)
    return n_reports, len(versions)


def write_power(plan: gen.DispatchPlan, ids: np.ndarray, dates: list[dt.date]) -> tuple[int, int]:
    """Insert a meter per firm with one and every reading on ``dates``; returns (meters, readings)."""
    metered = np.flatnonzero(plan.params["meter"])
    meters = pl.DataFrame({"meter_id": [f"33{k + 1:08d}" for k in metered.tolist()], "enterprise": ids[metered]})
    write_frame(PowerMeter, ["meter_id", "enterprise"], meters)

    def frames() -> Iterator[pl.DataFrame]:
        for date, firm, kwh in power_readings(plan, dates):
            yield pl.DataFrame({"enterprise": ids[firm], "date": [date.isoformat()] * len(firm), "kwh": kwh})

    n = 0
    with indexes_dropped(PowerReading):
        for chunk in _sorted_chunks(frames()):
            write_frame(PowerReading, ["enterprise", "date", "kwh"], chunk)
            n += len(chunk)
    return len(meters), n


def analyse() -> None:
    """Refresh PostgreSQL's planner statistics of the dispatch tables after a bulk load (no-op on SQLite)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (DailyReport, DailyReportVersion, PowerReading, PowerMeter):
            cursor.execute(f"ANALYZE {_qn(model._meta.db_table)}")


def load(plan: gen.DispatchPlan, ids: np.ndarray, power_dates: list[dt.date], actor=None,
         deadline_hour: int = 17) -> dict[str, int]:
    """Write the plan's reports, versions, meters and readings in one transaction; one audit record per model."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Check foreign keys row by row during COPY instead of queueing millions of deferred checks
            # (a queue also forbids the CREATE INDEX that follows the load in the same transaction).
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        reports, versions = write_reports(plan, ids, deadline_hour)
        meters, readings = write_power(plan, ids, power_dates)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's default for the rest
        counts = {DailyReport: reports, DailyReportVersion: versions, PowerMeter: meters, PowerReading: readings}
        text = f"演示日调度数据 / demo dispatch data (seed {plan.seed}, {plan.date(plan.first)}–{plan.date(plan.days - 1)})"
        fingerprint = plan.fingerprint
        audit.record_many(actor, [
            audit.Change(AUDIT_ACTION, BatchRecord(model, f"seed:{plan.seed}", text), None,
                         {"seed": plan.seed, "count": n, "fingerprint": fingerprint, "sizes": plan.counts})
            for model, n in counts.items()
        ])
    analyse()
    return {model._meta.label: n for model, n in counts.items()}


@dataclass
class DispatchRun:
    """What :func:`generate_and_load` did: rows per model, planted cases, fingerprint and seconds per phase."""

    counts: dict[str, int]
    sizes: dict[str, int]
    fingerprint: str
    seconds: dict[str, float] = field(default_factory=dict)


def generate_and_load(seed: int, start: dt.date, end: dt.date, *, prefix: str = "33", actor=None,
                      rebuild: bool = True) -> DispatchRun:
    """Plan the province's reports for ``start``–``end`` from the registry, load them and build the roll-ups."""
    clock = time.perf_counter()
    seconds = {}
    inputs, ids = read_inputs(prefix)
    if not len(ids):
        raise ValueError("登记库中没有可生成日报的企业 / the registry has no enterprises to report")
    plan = gen.plan(inputs, seed=seed, start=start, end=end)
    seconds["plan"], clock = time.perf_counter() - clock, time.perf_counter()
    hours, _sep, _minutes = settings.DISPATCH_DEADLINE.partition(":")
    counts = load(plan, ids, power_dates(start, end, baseline_window()), actor=actor, deadline_hour=int(hours))
    seconds["load"], clock = time.perf_counter() - clock, time.perf_counter()
    if rebuild:
        rollup.rebuild(start, end)
        seconds["rollups"] = time.perf_counter() - clock
    return DispatchRun(counts, plan.counts, plan.fingerprint, seconds)
