"""gulian load_industries [FILE]: load GB/T 4754-2017 industries (default: the shipped sections and divisions)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gulian.core.models import Industry
from gulian.core.reference import IndustryFileError, load_industries


class Command(BaseCommand):
    help = "Load GB/T 4754-2017 industries from a CSV (code,name[,level,parent]); all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="CSV with columns code,name (代码,名称); UTF-8")

    def handle(self, *args, file=None, **opts):
        text = None
        if file:
            path = Path(file)
            if not path.exists():
                raise CommandError(f"文件不存在 / no such file: {file}")
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")
        try:
            with transaction.atomic():
                n = load_industries(Industry, text)
        except IndustryFileError as e:
            raise CommandError(str(e))
        self.stdout.write(self.style.SUCCESS(f"已载入 {n} 个行业分类 / loaded {n} industries"))
