"""gulian export {enterprises,chains,links} OUT [--user U] [--region PREFIX]."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gulian.commandline import command_actor
from gulian.registry.io import KINDS, export_file


class Command(BaseCommand):
    help = "按导入格式导出（.xlsx 或 .csv）/ Export in the import shape (.xlsx or .csv)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("out", type=Path, help="output file; .csv writes CSV, anything else .xlsx")
        parser.add_argument("--user", help="export what this user may see (default: everything)")
        parser.add_argument(
            "--region", help="GB/T 2260 prefix, e.g. 3301 (enterprises; link customers; chain members)"
        )

    def handle(self, *args, kind, out, user, region, **opts):
        if region and not region.isdigit():
            raise CommandError(f"区域前缀应为数字 / the region prefix must be digits: {region}")
        fmt = "csv" if out.suffix.lower() == ".csv" else "xlsx"
        count = export_file(kind, command_actor(user), str(out), fmt, {"region": region} if region else None)
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 行到 {out} / exported {count} rows to {out}"))
