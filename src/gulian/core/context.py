"""Template context: role-aware navigation."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from gulian.core.models import Role

# (url name, label, roles that see it; None = every signed-in user)
NAV = [
    ("home", _("首页"), None),
    ("registry:chain_list", _("产业链"), None),
    ("registry:enterprise_list", _("企业"), None),
    ("registry:link_list", _("供应关系"), None),
    ("registry:import", _("导入导出"), (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.LIAISON, Role.ADMIN)),
    ("approvals", _("账号审核"), (Role.TASKFORCE, Role.LIAISON, Role.ADMIN)),
    ("tokens", _("API 令牌"), None),
]


def navigation(request):
    """Navigation entries the current user's role may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_usable", False):
        return {"nav": []}
    role = Role.ADMIN if user.is_admin else user.role
    items = []
    for name, label, roles in NAV:
        if roles is None or role in roles:
            try:
                items.append({"url": reverse(name), "label": label, "name": name})
            except Exception:  # noqa: BLE001 - a page not wired yet is simply not shown
                continue
    return {"nav": items, "view_region": getattr(request, "view_region", None)}
