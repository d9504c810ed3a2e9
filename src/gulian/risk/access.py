"""Who may open the risk pages: officials and administrators read, task forces change (docs/access.md)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from gulian.core.models import Role
from gulian.risk.models import OFFICIAL_ROLES


def is_reader(user) -> bool:
    """Signed-in officials and administrators; enterprises never see the risk pages."""
    return user.is_usable and (user.is_admin or user.role in OFFICIAL_ROLES)


def may_change(user) -> bool:
    """Task forces and administrators create, run and handle."""
    return user.is_usable and (user.is_admin or user.role == Role.TASKFORCE)


def risk_page(view):
    """A view for readers only; 404 for everyone else (an enterprise user included)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_reader(request.user):
            raise Http404("未找到 / not found")
        return view(request, *args, **kwargs)

    return wrapper
