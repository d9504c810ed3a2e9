"""Importing a day's reports from the spreadsheet liaisons exchange (企业复工复产日报表).

The file is read by the registry's import machinery (gulian.registry.io: header found under title
rows, Chinese or English headers and aliases, full-width digits, 85% or 0.85, row-numbered errors,
the error report), with the "reports" columns below registered as one more kind. Each row is one
enterprise's whole report for the day, keyed by USCC and date; a blank optional cell is empty, it
does not keep an earlier value. The rules are those of the API and the form (gulian.dispatch.
reportdata); rows are written through gulian.dispatch.services.apply, so versions, late flags,
audit records and roll-up marks are the same. All or nothing unless ``partial``; a row identical to
the current report changes nothing, so importing the same file again creates no versions.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import IO

import xlsxwriter
from django.utils import timezone

from gulian.dispatch import services
from gulian.dispatch.models import Source
from gulian.dispatch.reportdata import FIELDS, NOTE_MAX, REASONS, InvalidValueError, blocker_mask, normalise
from gulian.registry.io import result as io_result
from gulian.registry.io.access import chunks
from gulian.registry.io.columns import EXAMPLE_COLUMN, KIND_COLUMNS, KIND_LABELS, REQUIRED_GROUPS, Column
from gulian.registry.io.parsers import INVALID, MISSING, Parsed, Parsers
from gulian.registry.io.reader import read_table
from gulian.registry.io.result import ImportFileError, ImportResult, row_error
from gulian.registry.io.text import (
    CellError,
    ascii_fold,
    limited_text,
    parse_amount,
    parse_bool,
    parse_decimal,
    parse_int,
)
from gulian.registry.models import Enterprise

KIND = "reports"
LABEL = "企业日报"

COLUMNS = (
    Column(
        "uscc",
        "统一社会信用代码",
        "USCC",
        "uscc",
        ("信用代码", "社会信用代码", "统一代码", "credit code"),
        "18位，企业须已登记且在您的管辖范围内",
        "91330106MA27XA1B0B",
        "always",
    ),
    Column(
        "name",
        "企业名称",
        "Enterprise name",
        "name",
        ("名称", "单位名称", "企业", "enterprise"),
        "仅供阅读，按信用代码识别企业",
        "【示例】杭州某某科技有限公司",
    ),
    Column(
        "date",
        "日期",
        "Date",
        "date",
        ("填报日期", "报送日期", "日报日期", "date"),
        "2020-02-10、2020/2/10 或 2020年2月10日；导入时指定了日期可不填",
        "2020-02-10",
    ),
    Column(
        "resumed",
        "是否复工",
        "Resumed",
        "resumed",
        ("复工", "已复工", "是否已复工", "复工情况", "resumed"),
        "是/否（已复工/未复工）",
        "是",
        "always",
    ),
    Column(
        "utilisation",
        "产能利用率",
        "Capacity utilisation",
        "utilisation",
        ("产能利用率(%)", "产能恢复率", "开工率", "utilisation"),
        "0–150%：85%、0.85、85 均可（大于 1.5 且不带 % 的数按百分数读）；未复工填 0 或不填",
        "85%",
    ),
    Column(
        "staff_on_duty",
        "到岗人数",
        "Staff on duty",
        "int",
        ("到岗员工数", "在岗人数", "今日到岗人数", "staff on duty"),
        "整数，不超过正常用工人数的 2 倍",
        "260",
        "always",
    ),
    Column(
        "staff_normal",
        "正常用工人数",
        "Normal staff",
        "int",
        ("正常用工", "正常在岗人数", "员工总数", "normal staff"),
        "整数，至少 1",
        "320",
        "always",
    ),
    Column(
        "staff_returned_outside",
        "省外返岗人数",
        "Returned from outside the province",
        "int",
        ("省外返岗", "外省返岗人数", "省外返工人数"),
        "整数",
        "35",
    ),
    Column(
        "inventory_days",
        "库存天数",
        "Inventory days",
        "days",
        ("关键原材料库存天数", "原材料库存天数", "库存可用天数", "inventory days"),
        "关键原材料库存可用天数",
        "12.5",
    ),
    Column(
        "output_value",
        "产值",
        "Output value (yuan)",
        "money",
        ("当日产值", "日产值", "output value"),
        "当日产值，单位：元；表头写“万元”时按万元换算",
        "1250000",
    ),
    Column(
        "order_change",
        "订单变化",
        "Order change",
        "change",
        ("订单较正常变化", "订单变化率", "订单增减", "order change"),
        "较正常水平：-20%、-0.2、-20 均可（不低于 -100%）",
        "-20%",
    ),
    Column(
        "blockers",
        "堵点",
        "Blockers",
        "blockers",
        ("主要堵点", "堵点类型", "困难和问题", "存在困难", "blockers"),
        "用工、原材料/零部件、物流、资金、防疫物资、订单不足、上下游未复工、用能、其他；多个用逗号或顿号分隔",
        "用工、物流",
    ),
    Column(
        "blocker_note",
        "堵点说明",
        "Blocker details",
        "note",
        ("困难说明", "问题描述", "具体问题", "诉求", "blocker details"),
        f"至多 {NOTE_MAX} 字",
        "外省员工返岗需隔离，缺工约 60 人",
    ),
)
COLUMN = {c.key: c for c in COLUMNS}


def _register() -> None:
    """Make "reports" one more kind of the registry's reader, error rows and error report."""
    # The registry's io modules look kinds up in these tables; adding ours reuses header detection,
    # aliases, normalisation and error reports without copying them. Its own KINDS list (what
    # `gulian import` and the registry import page accept) is left alone.
    KIND_COLUMNS.setdefault(KIND, COLUMNS)
    KIND_LABELS.setdefault(KIND, LABEL)
    REQUIRED_GROUPS.setdefault(KIND, (("uscc",), ("resumed",), ("staff_on_duty",), ("staff_normal",)))
    EXAMPLE_COLUMN.setdefault(KIND, "name")
    for code, text in REASONS.items():
        io_result.REASONS.setdefault(code, text)


