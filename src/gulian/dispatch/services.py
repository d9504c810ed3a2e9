"""Submitting daily reports: the only writer of DailyReport and DailyReportVersion.

One report per enterprise per day. The first submission creates the report (version 1); a
submission with different content is a correction: the report takes the new values and version
n+1, and a DailyReportVersion keeps every version's full content. A submission identical to the
current version changes nothing (no version, no audit record), so retries and re-imports are
harmless. Each new version gets one audit record, in the same transaction, and marks its date
dirty (rollup.mark_dirty) so the roll-ups are recomputed.

Late: a submission made after ``settings.DISPATCH_DEADLINE`` (local time, Asia/Shanghai) on the
report date, or on any later day, is late. Each version records whether it was late; the report's
own ``late`` is that of its first version (a correction to an on-time report does not make the day
late). Dates after today are rejected.

Concurrency: two submissions for the same enterprise and day end as one report and one extra
version. Existing reports are locked (SELECT … FOR UPDATE, in primary-key order) before their
version is bumped; a report created by someone else between our read and our insert makes the
insert fail on the unique constraint (enterprise, date), and the whole attempt is retried, now as
a correction. On SQLite, transactions are BEGIN IMMEDIATE (settings), so writers queue instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from gulian.core import audit
from gulian.core import uscc as uscc_codes
from gulian.core.bulk import insert
from gulian.core.services import OutOfScope
from gulian.dispatch import rollup
from gulian.dispatch.models import DailyReport, DailyReportVersion, IdempotencyKey
from gulian.dispatch.reportdata import FIELDS, Problem, normalise, problem, snapshot
from gulian.registry.io.access import chunks
from gulian.registry.io.base import Builder
from gulian.registry.models import Enterprise

CREATED, CORRECTED, UNCHANGED = "created", "corrected", "unchanged"
ATTEMPTS = 3  # a lost race on the unique constraint is retried as a correction
LOCK_WAIT_SECONDS = 30  # as long as SQLite's busy timeout (settings)
STAMP_FIELDS = ["version", "source", "submitted_at", "submitted_by"]
# positional construction: several times faster than keyword arguments for a thousand rows
NEW_REPORT, NEW_VERSION = Builder(DailyReport), Builder(DailyReportVersion)


# --- dates ----------------------------------------------------------------------------------------


def local_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Asia/Shanghai (the project's TIME_ZONE)."""
    return timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()


def deadline() -> dt.time:
    """``settings.DISPATCH_DEADLINE`` ("HH:MM") as a time of day."""
    hours, minutes = settings.DISPATCH_DEADLINE.split(":")
    return dt.time(int(hours), int(minutes))


def is_late(date: dt.date, now: dt.datetime) -> bool:
    """True when a report for ``date`` submitted at ``now`` comes after the day's deadline."""
    local = timezone.localtime(now, timezone.get_default_timezone())
    return local.date() > date or (local.date() == date and local.time() > deadline())


def parse_date(value: Any) -> dt.date:
    """A date from a date or an ISO string ("2020-02-10"); ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(value)


def date_problems(
    date: Any, today: dt.date, field_name: str = "date"
) -> tuple[dt.date | None, list[Problem]]:
    """The report date and what is wrong with it (missing, unreadable, in the future)."""
    if date is None or date == "":
        return None, [problem(field_name, "required")]
    try:
        day = parse_date(date)
    except (TypeError, ValueError):
        return None, [problem(field_name, "date")]
    if day > today:
        return None, [problem(field_name, "date_future")]
    return day, []


# --- writing ----------------------------------------------------------------------------------------


@dataclass
class Item:
    """One validated report to write: its position in the request, enterprise, date and field values."""

    index: int
    enterprise_id: int
    date: dt.date
    values: dict[str, Any]


@dataclass
class Outcome:
    """What happened to one item: the report as it now stands and created / corrected / unchanged."""

    index: int
    report: DailyReport
    status: str


@dataclass
class BatchResult:
    """A batch is applied entirely or not at all; ``problems`` are (item index, Problem) when not."""

    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[tuple[int, Problem]] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        """True when every item was valid and the batch was written."""
        return not self.problems

    def count(self, status: str) -> int:
        """How many items ended as ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)


