"""The nowcast (断链预警) from the registry and the daily reports: page, API, CLI and risk items share it.

:func:`compute` builds the user's network (``risk.adapter.build_network``), reads the reports of
the last :data:`WINDOW` days on or before the date for every firm in it (one range query per
batch of firms on the ``(date, enterprise)`` index), and runs :func:`gulian.engine.nowcast.nowcast`:

* capacity = the latest report's utilisation in the window (0 when not resumed); a firm with no
  report in the window is assumed at ``unknown_capacity`` (default 1: baseline; foreign
  suppliers never report);
* inventory days = the latest report's ``inventory_days`` (empty = the network's target);
* trend = least-squares slope of the window's reported capacity (two report days or more);
* R_i for linear recovery = ``Enterprise.recovery_days`` where surveyed.

The suppliers of a visible owner are read even where they lie outside the user's region (as the
held-back list does: the owner's problem is the task force's); their utilisation is shown only
when the user may view the firm itself.

The result is a JSON-safe dict, cached in Django's cache (``settings.CACHES``; per process
unless a shared backend is configured) under a key of the user's scope, the filters, the
parameters and a data version (the count and version sum and latest submission time of the window's reports, the
latest change to links and enterprises): a repeat visit the same day costs three small queries,
and a new or corrected report makes the next visit recompute. docs/engine/nowcast.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Sum
from django.utils import timezone, translation

from gulian.core.models import Role
from gulian.dispatch import metrics
from gulian.dispatch.models import DailyReport
from gulian.dispatch.slicing import require_metrics_reader, resolve_chain, resolve_region
from gulian.engine.nowcast import CAVEATS, RecoveryAssumption, caveat_text, nowcast
from gulian.registry.io.access import chunks, pks_within
from gulian.registry.models import Enterprise, MemberRole, Membership, SupplyLink
from gulian.registry.scope import LinkScope, derive_scope

WINDOW = 7
"""Days of reports read up to the date: the latest in the window counts, all of them give the trend."""

CACHE_SECONDS = 6 * 3600
CURVE_DIGITS = 3
STATUS_LABELS = {
    "not_resumed": ("未复工", "not resumed"),
    "below": ("未达产", "below capacity"),
    "missing": ("未报送", "no report"),
    "ok": ("正常", "running"),
    "foreign": ("境外（不报送）", "abroad (no reports)"),
}


def latest_date(user, region=None) -> dt.date | None:
    """The default date: the last day with reports in the user's scope (as the dispatch pages)."""
    return metrics.latest_date(user, region)


def _reports(ids: list[int], day: dt.date) -> dict[int, list[tuple]]:
    """Enterprise id → its reports in the window, oldest first: (date, resumed, utilisation, inventory)."""
    start = day - dt.timedelta(days=WINDOW - 1)
    out: dict[int, list[tuple]] = defaultdict(list)
    for batch in chunks(ids):
        rows = (
            DailyReport.objects.filter(date__range=(start, day), enterprise_id__in=batch)
            .order_by("enterprise_id", "date")
            .values_list("enterprise_id", "date", "resumed", "utilisation", "inventory_days")
        )
        for firm, date, resumed, util, inventory in rows:
            out[firm].append((date, resumed, util, inventory))
    return out


def report_state(ids: list[int], day: dt.date) -> dict:
    """Per firm (in the order of ``ids``): capacity, inventory days, trend, report age; NaN = none.

    capacity = utilisation of the latest report (0 when not resumed); trend = the least-squares
    slope of capacity against the day over the window's reports,
    ``s = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)²`` (NaN with fewer than two report days), vectorised.
    ``today``: the window's reports by enterprise id (for the status of the day).
    """
    reports = _reports(ids, day)
    n = len(ids)
    capacity, inventory, trend, age = (np.full(n, np.nan) for _ in range(4))
    firm_k, xs, ys = [], [], []
    for k, firm in enumerate(ids):
        rows = reports.get(firm)
        if not rows:
            continue
        date, resumed, util, inv = rows[-1]
        capacity[k] = float(util) if resumed else 0.0
        inventory[k] = float(inv) if inv is not None else np.nan
        age[k] = (day - date).days
        for r in rows:
            firm_k.append(k)
            xs.append((r[0] - day).days)
            ys.append(float(r[2]) if r[1] else 0.0)
    if firm_k:
        f = np.asarray(firm_k)
        x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        count = np.bincount(f, minlength=n).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            dx = x - (np.bincount(f, weights=x, minlength=n) / count)[f]
            dy = y - (np.bincount(f, weights=y, minlength=n) / count)[f]
            sxx = np.bincount(f, weights=dx * dx, minlength=n)
            trend = np.where(sxx > 0, np.bincount(f, weights=dx * dy, minlength=n) / sxx, np.nan)
    return {"capacity": capacity, "inventory": inventory, "trend": trend, "age": age, "today": reports}


