"""Reading an uploaded .xlsx/.xls/.csv into columns of strings, with the header found wherever it is.

Excel goes through polars + fastexcel (calamine) with every cell as a string and
row positions kept absolute, so a row number in a report is the one the user
sees in Excel. CSV is decoded as UTF-8 (with or without BOM) or, failing that,
GB18030 (a superset of the GBK that Chinese Excel saves), then read by polars.
Title rows (often merged cells), notes and blank rows above the header are
skipped by looking for the first row that names at least two known columns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.conf import settings

from gulian.registry.io.columns import (
    EXAMPLE_COLUMN,
    EXAMPLE_MARKER,
    KIND_COLUMNS,
    REQUIRED_GROUPS,
    Column,
    header_lookup,
    match_header,
    money_factor,
)
from gulian.registry.io.result import ImportFileError, row_error

HEADER_SEARCH_ROWS = 50
MIN_HEADER_MATCHES = 2
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


@dataclass
class FileColumn:
    """A recognised column: its spec, its header text as written in the file, and a money factor."""

    spec: Column
    header: str
    factor: int = 1


@dataclass
class Table:
    """The data rows of a file: per-column string lists aligned with Excel row numbers."""

    header_row: int
    columns: dict[str, FileColumn]
    values: dict[str, list[str | None]]
    row_numbers: list[int]
    ignored: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row_numbers)

    def header(self, key: str, default: str = "") -> str:
        """The header text of column ``key`` as in the file (or ``default`` when absent)."""
        col = self.columns.get(key)
        return col.header if col else default


def _file_error(code: str, row: int = 0, column: str = "", **params) -> ImportFileError:
    return ImportFileError(row_error(row, column, code, **params))


def _is_excel(name: str, data: bytes) -> bool:
    suffix = Path(name).suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return True
    if suffix in (".csv", ".txt", ".tsv"):
        return False
    return data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0"


def read_table(kind: str, data: bytes, name: str = "") -> Table:
    """Read ``data`` (the file's bytes) as a ``kind`` file; raises ImportFileError when it cannot."""
    if _is_excel(name, data):
        return _from_excel(kind, data)
    return _from_csv(kind, data)


def _header_index(rows: list[tuple], lookup: dict[str, Column]) -> int | None:
    for i, row in enumerate(rows):
        keys = {c.key for c in (match_header(v, lookup) for v in row if v) if c}
        if len(keys) >= MIN_HEADER_MATCHES:
            return i
    return None


def _from_excel(kind: str, data: bytes) -> Table:
    import fastexcel

    try:
        sheets = fastexcel.read_excel(data).sheet_names
    except Exception as e:  # noqa: BLE001 - calamine raises several types for broken files
        raise _file_error("unreadable", detail=str(e)[:200])
    lookup = header_lookup(KIND_COLUMNS[kind])
    for sheet in sheets:
        df = pl.read_excel(
            data,
            engine="calamine",
            sheet_name=sheet,
            has_header=False,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
            # header_row=None with skip_rows=0 keeps leading blank rows, so index i is Excel row i+1
            read_options={"header_row": None, "skip_rows": 0, "dtypes": "string"},
        )
        if df.width == 0:
            continue
        top = df.head(HEADER_SEARCH_ROWS).rows()
        index = _header_index(top, lookup)
        if index is not None:
            return _build(kind, df, index, first_row_number=1)
    raise _file_error("no_header")


def _decode(data: bytes) -> bytes:
    """UTF-8 bytes of a CSV saved as UTF-8, UTF-8 with BOM, or GBK/GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError as e:
        raise _file_error("unreadable", detail=f"encoding: {e.reason}")


def _from_csv(kind: str, data: bytes) -> Table:
    text = _decode(data)
    head = text[: 256 * 1024].decode("utf-8", errors="ignore")
    sample = head.splitlines()[:HEADER_SEARCH_ROWS]
    separator = max((",", "\t", ";"), key=lambda s: sum(line.count(s) for line in sample))
    reader = csv.reader(io.StringIO(head), delimiter=separator)
    lookup = header_lookup(KIND_COLUMNS[kind])
    lines_before = 0
    index = None
    for i, record in enumerate(reader):
        if i >= HEADER_SEARCH_ROWS:
            break
        if _header_index([tuple(record)], lookup) == 0:
            index = i
            break
        lines_before = reader.line_num
    if index is None:
        raise _file_error("no_header")
    try:
        df = pl.read_csv(
            io.BytesIO(text),
            has_header=False,
            skip_lines=lines_before,
            infer_schema=False,
            truncate_ragged_lines=True,
            separator=separator,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as e:
        raise _file_error("unreadable", detail=str(e)[:200])
    # polars keeps blank lines as null rows, so record i after the header is row index+2+i in Excel
    return _build(kind, df, 0, first_row_number=index + 1)


def _columns(
    kind: str, header: tuple, header_row: int
) -> tuple[dict[str, tuple[int, FileColumn]], list[str]]:
    lookup = header_lookup(KIND_COLUMNS[kind])
    found: dict[str, tuple[int, FileColumn]] = {}
    ignored = []
    for i, cell in enumerate(header):
        spec = match_header(cell, lookup)
        text = (cell or "").strip()
        if spec is None:
            if text:
                ignored.append(text)
            continue
        if spec.key in found:
            raise _file_error("duplicate_column", row=header_row, column=text)
        factor = money_factor(text) if spec.parser == "money" else 1
        found[spec.key] = (i, FileColumn(spec, text, factor))
    for group in REQUIRED_GROUPS[kind]:
        if not any(k in found for k in group):
            spec = next(c for c in KIND_COLUMNS[kind] if c.key == group[0])
            raise _file_error("missing_column", row=header_row, column=spec.zh)
    return found, ignored


def _build(kind: str, df: pl.DataFrame, index: int, first_row_number: int) -> Table:
    """Columns below the header at ``index``; ``first_row_number`` is the Excel number of df row 0."""
    header_row = first_row_number + index
    found, ignored = _columns(kind, df.row(index), header_row)
    names = df.columns
    # Whitespace runs (ideographic and non-breaking spaces too: Rust's \s is Unicode) become one
    # space and ends are trimmed, vectorised here so the per-cell parsers see clean text.
    cleaned = [
        pl.col(names[i]).str.replace_all(r"\s+", " ").str.strip_chars() for _k, (i, _c) in found.items()
    ]
    body = df.slice(index + 1).select(
        pl.int_range(header_row + 1, header_row + 1 + df.height - index - 1, dtype=pl.Int64).alias("__row"),
        *[pl.when(c == "").then(None).otherwise(c).alias(key) for key, c in zip(found, cleaned, strict=True)],
    )
    keys = list(found)
    keep = ~pl.all_horizontal([pl.col(k).is_null() for k in keys])
    marker = EXAMPLE_COLUMN[kind]
    if marker in found:
        keep = keep & ~pl.col(marker).fill_null("").str.starts_with(EXAMPLE_MARKER)
    body = body.filter(keep)
    limit = settings.IMPORT_MAX_ROWS
    if body.height > limit:
        raise _file_error("too_many_rows", row=header_row, max=limit)
    return Table(
        header_row=header_row,
        columns={k: fc for k, (_i, fc) in found.items()},
        values={k: body.get_column(k).to_list() for k in keys},
        row_numbers=body.get_column("__row").to_list(),
        ignored=ignored,
    )