def _as_errors(problems: list[Problem]) -> ValidationError:
    errors: dict[str, list[str]] = {}
    for p in problems:
        errors.setdefault(p.field, []).append(p.message)
    return ValidationError(errors)


def submit(
    actor, enterprise: Enterprise, date: Any, data: Mapping[str, Any], source: str, now=None
) -> Outcome:
    """Validate and write one report; ValidationError (by field) or OutOfScope when refused."""
    now = now or timezone.now()
    values, problems = normalise(data)
    day, bad_date = date_problems(date, local_today(now))
    if problems or bad_date:
        raise _as_errors(bad_date + problems)
    return apply(actor, [Item(0, enterprise.pk, day, values)], source, now)[0]


def submit_report(
    actor, enterprise: Enterprise, date: Any, data: Mapping[str, Any], source: str, now=None
) -> tuple[DailyReport, bool]:
    """Write one report as :func:`submit`; returns the report and whether it was created."""
    outcome = submit(actor, enterprise, date, data, source, now)
    return outcome.report, outcome.status == CREATED


def submit_batch(actor, items: list[Mapping[str, Any]], source: str, now=None) -> BatchResult:
    """Validate every item (``enterprise`` id or ``uscc``, ``date``, fields); write all, or none with the problems."""
    now = now or timezone.now()
    today = local_today(now)
    result = BatchResult()
    firms = _resolve(actor, items)
    seen: dict[tuple[int, dt.date], int] = {}
    ready: list[Item] = []
    for i, raw in enumerate(items):
        values, problems = normalise(raw)
        day, bad_date = date_problems(raw.get("date"), today)
        problems = bad_date + problems
        firm = firms[i]
        if isinstance(firm, Problem):
            problems.insert(0, firm)
        elif day is not None:
            key = (firm, day)
            if key in seen:
                problems.insert(0, problem("date", "duplicate_report", first=seen[key]))
            else:
                seen[key] = i
        if problems:
            result.problems += [(i, p) for p in problems]
        else:
            ready.append(Item(i, firm, day, values))
    if not result.problems:
        result.outcomes = apply(actor, ready, source, now)
    return result


def _resolve(actor, items: list[Mapping[str, Any]]) -> list[int | Problem]:
    """Each item's enterprise id, looked up in two queries, or the Problem when it is not in scope."""
    scope = Enterprise.objects.domestic(actor, "change")
    ids, codes = set(), set()
    wanted: list[Any] = []
    for raw in items:
        pk, code = raw.get("enterprise"), raw.get("uscc")
        if isinstance(pk, int) and not isinstance(pk, bool):
            ids.add(pk)
            wanted.append(pk)
        elif isinstance(code, str) and code.strip():
            code = uscc_codes.compact(code)
            codes.add(code)
            wanted.append(code)
        else:
            wanted.append(None)
    found_ids: set[int] = set()
    for batch in chunks(sorted(ids)):
        found_ids.update(scope.filter(pk__in=batch).values_list("pk", flat=True))
    by_code: dict[str, int] = {}
    for batch in chunks(sorted(codes)):
        by_code.update((c, pk) for pk, c in scope.filter(uscc__in=batch).values_list("pk", "uscc"))
    out: list[int | Problem] = []
    for w in wanted:
        if w is None:
            out.append(problem("enterprise", "enterprise_required"))
        elif isinstance(w, int):
            out.append(w if w in found_ids else problem("enterprise", "enterprise_scope"))
        else:
            out.append(by_code[w] if w in by_code else problem("uscc", "enterprise_scope"))
    return out


