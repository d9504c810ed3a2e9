"""Supply links: upsert by (supplier, customer, input category); scope (市内/省内/省外/境外) is derived."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gulian.registry.io.access import chunks, pks_within
from gulian.registry.io.base import Builder, Plan, Update, changes, find_enterprises, finish
from gulian.registry.io.parsers import INVALID, MISSING, Parsed
from gulian.registry.io.result import ImportResult
from gulian.registry.models import Enterprise, SupplyLink
from gulian.registry.scope import derive_scope

FIELDS = ("annual_value", "share", "lead_time_days", "inventory_days", "alternatives_known")
BUILD = Builder(SupplyLink)
SUPPLIER, CUSTOMER = SupplyLink._meta.get_field("supplier"), SupplyLink._meta.get_field("customer")
STORED = ("id", "supplier_id", "customer_id", "input_category", "scope", *FIELDS)


def _end(parsed: Parsed, i: int, side: str) -> Any:
    """The key of one end of the link (USCC, or ("F", country, name)); None after reporting why not."""
    code, name, country = (parsed.get(f"{side}_{k}", i) for k in ("uscc", "name", "country"))
    if code is INVALID or country is INVALID:
        return None
    if code is not MISSING:
        return code
    default = "供应商信用代码" if side == "supplier" else "客户信用代码"
    if country is MISSING or country == "CN":
        parsed.add(
            i,
            parsed.header(f"{side}_uscc", default),
            "required" if country is MISSING else "foreign_needs_country",
        )
        return None
    if name is MISSING or name is INVALID:
        if name is MISSING:
            parsed.add(i, parsed.header(f"{side}_name", default), "required")
        return None
    return ("F", country, name)


def _existing_links(customer_ids: set[int], wanted: set[tuple]) -> dict[tuple, dict]:
    found = {}
    for batch in chunks(sorted(customer_ids)):
        for row in SupplyLink.objects.filter(customer_id__in=batch).values(*STORED):
            key = (row["supplier_id"], row["customer_id"], row["input_category"])
            if key in wanted:
                found[key] = row
    return found


def import_links(user, parsed: Parsed, result: ImportResult, *, partial: bool, dry_run: bool) -> ImportResult:
    """Validate, plan and (unless rejected rows forbid it) apply a supply-link list."""
    n = len(parsed.rows)
    ends: list[tuple | None] = [None] * n
    for i in range(n):
        s, c = _end(parsed, i, "supplier"), _end(parsed, i, "customer")
        category = parsed.get("input_category", i)
        if category is MISSING:
            parsed.add(i, parsed.header("input_category", "投入品类别"), "required")
        if s is not None and c is not None and category not in (MISSING, INVALID):
            ends[i] = (s, c, category)
    # Ends are resolved unrestricted: a link may point at a firm outside the user's scope as long
    # as its other end is inside (restrict_q of SupplyLink); rows with neither end inside are rejected.
    firms = find_enterprises({e[0] for e in ends if e} | {e[1] for e in ends if e})
    in_scope = (
        set()
        if user.is_admin
        else pks_within(Enterprise.objects.domestic(user, "change"), [f[0] for f in firms.values()])
    )
    rows = _resolve(user, parsed, ends, firms, in_scope)
    existing = _existing_links({k[1] for k in rows.values()}, set(rows.values()))
    plan = Plan(SupplyLink)
    cache: dict[int, Enterprise] = {}

    def firm(pk: int) -> Enterprise:
        # shared unsaved stand-ins, so that str(link) in the audit log needs no query per link
        if pk not in cache:
            _pk, region, country, name = by_pk[pk]
            cache[pk] = Enterprise(pk=pk, region_id=region, country=country, name=name)
        return cache[pk]

    by_pk = {f[0]: f for f in firms.values()}
    for i, key in rows.items():
        s, c = by_pk[key[0]], by_pk[key[1]]
        wanted = parsed.present(i, FIELDS)
        wanted["scope"] = derive_scope(s[1], s[2], c[1])
        old = existing.get(key)
        if old is None:
            link = BUILD(wanted | {"supplier_id": key[0], "customer_id": key[1], "input_category": key[2]})
            _attach(link, firm(key[0]), firm(key[1]))
            plan.creates.append((i, link))
            continue
        before, after = changes(old, wanted)
        if not after:
            plan.unchanged.append(i)
            continue
        link = BUILD(old)
        _attach(link, firm(key[0]), firm(key[1]))
        plan.updates.append((i, Update(link, before, after)))
    return finish(user, parsed, result, [plan], partial=partial, dry_run=dry_run)


def _attach(link: SupplyLink, supplier: Enterprise, customer: Enterprise) -> None:
    """Cache both ends on the link (ids are set already), so str(link) needs no query."""
    SUPPLIER.set_cached_value(link, supplier)
    CUSTOMER.set_cached_value(link, customer)


def _resolve(user, parsed: Parsed, ends: list, firms: dict, in_scope: set[int]) -> dict[int, tuple]:
    """Row index → (supplier pk, customer pk, category) for rows whose ends exist and are in scope."""
    rows: dict[int, tuple] = {}
    first: dict[tuple, int] = {}
    for i, end in enumerate(ends):
        if end is None:
            continue
        s, c = firms.get(end[0]), firms.get(end[1])
        inside = user.is_admin or any(f is not None and f[0] in in_scope for f in (s, c))
        if not inside:
            # reported without saying whether the firms exist, since the user may not see them
            parsed.add(
                i,
                parsed.header("customer_uscc", "客户信用代码"),
                "out_of_scope",
                parsed.raw("customer_uscc", i),
            )
            continue
        missing = [side for side, f in (("supplier", s), ("customer", c)) if f is None]
        for side in missing:
            column = "uscc" if parsed.get(f"{side}_uscc", i) is not MISSING else "name"
            parsed.add(
                i, parsed.header(f"{side}_{column}"), "enterprise_unknown", parsed.raw(f"{side}_{column}", i)
            )
        if missing:
            continue
        if s[0] == c[0]:
            parsed.add(
                i, parsed.header("customer_uscc", "客户信用代码"), "self_link", parsed.raw("customer_uscc", i)
            )
            continue
        key = (s[0], c[0], end[2])
        if key in first:
            parsed.add(
                i,
                parsed.header("input_category"),
                "duplicate",
                parsed.raw("input_category", i),
                first=parsed.rows[first[key]],
            )
            continue
        first[key] = i
        rows[i] = key
    return rows


def export_rows(queryset) -> Iterator[list]:
    """Rows in LINK_COLUMNS order for a (restricted) queryset."""
    fields = (
        "supplier__uscc",
        "supplier__name",
        "supplier__country",
        "customer__uscc",
        "customer__name",
        "customer__country",
        "input_category",
        "annual_value",
        "share",
        "lead_time_days",
        "inventory_days",
        "alternatives_known",
    )
    qs = queryset.order_by("customer__uscc", "supplier__uscc", "supplier__name", "input_category")
    for row in qs.values_list(*fields).iterator(chunk_size=5000):
        out = list(row)
        out[0], out[3] = out[0] or "", out[3] or ""
        out[11] = "是" if out[11] else "否"
        yield out
