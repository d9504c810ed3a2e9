"""Chain member lists: one row per member (chain, segment, enterprise, role).

Chains are upserted by code and segments by (chain, name) through the registry
services (a file holds a handful of them); memberships, which can be many, by
(enterprise, chain) in bulk. A row without an enterprise only defines its chain
and segment. The chain's name, region and leader come from the first row that
gives them; a later row of the same chain that says otherwise is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gulian.core.models import Role
from gulian.registry import services
from gulian.registry.io.access import pks_within
from gulian.registry.io.base import Plan, Update, find_enterprises, finish
from gulian.registry.io.parsers import INVALID, MISSING, Parsed
from gulian.registry.io.result import ImportResult
from gulian.registry.models import Chain, Enterprise, Membership, Segment

CHAIN_FIELDS = {"chain_name": "name", "chain_region": "region_id", "leader": "leader"}


@dataclass
class ChainPlan:
    """One chain code in the file: its rows, wanted values, stored values and what to write."""

    code: str
    rows: list[int] = field(default_factory=list)
    wanted: dict[str, Any] = field(default_factory=dict)
    first: dict[str, int] = field(default_factory=dict)
    old: dict | None = None
    after: dict[str, Any] = field(default_factory=dict)
    writable: bool = False
    obj: Chain | None = None
    rejected: bool = False  # every row of the chain has been rejected already
    segments: dict[str, SegmentPlan] = field(default_factory=dict)


@dataclass
class SegmentPlan:
    """One segment name of a chain in the file."""

    name: str
    rows: list[int] = field(default_factory=list)
    order: int | None = None
    old: dict | None = None
    obj: Segment | None = None


def may_create_chain(user, region: str | None) -> bool:
    """Task forces create chains in their region subtree (ChainQuerySet.restrict_q, action 'change')."""
    if user.is_admin:
        return True
    return user.role == Role.TASKFORCE and bool(region) and region.startswith(user.scope_prefix)


def _collect(parsed: Parsed) -> dict[str, ChainPlan]:
    chains: dict[str, ChainPlan] = {}
    for i in range(len(parsed.rows)):
        code = parsed.get("chain_code", i)
        if code is MISSING:
            parsed.add(i, parsed.header("chain_code", "产业链编码"), "required")
        if code in (MISSING, INVALID):
            continue
        plan = chains.setdefault(code, ChainPlan(code))
        plan.rows.append(i)
        for key, attr in CHAIN_FIELDS.items():
            value = parsed.get(key, i)
            if value is MISSING or value is INVALID:
                continue
            if attr not in plan.wanted:
                plan.wanted[attr], plan.first[attr] = value, i
            elif plan.wanted[attr] != value:
                header = parsed.header(key)
                parsed.add(
                    i,
                    header,
                    "chain_mismatch",
                    parsed.raw(key, i),
                    first=parsed.rows[plan.first[attr]],
                    what=header,
                )
    return chains


def _check_chains(user, parsed: Parsed, chains: dict[str, ChainPlan]) -> None:
    stored = {
        c["code"]: c
        for c in Chain.objects.filter(code__in=list(chains)).values("id", "code", *CHAIN_FIELDS.values())
    }
    ids = [c["id"] for c in stored.values()]
    writable = set(ids) if user.is_admin else pks_within(Chain.objects.restrict(user, "change"), ids)
    visible = writable | pks_within(Chain.objects.restrict(user, "view"), set(ids) - writable)
    code_h = parsed.header("chain_code")

    def reject(plan: ChainPlan, column: str, code: str, key: str = "chain_code") -> None:
        plan.rejected = True
        for i in plan.rows:
            parsed.add(i, column, code, parsed.raw(key, i))

    for plan in chains.values():
        plan.old = stored.get(plan.code)
        if plan.old is not None:
            plan.after = {k: v for k, v in plan.wanted.items() if plan.old[k] != v}
            plan.writable = plan.old["id"] in writable
            if (plan.after and not plan.writable) or plan.old["id"] not in visible:
                reject(plan, code_h, "out_of_scope")
            elif "region_id" in plan.after and not may_create_chain(user, plan.after["region_id"]):
                reject(plan, parsed.header("chain_region"), "out_of_scope", "chain_region")
            continue
        missing = [k for k, a in CHAIN_FIELDS.items() if a in ("name", "region_id") and a not in plan.wanted]
        for key in missing:
            for i in plan.rows:
                if parsed.get(key, i) is MISSING:
                    parsed.add(
                        i,
                        parsed.header(key, "产业链名称" if key == "chain_name" else "所属区域代码"),
                        "required",
                    )
        if missing:
            continue
        if not may_create_chain(user, plan.wanted["region_id"]):
            reject(plan, parsed.header("chain_region"), "out_of_scope", "chain_region")
            continue
        plan.writable = True
        plan.after = dict(plan.wanted)
    _check_names(parsed, chains)


def _check_names(parsed: Parsed, chains: dict[str, ChainPlan]) -> None:
    """Names are unique within a region (a model constraint): report a clash instead of failing on it."""
    final = {}  # code -> (region, name) of each chain the file creates, renames or moves
    for plan in chains.values():
        if plan.writable and {"name", "region_id"} & set(plan.after):
            base = plan.old or {}
            final[plan.code] = (
                plan.after.get("region_id", base.get("region_id")),
                plan.after.get("name", base.get("name")),
            )
    names = {name for _region, name in final.values()}
    taken = {
        (r, n): c for c, n, r in Chain.objects.filter(name__in=names).values_list("code", "name", "region_id")
    }
    seen: dict[tuple, str] = {}
    for code, key in final.items():
        other = seen.get(key) or (taken.get(key) if taken.get(key) != code else None)
        seen.setdefault(key, code)
        if other:
            for i in chains[code].rows:
                value = parsed.raw("chain_name", i) or key[1]
                parsed.add(
                    i, parsed.header("chain_name", "产业链名称"), "chain_name_taken", value, chain=other
                )


def _check_segments(parsed: Parsed, chains: dict[str, ChainPlan]) -> None:
    ids = [p.old["id"] for p in chains.values() if p.old]
    stored: dict[int, dict[str, dict]] = {}
    for s in Segment.objects.filter(chain_id__in=ids).values("id", "chain_id", "name", "order"):
        stored.setdefault(s["chain_id"], {})[s["name"]] = s
    seg_h, order_h = parsed.header("segment"), parsed.header("segment_order")
    for plan in chains.values():
        existing = stored.get(plan.old["id"], {}) if plan.old else {}
        for i in plan.rows:
            name, order = parsed.get("segment", i), parsed.get("segment_order", i)
            if name is MISSING or name is INVALID:
                continue
            seg = plan.segments.setdefault(name, SegmentPlan(name, old=existing.get(name)))
            seg.rows.append(i)
            if order is MISSING or order is INVALID:
                continue
            if seg.order is None:
                seg.order = order
            elif seg.order != order:
                parsed.add(
                    i,
                    order_h,
                    "chain_mismatch",
                    parsed.raw("segment_order", i),
                    first=parsed.rows[seg.rows[0]],
                    what=order_h,
                )
        held = {s["order"]: s["name"] for s in existing.values()}
        wanted_orders: dict[int, str] = {}
        for seg in plan.segments.values():
            creates = seg.old is None
            moved = not creates and seg.order is not None and seg.old["order"] != seg.order
            if not (creates or moved):
                continue
            if not plan.writable:
                if plan.old is not None:  # a new chain that cannot be created has been reported already
                    for i in seg.rows:
                        parsed.add(i, seg_h, "out_of_scope", parsed.raw("segment", i))
                continue
            if seg.order is None:
                continue
            other = held.get(seg.order) if held.get(seg.order) != seg.name else None
            other = other or wanted_orders.get(seg.order)
            if other:
                for i in seg.rows:
                    if parsed.get("segment_order", i) is not MISSING:
                        parsed.add(i, order_h, "segment_order", parsed.raw("segment_order", i), other=other)
            wanted_orders[seg.order] = seg.name


def _member_key(parsed: Parsed, i: int) -> Any:
    """USCC or ("F", country, name) of the row's member; None for a chain-only row, INVALID after an error."""
    code, name, country = parsed.get("uscc", i), parsed.get("name", i), parsed.get("country", i)
    if code is INVALID or country is INVALID or name is INVALID:
        return INVALID
    if code is not MISSING:
        return code
    if name is MISSING:
        return None
    if country is MISSING or country == "CN":
        parsed.add(
            i,
            parsed.header("uscc", "统一社会信用代码"),
            "required" if country is MISSING else "foreign_needs_country",
        )
        return INVALID
    return ("F", country, name)


