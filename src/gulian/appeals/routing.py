"""Where an appeal goes: the routing table, the lowest common level, the next rung of the ladder.

An appeal is handled by one unit at one level of ``LADDER``: a department in a region (county, city,
province) or at the ministry, or the task force (专班) of that region or level when no department is
named. Rules (docs/appeals.md, "Routing and escalation"):

- at intake, an appeal about one department's matter, whose related enterprises and regions all lie in
  the enterprise's own county (or city, for a firm registered at city level), goes to that department
  there, per the routing table (category × level → department);
- one that involves several departments (secondary categories routed elsewhere) goes to the task force
  of the enterprise's own level; one that involves other regions goes to the task force of the lowest
  level that covers them all (two counties of one city → the city; two cities → the province; two
  provinces or a foreign supplier → the ministry-level task force);
- escalation moves it to the task force of the next rung (county → city → province → ministry →
  State Council task force), which triages it to a department at its level or escalates again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from gulian.appeals.models import LADDER, NATIONAL_LEVELS, Department, Level, RoutingRule
from gulian.core.models import Region, RegionLevel, Role, User

_LEVEL_OF_REGION = {
    RegionLevel.COUNTY: Level.COUNTY,
    RegionLevel.PREFECTURE: Level.CITY,
    RegionLevel.PROVINCE: Level.PROVINCE,
}
_CODE_LENGTH = {Level.COUNTY: 6, Level.CITY: 4, Level.PROVINCE: 2}


@dataclass(frozen=True)
class Route:
    """A handling unit: level, region (None at the national levels), department (None: the task force)."""

    level: str
    region: Region | None
    department: Department | None


def level_of(region: Region | None) -> str:
    """The ladder level of a region (no region: the ministry level)."""
    return _LEVEL_OF_REGION[region.level] if region is not None else Level.MINISTRY


def region_at(region: Region | None, level: str) -> Region | None:
    """``region`` or its ancestor at ``level``; None for the national levels or above the region."""
    if level in NATIONAL_LEVELS or region is None:
        return None
    node: Region | None = region
    while node is not None and level_of(node) != level:
        if LADDER.index(level_of(node)) > LADDER.index(level):
            return None  # asked for a level below the region's own
        node = node.parent
    return node


def department_for(category: str, level: str) -> Department | None:
    """The routing table's department for ``category`` at ``level`` (None: no rule, the task force)."""
    rule = RoutingRule.objects.select_related("department").filter(category=category, level=level).first()
    return rule.department if rule else None


def common_level(codes: list[str | None], own_level: str) -> str:
    """The lowest level whose one region covers every code; None in ``codes`` (abroad) → ministry."""
    if any(c is None for c in codes):
        return Level.MINISTRY
    for level in LADDER[LADDER.index(own_level) :]:
        if level in NATIONAL_LEVELS:
            return Level.MINISTRY
        n = _CODE_LENGTH[level]
        if len({c[:n] for c in codes}) == 1:
            return level
    return Level.MINISTRY


def initial_route(enterprise, category: str, secondary_categories=(), related_enterprises=(), related_regions=()):
    """Where a new appeal goes (rules in the module docstring)."""
    own = enterprise.region
    own_level = level_of(own)
    codes: list[str | None] = [own.code]
    for other in related_enterprises:
        codes.append(other.region_id if other.region_id else None)
    codes.extend(r.code for r in related_regions)
    level = common_level(codes, own_level)
    if level != own_level:
        return Route(level, region_at(own, level), None)
    departments = {department_for(c, own_level) for c in [category, *secondary_categories]}
    if len(departments) != 1 or None in departments:
        return Route(own_level, own, None)
    return Route(own_level, own, departments.pop())


def next_rung(level: str, region: Region | None) -> Route | None:
    """The task force one rung up from (level, region); None at the State Council task force."""
    i = LADDER.index(level)
    if i + 1 >= len(LADDER):
        return None
    up = LADDER[i + 1]
    return Route(up, region_at(region, up), None)


def users_of_unit(level: str, region: Region | None, department: Department | None) -> QuerySet:
    """Active, approved users who work for the unit: the department's handlers there, or the task force."""
    users = User.objects.filter(is_active=True, approved=True)
    users = users.filter(region=region) if region is not None else users.filter(region__isnull=True)
    if department is not None:
        return users.filter(role=Role.HANDLER, department=department.code)
    return users.filter(role=Role.TASKFORCE)


def unit_label(level: str, region: Region | None, department: Department | None) -> str:
    """"杭州市 · 交通运输部门", "浙江省 · 专班", "部级 · 专班" — how timelines name a unit."""
    if level == Level.STATE_COUNCIL:
        return "国务院专班"
    where = region.name if region is not None else str(Level(level).label)
    who = department.name if department is not None else "专班"
    return f"{where} · {who}"
