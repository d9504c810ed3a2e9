"""``gulian risk screen``: the structural screen of the registry's chains (docs/cli.md, docs/engine.md).

Runs as ``--user`` (default: the system administrator) on the chains that user may see
(``gulian.risk.adapter.build_network``: their members and every supplier upstream). Single sources
are counted per registry input category (``SupplyLink.input_category``; a link marked
``alternatives_known`` is never a single source). Prints the ranked firms with the reason for each;
``--out`` writes them as CSV or .xlsx; ``--create-items`` puts them on the risk list.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gulian.engine.screen import Finding, ScreenParams, ScreenResult, screen, single_source_from_rows
from gulian.engine.types import EngineInputError
from gulian.registry.io.access import actor_for
from gulian.risk.commands.output import command_errors, write_table

HELP = "结构筛查：断点、唯一来源、境外/省外与高风险地区依赖、关键度排名 / structural screen: chokepoints, single sources, exposure, ranking"

COLUMNS = (
    ("rank", "排名"), ("enterprise_id", "企业ID"), ("firm", "企业"), ("score", "依赖该企业的链主产出（元/日）"),
    ("criticality", "关键度（元/日）"), ("chokepoint_output", "断点产出（元/日）"),
    ("sole_source_output", "唯一来源链产出（元/日）"), ("chokepoint_owners", "断点所在链主"),
    ("sole_source_owners", "唯一来源链链主"), ("single_source_inputs", "唯一供应投入项数"), ("scope", "范围"),
    ("region", "地区代码"), ("high_risk", "高风险地区"), ("overseas_upstream", "境外依赖（各层）"),
    ("high_risk_upstream", "高风险地区依赖（各层）"), ("reasons", "原因"), ("explanation_zh", "说明"),
    ("explanation_en", "Explanation"),
)  # fmt: skip


def add_arguments(parser: CommandParser) -> None:
    """The options of ``gulian risk screen``."""
    parser.add_argument("--region", help="GB/T 2260 code inside the user's scope: chains of that region")
    parser.add_argument("--chain", nargs="+", action="extend", default=[], metavar="CODE", help="chain code(s)")
    parser.add_argument("--k", type=int, default=3, help="tiers for chokepoints and sole-source chains (default 3)")
    parser.add_argument("--high-risk", nargs="+", action="extend", default=[], metavar="PREFIX",
                        help="GB/T 2260 prefixes of high-risk regions (e.g. 4201 3301)")  # fmt: skip
    parser.add_argument("--top", type=int, default=50, help="firms to list and explain (default 50)")
    parser.add_argument("--out", type=Path, help="write the ranked list to FILE.csv or FILE.xlsx")
    parser.add_argument("--create-items", action="store_true", help="put the listed firms on the risk list")
    parser.add_argument("--user", help="act as this user (default: system administrator)")


def run_screen(user, *, region=None, chains=(), params: ScreenParams | None = None):
    """Build the user's network and screen it: ``(RegistryNetwork, ScreenResult)``; Http404 for a bad scope."""
    from gulian.dispatch.slicing import resolve_chain, resolve_region
    from gulian.registry.models import SupplyLink
    from gulian.risk.adapter import build_network

    place = resolve_region(user, region) if region else None
    chain_objs = [resolve_chain(user, c) for c in chains]
    rn = build_network(user=user, region=place, chains=chain_objs or None)
    rows = [
        r for r in (SupplyLink.objects.restrict(user, "view") if user is not None else SupplyLink.objects.all())
        .values_list("supplier_id", "customer_id", "input_category", "alternatives_known")
        if r[0] in rn.index and r[1] in rn.index
    ]
    labels = sorted({r[2] for r in rows})
    code = {c: k for k, c in enumerate(labels)}
    ss = single_source_from_rows(
        rn.net,
        np.array([rn.index[r[0]] for r in rows], dtype=np.int64),
        np.array([rn.index[r[1]] for r in rows], dtype=np.int64),
        np.array([code[r[2]] for r in rows], dtype=np.int64),
        np.array([bool(r[3]) for r in rows], dtype=bool),
    )
    result = screen(rn.net, rn.owners, params or ScreenParams(), single_source=ss, category_labels=labels, names=rn.names)
    return rn, result


def rows_for_export(rn, result: ScreenResult) -> list[dict]:
    """One dict per finding, keys as in COLUMNS."""
    out = []
    for f in result.findings:
        row = f.to_row(rn.names)
        row["enterprise_id"] = int(rn.enterprise_ids[f.firm])
        out.append(row)
    return out


REASON_LABELS = {
    "chokepoint": "必经节点", "sole_source": "唯一来源链", "single_source": "单一来源", "high_risk": "高风险地区",
    "overseas": "境外", "criticality": "关键度",
}
"""Chinese names of the screen's reason codes (engine/screen.py ``Finding.reasons``) for item titles."""


def reason_labels(codes) -> str:
    """``("chokepoint", "single_source")`` → ``"必经节点、单一来源"``."""
    return "、".join(REASON_LABELS.get(c, c) for c in codes)


def write(rows: list[dict], path: Path) -> None:
    """Write the ranked list as CSV or .xlsx."""
    header = [zh for _key, zh in COLUMNS]
    cells = [[row[key] for key, _zh in COLUMNS] for row in rows]
    wide = {0: 8, 1: 8, 2: 28, len(header) - 2: 80, len(header) - 1: 80}
    write_table(path, header, cells, sheet="结构筛查", widths=wide)