@dataclass
class Pending:
    """A membership write waiting for its chain and segment to exist."""

    index: int
    chain: ChainPlan
    segment: str | None
    create: Membership | None = None
    update: Update | None = None


def _plan_members(user, parsed: Parsed, chains: dict[str, ChainPlan], plan: Plan) -> list[Pending]:
    row_chain = {i: c for c in chains.values() for i in c.rows}
    keys = {i: _member_key(parsed, i) for i in row_chain}
    firms = find_enterprises({k for k in keys.values() if k is not None and k is not INVALID})
    pks = [f[0] for f in firms.values()]
    own = set(pks) if user.is_admin else pks_within(Enterprise.objects.domestic(user, "view"), pks)
    chain_ids = [c.old["id"] for c in chains.values() if c.old]
    stored = {
        (m["chain_id"], m["enterprise_id"]): m
        for m in Membership.objects.filter(chain_id__in=chain_ids).values(
            "id", "chain_id", "enterprise_id", "segment_id", "role", "note", "segment__name"
        )
    }
    first: dict[tuple, int] = {}
    pending = []
    for i, key in keys.items():
        if key is None or key is INVALID or row_chain[i].rejected:
            continue
        column = "uscc" if parsed.get("uscc", i) is not MISSING else "name"
        firm = firms.get(key)
        if firm is None:
            parsed.add(i, parsed.header(column), "enterprise_unknown", parsed.raw(column, i))
            continue
        pk, region, country, name = firm
        mine = (
            pk in own
            or country != "CN"
            or (user.role == Role.CHAIN_OFFICE and bool(region) and region.startswith(user.scope_prefix))
        )
        if not mine:
            parsed.add(i, parsed.header(column), "out_of_scope", parsed.raw(column, i))
            continue
        chain = row_chain[i]
        if (chain.code, pk) in first:
            parsed.add(
                i,
                parsed.header(column),
                "duplicate",
                parsed.raw(column, i),
                first=parsed.rows[first[chain.code, pk]],
            )
            continue
        first[chain.code, pk] = i
        segment = parsed.get("segment", i)
        segment = None if segment is MISSING or segment is INVALID else segment
        stand_in = Enterprise(pk=pk, name=name, region_id=region, country=country)
        old = stored.get((chain.old["id"], pk)) if chain.old else None
        wanted = parsed.present(i, ("role", "note"))
        if old is None:
            m = Membership(role=wanted.get("role", "supplier"), note=wanted.get("note", ""))
            m.enterprise = stand_in
            item = Pending(i, chain, segment, create=m)
        else:
            before = {k: old[k] for k, v in wanted.items() if old[k] != v}
            after = {k: wanted[k] for k in before}
            if segment is not None and segment != old["segment__name"]:
                before["segment_id"], after["segment_id"] = old["segment_id"], None  # resolved once it exists
            if not after:
                plan.unchanged.append(i)
                continue
            fields = {k: old[k] for k in ("id", "chain_id", "enterprise_id", "segment_id", "role", "note")}
            m = Membership(**fields)
            m.enterprise = stand_in
            item = Pending(i, chain, segment, update=Update(m, before, after))
        if not chain.writable:
            if chain.old is not None:
                parsed.add(i, parsed.header("chain_code"), "out_of_scope", parsed.raw("chain_code", i))
            continue
        pending.append(item)
        if item.create is not None:
            plan.creates.append((i, item.create))
        else:
            plan.updates.append((i, item.update))
    return pending


