"""What the ``gulian risk`` subcommands share: writing a ranked table, and turning errors into messages."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.http import Http404

from gulian.engine.types import EngineInputError


def write_table(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], *, sheet: str,
                title: str | None = None, widths: dict[int, float] | None = None) -> None:  # fmt: skip
    """``rows`` as CSV (UTF-8 with BOM, so Excel reads the Chinese) or .xlsx (xlsxwriter), by suffix.

    On the .xlsx: an optional title line above the bold, frozen header; ``widths`` column → width.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8-sig")
        return
    if suffix != ".xlsx":
        raise CommandError(f"输出文件应为 .csv 或 .xlsx / the output must be .csv or .xlsx: {path}")
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(sheet)
    top = 0
    if title:
        ws.write_string(0, 0, title)
        top = 1
    ws.write_row(top, 0, list(header), wb.add_format({"bold": True, "text_wrap": True}))
    for k, row in enumerate(rows, start=top + 1):
        ws.write_row(k, 0, list(row))
    for column, width in (widths or {}).items():
        ws.set_column(column, column, width)
    ws.freeze_panes(top + 1, 0)
    wb.close()


@contextlib.contextmanager
def command_errors() -> Iterator[None]:
    """Out-of-scope lookups and bad input as a ``CommandError`` with a bilingual message."""
    try:
        yield
    except Http404:
        raise CommandError("地区或产业链不存在，或不在该用户的范围内 / no such region or chain in the user's scope")
    except (ValidationError, EngineInputError) as e:
        raise CommandError("; ".join(getattr(e, "messages", [str(e)])))