def apply(actor, items: list[Item], source: str, now: dt.datetime) -> list[Outcome]:
    """Write validated items with distinct (enterprise, date) in one transaction; OutOfScope if any is not the actor's."""
    return in_transaction(lambda: _apply_once(actor, items, source, now))


def in_transaction(work: Callable[[], Any]) -> Any:
    """``work()`` in a transaction, run again when it lost a race.

    Retried: a unique-constraint violation (another request created the same report first: the
    next attempt finds it and corrects it), a PostgreSQL deadlock, and SQLite's "locked" at BEGIN
    IMMEDIATE, which a shared-cache database (the in-memory test database) returns at once instead
    of waiting for its busy timeout. Inside an outer transaction only the unique violation is retried
    (from a savepoint); anything else is the outer transaction's to handle.
    """
    nested = transaction.get_connection().in_atomic_block
    waited = 0.0
    for attempt in itertools.count():
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            if attempt >= ATTEMPTS - 1:
                raise
        except OperationalError as e:
            text = str(e).lower()
            if nested or not ("locked" in text or "deadlock" in text) or waited > LOCK_WAIT_SECONDS:
                raise
            # exponential back-off with jitter, so that waiters do not retry in step
            pause = min(0.2, 0.005 * 2**attempt) * (0.5 + random.random())
            time.sleep(pause)
            waited += pause
    raise AssertionError("unreachable")  # pragma: no cover


def _assert_in_scope(actor, items: list[Item]) -> None:
    wanted = {i.enterprise_id for i in items}
    scope = Enterprise.objects.domestic(actor, "change")
    found = 0
    for batch in chunks(sorted(wanted)):
        found += scope.filter(pk__in=batch).count()
    if found != len(wanted):
        raise OutOfScope()


def _stored_reports(items: list[Item], lock: bool) -> dict[tuple[int, dt.date], DailyReport]:
    """The stored reports of the items' (enterprise, date) pairs; locked for update, in pk order, if ``lock``."""
    dates = sorted({i.date for i in items})
    wanted = {(i.enterprise_id, i.date) for i in items}
    found = {}
    for batch in chunks(sorted({i.enterprise_id for i in items})):
        qs = DailyReport.objects.filter(enterprise_id__in=batch, date__in=dates)
        for report in (qs.select_for_update() if lock else qs).order_by("pk"):
            key = (report.enterprise_id, report.date)
            if key in wanted:
                found[key] = report
    return found


def _current(report: DailyReport) -> dict[str, Any]:
    return snapshot({name: getattr(report, name) for name in FIELDS})


def preview(items: list[Item]) -> list[str]:
    """What :func:`apply` would do to each item (created / corrected / unchanged), writing nothing."""
    existing = _stored_reports(items, lock=False)
    statuses = []
    for item in items:
        report = existing.get((item.enterprise_id, item.date))
        if report is None:
            statuses.append(CREATED)
        else:
            statuses.append(UNCHANGED if _current(report) == snapshot(item.values) else CORRECTED)
    return statuses


