"""The routing table page (路由表): administrators set which department handles each category at each level.

The grid is category × level (county, city, province, ministry); each cell names a department, or none
(then the task force of that level triages such appeals). Saving applies every changed cell in one
transaction, or none of them: an unknown department, or a cell someone else changed since the page was
loaded, rejects the whole save. Each created, changed or removed rule is an audit record. New appeals
follow the table at once (``routing.department_for``); appeals already routed stay where they are.
The page also lists the departments and adds one. Everyone but an administrator gets 404.
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gulian.appeals.models import Category, Department, Level
from gulian.appeals.reference import LEVELS
from gulian.appeals.routing_admin import NO_DEPARTMENT, add_department, current_table, save_routing
from gulian.core.views import apply_form_errors


def admin_page(view):
    """Administrators only; 404 for everyone else (the page's existence is not confirmed)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_usable and request.user.is_admin):
            raise Http404("未找到 / not found")
        return view(request, *args, **kwargs)

    return wrapper


class DepartmentForm(forms.ModelForm):
    """A new department: code (letters, digits, - and _), Chinese name, English name, order."""

    class Meta:
        model = Department
        fields = ["code", "name", "name_en", "order"]
        help_texts = {"code": gettext_lazy("英文字母、数字、-、_，如 emergency")}


def _grid(table: dict[tuple[str, str], str], posted: dict[tuple[str, str], str] | None = None) -> list[dict]:
    rows = []
    for category, label in Category.choices:
        cells = []
        for level in LEVELS:
            stored = table.get((category, level), NO_DEPARTMENT)
            value = posted.get((category, level), stored) if posted else stored
            cells.append({"name": f"cell-{category}-{level}", "orig": f"orig-{category}-{level}", "value": value,
                          "stored": stored, "changed": value != stored, "level": Level(level).label})  # fmt: skip
        rows.append({"category": category, "label": label, "cells": cells})
    return rows


def _posted_cells(post) -> tuple[dict, dict]:
    cells, expected = {}, {}
    for category in Category.values:
        for level in LEVELS:
            name = f"cell-{category}-{level}"
            if name in post:
                cells[(category, level)] = post.get(name, "").strip()
                expected[(category, level)] = post.get(f"orig-{category}-{level}", "").strip()
    return cells, expected


def _context(table, posted=None, form=None, errors=None) -> dict:
    return {
        "levels": [(lv, Level(lv).label) for lv in LEVELS],
        "grid": _grid(table, posted),
        "departments": list(Department.objects.annotate(rules=Count("routingrule")).order_by("order", "code")),
        "form": form or DepartmentForm(),
        "errors": errors or [],
    }


@admin_page
def routing_table(request):
    """GET: the grid and the departments; POST: save the changed cells (all or nothing)."""
    if request.method == "POST":
        cells, expected = _posted_cells(request.POST)
        changes = {k: v for k, v in cells.items() if v != expected.get(k)}
        try:
            n = save_routing(request.user, changes, expected)
        except ValidationError as e:
            return render(request, "appeals/routing.html", _context(current_table(), cells, errors=e.messages),
                          status=400)  # fmt: skip
        if n:
            messages.success(request, _("路由表已保存：%(n)d 条规则变更 / routing table saved: %(n)d rules changed") % {"n": n})
        else:
            messages.info(request, _("没有变更 / nothing changed"))
        return redirect("appeals:routing")
    return render(request, "appeals/routing.html", _context(current_table()))


@admin_page
def department_add(request):
    """POST: add a department (code, name, English name, order); errors are shown on the routing page."""
    if request.method != "POST":
        return redirect("appeals:routing")
    form = DepartmentForm(request.POST)
    if form.is_valid():
        try:
            dept = add_department(request.user, **form.cleaned_data)
        except ValidationError as e:
            apply_form_errors(form, e)
        else:
            messages.success(request, _("已添加部门 %(name)s / department added") % {"name": dept.name})
            return redirect("appeals:routing")
    return render(request, "appeals/routing.html", _context(current_table(), form=form), status=400)
