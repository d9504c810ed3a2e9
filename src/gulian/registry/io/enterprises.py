"""Enterprise lists: upsert by USCC (foreign suppliers by country + name), export in the same shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gulian.core.models import Role
from gulian.registry.io.access import chunks, may_place, pks_within
from gulian.registry.io.base import Builder, Plan, Update, changes, finish
from gulian.registry.io.parsers import INVALID, MISSING, Parsed
from gulian.registry.io.result import ImportResult
from gulian.registry.models import Enterprise
from gulian.registry.services import rederive_scopes

# file column key -> model attribute
FIELDS = {
    "name": "name",
    "country": "country",
    "region": "region_id",
    "industry": "industry_id",
    "scale": "scale",
    "above_designated_size": "above_designated_size",
    "employees": "employees",
    "baseline_output": "baseline_output",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
    "contact_email": "contact_email",
    "address": "address",
}
# Exports are in Chinese whatever the page language, so that they import back anywhere.
SCALE_ZH = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
BUILD = Builder(Enterprise)
STORED = ("id", "uscc", "liaison_id", *FIELDS.values())


def _keys(parsed: Parsed) -> list[Any]:
    """The upsert key of each row (USCC, or ("F", country, name) for a foreign firm); None when unusable."""
    keys: list[Any] = [None] * len(parsed.rows)
    first: dict[Any, int] = {}
    uscc_h = parsed.header("uscc", "统一社会信用代码")
    name_h = parsed.header("name", "企业名称")
    for i in range(len(parsed.rows)):
        code, name, country = parsed.get("uscc", i), parsed.get("name", i), parsed.get("country", i)
        if code is INVALID or country is INVALID:
            continue
        if code is MISSING:
            if country is MISSING or country == "CN":
                parsed.add(i, uscc_h, "required" if country is MISSING else "foreign_needs_country")
                continue
            if name in (MISSING, INVALID):
                if name is MISSING:
                    parsed.add(i, name_h, "required")
                continue
            key: Any = ("F", country, name)
        else:
            key = code
        if key in first:
            column = uscc_h if isinstance(key, str) else name_h
            parsed.add(
                i,
                column,
                "duplicate",
                parsed.raw("uscc" if isinstance(key, str) else "name", i),
                first=parsed.rows[first[key]],
            )
            continue
        first[key] = i
        keys[i] = key
    return keys


def _existing(keys: list[Any]) -> dict[Any, dict]:
    """Stored values of the enterprises the file names, by upsert key."""
    found: dict[Any, dict] = {}
    codes = [k for k in keys if isinstance(k, str)]
    for batch in chunks(codes):
        for row in Enterprise.objects.filter(uscc__in=batch).values(*STORED):
            found[row["uscc"]] = row
    foreign = [k for k in keys if isinstance(k, tuple)]
    for batch in chunks(foreign):
        qs = Enterprise.objects.filter(
            uscc__isnull=True, country__in={k[1] for k in batch}, name__in={k[2] for k in batch}
        )
        for row in qs.values(*STORED):
            found[("F", row["country"], row["name"])] = row
    return found


def import_enterprises(
    user, parsed: Parsed, result: ImportResult, *, partial: bool, dry_run: bool
) -> ImportResult:
    """Validate, plan and (unless rejected rows forbid it) apply an enterprise list."""
    keys = _keys(parsed)
    # Existence is looked up unrestricted so that a USCC registered outside the user's scope is
    # reported as out of scope instead of failing on the unique constraint; its data is never shown.
    existing = _existing(keys)
    writable: set[int] = set()
    visible: set[int] = set()
    if not user.is_admin:
        ids = [row["id"] for row in existing.values()]
        writable = pks_within(Enterprise.objects.restrict(user, "change"), ids)
        visible = pks_within(Enterprise.objects.restrict(user, "view"), set(ids) - writable)
    plan = Plan(Enterprise)
    region_h = parsed.header("region", "所在区域代码")
    for i, key in enumerate(keys):
        if key is None:
            continue
        wanted = parsed.present(i, FIELDS)
        old = existing.get(key)
        if old is None:
            _plan_create(user, parsed, plan, i, key, wanted, region_h)
        else:
            _plan_update(user, parsed, plan, i, key, old, wanted, region_h, writable, visible)

    def rederive_moved() -> None:
        # a firm that moved region changes the 市内/省内/省外 scope of its links
        for _i, u in plan.updates:
            if "region_id" in u.after:
                rederive_scopes(u.obj)

    return finish(user, parsed, result, [plan], partial=partial, dry_run=dry_run, followup=rederive_moved)


def _plan_create(user, parsed: Parsed, plan: Plan, i: int, key, wanted: dict, region_h: str) -> None:
    country = wanted.setdefault("country", "CN")
    if "name" not in wanted:
        parsed.add(i, parsed.header("name", "企业名称"), "required")
        return
    if country == "CN" and "region_id" not in wanted:
        if parsed.get("region", i) is MISSING:
            parsed.add(i, region_h, "required")
        return
    if country != "CN" and "region_id" in wanted:
        parsed.add(i, region_h, "foreign_region", parsed.raw("region", i))
        return
    if not may_place(user, wanted.get("region_id"), country):
        column = region_h if country == "CN" else parsed.header("country", "国家/地区")
        parsed.add(i, column, "out_of_scope", parsed.raw("region" if country == "CN" else "country", i))
        return
    if user.role == Role.LIAISON and not user.is_admin:
        wanted["liaison_id"] = user.pk  # so that the new firm lands in the liaison's own scope
    wanted["uscc"] = key if isinstance(key, str) else None
    plan.creates.append((i, BUILD(wanted)))


def _plan_update(user, parsed, plan, i, key, old, wanted, region_h, writable, visible) -> None:
    before, after = changes(old, wanted)
    final = old | after
    allowed = user.is_admin or old["id"] in writable
    id_column = (
        parsed.header("uscc", "统一社会信用代码")
        if isinstance(key, str)
        else parsed.header("name", "企业名称")
    )
    id_value = parsed.raw("uscc" if isinstance(key, str) else "name", i)
    if not after:
        if allowed or old["id"] in visible:
            plan.unchanged.append(i)
        else:
            parsed.add(i, id_column, "out_of_scope", id_value)
        return
    if not allowed:
        parsed.add(i, id_column, "out_of_scope", id_value)
    elif final["country"] != "CN" and final["region_id"]:
        parsed.add(i, region_h, "foreign_region", parsed.raw("region", i))
    elif "region_id" in after and not may_place(user, after["region_id"], final["country"]):
        parsed.add(i, region_h, "out_of_scope", parsed.raw("region", i))
    else:
        plan.updates.append((i, Update(BUILD(old), before, after)))


def export_rows(queryset) -> Iterator[list]:
    """Rows in ENTERPRISE_COLUMNS order for a (restricted) queryset."""
    fields = ("uscc", "name", "country", "region_id", "industry_id", "scale", "above_designated_size")
    rest = ("employees", "baseline_output", "contact_name", "contact_phone", "contact_email", "address")
    rows = queryset.order_by("region_id", "uscc", "name").values_list(*fields, *rest)
    for code, name, country, region, industry, scale, above, *others in rows.iterator(chunk_size=5000):
        flags = [SCALE_ZH.get(scale, ""), "是" if above else "否"]
        yield [code or "", name, country, region or "", industry or "", *flags, *others]
