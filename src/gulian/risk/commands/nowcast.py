"""``gulian risk nowcast``: chain owners predicted to stall from the latest daily reports (docs/cli.md).

Runs as ``--user`` (default: the system administrator) and reads only that user's scope. Prints one
line per predicted stall, earliest first; ``--out`` writes them as CSV or .xlsx; ``--create-items``
puts them on the risk list (task forces and administrators).
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gulian.commandline import iso_date
from gulian.engine.nowcast import RECOVERY_KINDS, RecoveryAssumption
from gulian.engine.types import EngineInputError
from gulian.registry.io.access import actor_for
from gulian.risk import nowcasting
from gulian.risk.commands.output import command_errors, write_table

HELP = "临近预测：按最新日报预测未来将停产的链主及断供企业 / nowcast: chain owners predicted to stall, and why"

COLUMNS = (
    "预计停产日", "天数", "链主企业", "产业链", "断供企业", "所在地区", "范围", "今日状态", "直接供应商",
    "最低产出", "说明",
)  # fmt: skip


def add_arguments(parser: CommandParser) -> None:
    """The options of ``gulian risk nowcast``."""
    parser.add_argument("--date", type=iso_date, help="date of the reports (default: the latest day with reports)")
    parser.add_argument("--region", help="GB/T 2260 code inside the user's scope (default: the whole scope)")
    parser.add_argument("--chain", nargs="+", action="extend", default=[], metavar="CODE", help="chain code(s)")
    parser.add_argument("--horizon", type=int, default=30, help="days ahead (default 30)")
    parser.add_argument("--recovery", choices=RECOVERY_KINDS, default="trend",
                        help="capacity after today: none | linear | trend (default trend)")  # fmt: skip
    parser.add_argument("--recovery-days", type=int, default=14, help="R: days to full capacity, linear (default 14)")
    parser.add_argument("--recovery-delay", type=int, default=0, help="days before recovery starts (default 0)")
    parser.add_argument("--unreported-capacity", type=float, default=1.0,
                        help="capacity assumed for firms without a report (0..1, default 1)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="write the predictions to FILE.csv or FILE.xlsx")
    parser.add_argument("--create-items", action="store_true", help="put the predictions on the risk list")
    parser.add_argument("--user", help="act as this user (default: system administrator)")


def rows_for_export(result: dict) -> list[list]:
    """One list of cells per predicted stall, in COLUMNS order."""
    out = []
    for r in result["rows"]:
        cause, direct = r["cause"], r["direct"]
        out.append([
            r["stall_date"], r["days"], r["owner"]["name"], "、".join(c["name"] for c in r["chains"]),
            cause["name"] if cause else "（未能追溯到断供企业）", cause["region_name"] if cause else "",
            nowcasting.scope_label(cause["scope"]) if cause else "",
            nowcasting.status_label(cause["status"]) if cause else "",
            direct["name"] if direct and (not cause or direct["id"] != cause["id"]) else "",
            r["min_production"], "；".join(nowcasting.caveat_text(c) for c in r["caveats"]),
        ])  # fmt: skip
    return out


def write(result: dict, path: Path) -> None:
    """Write the predictions as CSV or .xlsx."""
    title = f"断链预警（{result['date']} 起 {result['horizon']} 天）"
    write_table(path, COLUMNS, rows_for_export(result), sheet="断链预警", title=title)


def run(command: BaseCommand, options: dict) -> None:
    """Compute the nowcast, print it, optionally write it and add risk items."""
    try:
        user = actor_for(options.get("user"))
        recovery = RecoveryAssumption(options["recovery"], options["recovery_days"], options["recovery_delay"])
    except (LookupError, EngineInputError) as e:
        raise CommandError(str(e))
    out: Path | None = options.get("out")
    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise CommandError(f"输出文件应为 .csv 或 .xlsx / the output must be .csv or .xlsx: {out}")
    if not 1 <= options["horizon"] <= 365:
        raise CommandError("--horizon 应在 1–365 之间 / must be within 1..365")
    with command_errors():
        result = nowcasting.compute(
            user, options.get("date"), region=options.get("region"), chains=options.get("chain") or (),
            horizon=options["horizon"], recovery=recovery, unknown_capacity=options["unreported_capacity"],
            use_cache=False,
        )  # fmt: skip
    command.stdout.write(
        f"{result['date']} 起 {result['horizon']} 天 / next {result['horizon']} days from {result['date']}: "
        f"预计停产链主 {len(result['rows'])} / {result['watched']} 家（网络 {result['firms']:,} 家企业，"
        f"{result['elapsed']:.2f} 秒）"
    )
    for row in rows_for_export(result):
        command.stdout.write(f"  {row[0]} (+{row[1]})  {row[2]}  ← {row[4]} [{row[6]}, {row[7]}]")
    if out is not None:
        write(result, out)
        command.stdout.write(command.style.SUCCESS(f"已写入 / written: {out}"))
    if options.get("create_items"):
        try:
            items = nowcasting.create_items(user, result)
        except PermissionDenied as e:
            raise CommandError(str(e) or "仅专班可登记风险清单 / only task forces add items to the risk list")
        command.stdout.write(command.style.SUCCESS(f"风险清单条目 {len(items)} 条 / risk items added or updated"))