def _status(rows: list[tuple] | None, day: dt.date, country: str) -> str:
    if country != "CN":
        return "foreign"
    if not rows or rows[-1][0] != day:
        return "missing"
    _date, resumed, util, _inv = rows[-1]
    if not resumed:
        return "not_resumed"
    return "below" if util < Decimal(str(settings.RECOVERY_THRESHOLD)) else "ok"


def _cache_key(user, day: dt.date, region, chains, options: dict) -> str:
    """Scope, filters, parameters and a data version: reports in the window, links and firms changed."""
    start = day - dt.timedelta(days=WINDOW - 1)
    reports = DailyReport.objects.filter(date__range=(start, day)).aggregate(
        n=Count("pk"), v=Sum("version"), t=Max("submitted_at")
    )  # a correction adds a version even when submitted within the same second
    links = SupplyLink.objects.aggregate(n=Count("pk"), t=Max("updated_at"))
    firms = Enterprise.objects.aggregate(n=Count("pk"), t=Max("updated_at"))
    chain_ids = sorted(user.chains.values_list("pk", flat=True)) if user.role == Role.CHAIN_OFFICE else []
    parts = [
        "nowcast", day.isoformat(), user.role, user.is_admin, getattr(user, "scope_prefix", ""), chain_ids,
        str(region or ""), sorted(str(c) for c in chains or ()), options,
        [reports["n"], reports["v"], str(reports["t"]), links["n"], str(links["t"]), firms["n"], str(firms["t"])],
    ]  # fmt: skip
    return "gulian:nowcast:" + hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def compute(user, day: dt.date | None = None, *, region=None, chains=(), horizon: int = 30,
            recovery: RecoveryAssumption | None = None, unknown_capacity: float = 1.0,
            use_cache: bool = True) -> dict:  # fmt: skip
    """The nowcast of ``day`` (default: the latest day with reports) for the user's scope, as a dict.

    ``region``: a region code inside the user's scope; ``chains``: chain codes or pks the user may
    view. Keys: date, horizon, assumptions, watched, firms, rows (owners predicted to stall, earliest
    first), elapsed (seconds), cached. Http404 for users without dispatch figures or an unknown
    region or chain.
    """
    require_metrics_reader(user)
    place = resolve_region(user, region) if region else None
    chain_objs = [resolve_chain(user, c) for c in chains or ()]
    day = day or latest_date(user, place.code if place else None) or timezone.localdate()
    recovery = recovery or RecoveryAssumption()
    options = {"horizon": horizon, "recovery": recovery.to_dict(), "unknown_capacity": unknown_capacity}
    key = _cache_key(user, day, place.code if place else "", [c.code for c in chain_objs], options)
    if use_cache and (hit := cache.get(key)) is not None:
        return {**hit, "cached": True}
    started = timezone.now()
    result = _run(user, day, place, chain_objs, horizon, recovery, unknown_capacity)
    result["elapsed"] = round((timezone.now() - started).total_seconds(), 3)
    cache.set(key, result, CACHE_SECONDS)
    return {**result, "cached": False}


