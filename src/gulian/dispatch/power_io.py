"""Importing daily kWh per enterprise (.csv/.xlsx) with a meter-to-USCC mapping.

Files, in the foundation's import machinery (gulian.registry.io: header found anywhere, Chinese or
English headers, full-width digits, UTF-8/GBK CSV, row/column/reason errors, all-or-report):

* readings — 户号 (meter), 日期 (date), 用电量 (kWh), optionally 统一社会信用代码 on the same
  row (which also maps the meter), or 信用代码 alone for a reading that is not per meter;
* mapping — 户号 + 统一社会信用代码 (``meters=``), or a file with those columns only.

A reading of enterprise e on day d is the sum of the file's rows for e's meters on d; it replaces
whatever was stored for (e, d). Meters are upserted (a meter may move to another enterprise).
Every written PowerMeter/PowerReading gets an audit record in the same transaction, and the
roll-ups of the dates whose figures change are marked dirty.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from gulian.dispatch.models import PowerMeter, PowerReading, RegionDay
from gulian.dispatch.power import LAST_YEAR_HALF_WIDTH, baseline_window
from gulian.dispatch.rollup import mark_dirty
from gulian.registry.io import base
from gulian.registry.io.access import chunks, pks_within
from gulian.registry.io.columns import EXAMPLE_COLUMN, KIND_COLUMNS, KIND_LABELS, REQUIRED_GROUPS, Column
from gulian.registry.io.parsers import INVALID, MISSING, Parsed, Parsers
from gulian.registry.io.reader import read_table
from gulian.registry.io.result import REASONS, ImportFileError, ImportResult
from gulian.registry.io.text import CellError, ascii_fold, parse_amount
from gulian.registry.models import Enterprise

READINGS, METERS = "power", "power_meters"
METER_FILE = "电表对照表"  # prefixed to the column of errors found in the mapping file

_METER = Column(
    "meter", "户号", "Meter", "meter",
    ("电表户号", "用电户号", "电力户号", "户号编号", "用户编号", "meter id", "meter no", "account"),
    "供电企业的用电户号；一家企业可有多个户号", "3301000001",
)  # fmt: skip
_USCC = Column(
    "uscc", "统一社会信用代码", "USCC", "uscc", ("信用代码", "社会信用代码", "credit code"),
    "户号对应企业的信用代码；同一行给出时即更新对照关系", "91330106MA27XA1B0B",
)  # fmt: skip
_NAME = Column(
    "name", "户名", "Account name", "text200", ("企业名称", "用户名称", "单位名称", "name"),
    "仅供核对，不导入", "【示例】杭州某某科技有限公司",
)  # fmt: skip
_DATE = Column(
    "date", "日期", "Date", "date", ("数据日期", "用电日期", "抄表日期", "统计日期", "date"),
    "YYYY-MM-DD，也可写 2020/2/20、2020年2月20日、20200220", "2020-02-20", "always",
)  # fmt: skip
_KWH = Column(
    "kwh", "日用电量（千瓦时）", "kWh", "kwh", ("用电量", "日用电量", "电量", "用电量(千瓦时)", "kwh", "千瓦时"),
    "当日用电量，千瓦时；表头写“万千瓦时”时按万千瓦时换算", "12500.5", "always",
)  # fmt: skip

# Registered into the foundation's tables so that its reader, template and error report serve these kinds.
KIND_COLUMNS.setdefault(READINGS, (_METER, _USCC, _NAME, _DATE, _KWH))
KIND_COLUMNS.setdefault(METERS, (_METER, _USCC, _NAME))
KIND_LABELS.setdefault(READINGS, "日用电量")
KIND_LABELS.setdefault(METERS, "电表对照表")
REQUIRED_GROUPS.setdefault(READINGS, (("meter", "uscc"), ("date",), ("kwh",)))
REQUIRED_GROUPS.setdefault(METERS, (("meter",), ("uscc",)))
EXAMPLE_COLUMN.setdefault(READINGS, "name")
EXAMPLE_COLUMN.setdefault(METERS, "name")
for _code, _texts in {
    "date": ("日期无法识别，请写成 YYYY-MM-DD", "not a date; use YYYY-MM-DD"),
    "meter_unknown": ("户号没有对应的企业，请一并提供信用代码或电表对照表", "meter not mapped to an enterprise"),
    "meter_conflict": ("同一户号对应了不同的信用代码（见第{first}行）", "meter mapped to another USCC in row {first}"),
    "meter_missing": ("户号与信用代码至少填写一项", "give the meter or the USCC"),
    "day_rejected": ("同一企业同日的其他行被拒绝，该日未导入", "another row of this enterprise and day was rejected"),
}.items():
    REASONS.setdefault(_code, _texts)

_DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date_cell(value: str) -> dt.date:
    """A date from ISO, 2020/2/20, 2020年2月20日, 20200220, an Excel datetime text or an Excel serial number."""
    text = ascii_fold(value).strip()
    for form in _DATE_FORMS:
        m = form.fullmatch(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise CellError("date")
    if re.fullmatch(r"\d{5}(\.0+)?", text):  # Excel's day count, when a date cell arrives as a number
        return EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    raise CellError("date")


def parse_meter(value: str) -> str:
    """A meter id: ASCII, no spaces; a number that Excel stored as 3301000001.0 loses the '.0'."""
    text = re.sub(r"\s+", "", ascii_fold(value))
    text = re.sub(r"^(\d+)\.0+$", r"\1", text)
    if len(text) > 32:
        raise CellError("too_long", max=32)
    return text


class PowerParsers(Parsers):
    """The foundation's parsers plus date, meter and kWh (with the 万千瓦时 factor)."""

    def get(self, name: str, factor: int = 1):
        """Parse function by column parser name."""
        if name == "date":
            return parse_date_cell
        if name == "meter":
            return parse_meter
        if name == "kwh":
            return lambda v: parse_amount(v, 2, factor)
        return super().get(name, factor)


