"""``gulian risk sweep``: one scenario varied by lockdown length × region, run in parallel.

Builds the network once from the registry (as ``--user``, default the system administrator, limited
to ``--region``/``--chain``), then runs the variants of :mod:`gulian.risk.sweeps` in local processes
or, when ``GULIAN_RAY_ADDRESS`` is set, on Ray. Prints the table and writes it with ``--out``
(.csv or .json). docs/cli.md, docs/risk-scenarios.md.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from gulian.dispatch.slicing import resolve_chain, resolve_region
from gulian.engine.propagate import PropagationParams, Rationing
from gulian.engine.types import EngineInputError
from gulian.registry.io.access import actor_for
from gulian.registry.models import Enterprise
from gulian.risk import runs, sweeps
from gulian.risk.adapter import SPARE_CAPACITY

HELP = "情景批量：按封控天数×区域批量仿真 / scenario sweep: lockdown length × region, in parallel"


def _int_list(value: str) -> list[int]:
    try:
        out = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为逗号分隔的整数 / expected comma-separated integers: {value}")
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"天数应为正整数 / days must be positive: {value}")
    return out


def _prefixes(value: str) -> list[str]:
    out = [v.strip() for v in value.split(",") if v.strip()]
    if not out or any(not (v.isdigit() and len(v) <= 6) for v in out):
        raise argparse.ArgumentTypeError(f"应为逗号分隔的行政区划代码前缀 / expected comma-separated GB/T 2260 prefixes: {value}")
    return out


def add_arguments(parser: CommandParser) -> None:
    """The options of ``gulian risk sweep``."""
    parser.add_argument("--scenario", type=Path, required=True, help="base scenario (YAML or JSON file)")
    parser.add_argument("--lockdown-days", type=_int_list, default=[], metavar="7,14,28", help="lockdown lengths")
    parser.add_argument("--regions", type=_prefixes, default=[], metavar="3301,3302",
                        help="region prefixes locked down, one variant each")  # fmt: skip
    parser.add_argument("--workers", type=int, help="parallel workers (default: the number of cores)")
    parser.add_argument("--region", help="network: chains of this region (GB/T 2260 code in the user's scope)")
    parser.add_argument("--chain", nargs="+", action="extend", default=[], metavar="CODE", help="network: these chains")
    parser.add_argument("--threshold", type=float, default=0.9, help="stall threshold, share of baseline (default 0.9)")
    parser.add_argument("--tau", type=float, default=6.0, help="inventory restoration days τ (default 6)")
    parser.add_argument("--rationing", type=int, choices=range(4), default=int(Rationing.SMALL_FIRST),
                        help="0 proportional, 1 final last, 2 small first (default), 3 both")  # fmt: skip
    parser.add_argument("--out", type=Path, help="write the table to FILE.csv or FILE.json")
    parser.add_argument("--user", help="act as this user (default: system administrator)")


def run(command: BaseCommand, options: dict) -> None:
    """Build the network, run the variants, print and write the table."""
    from gulian.risk.adapter import build_network

    out: Path | None = options.get("out")
    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise CommandError(f"输出文件应为 .csv 或 .json / the output must be .csv or .json: {out}")
    if options.get("workers") is not None and options["workers"] < 1:
        raise CommandError("--workers 应为正整数 / must be a positive integer")
    try:
        user = actor_for(options.get("user"))
        base = runs.parse_spec(options["scenario"].read_text(encoding="utf-8"))
        runs.check_firms(base)
        place = resolve_region(user, options["region"]) if options.get("region") else None
        chains = [resolve_chain(user, c) for c in options.get("chain") or ()]
        items = sweeps.variants(base, lockdown_days=options["lockdown_days"], regions=options["regions"])
        params = PropagationParams(steps=base.steps, tau=options["tau"], rationing=Rationing(options["rationing"]),
                                   threshold=options["threshold"], spare_capacity=SPARE_CAPACITY)  # fmt: skip
    except OSError as e:
        raise CommandError(f"无法读取情景文件 / cannot read the scenario file: {e}")
    except (LookupError, ValidationError, ValueError, EngineInputError) as e:
        raise CommandError("; ".join(getattr(e, "messages", [str(e)])))
    except Http404:
        raise CommandError("地区或产业链不存在，或不在该用户的范围内 / no such region or chain in the user's scope")
    rn = build_network(user=user, region=place, chains=chains or None)
    items = [sweeps.Variant(v.name, runs.resolve_firms(rn, v.scenario), v.region, v.lockdown_days) for v in items]
    address = os.environ.get("GULIAN_RAY_ADDRESS", "").strip() or None
    started = time.monotonic()
    try:
        rows = sweeps.run_sweep(rn.net, items, params=params, watch=rn.owners, workers=options.get("workers"),
                                ray_address=address)  # fmt: skip
    except EngineInputError as e:
        raise CommandError(str(e))
    _name_owners(rn, rows)
    command.stdout.write(
        f"{len(rows)} 个情景 / variants，网络 {rn.net.n_firms:,} 家企业，{'Ray ' + address if address else '本机多进程 / local processes'}，"
        f"{time.monotonic() - started:.1f} 秒"
    )
    for r in rows:
        day = "—" if r["earliest_stall_day"] is None else r["earliest_stall_day"]
        command.stdout.write(
            f"  {r['variant']}: 损失 / lost {r['lost_output']:,.0f}; 停产链主 / stalled {r['owners_stalled']}/"
            f"{r['owners_watched']}; 最早 / earliest day {day} {r['earliest_owner']}"
        )
    if out is not None:
        sweeps.write_table(rows, out)
        command.stdout.write(command.style.SUCCESS(f"已写入 / written: {out}"))


def _name_owners(rn, rows: list[dict]) -> None:
    """Replace the earliest owner's network id by the enterprise name."""
    if rn.net.firm_ids is not None:
        index = {str(fid): k for k, fid in enumerate(rn.net.firm_ids.tolist())}
    else:
        index = {str(k): k for k in range(rn.net.n_firms)}
    pks = {int(rn.enterprise_ids[index[r["earliest_owner"]]]) for r in rows if r["earliest_owner"] in index}
    names = dict(Enterprise.objects.filter(pk__in=pks).values_list("pk", "name"))
    for r in rows:
        if r["earliest_owner"] in index:
            r["earliest_owner"] = names.get(int(rn.enterprise_ids[index[r["earliest_owner"]]]), r["earliest_owner"])
