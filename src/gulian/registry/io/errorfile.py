"""The last import's error report of each user, shared by every import page (registry, reports, power).

Each page keeps one .xlsx per user and kind in ``VAR_DIR/import-errors``, replaced by the next import
and removed when an import has no rejected rows; its download is a 404 when there is none.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404

from gulian.registry.io.writer import write_error_report

SHOWN_ERRORS = 500  # rows listed on the page; the file has them all
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def error_path(user, prefix: str = "") -> Path:
    """Where the user's last error report of this kind (``prefix``) is kept."""
    folder = Path(settings.VAR_DIR) / "import-errors"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{prefix}{user.pk}.xlsx"


def keep_errors(result, path: Path) -> None:
    """Write the result's rejected rows to ``path``, or remove an old report when there are none."""
    if result.errors:
        write_error_report(result, str(path))
    else:
        path.unlink(missing_ok=True)


def page_context(form, result, path: Path) -> dict:
    """What every import page shows: the form, the result, the first rejected rows, the file link."""
    return {
        "form": form,
        "result": result,
        "shown_errors": result.errors[:SHOWN_ERRORS] if result else [],
        "has_error_file": path.exists(),
    }


def download(path: Path, filename: str) -> FileResponse:
    """The kept error report as an attachment; 404 when the last import had none."""
    if not path.exists():
        raise Http404("没有错误报告 / no error report")
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=XLSX)


COMMAND_SHOWN_ERRORS = 50  # rejected rows a command prints; the --errors file has them all


def report_to_command(out, result, errors_file=None) -> None:
    """Print an import result's header row, ignored columns and rejected rows; write ``errors_file``."""
    if result.header_row:
        out.write(f"表头在第 {result.header_row} 行 / header on row {result.header_row}")
    if result.ignored_columns:
        out.write(f"未识别的列已忽略 / ignored columns: {'、'.join(result.ignored_columns)}")
    for e in result.errors[:COMMAND_SHOWN_ERRORS]:
        out.write(f"第 {e.row} 行 / row {e.row}\t{e.column}\t{e.value}\t{e.reason}")
    if len(result.errors) > COMMAND_SHOWN_ERRORS:
        more = len(result.errors) - COMMAND_SHOWN_ERRORS
        out.write(f"……另有 {more} 条 / … {more} more")
    if errors_file and result.errors:
        write_error_report(result, str(errors_file))
        out.write(f"错误报告 / error report: {errors_file}")
