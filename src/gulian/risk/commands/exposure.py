"""``gulian risk exposure``: time-to-survive, time-to-recover and the REI ranking (docs/cli.md).

Runs as ``--user`` (default: the system administrator) on that user's scope: the selected chains'
network from ``risk.adapter.build_network``, the chain owners' final demand to protect, TTR from each
enterprise's surveyed recovery days (``Enterprise.recovery_days``) else its industry's default
(``engine/data/ttr_defaults.csv``), alternative sources from ``SupplyLink.alternatives_known``. Prints
the ranked nodes; ``--out`` writes them; ``--create-items`` puts the flagged ones (TTS < TTR) on the
risk list. The maths: docs/engine/exposure.md.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gulian.core.models import Role
from gulian.engine.exposure import (
    ExposureResult,
    exposure,
    exposure_by_propagation,
    exposure_input,
    industry_ttr,
    load_ttr_defaults,
)
from gulian.engine.types import EngineInputError
from gulian.registry.io.access import actor_for, chunks
from gulian.registry.models import Enterprise, SupplyLink
from gulian.registry.scope import derive_scope
from gulian.risk.commands.output import command_errors, write_table

HELP = "暴露分析：生存时间（TTS）、恢复时间（TTR）与风险暴露指数排序 / exposure: time-to-survive, time-to-recover, REI"

COLUMNS = (
    "排名", "企业", "所在地区", "行业", "生存天数TTS", "恢复天数TTR", "TTR来源", "缺口天数", "预计损失", "暴露指数REI",
    "受影响链主",
)  # fmt: skip


def add_arguments(parser: CommandParser) -> None:
    """The options of ``gulian risk exposure``."""
    parser.add_argument("--region", help="GB/T 2260 code inside the user's scope (default: the whole scope)")
    parser.add_argument("--chain", nargs="+", action="extend", default=[], metavar="CODE", help="chain code(s)")
    parser.add_argument("--top", type=int, default=20, help="rows to print (default 20; --out writes all)")
    parser.add_argument("--out", type=Path, help="write the ranking to FILE.csv or FILE.xlsx")
    parser.add_argument("--method", choices=("lp", "propagation"), default="lp",
                        help="lp: exact LP per node (default); propagation: simulate each node's stop")  # fmt: skip
    parser.add_argument("--scope", choices=("local", "network"), default="local",
                        help="lp scope: local (each node's descendants and their suppliers, default) or network")
    parser.add_argument("--spare", type=float, default=0.1, help="spare capacity, fraction of output (default 0.1)")
    parser.add_argument("--alternative", type=float, default=0.5,
                        help="share of a link's flow an alternative source can supply when one is known (default 0.5)")
    parser.add_argument("--substitution", choices=("sector", "link"), default="sector",
                        help="sector: same-sector suppliers substitute (default); link: none do")  # fmt: skip
    parser.add_argument("--create-items", action="store_true", help="put the flagged nodes (TTS < TTR) on the risk list")
    parser.add_argument("--user", help="act as this user (default: system administrator)")


def compute(user, *, region=None, chains=(), method: str = "lp", scope: str = "local", spare: float = 0.1,
            alternative: float = 0.5, substitution: str = "sector") -> dict:  # fmt: skip
    """Exposure of every node of the user's network; a dict with ``rows`` in REI order (JSON-safe)."""
    from gulian.dispatch.slicing import resolve_chain, resolve_region
    from gulian.risk.adapter import build_network

    if not 0 <= alternative <= 1:
        raise EngineInputError("--alternative 应在 0–1 之间 / must be within 0..1")
    place = resolve_region(user, region) if region else None
    chain_objs = [resolve_chain(user, c) for c in chains or ()]
    started = time.perf_counter()
    rn = build_network(user=user, region=place, chains=chain_objs or None)
    ids = [int(i) for i in rn.enterprise_ids]
    firms: dict[int, tuple] = {}
    for batch in chunks(ids):
        firms.update({r[0]: r for r in Enterprise.objects.filter(pk__in=batch).values_list(
            "pk", "name", "region_id", "region__name", "country", "industry_id")})  # fmt: skip
    table = load_ttr_defaults()
    surveyed = ~np.isnan(rn.recovery_days)  # the survey's days, read by the adapter
    ttr = np.where(surveyed, rn.recovery_days, [industry_ttr(firms[i][5], table) for i in ids])
    net = rn.net
    alt = alternative * _alternative_share(user, net, ids)
    inp = exposure_input(net, ttr=ttr, demand_nodes=np.asarray(rn.owners, dtype=np.int64), spare=spare,
                         alternative=alt, substitution=substitution)  # fmt: skip
    nodes = np.flatnonzero(inp.relevant)
    result = exposure(inp, nodes, scope=scope) if method == "lp" else exposure_by_propagation(inp, nodes)
    owners = np.asarray(rn.owners, dtype=np.int64)
    rows = [_row(result, k, rank, ids, firms, surveyed, net, owners)
            for rank, k in enumerate(result.order, start=1)]  # fmt: skip
    return {
        "method": result.method,
        "region": place.code if place else None,
        "chains": [c.code for c in chain_objs],
        "assumptions": {"spare": spare, "alternative": alternative, "substitution": substitution,
                        "horizon_days": inp.horizon, "ttr_surveyed": int(surveyed.sum())},  # fmt: skip
        "firms": net.n_firms,
        "owners": int(owners.size),
        "flagged": int(result.at_risk.sum()),
        "owner_chains": _owner_chains(rn, owners),
        "chain_regions": {c.pk: c.region_id for c in rn.chains},
        "ids": ids,
        "rows": rows,
        "elapsed": round(time.perf_counter() - started, 3),
    }


