"""``gulian risk simulate``: firm-level propagation of a scenario (docs/cli.md, docs/engine.md).

Two modes:

- ``--pronet A.txt C.txt P.txt F.txt --delta D.txt``: straight from the four input files and the
  delta file of Inoue's ProductionNetworkSimulator, with its options' meanings and defaults
  (-t 10, -R 0, -b proportional, -c 0, -S 0, -i 15, -T 6); ``--out`` writes ``step,total_production``
  with step −1 the initial state, as proNet's PAct file;
- ``--scenario FILE.yaml``: on the registry's chains (``--region``, ``--chain``), printing each chain
  owner's stall day, direct cause and root cause; ``--out`` writes production per chain and day.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gulian.engine.network import read_pronet
from gulian.engine.propagate import PropagationParams, Rationing, simulate
from gulian.engine.scenario import (
    RECOVERY_KINDS,
    known_firm_stops,
    load_scenario,
    pronet_recovery,
    read_pronet_delta,
)
from gulian.engine.types import EngineInputError

HELP = "情景仿真：企业级断供传导（兼容 proNet）/ simulate: firm-level shock propagation (proNet-compatible)"


def add_arguments(parser: CommandParser) -> None:
    """The options of ``gulian risk simulate``."""
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--pronet", nargs=4, type=Path, metavar=("A", "C", "P", "F"),
                     help="proNet input files: A-table lines, C vector, Pini vector, firm-sector file")  # fmt: skip
    src.add_argument("--scenario", type=Path, help="scenario file (.yaml/.yml/.json) for the registry's chains")
    parser.add_argument("--delta", type=Path, help="proNet delta file: firm delta [start_day] (with --pronet)")
    parser.add_argument("--steps", type=int, help="days to simulate (proNet -t; default 10 with --pronet, else the scenario's)")
    parser.add_argument("--rationing", type=int, choices=range(4), default=None,
                        help="0 proportional, 1 final demand last, 2 smaller orders first, 3 both (proNet -R; default 0 with --pronet, else 2)")  # fmt: skip
    parser.add_argument("--recovery", choices=RECOVERY_KINDS, help="recovery path (proNet -b; default proportional with --pronet)")
    parser.add_argument("--recovery-days", type=int, default=None, help="recovery days c (proNet -c, default 0)")
    parser.add_argument("--recovery-delay", type=int, default=None, help="days held before recovery (proNet -S, default 0)")
    parser.add_argument("--inventory-days", type=float, default=15.0, help="target inventory n in days (proNet -i, default 15)")
    parser.add_argument("--tau", type=float, default=6.0, help="inventory restoration time τ in days (proNet -T, default 6)")
    parser.add_argument("--threshold", type=float, default=0.9, help="stall below this share of baseline output (default 0.9)")
    parser.add_argument("--region", help="GB/T 2260 code: chains of this region (with --scenario)")
    parser.add_argument("--chain", nargs="+", action="extend", default=[], metavar="CODE", help="chain code(s) (with --scenario)")
    parser.add_argument("--user", help="act as this user (default: system administrator; with --scenario)")
    parser.add_argument("--out", type=Path, help="write daily totals (--pronet) or per-chain production (--scenario) as CSV")


def _recovery(options: dict, default_kind: str, base=None):
    kind = options.get("recovery") or (base.kind if base else default_kind)
    days = options["recovery_days"] if options.get("recovery_days") is not None else (base.days if base else 0)
    delay = options["recovery_delay"] if options.get("recovery_delay") is not None else (base.delay if base else 0)
    return pronet_recovery(kind, days, delay)


def run_pronet(command: BaseCommand, options: dict) -> None:
    """``--pronet`` mode: totals per day, as proNet's PAct file."""
    steps = options.get("steps") or 10
    rationing = options["rationing"] if options.get("rationing") is not None else 0
    try:
        net = read_pronet(*options["pronet"], inventory_days=options["inventory_days"])
        recovery = _recovery(options, "proportional")
        if options.get("delta"):
            scenario = known_firm_stops(net, read_pronet_delta(options["delta"], recovery=recovery, steps=steps))
        else:
            from gulian.engine.scenario import Scenario

            scenario = Scenario(recovery=recovery, steps=steps)
        params = PropagationParams(steps=steps, tau=options["tau"], rationing=Rationing(rationing),
                                   threshold=options["threshold"])  # fmt: skip
        started = time.perf_counter()
        res = simulate(net, scenario, params)
    except (OSError, EngineInputError) as e:
        raise CommandError(str(e))
    lines = [f"{t - 1},{v:.17g}" for t, v in enumerate(res.total_production)]
    if options.get("out"):
        options["out"].write_text("step,total_production\n" + "\n".join(lines) + "\n", encoding="utf-8")
    else:
        command.stdout.write("step,total_production\n" + "\n".join(lines))
    loss = 1.0 - res.total_production.min() / res.total_production[0] if res.total_production[0] else 0.0
    command.stderr.write(
        f"{net.n_firms} 家企业, {net.n_links} 条链接; 最大产出损失 {loss:.2%}; 用时 {time.perf_counter() - started:.2f} s"
        f" / {net.n_firms} firms, {net.n_links} links; deepest output loss {loss:.2%}"
    )


