"""Writes to the routing table and the department list (administrators only; all or nothing; audited).

The routing page (views_routing.py) calls these; ``routing.department_for`` reads the table.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gulian.appeals.models import Category, Department, Level, RoutingRule
from gulian.appeals.reference import LEVELS
from gulian.core import audit
from gulian.core.services import OutOfScope

NO_DEPARTMENT = ""


def _require_admin(actor) -> None:
    if actor is None or not getattr(actor, "is_usable", False) or not actor.is_admin:
        raise OutOfScope(_("只有管理员可以维护路由表 / only administrators maintain the routing table"))


def current_table() -> dict[tuple[str, str], str]:
    """(category, level) → department code of every rule."""
    return {(c, lv): code for c, lv, code in RoutingRule.objects.values_list("category", "level", "department__code")}


def save_routing(actor, cells: dict[tuple[str, str], str], expected: dict[tuple[str, str], str] | None = None) -> int:
    """Set the cells (category, level) → department code ('' removes the rule); all or nothing, audited.

    ``expected`` holds the values the editor saw; a cell whose stored value differs from it was changed by
    someone else in the meantime, and the whole save is refused. Returns the number of rules changed.
    """
    _require_admin(actor)
    departments = {d.code: d for d in Department.objects.all()}
    errors: list[str] = []
    for (category, level), code in cells.items():
        if category not in Category.values or level not in LEVELS:
            errors.append(_("未知的单元格 / unknown cell: %(c)s × %(l)s") % {"c": category, "l": level})
        elif code and code not in departments:
            errors.append(_("未知的部门 / unknown department: %(code)s") % {"code": code})
    if errors:
        raise ValidationError(errors)
    changed = 0
    with transaction.atomic():
        rules = {(r.category, r.level): r for r in RoutingRule.objects.select_for_update().select_related("department")}
        conflicts = []
        for key, code in cells.items():
            stored = rules[key].department.code if key in rules else NO_DEPARTMENT
            if expected is not None and key in expected and expected[key] != stored and stored != code:
                conflicts.append(f"{Category(key[0]).label} × {Level(key[1]).label}")
        if conflicts:
            raise ValidationError(
                _("以下单元格已被他人修改，请刷新后重试 / changed by someone else meanwhile, reload and retry: %(cells)s")
                % {"cells": "、".join(conflicts)}
            )
        for key, code in sorted(cells.items()):
            rule = rules.get(key)
            if rule is None and code:
                rule = RoutingRule.objects.create(category=key[0], level=key[1], department=departments[code])
                audit.record(actor, "create", rule, None, audit.snapshot(rule))
            elif rule is not None and not code:
                audit.record(actor, "delete", rule, audit.snapshot(rule), None)
                rule.delete()
            elif rule is not None and rule.department.code != code:
                before = audit.snapshot(rule, ["department_id"])
                rule.department = departments[code]
                rule.save(update_fields=["department"])
                audit.record(actor, "update", rule, before, audit.snapshot(rule, ["department_id"]))
            else:
                continue
            changed += 1
    return changed


def add_department(actor, *, code: str, name: str, name_en: str = "", order: int = 0) -> Department:
    """Create a department (administrators), validated and audited."""
    _require_admin(actor)
    dept = Department(code=code, name=name, name_en=name_en, order=order)
    dept.full_clean()
    with transaction.atomic():
        dept.save()
        audit.record(actor, "create", dept, None, audit.snapshot(dept))
    return dept
