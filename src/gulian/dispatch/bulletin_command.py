"""``gulian dispatch report``: write the daily bulletin (.xlsx) of a date, region and chain.

Registered as a subcommand of ``gulian dispatch`` (management/commands/dispatch.py). Runs as
``--user`` (default: the system administrator) and reads only what that user may see: a region or
chain outside the user's scope is refused like an unknown one.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from gulian.commandline import iso_date
from gulian.dispatch import bulletin, bulletin_xlsx
from gulian.registry.io.access import actor_for

HELP = "生成日报（.xlsx）/ write the daily bulletin (.xlsx)"


def add_arguments(parser: CommandParser) -> None:
    """The options of ``gulian dispatch report``."""
    parser.add_argument("--date", type=iso_date, required=True, help="bulletin date (YYYY-MM-DD)")
    parser.add_argument("--region", help="GB/T 2260 code of any level (default: the user's whole scope)")
    parser.add_argument("--chain", help="chain code (or id): the bulletin of one chain")
    parser.add_argument("--user", help="act as this user (default: system administrator)")
    parser.add_argument("--out", type=Path, help="output .xlsx (default: 日报-<region>[-<chain>]-<date>.xlsx here)")


def run(command: BaseCommand, options: dict) -> None:
    """Build the bulletin, write the workbook, print what it holds."""
    try:
        user = actor_for(options.get("user"))
    except LookupError as e:
        raise CommandError(str(e))
    started = time.perf_counter()
    try:
        b = bulletin.build(user, options["date"], region=options.get("region"), chain=options.get("chain"))
    except Http404:
        raise CommandError("地区或产业链不存在，或不在该用户的范围内 / no such region or chain in the user's scope")
    except ValidationError as e:
        raise CommandError("; ".join(e.messages))
    data = bulletin_xlsx.render(b)
    out: Path = options.get("out") or Path(bulletin_xlsx.filename(b))
    if out.suffix.lower() != ".xlsx":
        raise CommandError(f"输出文件应为 .xlsx / the output must be an .xlsx file: {out}")
    out.write_bytes(data)
    ov = b.overview
    seconds = time.perf_counter() - started

    def pct(x):
        return "—" if x is None else f"{x * 100:.1f}%"

    command.stdout.write(
        f"{b.title} 第{b.issue}期 {bulletin.zh_date(b.date)} {b.place}: "
        f"应报 {ov.expected:,}，已报 {ov.reporting:,}，复工率 {pct(ov.resumption_rate)}，"
        f"规上复工率 {pct(b.above_size.resumption_rate)}，达产率 {pct(ov.recovery_rate)}；"
        f"未复工达产配套 {len(b.held_back):,} 条，异常 {len(b.anomalies):,} 家"
    )
    command.stdout.write(command.style.SUCCESS(f"已写入 / written: {out} ({len(data):,} bytes, {seconds:.1f} s)"))