def run_registry(command: BaseCommand, options: dict) -> None:
    """``--scenario`` mode: chain owners' stall days and causes on the registry network."""
    from gulian.core.models import Region
    from gulian.registry.io.access import actor_for
    from gulian.risk.adapter import SPARE_CAPACITY, build_network

    try:
        user = actor_for(options.get("user"))
    except LookupError as e:
        raise CommandError(str(e))
    region = None
    if options.get("region"):
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(f"地区不存在 / no such region: {options['region']}")
    try:
        scenario = load_scenario(options["scenario"])
        reg = build_network(user=user, region=region, chains=options["chain"] or None)
        if reg.net.n_firms == 0:
            raise CommandError("所选范围内没有产业链企业 / no chain members in the selection")
        steps = options.get("steps") or scenario.steps
        params = PropagationParams(
            steps=steps, tau=options["tau"], threshold=options["threshold"],
            rationing=Rationing(options["rationing"] if options.get("rationing") is not None else 2),
            spare_capacity=SPARE_CAPACITY,
        )  # fmt: skip
        if options.get("recovery") or options.get("recovery_days") is not None or options.get("recovery_delay") is not None:
            from dataclasses import replace

            scenario = replace(scenario, recovery=_recovery(options, "none", scenario.recovery))
        res = simulate(reg.net, scenario, params, groups=reg.chain_groups, watch=reg.owners)
    except EngineInputError as e:
        raise CommandError(str(e))
    names = reg.names
    command.stdout.write(f"情景 / scenario: {scenario.name or options['scenario'].name}; {steps} 天 / days")
    command.stdout.write("链主 / chain owner\t停产日 / stall day\t直接原因 / direct cause\t根源 / root cause")
    order = np.argsort(np.where(res.stall_day < 0, 10**9, res.stall_day), kind="stable")
    for k in order.tolist():
        day = int(res.stall_day[k])
        cause, root = int(res.stall_cause[k]), int(res.root_cause[k])
        command.stdout.write(
            f"{names[int(res.watch[k])]}\t{'—' if day < 0 else day}\t"
            f"{'自身产能 / own capacity' if day >= 0 and cause < 0 else (names[cause] if cause >= 0 else '—')}\t"
            f"{names[root] if root >= 0 else '—'}"
        )
    command.stdout.write(f"损失产值 / lost output: {res.lost_output:,.0f}")
    if options.get("out"):
        codes = list(res.group_production)
        with open(options["out"], "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["step", *codes])
            for t in range(steps + 1):
                writer.writerow([t - 1, *(f"{res.group_production[c][t, 0]:.6g}" if res.group_production[c].shape[1] else "0" for c in codes)])


def run(command: BaseCommand, options: dict) -> None:
    """Dispatch on the mode."""
    if options.get("pronet"):
        run_pronet(command, options)
    else:
        if options.get("delta"):
            raise CommandError("--delta 仅用于 --pronet / --delta goes with --pronet")
        run_registry(command, options)
