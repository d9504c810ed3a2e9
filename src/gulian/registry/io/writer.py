"""Writing spreadsheets: exports (.xlsx or .csv), blank templates with notes, and error reports.

Exports use the import columns exactly, so an exported file imports back with
no change. .xlsx goes through xlsxwriter in constant-memory mode (rows are
streamed to disk as they are written); codes and phone numbers are written as
text so Excel does not turn them into numbers, shares as numbers formatted as
percentages, money as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import IO

import xlsxwriter

from gulian.registry.io.columns import EXAMPLE_COLUMN, EXAMPLE_MARKER, KIND_COLUMNS, KIND_LABELS, Column
from gulian.registry.io.result import ImportResult
from gulian.registry.io.text import format_decimal, format_share

TEXT_PARSERS = {
    "uscc",
    "region",
    "industry",
    "country",
    "text32",
    "text64",
    "text100",
    "text200",
    "name",
    "slug",
    "email",
    "scale",
    "role",
    "bool",
}
EXACT_FLOAT = Decimal(10) ** 13  # below this a 2-decimal amount survives the round trip through a float


def _number(value) -> float | str:
    if isinstance(value, Decimal):
        return float(value) if abs(value) < EXACT_FLOAT else format_decimal(value)
    return value


def write_xlsx(out: str | IO[bytes], sheet: str, columns: tuple[Column, ...], rows: Iterable[list]) -> int:
    """Write a header of Chinese column names and ``rows``; returns the number of data rows."""
    wb = xlsxwriter.Workbook(
        out, {"constant_memory": True, "strings_to_numbers": False, "strings_to_urls": False}
    )
    ws = wb.add_worksheet(sheet)
    head = wb.add_format({"bold": True, "bg_color": "#F1F5F9", "border": 1})
    percent = wb.add_format({"num_format": "0.00%"})
    money = wb.add_format({"num_format": "#,##0.00"})
    for c, col in enumerate(columns):
        ws.write_string(0, c, col.zh, head)
        ws.set_column(c, c, max(10, len(col.zh) * 2 + 2))
    ws.freeze_panes(1, 0)
    kinds = [col.parser for col in columns]
    n = 0
    for n, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            kind = kinds[c]
            if kind in TEXT_PARSERS:
                ws.write_string(n, c, str(value))
            elif kind == "share":
                ws.write_number(n, c, float(value), percent)
            elif kind == "money":
                number = _number(value)
                (
                    ws.write_number(n, c, number, money)
                    if isinstance(number, float)
                    else ws.write_string(n, c, number)
                )
            else:
                number = _number(value)
                (
                    ws.write_number(n, c, number)
                    if isinstance(number, float | int)
                    else ws.write_string(n, c, number)
                )
    wb.close()
    return n


def write_csv(out: IO[bytes], columns: tuple[Column, ...], rows: Iterable[list]) -> int:
    """UTF-8 CSV with a BOM (so Excel opens it as UTF-8); shares as '85%'."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([c.zh for c in columns])
    kinds = [c.parser for c in columns]
    n = 0
    for row in rows:
        n += 1
        cells = []
        for kind, value in zip(kinds, row, strict=True):
            if value is None:
                cells.append("")
            elif kind == "share":
                cells.append(format_share(value))
            elif isinstance(value, Decimal):
                cells.append(format_decimal(value))
            else:
                cells.append(str(value))
        writer.writerow(cells)
    text.flush()
    text.detach()  # leave ``out`` open for the caller
    return n


def write_template(kind: str, out: str | IO[bytes]) -> None:
    """A blank import template: Chinese headers, one example row (skipped on import), a notes sheet."""
    columns = KIND_COLUMNS[kind]
    wb = xlsxwriter.Workbook(out)
    ws = wb.add_worksheet(KIND_LABELS[kind])
    head = wb.add_format({"bold": True, "bg_color": "#F1F5F9", "border": 1})
    required = wb.add_format({"bold": True, "bg_color": "#FEE2E2", "border": 1})
    example = wb.add_format({"italic": True, "font_color": "#6B7280"})
    marker = EXAMPLE_COLUMN[kind]
    for c, col in enumerate(columns):
        ws.write_string(0, c, col.zh, required if col.required else head)
        ws.set_column(c, c, max(12, len(col.zh) * 2 + 2))
        value = col.example
        if col.key == marker and not value.startswith(EXAMPLE_MARKER):
            value = EXAMPLE_MARKER + value
        ws.write_string(1, c, value, example)
    ws.freeze_panes(1, 0)
    notes = wb.add_worksheet("填写说明")
    bold = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    notes.write_string(0, 0, f"{KIND_LABELS[kind]}导入模板 · 填写说明 / Notes", bold)
    general = [
        "1. 第2行为示例（以“【示例】”开头），导入时自动跳过，可删除。",
        "2. 表头可用中文或英文，也可写作“也可写作”一列中的名称；表头上方可有标题行、说明行，空行会被忽略。",
        "3. 数字可含千分位和全角字符；占比可写 0.85、85%；是否类可写 是/否、Y/N、1/0。",
        "4. 已有记录按关键字更新：企业按统一社会信用代码（境外企业按国家/地区+名称），"
        "供应关系按 供应商+客户+投入品类别，产业链成员按 企业+产业链。空白单元格不修改已有数据。",
        "5. 默认只要有一行被拒绝，整份文件都不写入；可选择“仅导入通过校验的行”。被拒绝的行会列出行号、列和原因。",
        "6. CSV 可用 UTF-8 或 GBK 编码保存。",
    ]
    for r, line in enumerate(general, start=1):
        notes.write_string(r, 0, line)
    top = len(general) + 2
    for c, title in enumerate(("列名", "English", "必填", "说明", "示例", "也可写作")):
        notes.write_string(top, c, title, head)
    need = {"always": "必填", "new": "新增时必填", "domestic": "境内企业必填"}
    for r, col in enumerate(columns, start=top + 1):
        cells = (col.zh, col.en, need.get(col.required, ""), col.note, col.example, "、".join(col.aliases))
        for c, value in enumerate(cells):
            notes.write_string(r, c, value, wrap)
    for c, width in enumerate((18, 22, 12, 50, 22, 40)):
        notes.set_column(c, c, width)
    wb.close()


def write_error_report(result: ImportResult, out: str | IO[bytes]) -> None:
    """Rejected rows as a sheet: row number in the original file, column, value, reason (中文 / English)."""
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("被拒绝的行")
    head = wb.add_format({"bold": True, "bg_color": "#FEE2E2", "border": 1})
    for c, (title, width) in enumerate(
        (
            ("行号 / Row", 10),
            ("列 / Column", 22),
            ("原值 / Value", 30),
            ("原因 / Reason", 70),
            ("代码 / Code", 18),
        )
    ):
        ws.write_string(0, c, title, head)
        ws.set_column(c, c, width)
    ws.freeze_panes(1, 0)
    for r, e in enumerate(result.errors, start=1):
        ws.write_number(r, 0, e.row)
        ws.write_string(r, 1, e.column)
        ws.write_string(r, 2, e.value)
        ws.write_string(r, 3, e.reason)
        ws.write_string(r, 4, e.code)
    wb.close()
