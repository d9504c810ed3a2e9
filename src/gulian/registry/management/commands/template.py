"""gulian template {enterprises,chains,links} OUT."""

from pathlib import Path

from django.core.management.base import BaseCommand

from gulian.registry.io import KINDS, write_template


class Command(BaseCommand):
    help = "生成导入模板（.xlsx，含示例行和填写说明）/ Write a blank import template (.xlsx)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("out", type=Path)

    def handle(self, *args, kind, out, **opts):
        write_template(kind, str(out))
        self.stdout.write(self.style.SUCCESS(f"模板已写入 / template written: {out}"))
