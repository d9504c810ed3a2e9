"""gulian rollup [--start D --end D]: recompute the daily roll-ups (dirty days, or a window)."""

import time

from django.core.management.base import BaseCommand, CommandError

from gulian.commandline import parse_date
from gulian.dispatch import rollup


class Command(BaseCommand):
    help = "重算日调度汇总表 / Recompute the dispatch roll-ups (dirty days, or every day of a window)."

    def add_arguments(self, parser):
        parser.add_argument("--start", help="first date (YYYY-MM-DD) of a full rebuild")
        parser.add_argument("--end", help="last date (YYYY-MM-DD, inclusive); default: --start")

    def handle(self, *args, start, end, **opts):
        began = time.perf_counter()
        if start:
            first = parse_date(start)
            last = parse_date(end) if end else first
            if last < first:
                raise CommandError("结束日期早于开始日期 / end is before start")
            n = rollup.rebuild(first, last)
        elif end:
            raise CommandError("--end 需与 --start 一起使用 / --end needs --start")
        else:
            n = len(rollup.refresh_dirty())
        seconds = time.perf_counter() - began
        self.stdout.write(self.style.SUCCESS(f"已重算 {n} 天，用时 {seconds:.1f} 秒 / recomputed {n} days in {seconds:.1f} s"))
