"""gulian dispatch SUBCOMMAND …: daily dispatch (日调度) from the command line.

Each subcommand is one entry of ``SUBCOMMANDS``: its help line, a function adding its arguments to
its sub-parser, and a function running it with the parsed options. Adding a subcommand is adding an
entry (docs/cli.md has a section per subcommand under ``## gulian dispatch``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gulian.commandline import command_actor, iso_date
from gulian.dispatch import bulletin_command
from gulian.registry.io import errorfile


@dataclass(frozen=True)
class Subcommand:
    """A ``gulian dispatch`` subcommand."""

    help: str
    add_arguments: Callable[[CommandParser], None]
    run: Callable[[BaseCommand, dict], None]


# --- import-reports ---------------------------------------------------------------------------------


def _import_arguments(parser: CommandParser) -> None:
    parser.add_argument("file", type=Path, help=".xlsx/.xls/.csv")
    parser.add_argument("--date", type=iso_date, help="report date of rows without a 日期 cell (YYYY-MM-DD)")
    parser.add_argument("--user", help="act as this user (default: system administrator)")
    parser.add_argument(
        "--partial", action="store_true", help="apply the accepted rows even if some are rejected"
    )
    parser.add_argument("--errors", type=Path, help="write rejected rows to this .xlsx")
    parser.add_argument("--dry-run", action="store_true", help="validate and count only; write nothing")


def _import_run(command: BaseCommand, options: dict) -> None:
    from gulian.dispatch.imports import import_reports

    file: Path = options["file"]
    if not file.is_file():
        raise CommandError(f"文件不存在 / no such file: {file}")
    result = import_reports(
        file.read_bytes(),
        file.name,
        command_actor(options["user"]),
        date=options["date"],
        partial=options["partial"],
        dry_run=options["dry_run"],
    )
    out = command.stdout
    errorfile.report_to_command(out, result, options["errors"])
    summary = result.summary().replace("更新", "新版本").replace("updated", "corrected")
    if result.ok:
        out.write(command.style.SUCCESS(summary))
        return
    raise CommandError(summary, returncode=1)


SUBCOMMANDS: dict[str, Subcommand] = {
    "import-reports": Subcommand(
        "导入一天的企业日报（.xlsx/.csv）/ import a day's daily reports", _import_arguments, _import_run
    ),
}
SUBCOMMANDS["report"] = Subcommand(bulletin_command.HELP, bulletin_command.add_arguments, bulletin_command.run)


class Command(BaseCommand):
    help = "日调度：导入日报等 / daily dispatch: import reports and more (gulian dispatch SUBCOMMAND --help)"

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for name, spec in SUBCOMMANDS.items():
            spec.add_arguments(subparsers.add_parser(name, help=spec.help, description=spec.help))

    def handle(self, *args, subcommand: str, **options):
        SUBCOMMANDS[subcommand].run(self, options)
