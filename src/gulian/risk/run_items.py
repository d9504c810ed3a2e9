"""A finished scenario run's findings on the risk list (source 情景仿真 / simulation).

One finding per (chain, cause supplier): the supplier whose loss stalls the chain's owners in the
scenario (the root cause when the engine traced one, else the direct one), with every owner it
stalls as affected owners and the earliest stall day as days to impact. Owners stalled by their own
capacity are not supply risks. Items go on the chain's list when the user may write there, else on
the user's own (as the nowcast's do); re-running updates them (fingerprint
``simulation:<scenario>:<chain>:<supplier>``).
"""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError

from gulian.core.services import get_scoped
from gulian.registry.models import Chain, Enterprise
from gulian.registry.scope import derive_scope
from gulian.risk.models import RiskSource, RunStatus, ScenarioRun
from gulian.risk.nowcasting import _item_region, severity_for
from gulian.risk.services import FindingIn, upsert_items


def create_items(user, run: ScenarioRun) -> list:
    """Upsert the run's findings; the user must be allowed to change the run (404 otherwise)."""
    run = get_scoped(ScenarioRun.objects.select_related("scenario"), user, "change", pk=run.pk)
    if run.status != RunStatus.DONE:
        raise ValidationError("运行尚未完成 / the run has not finished")
    groups: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for owner in run.result.get("owners", []):
        cause = owner.get("root") or owner.get("direct")
        if owner.get("stall_day") is None or not cause:
            continue
        for code in owner.get("chains", []):
            groups[(code, int(cause["id"]))].append(owner)
    chains = {c.code: c for c in Chain.objects.filter(code__in={code for code, _ in groups})}
    firm_ids = {sup for _, sup in groups} | {int(o["enterprise"]["id"]) for rows in groups.values() for o in rows}
    firms = Enterprise.objects.in_bulk(list(firm_ids))
    by_region: dict[str, list[FindingIn]] = defaultdict(list)
    for (code, supplier_id), owners in sorted(groups.items()):
        chain, supplier = chains.get(code), firms.get(supplier_id)
        if chain is None or supplier is None:
            continue
        first = min(owners, key=lambda o: o["stall_day"])
        owner_firm = firms[int(first["enterprise"]["id"])]
        region = _item_region(user, {"region": chain.region_id}, {"region": owner_firm.region_id})
        day = int(first["stall_day"])
        scope = derive_scope(supplier.region_id, supplier.country, owner_firm.region_id)
        by_region[region].append(
            FindingIn(
                enterprise=supplier.pk,
                chain=chain.pk,
                affected_owners=tuple(sorted(int(o["enterprise"]["id"]) for o in owners)),
                scope=scope,
                overseas_dependence=supplier.country != "CN",
                title=f"{supplier.name}：情景「{run.scenario.name}」中 {len(owners)} 家链主第 {day} 天停产",
                detail="；".join(
                    f"{o['enterprise']['name']} 第 {o['stall_day']} 天停产，最低产出 {o['min_share']:.0%}" for o in owners
                ),
                days_to_impact=day,
                severity=severity_for(day),
                score=float(len(owners)),
                source=RiskSource.SIMULATION,
                evidence={
                    "scenario": run.scenario.pk, "run": run.pk, "scenario_name": run.scenario.name,
                    "owners": [{"id": o["enterprise"]["id"], "stall_day": o["stall_day"], "min_share": o["min_share"]}
                               for o in owners],
                    "direct": [o["direct"]["id"] for o in owners if o.get("direct")],
                },  # fmt: skip
                fingerprint=f"simulation:{run.scenario.pk}:{chain.pk}:{supplier.pk}",
            )
        )
    items: list = []
    for region, findings in sorted(by_region.items()):
        items.extend(upsert_items(user, region, findings))
    return items