def _run(user, day, place, chain_objs, horizon, recovery, unknown_capacity) -> dict:
    from gulian.engine.propagate import PropagationParams
    from gulian.risk.adapter import SPARE_CAPACITY, build_network

    rn = build_network(user=user, region=place, chains=chain_objs or None)
    ids = [int(i) for i in rn.enterprise_ids]
    state = report_state(ids, day)
    firm_rows: dict[int, tuple] = {}
    for batch in chunks(ids):
        firm_rows.update(
            {r[0]: r for r in Enterprise.objects.filter(pk__in=batch).values_list(
                "pk", "name", "region_id", "region__name", "country")}
        )  # fmt: skip
    # the adapter read the survey's recovery days already; 0 counts as unknown here
    recovery_days = np.where(rn.recovery_days > 0, rn.recovery_days, np.nan)
    # the user's own chain owners: a provincial chain's owners in another city are that city's to watch
    prefix = "" if user.is_admin else (getattr(user, "scope_prefix", "") or "")
    watch = np.array(
        [o for o in rn.owners.tolist() if str(firm_rows[ids[o]][2] or "").startswith(prefix) and firm_rows[ids[o]][2]],
        dtype=np.int64,
    )
    result = nowcast(
        rn.net, capacity=state["capacity"], inventory_days=state["inventory"], watch=watch, horizon=horizon,
        recovery=recovery, trend=state["trend"], recovery_days=recovery_days, report_age=state["age"],
        unknown_capacity=unknown_capacity, start_date=day, params=PropagationParams(spare_capacity=SPARE_CAPACITY),
    )  # fmt: skip
    stalled = result.stalls
    owner_ids = [ids[o.firm] for o in stalled]
    cause_ids = {ids[o.root_supplier] for o in stalled if o.root_supplier >= 0}
    cause_ids |= {ids[o.direct_supplier] for o in stalled if o.direct_supplier >= 0}
    visible = _visible(user, sorted(cause_ids))
    owner_chains = _owner_chains(user, owner_ids)
    rows = []
    for o in stalled:
        owner = firm_rows[ids[o.firm]]
        cause_index = o.root_supplier if o.root_supplier >= 0 else o.direct_supplier
        rows.append({
            "owner": {"id": owner[0], "name": owner[1], "region": owner[2] or "", "region_name": owner[3] or ""},
            "chains": owner_chains.get(owner[0], []),
            "stall_date": o.stall_date.isoformat() if o.stall_date else None,
            "days": o.stall_step,
            "cause": _firm_info(firm_rows, ids, cause_index, owner, state["today"], day, visible, state),
            "direct": _firm_info(firm_rows, ids, o.direct_supplier, owner, state["today"], day, visible, state),
            "curve": [round(float(v), CURVE_DIGITS) for v in o.production],
            "min_production": round(float(o.production.min()), CURVE_DIGITS),
            "caveats": list(o.caveats),
            "unknown_input_share": round(o.unknown_input_share, 3),
        })  # fmt: skip
    return {
        "date": day.isoformat(),
        "horizon": horizon,
        "region": place.code if place else None,
        "chains": [c.code for c in chain_objs],
        "assumptions": {**result.assumptions, "window_days": WINDOW},
        "firms": rn.net.n_firms,
        "watched": int(watch.size),
        "rows": rows,
    }


def _firm_info(firm_rows, ids, index, owner, today, day, visible, state) -> dict | None:
    """A supplier's name, place, scope relative to the owner, and today's status."""
    if index is None or index < 0:
        return None
    pk = ids[index]
    _pk, name, region, region_name, country = firm_rows[pk]
    rows = today.get(pk)
    shown = pk in visible
    return {
        "id": pk,
        "name": name,
        "region": region or "",
        "region_name": region_name or country,
        "country": country,
        "scope": derive_scope(region, country, owner[2]),
        "status": _status(rows, day, country),
        "utilisation": (None if not shown or np.isnan(state["capacity"][index]) else
                        round(float(state["capacity"][index]), 3)),  # fmt: skip
        "report_date": rows[-1][0].isoformat() if rows else None,
        "visible": shown,
    }


def _visible(user, ids: list[int]) -> set[int]:
    return set(ids) if user.is_admin else pks_within(Enterprise.objects.restrict(user, "view"), ids)


