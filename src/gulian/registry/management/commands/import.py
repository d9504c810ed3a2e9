"""gulian import {enterprises,chains,links} FILE [--user U] [--partial] [--errors OUT.xlsx] [--dry-run]."""  # noqa: N999 - the command is `gulian import`

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gulian.commandline import command_actor
from gulian.registry.io import KINDS, errorfile, import_file


class Command(BaseCommand):
    help = (
        "导入企业名单、产业链成员或供应关系（.xlsx/.csv）/ Import enterprises, chain members or supply links."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", help="act as this user (default: system administrator)")
        parser.add_argument(
            "--partial", action="store_true", help="apply the accepted rows even if some are rejected"
        )
        parser.add_argument("--errors", type=Path, help="write rejected rows to this .xlsx")
        parser.add_argument("--dry-run", action="store_true", help="validate and count only; write nothing")

    def handle(self, *args, kind, file, user, partial, errors, dry_run, **opts):
        if not file.is_file():
            raise CommandError(f"文件不存在 / no such file: {file}")
        result = import_file(
            kind, file.read_bytes(), file.name, command_actor(user), partial=partial, dry_run=dry_run
        )
        errorfile.report_to_command(self.stdout, result, errors)
        if result.ok:
            self.stdout.write(self.style.SUCCESS(result.summary()))
            return
        raise CommandError(result.summary(), returncode=1)