def _read(kind: str, data: bytes, name: str, user) -> Parsed:
    table = read_table(kind, data, name)
    if kind == READINGS and "kwh" in table.columns and "万千瓦时" in table.columns["kwh"].header:
        table.columns["kwh"].factor = 10_000
    return Parsed(table, PowerParsers(user))


def _is_mapping_only(error: ImportFileError) -> bool:
    return error.error.code == "missing_column" and error.error.column in (_DATE.zh, _KWH.zh)


class _Firms:
    """USCC → enterprise id, and which of them the actor may change (two queries per chunk of codes)."""

    def __init__(self, user, codes: set[str]):
        self.ids: dict[str, int] = {}
        self.allowed: set[int] = set()
        for batch in chunks(sorted(codes)):
            self.ids.update(Enterprise.objects.filter(uscc__in=batch).values_list("uscc", "pk"))
        mine = Enterprise.objects.domestic(user, "change")
        for batch in chunks(sorted(self.ids.values())):
            self.allowed.update(mine.filter(pk__in=batch).values_list("pk", flat=True))

    def lookup(self, parsed: Parsed, i: int, column: str, code: str) -> int | None:
        """The enterprise id of ``code``, or None with the row's error recorded."""
        firm = self.ids.get(code)
        if firm is None:
            parsed.add(i, column, "enterprise_unknown", code)
        elif firm not in self.allowed:
            parsed.add(i, column, "out_of_scope", code)
            return None
        return firm


def _mapping(parsed: Parsed, user, label: str = "") -> dict[str, tuple[int, list[int]]]:
    """{meter: (enterprise id, row indices)} from the rows that give both meter and USCC."""
    head = parsed.header("uscc", _USCC.zh)
    pairs = [(i, parsed.get("meter", i), parsed.get("uscc", i)) for i in range(len(parsed.rows))]
    firms = _Firms(user, {u for _i, _m, u in pairs if isinstance(u, str)})
    found: dict[str, tuple[int, list[int]]] = {}
    for i, meter, code in pairs:
        if not isinstance(meter, str) or not isinstance(code, str):
            continue
        firm = firms.lookup(parsed, i, f"{label}{head}", code)
        if firm is None:
            continue
        if meter in found and found[meter][0] != firm:
            first = parsed.rows[found[meter][1][0]]
            parsed.add(i, f"{label}{parsed.header('meter', _METER.zh)}", "meter_conflict", meter, first=first)
            continue
        found.setdefault(meter, (firm, []))[1].append(i)
    return found


def _meter_plan(user, mapping: dict[str, tuple[int, list[int]]], parsed: Parsed, label: str) -> base.Plan:
    """PowerMeter creates and moves for ``mapping``; moving a meter needs 'change' on its old enterprise.

    A refused meter is dropped from ``mapping`` and every row naming it is rejected.
    """
    plan = base.Plan(PowerMeter)
    existing = {}
    for batch in chunks(sorted(mapping)):
        existing.update({m.meter_id: m for m in PowerMeter.objects.filter(meter_id__in=batch)})
    movable = pks_within(PowerMeter.objects.restrict(user, "change"), [m.pk for m in existing.values()])
    for meter, (firm, rows) in list(mapping.items()):
        old, i = existing.get(meter), rows[0]
        if old is None:
            plan.creates.append((i, PowerMeter(meter_id=meter, enterprise_id=firm)))
        elif old.enterprise_id == firm:
            plan.unchanged.append(i)
        elif old.pk not in movable:
            for r in rows:
                parsed.add(r, f"{label}{parsed.header('meter', _METER.zh)}", "out_of_scope", meter)
            del mapping[meter]
        else:
            plan.updates.append((i, base.Update(old, {"enterprise": old.enterprise_id}, {"enterprise": firm})))
    return plan


