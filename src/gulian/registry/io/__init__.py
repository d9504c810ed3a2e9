"""Excel/CSV import and export of the registry: enterprises, chains (members) and supply links.

The CLI (``gulian import/export/template``) and the web page (views_io.py) both
call the three functions here:

* :func:`import_file` reads, validates and — all or nothing unless ``partial`` —
  writes a file in one transaction, returning an :class:`ImportResult`;
* :func:`export_file` writes what a user may see in exactly the import shape;
* :func:`writer.write_template` and :func:`writer.write_error_report` write the
  blank template and the report of rejected rows.

docs/import.md describes the file formats for users.
"""

from __future__ import annotations

from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from gulian.core.services import OutOfScope
from gulian.registry.io.access import SYSTEM
from gulian.registry.io.columns import KIND_COLUMNS, KIND_LABELS
from gulian.registry.io.result import ImportFileError, ImportResult, RowError, row_error
from gulian.registry.io.writer import write_csv, write_error_report, write_template, write_xlsx

KINDS = ("enterprises", "chains", "links")

__all__ = [
    "KINDS",
    "KIND_LABELS",
    "SYSTEM",
    "ImportResult",
    "RowError",
    "export_file",
    "import_file",
    "write_error_report",
    "write_template",
]


def import_file(
    kind: str, data: bytes, name: str, user, *, partial: bool = False, dry_run: bool = False
) -> ImportResult:
    """Import ``data`` (the bytes of an .xlsx/.xls/.csv file called ``name``) as ``user``.

    Nothing is written when any row is rejected, unless ``partial``: then the accepted
    rows are written in one transaction. ``dry_run`` validates and counts only.
    """
    from gulian.registry.io.chains import import_chains
    from gulian.registry.io.enterprises import import_enterprises
    from gulian.registry.io.links import import_links
    from gulian.registry.io.parsers import Parsed, Parsers
    from gulian.registry.io.reader import read_table

    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    result = ImportResult(kind=kind, dry_run=dry_run)
    try:
        table = read_table(kind, data, name)
    except ImportFileError as e:
        result.errors = [e.error]
        return result
    result.header_row = table.header_row
    result.ignored_columns = table.ignored
    parsed = Parsed(table, Parsers(user))
    run = {"enterprises": import_enterprises, "chains": import_chains, "links": import_links}[kind]
    try:
        return run(user, parsed, result, partial=partial, dry_run=dry_run)
    except (IntegrityError, ValidationError, OutOfScope) as e:
        # Validation ran against the database as it was read; a concurrent change can still make a
        # write fail. The transaction has rolled back, so report it as the file's error.
        result.errors = [row_error(0, "", "write_failed", detail=str(e)[:200])]
        result.applied = False
        return result


def export_file(
    kind: str, user, out: str | IO[bytes], fmt: str = "xlsx", filters: dict[str, Any] | None = None
) -> int:
    """Write ``kind`` rows visible to ``user`` (narrowed by ``filters``) as .xlsx or .csv; returns the row count."""
    from gulian.registry.io.export import export_rows

    rows = export_rows(kind, user, filters)
    columns = KIND_COLUMNS[kind]
    if fmt == "csv":
        if isinstance(out, str):
            with open(out, "wb") as fh:
                return write_csv(fh, columns, rows)
        return write_csv(out, columns, rows)
    return write_xlsx(out, KIND_LABELS[kind], columns, rows)