def _owner_chains(rn, owners: np.ndarray) -> dict[int, list[int]]:
    """Chain pks of each owner (``chain_groups``: label ≥ 0 = member of that chain)."""
    pk = {c.code: c.pk for c in rn.chains}
    return {int(o): [pk[code] for code, g in rn.chain_groups.items() if code in pk and g[o] >= 0] for o in owners}


def _alternative_share(user, net, ids: list[int]) -> np.ndarray:
    """Per network link: the share of its annual value with a known alternative supplier (0..1)."""
    known: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for batch in chunks(ids):
        for s, c, flag, value in SupplyLink.objects.restrict(user, "view").filter(customer_id__in=batch).values_list(
            "supplier_id", "customer_id", "alternatives_known", "annual_value"
        ):
            v = float(value) if value else 1.0
            known[(s, c)][0] += v * flag
            known[(s, c)][1] += v
    share = np.zeros(net.n_links)
    for e, (i, j) in enumerate(zip(net.link_supplier.tolist(), net.link_customer.tolist(), strict=True)):
        pair = known.get((ids[i], ids[j]))
        if pair and pair[1] > 0:
            share[e] = pair[0] / pair[1]
    return share


def _downstream_owners(net, node: int, owners: np.ndarray) -> list[int]:
    from scipy.sparse.csgraph import breadth_first_order

    reached = breadth_first_order(net.links, node, directed=True, return_predecessors=False)
    seen = set(reached.tolist()) - {node}  # an owner's own stop is not a supply risk to itself
    return [int(o) for o in owners if o in seen]


def _days(value: float) -> float | None:
    return None if math.isinf(value) else round(float(value), 1)


def _row(result: ExposureResult, k: int, rank: int, ids, firms, surveyed, net, owners) -> dict:
    node = int(result.nodes[k])
    f = firms[ids[node]]
    affected = _downstream_owners(net, node, owners) if result.at_risk[k] else []
    return {
        "rank": rank,
        "node": node,
        "id": f[0], "name": f[1], "region": f[2] or "", "region_name": f[3] or "", "country": f[4],
        "industry": f[5] or "",
        "tts": _days(result.tts[k]), "ttr": round(float(result.ttr[k]), 1),
        "ttr_source": "survey" if surveyed[node] else "industry",
        "at_risk": bool(result.at_risk[k]), "shortage": round(float(result.shortage[k]), 1),
        "pi": round(float(result.pi[k]), 2), "rei": round(float(result.rei[k]), 4),
        "affected_owners": [{"id": ids[o], "name": firms[ids[o]][1], "region": firms[ids[o]][2] or "", "node": o}
                            for o in affected],
    }  # fmt: skip


def rows_for_export(result: dict) -> list[list]:
    """One list of cells per node, in COLUMNS order."""
    return [
        [r["rank"], r["name"], r["region_name"] or r["country"], r["industry"],
         "≥" + str(int(result["assumptions"]["horizon_days"])) if r["tts"] is None else r["tts"], r["ttr"],
         "调查" if r["ttr_source"] == "survey" else "行业默认", r["shortage"], r["pi"], r["rei"],
         "、".join(o["name"] for o in r["affected_owners"])]
        for r in result["rows"]
    ]  # fmt: skip


def write(result: dict, path: Path) -> None:
    """Write the ranking as CSV or .xlsx."""
    write_table(path, COLUMNS, rows_for_export(result), sheet="暴露分析")


def severity_for(shortage: float) -> str:
    """High for a shortage over two weeks, medium over one, low below (docs/engine/exposure.md)."""
    from gulian.risk.models import Severity

    return Severity.HIGH if shortage > 14 else (Severity.MEDIUM if shortage > 7 else Severity.LOW)