_register()

# --- cells -------------------------------------------------------------------------------------------

_CN_DATE = re.compile(r"^(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_day(value: str) -> dt.date:
    """2020-02-10, 2020/2/10, 2020.2.10, 2020年2月10日, 20200210, or an Excel date serial number."""
    text = ascii_fold(value).strip()
    m = _CN_DATE.match(text.split(" ")[0].split("T")[0])
    try:
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if re.fullmatch(r"\d{8}", text):
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if re.fullmatch(r"\d{5}(\.0+)?", text):  # a date cell read as its serial number
            return _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    except ValueError:
        pass
    raise CellError("date")


def _fraction(value: str) -> Decimal:
    """85%, 0.85 or 85 → 0.85: a number above 1.5 without % is read as a percentage."""
    text = re.sub(r"\s+", "", ascii_fold(value))
    percent = text.endswith("%")
    number = parse_decimal(text.rstrip("%"), 8)
    if percent or abs(number) > Decimal("1.5"):
        number /= 100
    return number


def parse_utilisation(value: str) -> Decimal:
    """Capacity utilisation as a fraction 0–1.5."""
    number = _fraction(value)
    if not 0 <= number <= Decimal("1.5"):
        raise CellError("utilisation_range")
    return number


def parse_change(value: str) -> Decimal:
    """Order change as a fraction, -1 or more."""
    number = _fraction(value)
    if number < -1:
        raise CellError("order_change_range")
    return number


def parse_resumed(value: str) -> bool:
    """是/否, 已复工/未复工, 复工/停工, Y/N, 1/0."""
    text = value.strip()
    if text in ("已复工", "复工", "已开工", "开工"):
        return True
    if text in ("未复工", "停工", "未开工"):
        return False
    return parse_bool(value)


def parse_blockers(value: str) -> int:
    """Blocker labels separated by commas, 、 or spaces, as a bit mask."""
    try:
        return blocker_mask(value)
    except InvalidValueError as e:
        raise CellError(e.code, **e.params)


class ReportParsers(Parsers):
    """The cell parsers of the report columns (no region or industry tables are needed)."""

    def __init__(self):  # noqa: D107 - deliberately skips loading the reference tables
        self._fixed = {
            "uscc": self.uscc,
            "name": limited_text(200),
            "note": limited_text(NOTE_MAX),
            "date": parse_day,
            "resumed": parse_resumed,
            "utilisation": parse_utilisation,
            "change": parse_change,
            "blockers": parse_blockers,
            "int": parse_int,
            "days": lambda v: parse_amount(v, 1),
        }


# --- rows ----------------------------------------------------------------------------------------------


def import_reports(
    data: bytes,
    name: str,
    user,
    *,
    date: dt.date | None = None,
    partial: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Import a day's reports from ``data`` (an .xlsx/.xls/.csv called ``name``) as ``user``.

    ``date`` is the report date of rows without a 日期 cell; a row whose 日期 differs from it is
    rejected. Nothing is written when any row is rejected, unless ``partial``; ``dry_run`` checks
    and counts only.
    """
    now = now or timezone.now()
    result = ImportResult(kind=KIND, dry_run=dry_run)
    try:
        table = read_table(KIND, data, name)
        if date is None and "date" not in table.columns:
            raise ImportFileError(row_error(0, COLUMN["date"].zh, "missing_column"))
    except ImportFileError as e:
        result.errors = [e.error]
        return result
    result.header_row, result.ignored_columns = table.header_row, table.ignored
    parsed = Parsed(table, ReportParsers())
    items = _items(user, parsed, date, services.local_today(now))
    bad = set(parsed.errors)
    result.rows = len(parsed.rows)
    result.errors = sorted((e for errs in parsed.errors.values() for e in errs), key=lambda e: e.row)
    items = [item for item in items if item.index not in bad]
    if dry_run or (bad and not partial):
        statuses = services.preview(items)
    else:
        statuses = [o.status for o in services.apply(user, items, Source.IMPORT, now)]
        result.applied = True
    result.created = statuses.count(services.CREATED)
    result.updated = statuses.count(services.CORRECTED)
    result.unchanged = statuses.count(services.UNCHANGED)
    return result


def _header(parsed: Parsed, key: str) -> str:
    return parsed.header(key, COLUMN[key].zh if key in COLUMN else key)


def _items(user, parsed: Parsed, default_date: dt.date | None, today: dt.date) -> list[services.Item]:
    """Rows as service items; every problem goes to ``parsed.errors`` under the row's number."""
    firms = _enterprises(user, parsed)
    first: dict[tuple[int, dt.date], int] = {}
    items = []
    for i in range(len(parsed.rows)):
        day = _row_date(parsed, i, default_date, today)
        values, problems = normalise(_row_values(parsed, i))
        for p in problems:
            if parsed.get(p.field, i) is not INVALID:  # a cell its parser rejected is reported once
                parsed.add(i, _header(parsed, p.field), p.code, parsed.raw(p.field, i), **dict(p.params))
        firm = firms[i]
        if firm is None or day is None or problems:
            continue
        key = (firm, day)
        if key in first:
            parsed.add(
                i, _header(parsed, "uscc"), "duplicate", parsed.raw("uscc", i), first=parsed.rows[first[key]]
            )
            continue
        first[key] = i
        if i not in parsed.errors:
            items.append(services.Item(i, firm, day, values))
    return items


def _row_values(parsed: Parsed, i: int) -> dict:
    values = {}
    for name in FIELDS:
        value = parsed.get(name, i)
        values[name] = None if value is MISSING or value is INVALID else value
    return values


def _row_date(parsed: Parsed, i: int, default: dt.date | None, today: dt.date) -> dt.date | None:
    cell = parsed.get("date", i)
    if cell is INVALID:
        return None
    if cell is MISSING:
        if default is None:
            parsed.add(i, _header(parsed, "date"), "required")
            return None
        cell = default
    elif default is not None and cell != default:
        parsed.add(
            i, _header(parsed, "date"), "date_mismatch", parsed.raw("date", i), date=default.isoformat()
        )
        return None
    if cell > today:
        parsed.add(i, _header(parsed, "date"), "date_future", parsed.raw("date", i) or cell.isoformat())
        return None
    return cell


def _enterprises(user, parsed: Parsed) -> list[int | None]:
    """Each row's enterprise id, or None with the row's error: unknown, or not the user's to report for."""
    codes = {c for c in parsed.columns.get("uscc", []) if isinstance(c, str)}
    ids: dict[str, int] = {}
    for batch in chunks(sorted(codes)):
        # looked up unrestricted so that a firm outside the scope is reported as such (as registry imports do)
        ids.update(Enterprise.objects.filter(uscc__in=batch).values_list("uscc", "pk"))
    writable: set[int] = set()
    scope = Enterprise.objects.domestic(user, "change")
    for batch in chunks(sorted(ids.values())):
        writable.update(scope.filter(pk__in=batch).values_list("pk", flat=True))
    out: list[int | None] = []
    header = _header(parsed, "uscc")
    for i in range(len(parsed.rows)):
        code = parsed.get("uscc", i)
        pk = ids.get(code) if isinstance(code, str) else None
        if code is MISSING:
            parsed.add(i, header, "required")
        elif code is INVALID:
            pass
        elif pk is None:
            parsed.add(i, header, "enterprise_unknown", parsed.raw("uscc", i))
        elif pk not in writable:
            parsed.add(i, header, "out_of_scope", parsed.raw("uscc", i))
            pk = None
        out.append(pk)
    return out


# --- the template ----------------------------------------------------------------------------------------


def write_template(out: str | IO[bytes]) -> None:
    """A blank daily-report sheet: Chinese headers, one example row (skipped on import), notes."""
    wb = xlsxwriter.Workbook(out)
    ws = wb.add_worksheet(LABEL)
    head = wb.add_format({"bold": True, "bg_color": "#F1F5F9", "border": 1})
    required = wb.add_format({"bold": True, "bg_color": "#FEE2E2", "border": 1})
    example = wb.add_format({"italic": True, "font_color": "#6B7280"})
    for c, col in enumerate(COLUMNS):
        ws.write_string(0, c, col.zh, required if col.required else head)
        ws.write_string(1, c, col.example, example)
        ws.set_column(c, c, max(12, len(col.zh) * 2 + 2))
    ws.freeze_panes(1, 0)
    notes = wb.add_worksheet("填写说明")
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    general = (
        "企业复工复产日报表 · 填写说明 / Notes",
        "1. 每行是一家企业一天的完整日报；同一企业同一天只能有一行。第2行为示例（企业名称以“【示例】”开头），导入时跳过。",
        "2. 表头可用中文或英文或“也可写作”中的名称，表头上方可有标题行和空行。",
        "3. 空白单元格表示该项为空（不会沿用以前的数值）。已有当天日报时，内容不同则生成新版本，内容相同则不变。",
        "4. 默认只要有一行被拒绝，整个文件都不写入；被拒绝的行会列出行号、列和原因。",
        "5. 截止时间后提交的日报标记为迟报；日期不能晚于今天。",
    )
    for r, line in enumerate(general):
        notes.write_string(r, 0, line)
    top = len(general) + 1
    for c, title in enumerate(("列名", "English", "必填", "说明", "示例", "也可写作")):
        notes.write_string(top, c, title, head)
    for r, col in enumerate(COLUMNS, start=top + 1):
        cells = (
            col.zh,
            col.en,
            "必填" if col.required else "",
            col.note,
            col.example,
            "、".join(col.aliases),
        )
        for c, value in enumerate(cells):
            notes.write_string(r, c, value, wrap)
    for c, width in enumerate((16, 26, 8, 60, 20, 40)):
        notes.set_column(c, c, width)
    wb.close()