def import_chains(
    user, parsed: Parsed, result: ImportResult, *, partial: bool, dry_run: bool
) -> ImportResult:
    """Validate, plan and (unless rejected rows forbid it) apply a chain member list."""
    chains = _collect(parsed)
    _check_chains(user, parsed, chains)
    _check_segments(parsed, chains)
    plan = Plan(Membership)
    pending = _plan_members(user, parsed, chains, plan)

    def prepare(bad: set[int]) -> None:
        for chain in chains.values():
            _write_chain(user, chain, bad)
        for item in pending:
            if item.index in bad:
                continue
            chain = item.chain.obj
            seg = item.chain.segments[item.segment].obj if item.segment else None
            if item.create is not None:
                item.create.chain = chain
                item.create.segment = seg
            else:
                item.update.obj.chain = chain
                if "segment_id" in item.update.after:
                    item.update.after["segment_id"] = seg.pk

    def counts(bad: set[int]) -> tuple[int, int, int]:
        status = {i: "created" for i, _m in plan.creates} | {i: "updated" for i, _u in plan.updates}
        for chain in chains.values():
            _chain_status(chain, bad, status)
        good = [i for i in range(len(parsed.rows)) if i not in bad]
        tally = [
            sum(1 for i in good if status.get(i, "unchanged") == s)
            for s in ("created", "updated", "unchanged")
        ]
        return tally[0], tally[1], tally[2]

    return finish(
        user, parsed, result, [plan], partial=partial, dry_run=dry_run, prepare=prepare, counts=counts
    )


