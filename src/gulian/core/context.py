"""Template context: role-aware navigation and the region switcher."""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gulian.core.models import Role
from gulian.core.regionview import region_options

# (url name, label, roles that see it; None = every signed-in user)
NAV = [
    ("home", _("首页"), None),
    ("registry:chain_list", pgettext_lazy("plural heading", "产业链"), None),
    ("registry:enterprise_list", pgettext_lazy("plural heading", "企业"), None),
    ("registry:link_list", pgettext_lazy("plural heading", "供应关系"), None),
    ("registry:import", _("导入导出"), (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.LIAISON, Role.ADMIN)),
    ("approvals", _("账号审核"), (Role.TASKFORCE, Role.LIAISON, Role.ADMIN)),
    ("tokens", _("API 令牌"), None),
    ("dispatch:report_today", _("今日日报"), (Role.ENTERPRISE,)),
    ("dispatch:overview", _("日调度"), (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.LIAISON, Role.HANDLER, Role.ADMIN)),
    ("risk:nowcast", _("断链预警"), (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.LIAISON, Role.HANDLER, Role.ADMIN)),
    ("risk:item_list", _("风险清单"), (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.LIAISON, Role.HANDLER, Role.ADMIN)),
    ("risk:scenario_list", _("情景仿真"), (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.ADMIN)),
    ("appeals:my_appeals", _("我的诉求"), (Role.ENTERPRISE, Role.LIAISON)),
    ("appeals:inbox", _("诉求办理"), (Role.HANDLER,)),
    ("appeals:board", _("诉求调度"), (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.ADMIN)),
    ("appeals:stats", _("诉求统计"), (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.HANDLER, Role.ADMIN)),
    ("appeals:routing", _("诉求路由表"), (Role.ADMIN,)),
    ("appeals:notifications", _("通知"), None),
]


def _unread(user) -> int:
    from gulian.appeals.notify import unread_count

    return unread_count(user)


def navigation(request):
    """Navigation entries the current user's role may open, and the region switcher's entries."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_usable", False):
        return {"nav": []}
    role = Role.ADMIN if user.is_admin else user.role
    path = request.path
    items = []
    for name, label, roles in NAV:
        if roles is None or role in roles:
            try:
                url = reverse(name)
            except Exception:  # noqa: BLE001 - a page not wired yet is simply not shown
                continue
            # the home page is active only on itself; the others on every page below them
            active = path == url if name == "home" else path.startswith(url)
            items.append({"url": url, "label": label, "name": name, "active": active})
    return {
        "nav": items,
        "view_region": getattr(request, "view_region", None),
        # one COUNT, only when the nav is drawn
        "unread_notifications": SimpleLazyObject(lambda: _unread(user)),
        # evaluated only when the switcher is drawn (one query); an enterprise user has one firm, nothing to narrow
        "region_options": []
        if role == Role.ENTERPRISE
        else SimpleLazyObject(lambda: region_options(request)),
    }