def _apply_once(actor, items: list[Item], source: str, now: dt.datetime) -> list[Outcome]:
    actor_id = getattr(actor, "pk", None)
    _assert_in_scope(actor, items)  # again inside the transaction: a liaison may have been reassigned
    existing = _stored_reports(items, lock=True)
    outcomes, new, changed, versions, changes = [], [], [], [], []
    for item in sorted(items, key=lambda i: (i.enterprise_id, i.date)):
        data = snapshot(item.values)
        late = is_late(item.date, now)
        report = existing.get((item.enterprise_id, item.date))
        if report is None:
            report = NEW_REPORT(
                {
                    "enterprise_id": item.enterprise_id,
                    "date": item.date,
                    "version": 1,
                    "late": late,
                    "source": source,
                    "submitted_at": now,
                    "submitted_by_id": actor_id,
                    **item.values,
                }
            )
            new.append(report)
            changes.append(audit.Change("create", report, None, {"version": 1, "late": late, **data}))
            status = CREATED
        else:
            old = _current(report)
            if old == data:
                outcomes.append(Outcome(item.index, report, UNCHANGED))
                continue
            diff = [name for name in FIELDS if old[name] != data[name]]
            before = {"version": report.version, **{name: old[name] for name in diff}}
            for name, value in item.values.items():
                setattr(report, name, value)
            report.version += 1
            report.source, report.submitted_at, report.submitted_by_id = source, now, actor_id
            changed.append(report)
            after = {"version": report.version, "late": late, **{name: data[name] for name in diff}}
            changes.append(audit.Change("correct", report, before, after))
            status = CORRECTED
        versions.append((report, data, late))
        outcomes.append(Outcome(item.index, report, status))
    insert(DailyReport, new)
    _update(changed)
    insert(
        DailyReportVersion,
        [
            NEW_VERSION(
                {
                    "report_id": r.pk,
                    "version": r.version,
                    "data": d,
                    "late": late,
                    "source": source,
                    "submitted_at": now,
                    "submitted_by_id": actor_id,
                }
            )
            for r, d, late in versions
        ],
    )
    audit.record_many(actor, changes)  # after the inserts: the records name the new reports' ids
    rollup.mark_dirty(*{r.date for r, _d, _l in versions})
    outcomes.sort(key=lambda o: o.index)
    return outcomes


def _update(reports: list[DailyReport]) -> None:
    """Save the corrected reports' fields with one prepared UPDATE run for every row.

    ``bulk_update`` builds a CASE expression per field and row: for a thousand corrections that is
    seconds of Python; ``executemany`` of one statement is a C loop on SQLite and a pipeline on
    psycopg. Values are prepared by their fields exactly as ``save()`` would.
    """
    if not reports:
        return
    meta = DailyReport._meta
    fields = [meta.get_field(name) for name in (*FIELDS, *STAMP_FIELDS)]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    rows = [[f.get_db_prep_save(getattr(r, f.attname), connection) for f in fields] + [r.pk] for r in reports]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


# --- idempotency keys -------------------------------------------------------------------------------


class IdempotencyConflictError(Exception):
    """The key was used before with a different request body."""


class _DiscardError(Exception):
    """Raised inside the transaction to roll back a key whose request was refused."""

    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body


def request_hash(body: Any) -> str:
    """SHA-256 of the canonical JSON of a request body (key order and spacing do not matter)."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_once(actor, key: str, body_hash: str, run: Callable[[], tuple[int, dict]]) -> tuple[int, dict, bool]:
    """Run ``run()`` once per (actor, key): returns (status, response, replayed).

    A retry with the same key and body gets the stored response without running again; the same
    key with another body raises IdempotencyConflictError. Only a successful (2xx) response is kept: a
    refused request may be corrected and sent again under the same key. The key is stored in the
    same transaction as the writes, so a request that fails leaves neither. Two concurrent requests
    with one key queue on the key's unique constraint; the second then replays the first's response.
    """

    def work() -> tuple[int, dict, bool]:
        stored = IdempotencyKey.objects.filter(user=actor, key=key).first()
        fresh = None
        if stored is None:
            try:
                with transaction.atomic():
                    fresh = IdempotencyKey.objects.create(
                        user=actor, key=key, request_hash=body_hash, status=0, response={}
                    )
            except IntegrityError:  # a concurrent request with this key committed first
                stored = IdempotencyKey.objects.get(user=actor, key=key)
        if stored is not None:
            if stored.request_hash != body_hash:
                raise IdempotencyConflictError(key)
            return stored.status, stored.response, True
        status, response = run()
        if not 200 <= status < 300:
            raise _DiscardError(status, response)
        fresh.status, fresh.response = status, response
        fresh.save(update_fields=["status", "response"])
        return status, response, False

    try:
        return in_transaction(work)
    except _DiscardError as refused:
        return refused.status, refused.body, False
