"""``gulian risk run``: execute a queued scenario run (what the pages start in the background).

``gulian risk run RUN_ID`` is the command the scenario pages launch as a detached process; it can
also be run by hand. ``--scenario ID`` queues a new run of a saved scenario and executes it in the
foreground; ``--mark-stale`` fails runs whose process died (docs/cli.md, docs/risk-scenarios.md).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from gulian.core.services import OutOfScope
from gulian.registry.io.access import actor_for
from gulian.risk import runs
from gulian.risk.models import RunStatus, Scenario, ScenarioRun

HELP = "执行情景仿真运行（后台任务）/ execute a scenario run (the background task)"


def add_arguments(parser: CommandParser) -> None:
    """The options of ``gulian risk run``."""
    parser.add_argument("run_id", nargs="?", type=int, help="the queued run to execute")
    parser.add_argument("--scenario", type=int, metavar="ID", help="queue a new run of this scenario and execute it")
    parser.add_argument("--chain", nargs="+", action="extend", default=[], metavar="CODE",
                        help="with --scenario: only these chains (default: all in the scenario's region)")  # fmt: skip
    parser.add_argument("--user", help="with --scenario: act as this user (default: system administrator)")
    parser.add_argument("--mark-stale", action="store_true", help="fail runs whose background process died")


def run(command: BaseCommand, options: dict) -> None:
    """Execute one run, or queue and execute a scenario, or mark dead runs failed."""
    if options.get("mark_stale"):
        n = runs.mark_stale(ScenarioRun.objects.all())
        command.stdout.write(f"已标记失败 / marked failed: {n}")
        return
    run_id = options.get("run_id")
    if (run_id is None) == (options.get("scenario") is None):
        raise CommandError("请给出 RUN_ID 或 --scenario ID（二选一） / give RUN_ID or --scenario ID (one of them)")
    if run_id is None:
        try:
            user = actor_for(options.get("user"))
            scenario = Scenario.objects.restrict(user, "change").filter(pk=options["scenario"]).first()
            if scenario is None:
                raise CommandError(f"情景不存在或不在范围内 / no such scenario in scope: {options['scenario']}")
            run_id = runs.queue_run(user, scenario, chains=options.get("chain") or ()).pk
        except (LookupError, runs.RunError, ValidationError, OutOfScope, Http404) as e:
            raise CommandError(str(e))
    try:
        result = runs.execute(run_id, heartbeat=True)
    except runs.RunError as e:
        raise CommandError(str(e))
    if result.status != RunStatus.DONE:
        raise CommandError(f"运行 #{run_id} 失败 / run #{run_id} failed: {result.error}")
    totals = result.result["totals"]
    command.stdout.write(command.style.SUCCESS(
        f"运行 #{run_id} 完成 / done: 网络 {result.result['firms']:,} 家企业；停产链主 {totals['owners_stalled']} / "
        f"{totals['owners_watched']} 家；损失产值 / lost output {totals['lost_output']:,.0f}"
    ))  # fmt: skip
    for owner in result.result["owners"]:
        if owner["stall_day"] is None:
            continue
        cause = owner["root"] or owner["direct"]
        command.stdout.write(
            f"  第 {owner['stall_day']} 天 / day {owner['stall_day']}  {owner['enterprise']['name']}"
            f"  ← {cause['name'] if cause else '自身产能 / own capacity'}"
        )
