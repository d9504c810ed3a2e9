"""The JSON summary a scenario run stores (``ScenarioRun.result``; docs/risk-scenarios.md).

Day numbering follows the scenario: day 0 is the first simulated day (a lockdown with ``start: 0``
begins on it). Curves have ``steps + 1`` points: point 0 is the baseline (the state before day 0)
and point ``k`` the output on day ``k − 1``; a stall day ``t`` is point ``t + 1``.

Keys: ``steps``, ``threshold``, ``firms``, ``links``, ``totals`` (baseline daily output, lost output
value over the horizon, its share, owners watched/stalled, earliest stall day, total curve in % of
baseline), ``chains`` (per chain: id, code, name, curve in % of its members' baseline output,
lowest point, lost output), ``owners`` (per chain owner: enterprise, chains, stall day or null,
lowest output share, direct cause and root cause as enterprise id + name + region, or null when
the owner's own capacity bound it), ``regions`` (per prefecture, or "000000" for abroad/unknown:
baseline daily output and lost output value, largest loss first). Values are yuan where the
network's link values are yuan per day (risk.adapter: annual value / 365).

:func:`loss_maps` turns ``regions`` into the two maps of the run page: China by province (losses
summed over each province's prefectures, out-of-province suppliers included) and the run's province
by prefecture, keyed by GB/T 2260 code; the geoJSON files are shipped in ``static/gulian/maps``
(README there: source, licence).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from gulian.core.models import Region
from gulian.registry.io.access import chunks
from gulian.registry.models import Enterprise, MemberRole, Membership

ABROAD = "000000"
MAPS_DIR = Path(__file__).resolve().parent.parent / "static" / "gulian" / "maps"


def region_labels(region: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Per-firm prefecture label (index into the returned codes); code 0 (abroad/unknown) → ABROAD."""
    pref = (np.asarray(region, dtype=np.int64) // 100) * 100
    values, labels = np.unique(pref, return_inverse=True)
    codes = [ABROAD if v <= 0 else f"{int(v):06d}" for v in values]
    return labels.astype(np.int64), codes


def _pct(curve: np.ndarray) -> list[float]:
    base = float(curve[0]) if curve.size else 0.0
    if base <= 0:
        return [100.0] * int(curve.size)
    return [round(float(v) / base * 100.0, 2) for v in curve]


def _lost(curve: np.ndarray) -> float:
    return float(np.sum(curve[0] - curve[1:])) if curve.size > 1 else 0.0


def _firms(ids: set[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for batch in chunks(sorted(ids)):
        for pk, name, uscc, region, region_name, country in Enterprise.objects.filter(pk__in=batch).values_list(
            "pk", "name", "uscc", "region_id", "region__name", "country"
        ):
            out[pk] = {"id": pk, "name": name, "uscc": uscc or "", "region": region or "",
                       "region_name": region_name or country}  # fmt: skip
    return out


def summarise(rn, res, region_codes: list[str], *, threshold: float) -> dict[str, Any]:
    """The JSON-safe summary of one simulation on a registry network (keys in the module docstring)."""
    ids = [int(i) for i in rn.enterprise_ids]
    watch = [int(w) for w in res.watch]
    wanted = {ids[w] for w in watch}
    wanted |= {ids[int(c)] for c in res.stall_cause if c >= 0} | {ids[int(c)] for c in res.root_cause if c >= 0}
    firms = _firms(wanted)
    chain_codes = {c.pk: c.code for c in rn.chains}
    owner_chains: dict[int, list[str]] = defaultdict(list)
    for ent, chain in Membership.objects.filter(
        role=MemberRole.OWNER, chain_id__in=list(chain_codes), enterprise_id__in=[ids[w] for w in watch]
    ).values_list("enterprise_id", "chain_id"):
        owner_chains[ent].append(chain_codes[chain])

    owners = []
    for k, w in enumerate(watch):
        curve = res.watch_production[:, k]
        day = int(res.stall_day[k])
        direct, root = int(res.stall_cause[k]), int(res.root_cause[k])
        owners.append({
            "enterprise": firms.get(ids[w], {"id": ids[w], "name": str(ids[w])}),
            "chains": sorted(owner_chains.get(ids[w], [])),
            "stall_day": day if day >= 0 else None,
            "min_share": round(float(curve.min() / curve[0]), 4) if curve[0] > 0 else 1.0,
            "direct": firms.get(ids[direct]) if direct >= 0 else None,
            "root": firms.get(ids[root]) if root >= 0 else None,
        })  # fmt: skip
    owners.sort(key=lambda o: (o["stall_day"] is None, o["stall_day"] or 0, o["min_share"], o["enterprise"]["name"]))

    chains = []
    for chain in rn.chains:
        prod = res.group_production.get(f"chain:{chain.code}")
        if prod is None:
            continue
        curve = prod[:, 0]
        pct = _pct(curve)
        chains.append({"id": chain.pk, "code": chain.code, "name": chain.name, "curve": pct, "min": min(pct),
                       "lost_output": round(_lost(curve), 2)})  # fmt: skip

    # A municipality's districts (310115) and a province's directly administered counties (419001)
    # have no prefecture: their pseudo-prefecture (310100, 419000) takes the province's name.
    provinces = {c[:2] + "0000" for c in region_codes}
    names = dict(Region.objects.filter(code__in=[*region_codes, *provinces]).values_list("code", "name"))
    reg = res.group_production["region"]
    regions = [
        {"code": code, "name": names.get(code) or names.get(code[:2] + "0000") or code if code != ABROAD
         else "境外/未知 / abroad or unknown",
         "baseline": round(float(reg[0, g]), 2), "lost_output": round(_lost(reg[:, g]), 2)}
        for g, code in enumerate(region_codes)
    ]  # fmt: skip
    regions.sort(key=lambda r: (-r["lost_output"], r["code"]))

    total = res.total_production
    stalled = [o["stall_day"] for o in owners if o["stall_day"] is not None]
    steps = int(total.size - 1)
    return {
        "steps": steps,
        "threshold": threshold,
        "firms": int(rn.net.n_firms),
        "links": int(rn.net.n_links),
        "totals": {
            "baseline": round(float(total[0]), 2),
            "lost_output": round(float(res.lost_output), 2),
            "lost_share": round(float(res.lost_output) / (float(total[0]) * steps), 6) if total[0] > 0 and steps else 0.0,
            "owners_watched": len(owners),
            "owners_stalled": len(stalled),
            "earliest_stall_day": min(stalled) if stalled else None,
            "curve": _pct(total),
        },
        "chains": chains,
        "owners": owners,
        "regions": regions,
    }


def province_map_file(province_code: str) -> Path | None:
    """The shipped prefecture map of a province (``maps/330000.json``), or None when there is none."""
    path = MAPS_DIR / f"{province_code}.json"
    return path if province_code.isdigit() and path.is_file() else None


def loss_maps(regions: list[dict[str, Any]], province_code: str) -> dict[str, Any]:
    """Lost output for the run page's maps, from a summary's ``regions`` (per prefecture).

    ``china``: per province (code ``PP0000``, GB/T 2260 name, summed lost output and baseline) for
    every province with firms in the network; ``province``: the prefectures of ``province_code``
    when a map of that province is shipped (else None); ``abroad``: lost output of firms abroad or of
    unknown region, which no map shows.
    """
    provinces: dict[str, dict[str, float]] = defaultdict(lambda: {"lost": 0.0, "baseline": 0.0})
    abroad = 0.0
    for r in regions:
        if r["code"] == ABROAD:
            abroad += r["lost_output"]
            continue
        p = provinces[r["code"][:2] + "0000"]
        p["lost"] += r["lost_output"]
        p["baseline"] += r["baseline"]
    names = dict(Region.objects.filter(code__in=[*provinces, province_code]).values_list("code", "name"))
    china = [
        {"code": code, "name": names.get(code, code), "lost": round(v["lost"], 2), "baseline": round(v["baseline"], 2)}
        for code, v in sorted(provinces.items())
    ]
    province = None
    if province_map_file(province_code) is not None:
        prefix = province_code[:2]
        province = {
            "code": province_code,
            "name": names.get(province_code, province_code),
            "data": [
                {"code": r["code"], "name": r["name"], "lost": r["lost_output"], "baseline": r["baseline"]}
                for r in sorted(regions, key=lambda r: r["code"])
                if r["code"] != ABROAD and r["code"].startswith(prefix) and r["code"] != province_code
            ],
        }
    return {"china": china, "province": province, "abroad": round(abroad, 2)}