def _sums(parsed: Parsed, user, mapping: dict[str, tuple[int, list[int]]], partial: bool) -> dict[tuple[int, dt.date], tuple[Decimal, int]]:  # fmt: skip
    """{(enterprise id, date): (Σ kWh, first row index)} of the rows that pass; errors recorded."""
    n = len(parsed.rows)
    stored: dict[str, int] = {}
    wanted = {m for i in range(n) if isinstance(m := parsed.get("meter", i), str) and m not in mapping}
    for batch in chunks(sorted(wanted)):
        stored.update(
            PowerMeter.objects.restrict(user, "view").filter(meter_id__in=batch).values_list("meter_id", "enterprise_id")
        )
    direct = _Firms(user, {u for i in range(n) if isinstance(u := parsed.get("uscc", i), str)})
    seen: dict[tuple[str, dt.date], int] = {}
    rows_of: dict[tuple[int, dt.date], list[int]] = defaultdict(list)  # every row that names a firm and day
    totals: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
    for i in range(n):
        meter, code, date, kwh = (parsed.get(k, i) for k in ("meter", "uscc", "date", "kwh"))
        for key, col in (("date", _DATE), ("kwh", _KWH)):
            if parsed.get(key, i) is MISSING:
                parsed.add(i, parsed.header(key, col.zh), "required")
        if meter is MISSING and code is MISSING:
            parsed.add(i, parsed.header("meter", _METER.zh), "meter_missing")
        firm = _firm_of(parsed, i, meter, code, mapping, stored, direct)
        if firm is None or not isinstance(date, dt.date):
            continue
        rows_of[(firm, date)].append(i)
        source = meter if isinstance(meter, str) else f"uscc:{code}"
        if (source, date) in seen:
            first = parsed.rows[seen[(source, date)]]
            parsed.add(i, parsed.header("date", _DATE.zh), "duplicate", date.isoformat(), first=first)
        seen.setdefault((source, date), i)
        if i not in parsed.errors:
            totals[(firm, date)] += kwh
    out = {}
    for key, rows in rows_of.items():
        if any(i in parsed.errors for i in rows):
            # one rejected row (a meter, a duplicate) would leave a wrong sum: the day is not imported
            for i in rows:
                if i not in parsed.errors and partial:
                    parsed.add(i, parsed.header("kwh", _KWH.zh), "day_rejected")
            continue
        out[key] = (totals[key], rows[0])
    return out


def _firm_of(parsed: Parsed, i: int, meter, code, mapping, stored, direct) -> int | None:
    """The enterprise a row's reading belongs to (by meter, else by USCC), or None with an error."""
    if meter is INVALID or code is INVALID:
        return None
    if isinstance(meter, str):
        if meter in mapping:
            return mapping[meter][0]
        firm = stored.get(meter)
        if firm is None and code is MISSING:
            parsed.add(i, parsed.header("meter", _METER.zh), "meter_unknown", meter)
        # with a USCC on the row the mapping step has already said why it was refused
        return firm if code is MISSING else None
    if isinstance(code, str):
        return direct.lookup(parsed, i, parsed.header("uscc", _USCC.zh), code)
    return None


def _reading_plan(sums: dict[tuple[int, dt.date], tuple[Decimal, int]]) -> base.Plan:
    plan = base.Plan(PowerReading)
    by_date: dict[dt.date, list[int]] = defaultdict(list)
    for firm, date in sums:
        by_date[date].append(firm)
    existing: dict[tuple[int, dt.date], PowerReading] = {}
    for date, firms in by_date.items():
        for batch in chunks(sorted(firms)):
            for r in PowerReading.objects.filter(date=date, enterprise_id__in=batch):
                existing[(r.enterprise_id, r.date)] = r
    for (firm, date), (kwh, i) in sorted(sums.items(), key=lambda kv: kv[1][1]):
        old = existing.get((firm, date))
        if old is None:
            plan.creates.append((i, PowerReading(enterprise_id=firm, date=date, kwh=kwh)))
        elif old.kwh == kwh:
            plan.unchanged.append(i)
        else:
            plan.updates.append((i, base.Update(old, {"kwh": old.kwh}, {"kwh": kwh})))
    return plan