def _segment_write(seg: SegmentPlan) -> str | None:
    if seg.old is None:
        return "created"
    if seg.order is not None and seg.old["order"] != seg.order:
        return "updated"
    return None


def _chain_status(chain: ChainPlan, bad: set[int], status: dict[int, str]) -> None:
    """Credit chain and segment writes to the first accepted row that asked for them."""
    good = [i for i in chain.rows if i not in bad]
    if good and chain.writable and chain.after:
        status.setdefault(good[0], "created" if chain.old is None else "updated")
    for seg in chain.segments.values():
        rows = [i for i in seg.rows if i not in bad]
        what = _segment_write(seg)
        if rows and what and chain.writable:
            status.setdefault(rows[0], what)


def _write_chain(user, chain: ChainPlan, bad: set[int]) -> None:
    """Create or update one chain and its segments through the registry services."""
    if all(i in bad for i in chain.rows):
        return
    if chain.old is None:
        chain.obj = services.create_chain(user, code=chain.code, **chain.after)
    else:
        chain.obj = Chain.objects.get(pk=chain.old["id"])
        if chain.after:
            services.update_chain(user, chain.obj, **chain.after)
    for seg in chain.segments.values():
        if all(i in bad for i in seg.rows):
            continue
        what = _segment_write(seg)
        if what == "created":
            taken = Segment.objects.filter(chain=chain.obj, order=seg.order).exists() if seg.order else True
            seg.obj = services.create_segment(user, chain.obj, seg.name, order=None if taken else seg.order)
        else:
            seg.obj = Segment.objects.get(pk=seg.old["id"])
            if what == "updated" and not Segment.objects.filter(chain=chain.obj, order=seg.order).exists():
                services.update_segment(user, seg.obj, order=seg.order)