def _severity(f: Finding) -> str:
    if f.chokepoint_owners or f.sole_source_owners:
        return "high"
    return "medium" if f.criticality > 0 else "low"


def create_items(user, rn, result: ScreenResult) -> list:
    """Put the findings on the risk list: one item per (list region, chain, firm); re-runs update them.

    The list region is the chain's region when the user may write there, else the user's own region.
    Scope is that of the firm relative to the owner it matters most to (市内/省内/省外/境外); the
    fingerprint ``screen:<chain pk>:<enterprise pk>`` makes a re-run update the same item.
    """
    from gulian.core.models import Region, Role
    from gulian.registry.models import Enterprise
    from gulian.registry.scope import derive_scope
    from gulian.risk.services import FindingIn, upsert_items

    if not (user.is_admin or user.role == Role.TASKFORCE):
        raise PermissionDenied("仅专班可登记风险清单 / only task forces add items to the risk list")
    pks = {int(rn.enterprise_ids[i]) for f in result.findings for i in (f.firm, *(o.owner for o in f.owners))}
    firms = {r[0]: r[1:] for r in Enterprise.objects.filter(pk__in=pks).values_list("pk", "region_id", "country")}
    prefix = getattr(user, "scope_prefix", "") or ""
    total = float(rn.net.output[result.owners].sum()) or 1.0
    by_region: dict[str, list] = {}
    for f in result.findings:
        owners = [o.owner for o in f.owners] or list(f.chokepoint_owners + f.sole_source_owners)
        pk = int(rn.enterprise_ids[f.firm])
        region, country = firms[pk]
        main = int(rn.enterprise_ids[owners[0]]) if owners else None
        scope = str(derive_scope(region, country, firms[main][0])) if main in firms else "domestic"
        affected = tuple(sorted({int(rn.enterprise_ids[o]) for o in (*owners, *f.chokepoint_owners, *f.sole_source_owners)}))
        chains = list({c.pk: c for o in owners for c in rn.chain_of_owner(o)}.values()) or [None]
        for chain in chains:
            list_region = next(
                (str(c) for c in (chain and chain.region_id, getattr(user, "region_id", None), region)
                 if c and (user.is_admin or str(c).startswith(prefix))),
                None,
            )  # fmt: skip
            if list_region is None:
                continue
            by_region.setdefault(list_region, []).append(FindingIn(
                enterprise=pk,
                fingerprint=f"screen:{chain.pk if chain else 0}:{pk}",
                title=f"{f.name}：{len(affected)} 家链主依赖（{reason_labels(f.reasons)}）"[:200],
                scope=scope,
                source="screen",
                chain=chain.pk if chain else None,
                segment=rn.segment_of(f.firm, chain) if chain else None,
                affected_owners=affected,
                overseas_dependence=bool(f.foreign or scope == "foreign"),
                detail=f.explanation_zh,
                severity=_severity(f),
                score=round(min(f.score / total, 1.0), 4),
                evidence={**f.to_row(rn.names), "k": result.params.k, "high_risk": list(result.params.high_risk)},
            ))  # fmt: skip
    items: list = []
    for code, findings in by_region.items():
        items.extend(upsert_items(user, Region.objects.get(code=code), findings).items)
    return items


def run(command: BaseCommand, options: dict) -> None:
    """Screen, print the ranked list, optionally write it and add risk items."""
    out: Path | None = options.get("out")
    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise CommandError(f"输出文件应为 .csv 或 .xlsx / the output must be .csv or .xlsx: {out}")
    try:
        user = actor_for(options.get("user"))
        params = ScreenParams(k=options["k"], high_risk=tuple(options.get("high_risk") or ()), top=options["top"])
    except (LookupError, EngineInputError) as e:
        raise CommandError(str(e))
    started = time.perf_counter()
    with command_errors():
        rn, result = run_screen(user, region=options.get("region"), chains=options.get("chain") or (), params=params)
    seconds = time.perf_counter() - started
    command.stdout.write(
        f"结构筛查 / screen: 链主 {result.owners.size} 家，网络 {rn.net.n_firms:,} 家企业、{rn.net.n_links:,} 条供应关系，"
        f"{params.k} 层；断点 {sum(d.firms.size for d in result.chokepoints.values())} 个，"
        f"唯一来源投入 {result.single_source.link.size:,} 项（{seconds:.2f} 秒）"
    )
    if result.owners.size == 0:
        command.stdout.write("所选产业链没有链主 / the chains selected have no chain owner")
    for f in result.findings:
        command.stdout.write(f"{f.rank:>3}. {f.name}  {f.score:,.0f} 元/日  [{'、'.join(f.reasons)}]")
        command.stdout.write(f"     {f.explanation_zh}")
    rows = rows_for_export(rn, result)
    if out is not None:
        write(rows, out)
        command.stdout.write(command.style.SUCCESS(f"已写入 / written: {out} ({len(rows)} 行 / rows)"))
    if options.get("create_items"):
        try:
            items = create_items(user, rn, result)
        except PermissionDenied as e:
            raise CommandError(str(e))
        command.stdout.write(command.style.SUCCESS(f"风险清单条目 {len(items)} 条 / risk items added or updated"))