def affected_days(dates: set[dt.date]) -> set[dt.date]:
    """Dates whose roll-ups change when readings of ``dates`` change.

    The dates themselves; the dates a year later whose same-period baseline covers them; and,
    when a date lies in the pre-disruption window, every date that already has roll-ups.
    """
    out = set(dates)
    for d in dates:
        try:
            later = d.replace(year=d.year + 1)
        except ValueError:
            later = d.replace(year=d.year + 1, day=28)
        out.update(later + dt.timedelta(days=k) for k in range(-LAST_YEAR_HALF_WIDTH, LAST_YEAR_HALF_WIDTH + 1))
    start, end = baseline_window()
    if any(start <= d <= end for d in dates):
        out.update(RegionDay.objects.order_by().values_list("date", flat=True).distinct())
    known = set(RegionDay.objects.filter(date__in=out).values_list("date", flat=True).distinct())
    # a year-later date without roll-ups yet needs nothing now: it is computed when it first has data
    return set(dates) | (out & known)


@dataclass
class PowerImportResult(ImportResult):
    """ImportResult of a power import, with the dates whose readings it contains."""

    days: list[dt.date] = field(default_factory=list)


def import_power(user, data: bytes, name: str, *, meters: tuple[bytes, str] | None = None,
                 partial: bool = False, dry_run: bool = False) -> PowerImportResult:  # fmt: skip
    """Import a readings file (or a mapping-only file) and an optional mapping file as ``user``.

    ``meters`` is (bytes, file name) of a mapping file. Counts are of readings (of meters for a
    mapping-only import); errors from the mapping file name it in their column. Nothing is
    written when any row of either file is rejected, unless ``partial``; ``dry_run`` validates only.
    """
    result = PowerImportResult(kind=READINGS, dry_run=dry_run)
    mapping: dict[str, tuple[int, list[int]]] = {}
    plans: list[base.Plan] = []
    meter_errors = []
    if meters is not None:
        label = f"[{METER_FILE}] "
        try:
            mparsed = _read(METERS, meters[0], meters[1], user)
        except ImportFileError as e:
            result.errors = [replace(e.error, column=f"{label}{e.error.column}")]
            return result
        mapping = _mapping(mparsed, user, label)
        plans.append(_meter_plan(user, mapping, mparsed, label))
        plans[0].drop(set(mparsed.errors))
        meter_errors = sorted(
            (e if e.column.startswith(label) else replace(e, column=f"{label}{e.column}")
             for errs in mparsed.errors.values() for e in errs),
            key=lambda e: e.row,
        )  # fmt: skip
    try:
        parsed, mapping_only = _read(READINGS, data, name, user), False
    except ImportFileError as e:
        if not _is_mapping_only(e):
            result.errors = [e.error]
            return result
        try:
            parsed, mapping_only = _read(METERS, data, name, user), True
        except ImportFileError:
            result.errors = [e.error]
            return result
    result.header_row = parsed.table.header_row
    result.ignored_columns = parsed.table.ignored
    own = {m: v for m, v in _mapping(parsed, user).items() if m not in mapping}
    own_plan = _meter_plan(user, own, parsed, "")
    plans.append(own_plan)
    mapping |= own
    sums = {} if mapping_only else _sums(parsed, user, mapping, partial)
    reading_plan = _reading_plan(sums)
    if not mapping_only:
        plans.append(reading_plan)
    result.days = sorted({date for _firm, date in sums})
    main = own_plan if mapping_only else reading_plan

    def followup():
        changed = {u.obj.date for _i, u in reading_plan.updates} | {o.date for _i, o in reading_plan.creates}
        if changed:
            mark_dirty(*affected_days(changed))

    blocked = bool(meter_errors) and not partial  # the mapping file's rejected rows stop the whole import
    base.finish(
        user, parsed, result, plans, partial=partial, dry_run=dry_run or blocked, followup=followup,
        counts=lambda _bad: (len(main.creates), len(main.updates), len(main.unchanged)),
    )  # fmt: skip
    result.dry_run = dry_run
    result.errors = meter_errors + result.errors
    return result


def template(kind: str, out) -> None:
    """The blank template of ``kind`` ("power" or "power_meters") through the foundation's writer."""
    from gulian.registry.io.writer import write_template

    write_template(kind, out)


__all__ = ["METERS", "READINGS", "PowerImportResult", "affected_days", "import_power", "parse_date_cell", "template"]