def create_items(user, result: dict) -> list:
    """Put the flagged nodes on the risk list: one finding per (list region, chain, node)."""
    from gulian.risk.services import FindingIn, upsert_items

    if not (user.is_admin or user.role == Role.TASKFORCE):
        raise PermissionDenied("仅专班可登记风险清单 / only task forces add items to the risk list")
    prefix = getattr(user, "scope_prefix", "") or ""
    by_region: dict[str, list] = defaultdict(list)
    for r in result["rows"]:
        if not r["at_risk"] or not r["affected_owners"]:
            continue
        chains = sorted({c for o in r["affected_owners"] for c in result["owner_chains"].get(o["node"], [])}) or [None]
        for chain_id in chains:
            candidates = (result["chain_regions"].get(chain_id) if chain_id else None, getattr(user, "region_id", None),
                          r["affected_owners"][0]["region"])  # fmt: skip
            region = next((str(c) for c in candidates if c and (user.is_admin or str(c).startswith(prefix))), None)
            if region is None:
                raise PermissionDenied("无法确定风险清单所属区域 / no region for the risk list")
            scope = derive_scope(r["region"] or None, r["country"], r["affected_owners"][0]["region"] or None)
            tts = "≥" + str(int(result["assumptions"]["horizon_days"])) if r["tts"] is None else f"{r['tts']:g}"
            names = "、".join(o["name"] for o in r["affected_owners"])
            by_region[region].append(FindingIn(
                enterprise=r["id"],
                fingerprint=f"exposure:{r['id']}:{chain_id or 0}",
                chain=chain_id,
                affected_owners=tuple(o["id"] for o in r["affected_owners"]),
                scope=scope,
                overseas_dependence=scope == "foreign",
                title=f"{r['name']}停产{r['ttr']:g}天，链条仅能支撑{tts}天：{names}"[:200],
                detail=(f"暴露分析（{result['method']}）：{r['name']}停产后网络可维持最终需求 {tts} 天（TTS），"
                        f"恢复需 {r['ttr']:g} 天（TTR，{'企业调查' if r['ttr_source'] == 'survey' else '行业默认'}），"
                        f"缺口 {r['shortage']:g} 天，预计损失 {r['pi']:,.0f} 元，暴露指数 {r['rei']:.2f}。"),
                days_to_impact=None if r["tts"] is None else int(math.floor(r["tts"])),
                severity=severity_for(r["shortage"]),
                score=r["rei"],
                source="exposure",
                evidence={"method": result["method"], "tts": r["tts"], "ttr": r["ttr"], "ttr_source": r["ttr_source"],
                          "shortage": r["shortage"], "pi": r["pi"], "rei": r["rei"], "rank": r["rank"],
                          "assumptions": result["assumptions"]},
            ))  # fmt: skip
    from gulian.core.models import Region

    actor = user if getattr(user, "pk", None) else None  # the system actor writes as "system"
    items: list = []
    for code, findings in by_region.items():
        items.extend(upsert_items(actor, Region.objects.get(code=code), findings).items)
    return items


def run(command: BaseCommand, options: dict) -> None:
    """Compute the exposure ranking, print it, optionally write it and add risk items."""
    try:
        user = actor_for(options.get("user"))
    except LookupError as e:
        raise CommandError(str(e))
    out: Path | None = options.get("out")
    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise CommandError(f"输出文件应为 .csv 或 .xlsx / the output must be .csv or .xlsx: {out}")
    if options["top"] < 1:
        raise CommandError("--top 应为正整数 / must be a positive number")
    with command_errors():
        result = compute(user, region=options.get("region"), chains=options.get("chain") or (),
                         method=options["method"], scope=options["scope"], spare=options["spare"],
                         alternative=options["alternative"],
                         substitution=options["substitution"])  # fmt: skip
    command.stdout.write(
        f"暴露分析（{result['method']}）/ exposure: {result['flagged']} 家企业 TTS < TTR（网络 {result['firms']:,} 家企业，"
        f"链主 {result['owners']} 家，{result['elapsed']:.2f} 秒）"
    )
    command.stdout.write("  排名  企业  TTS  TTR  缺口  REI / rank, firm, TTS, TTR, shortage, REI")
    for row in rows_for_export(result)[: options["top"]]:
        flag = "!" if row[7] else " "
        command.stdout.write(f"{flag} {row[0]:>3}  {row[1]}  {row[4]}  {row[5]:g}({row[6]})  {row[7]:g}  {row[9]:.2f}")
    if out is not None:
        write(result, out)
        command.stdout.write(command.style.SUCCESS(f"已写入 / written: {out}"))
    if options.get("create_items"):
        try:
            items = create_items(user, result)
        except PermissionDenied as e:
            raise CommandError(str(e) or "仅专班可登记风险清单 / only task forces add items to the risk list")
        command.stdout.write(command.style.SUCCESS(f"风险清单条目 {len(items)} 条 / risk items added or updated"))