def _owner_chains(user, owner_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for batch in chunks(owner_ids):
        qs = Membership.objects.restrict(user, "view").filter(role=MemberRole.OWNER, enterprise_id__in=batch)
        for firm, pk, code, name, region in qs.order_by("chain__code").values_list(
            "enterprise_id", "chain_id", "chain__code", "chain__name", "chain__region_id"
        ):
            out[firm].append({"id": pk, "code": code, "name": name, "region": region})
    return out


def severity_for(days: int) -> str:
    """High within a week, medium within two, low beyond (docs/engine/nowcast.md, "Risk items")."""
    from gulian.risk.models import Severity

    return Severity.HIGH if days <= 7 else (Severity.MEDIUM if days <= 14 else Severity.LOW)


def _item_region(user, chain: dict | None, owner: dict) -> str:
    """The list an item goes on: the chain's region when the user may write there, else the user's own."""
    prefix = getattr(user, "scope_prefix", "") or ""
    for code in ((chain or {}).get("region"), getattr(user, "region_id", None), owner["region"]):
        if code and (user.is_admin or str(code).startswith(prefix)):
            return str(code)
    raise PermissionDenied("无法确定风险清单所属区域 / no region for the risk list")


def create_items(user, result: dict) -> list:
    """Put the predicted stalls of a :func:`compute` result on the risk list (task forces, administrators).

    One finding per (list region, chain, cause supplier), with every owner it stalls as affected
    owners and the earliest stall as ``days_to_impact``; owners stalled by their own capacity (no
    cause supplier) are not risk items. Re-running updates the same items (the services' fingerprint).
    """
    from gulian.risk.services import FindingIn, upsert_items

    if not (user.is_admin or user.role == Role.TASKFORCE):
        raise PermissionDenied("仅专班可登记风险清单 / only task forces add items to the risk list")
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for row in result["rows"]:
        if not row["cause"]:
            continue
        chains = row["chains"] or [None]
        for chain in chains:
            grouped[(_item_region(user, chain, row["owner"]), chain and chain["id"], row["cause"]["id"])].append(row)
    by_region: dict[str, list] = defaultdict(list)
    for (region, chain_id, cause_id), rows in grouped.items():
        rows.sort(key=lambda r: r["days"])
        first = rows[0]
        cause = first["cause"]
        names = "、".join(r["owner"]["name"] for r in rows)
        days = first["days"]
        by_region[region].append(FindingIn(
            enterprise=cause_id,
            chain=chain_id,
            affected_owners=[r["owner"]["id"] for r in rows],
            scope=cause["scope"],
            overseas_dependence=cause["scope"] == "foreign",
            title=f"{cause['name']}断供：{names}预计{first['stall_date']}停产"[:200],
            detail=_detail(first),
            days_to_impact=days,
            severity=severity_for(days),
            score=round((result["horizon"] - days) / result["horizon"], 4),
            source="nowcast",
            evidence=_evidence(result, rows),
        ))  # fmt: skip
    items: list = []
    for region, findings in by_region.items():
        items.extend(upsert_items(user, region, findings))
    return items


def _detail(row: dict) -> str:
    cause, direct = row["cause"], row["direct"]
    via = f"，经直接供应商{direct['name']}" if direct and direct["id"] != cause["id"] else ""
    status = STATUS_LABELS[cause["status"]][0]
    with translation.override(settings.LANGUAGE_CODE):  # stored text: Chinese whatever the page's language
        scope = scope_label(cause["scope"])
    return (f"临近预测：{cause['name']}（{scope}，当日{status}）{via}，"
            f"{row['owner']['name']}产出预计于{row['stall_date']}跌破正常水平的90%。")  # fmt: skip


def _evidence(result: dict, rows: list[dict]) -> dict:
    """The forecast behind an item: date, horizon, per owner the stall date, direct supplier, curve summary."""
    return {
        "date": result["date"],
        "horizon": result["horizon"],
        "stall_date": rows[0]["stall_date"],
        "assumptions": result["assumptions"],
        "owners": [
            {
                "owner": r["owner"]["id"],
                "owner_name": r["owner"]["name"],
                "stall_date": r["stall_date"],
                "days": r["days"],
                "direct_supplier": r["direct"]["id"] if r["direct"] else None,
                "cause_status": r["cause"]["status"],
                "min_production": r["min_production"],
                "min_day": int(min(range(len(r["curve"])), key=r["curve"].__getitem__)),
                "curve": r["curve"],
                "caveats": r["caveats"],
            }
            for r in rows
        ],
    }


def status_label(code: str) -> str:
    """'中文 / English' for a supplier status."""
    return " / ".join(STATUS_LABELS[code])


def scope_label(code: str) -> str:
    """市内 / 省内 / 省外 / 境外."""
    return str(LinkScope(code).label)


__all__ = ["CAVEATS", "WINDOW", "caveat_text", "compute", "create_items", "latest_date", "report_state", "scope_label",
           "severity_for", "status_label"]  # fmt: skip
