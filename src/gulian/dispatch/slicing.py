"""Resolving the slice a metrics request asks for (region, chain, segment), always inside the user's scope.

A region outside the user's scope is a 404 exactly like an unknown one; a chain or segment the
user may not view likewise. Metrics, held-back list, anomalies, pages, API and CLI share these.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from gulian.core.models import Region, Role
from gulian.registry.models import Chain, Segment

NOT_FOUND = "未找到 / not found"
# Roles that read dispatch figures; an enterprise user sees only its own reports (D1's pages).
METRICS_ROLES = (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.LIAISON, Role.HANDLER, Role.ADMIN)


def may_read_metrics(user) -> bool:
    """True for an approved official or administrator (enterprise users have no dispatch overview)."""
    return bool(getattr(user, "is_usable", False)) and (user.is_admin or user.role in METRICS_ROLES)


def require_metrics_reader(user) -> None:
    """Http404 unless ``user`` may read dispatch figures (the pages do not exist for anyone else)."""
    if not may_read_metrics(user):
        raise Http404(NOT_FOUND)


def resolve_region(user, region) -> Region | None:
    """The Region for a code (or Region), checked to lie inside the user's scope; None = the user's own scope.

    Returns the user's own region when ``region`` is empty (None for nationwide users).
    """
    if region in (None, ""):
        return user.region if getattr(user, "region_id", None) else None
    if not isinstance(region, Region):
        region = Region.objects.filter(code=str(region).strip()).first()
    if region is None or not region.prefix.startswith(getattr(user, "scope_prefix", "") or ""):
        raise Http404(NOT_FOUND)
    return region


def resolve_chain(user, chain) -> Chain | None:
    """A Chain from an object, pk or code that the user may view; Http404 otherwise."""
    if chain in (None, ""):
        return None
    visible = Chain.objects.restrict(user, "view")
    if isinstance(chain, Chain):
        found = visible.filter(pk=chain.pk).first()
    elif isinstance(chain, int) or (isinstance(chain, str) and chain.isdigit()):
        found = visible.filter(pk=int(chain)).first() or visible.filter(code=str(chain)).first()
    else:
        found = visible.filter(code=str(chain)).first()
    if found is None:
        raise Http404(NOT_FOUND)
    return found


def resolve_segment(user, segment, chain: Chain | None = None) -> Segment | None:
    """A Segment (object or pk) of a chain the user may view, and of ``chain`` when one is given."""
    if segment in (None, ""):
        return None
    pk = segment.pk if isinstance(segment, Segment) else segment
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND)
    found = Segment.objects.restrict(user, "view").select_related("chain").filter(pk=pk).first()
    if found is None or (chain is not None and found.chain_id != chain.pk):
        raise Http404(NOT_FOUND)
    return found


def parse_date(value, default: dt.date | None = None) -> dt.date:
    """A date from a date or an ISO string; today (Asia/Shanghai) when empty; ValidationError when malformed."""
    if isinstance(value, dt.date):
        return value
    if value in (None, ""):
        return default or timezone.localdate()
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError({"date": ["日期格式应为 YYYY-MM-DD / dates are YYYY-MM-DD"]})


def parse_above_size(value) -> bool | None:
    """规上 filter from a bool or '1'/'0'/'true'/'false'/'是'/'否'; None when empty."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "all", "全部"):
        return None
    if text in ("1", "true", "yes", "是", "规上"):
        return True
    if text in ("0", "false", "no", "否", "规下"):
        return False
    raise ValidationError({"above_size": ["应为 true 或 false / use true or false"]})
