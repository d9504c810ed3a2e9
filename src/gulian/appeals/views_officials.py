"""Officials' appeal pages: a department handler's inbox and a task force's board.

- Inbox (``appeals:inbox``): the appeals the user may *handle* now (``restrict(user, "handle")``: their
  department in exactly their region; a task force's own unit), as tabs 待受理 / 办理中 / 已答复 / 超期 with
  counts, sorted by the deadline that runs; plus a read-only tab of their department's appeals elsewhere
  in their area (``restrict(user, "view")`` minus the handle ones, e.g. the counties' for a city handler).
- Board (``appeals:board``): everything a task force (or a chain office, an administrator) may *view* in
  its scope, with sections new / ours to handle / escalated to us / overdue / cross-region and the
  ``AppealFilter`` form; each row links to the appeal's page, where triage (assign, escalate) happens.

Both pages run a fixed number of queries whatever the number of rows (tests count them). Reads only:
every write happens on the appeal's page through ``gulian.appeals.services``.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Q, When
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from gulian.appeals.filters import AppealFilter, cross_region_q, overdue_q
from gulian.appeals.models import (
    NATIONAL_LEVELS,
    OPEN_STATUSES,
    Appeal,
    Category,
    Department,
    Level,
    Status,
)
from gulian.appeals.routing import level_of
from gulian.appeals.stats import DONE_STATUSES
from gulian.core.models import Region, Role
from gulian.core.regionview import narrowed_prefix
from gulian.registry.models import Chain

PAGE_SIZE = 50
INBOX_ROLES = (Role.HANDLER, Role.TASKFORCE)
BOARD_ROLES = (Role.TASKFORCE, Role.CHAIN_OFFICE)
STATS_ROLES = (Role.HANDLER, Role.TASKFORCE, Role.CHAIN_OFFICE)


def officials_page(roles):
    """A view for signed-in users of ``roles`` (and administrators); 404 for everyone else."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_usable or not (user.is_admin or user.role in roles):
                raise Http404("未找到 / not found")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def with_related(qs):
    """Everything a row shows (enterprise and its region, handling unit) in the same query."""
    return qs.select_related("enterprise", "enterprise__region", "handling_region", "department")


def due_expression():
    """The deadline that runs: accept by while submitted, resolve by while accepted or in progress."""
    return Case(
        When(status=Status.SUBMITTED, then=F("accept_due")),
        When(status__in=OPEN_STATUSES, then=F("resolve_due")),
        default=None,
    )


def by_deadline(qs):
    """Open appeals first, the nearest running deadline first; then the rest, newest first."""
    return qs.annotate(due=due_expression()).order_by(F("due").asc(nulls_last=True), "-created_at", "-id")


def is_late(appeal: Appeal, now: dt.datetime) -> bool:
    """The same rule as ``filters.overdue_q`` for one loaded appeal (no query)."""
    if appeal.status not in OPEN_STATUSES:
        return False
    if appeal.overdue:
        return True
    if appeal.status == Status.SUBMITTED and appeal.accept_due and appeal.accept_due < now:
        return True
    return bool(appeal.resolve_due and appeal.resolve_due < now)


def rows_of(page, now: dt.datetime, *, triage: set[int] | frozenset = frozenset()) -> list[dict]:
    """Template rows: the appeal, its running deadline, whether it is late, whether the user may triage it."""
    out = []
    for a in page:
        due = a.accept_due if a.status == Status.SUBMITTED else a.resolve_due if a.status in OPEN_STATUSES else None
        out.append({"a": a, "due": due, "late": is_late(a, now), "triage": a.pk in triage and a.is_open})
    return out


def _tabs(qs, tabs, current: str) -> list[dict]:
    """Tab entries with counts from one aggregate query."""
    counts = qs.order_by().aggregate(**{key: Count("pk", filter=q) for key, _label, q in tabs})
    return [{"key": k, "label": label, "count": counts[k], "active": k == current} for k, label, _q in tabs]


# --- inbox --------------------------------------------------------------------------------------------


def inbox_tabs(now: dt.datetime):
    """(key, label, Q) of the inbox tabs over the appeals the user handles."""
    return [
        ("pending", _("待受理"), Q(status=Status.SUBMITTED)),
        ("working", _("办理中"), Q(status__in=(Status.ACCEPTED, Status.IN_PROGRESS))),
        ("answered", _("已答复"), Q(status__in=DONE_STATUSES)),
        ("overdue", _("超期"), overdue_q(now)),
    ]


@officials_page(INBOX_ROLES)
@require_GET
def inbox(request):
    """A department handler's queue (also a task force's own unit), by tab, nearest deadline first."""
    user = request.user
    now = timezone.now()
    handled = Appeal.objects.restrict(user, "handle")
    prefix = narrowed_prefix(request)
    if prefix:
        handled = handled.filter(enterprise__region__code__startswith=prefix)
    tabs_def = inbox_tabs(now)
    current = request.GET.get("tab") or "pending"
    if current not in {k for k, _l, _q in tabs_def} | {"area"}:
        current = "pending"
    tabs = _tabs(handled, tabs_def, current)
    area = Appeal.objects.restrict(user, "view").exclude(pk__in=handled.values("pk"))
    if prefix:
        area = area.filter(enterprise__region__code__startswith=prefix)
    q = (request.GET.get("q") or "").strip()[:100]
    if current == "area":
        qs = by_deadline(area)
    else:
        q_tab = next(tq for k, _l, tq in tabs_def if k == current)
        qs = handled.filter(q_tab)
        qs = qs.order_by("-resolved_at", "-id") if current == "answered" else by_deadline(qs)
    if q:
        qs = qs.filter(Q(tracking_number__iexact=q) | Q(title__icontains=q) | Q(enterprise__name__icontains=q))
    page = Paginator(with_related(qs), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "tabs": tabs,
        "area_count": area.count(),
        "current": current,
        "read_only": current == "area",
        "page": page,
        "rows": rows_of(page, now),
        "q": q,
        "department": Department.objects.filter(code=user.department).first() if user.department else None,
    }
    return render(request, "appeals/inbox.html", context)


# --- board --------------------------------------------------------------------------------------------


def own_unit_q(user) -> Q:
    """The user's own task-force unit: its level, its region (none at the national levels), no department."""
    if user.region_id:
        return Q(handling_region_id=user.region_id, level=level_of(user.region), department__isnull=True)
    return Q(handling_region__isnull=True, level__in=NATIONAL_LEVELS, department__isnull=True)


def board_tabs(user, now: dt.datetime):
    """(key, label, Q) of the board's sections over the appeals in the user's scope."""
    unit = own_unit_q(user)
    return [
        ("all", _("全部"), Q()),
        ("new", _("新提交"), Q(status=Status.SUBMITTED)),
        ("ours", _("本级待办"), unit & Q(status__in=OPEN_STATUSES)),
        ("escalated", _("升级至本级"), unit & Q(escalation_count__gt=0, status__in=OPEN_STATUSES)),
        ("overdue", _("超期"), overdue_q(now)),
        ("cross_region", _("跨地区"), cross_region_q()),
    ]


def scoped_appeals(request):
    """Appeals the user may view, narrowed to the region chosen in the switcher (by the enterprise's region)."""
    qs = Appeal.objects.restrict(request.user, "view")
    prefix = narrowed_prefix(request)
    if prefix:
        qs = qs.filter(enterprise__region__code__startswith=prefix)
    return qs


def region_choices(user) -> list[Region]:
    """The user's region and its children (provinces for a national user), for the region filter."""
    if user.region_id:
        return list(Region.objects.filter(Q(pk=user.region_id) | Q(parent_id=user.region_id)).only("code", "name", "prefix"))
    return list(Region.objects.filter(level="province").only("code", "name", "prefix"))


def filter_context(user, flt: AppealFilter) -> dict:
    """Choices for the filter form (a fixed number of queries)."""
    return {
        "flt": flt,
        "fp": flt.params(),
        "bad_filters": sorted(flt.errors),
        "categories": Category.choices,
        "statuses": Status.choices,
        "levels": Level.choices,
        "departments": list(Department.objects.only("code", "name")),
        "chains": list(Chain.objects.restrict(user, "view").only("code", "name").order_by("code")),
        "regions": region_choices(user),
        "yes_no": [("", _("不限")), ("true", _("是")), ("false", _("否"))],
    }


@officials_page(BOARD_ROLES)
@require_GET
def board(request):
    """A task force's board: sections with counts, the filter form, a paginated table, triage links."""
    user = request.user
    now = timezone.now()
    flt = AppealFilter.from_params(request.GET)
    base = flt.apply(scoped_appeals(request), now=now)
    tabs_def = board_tabs(user, now)
    current = request.GET.get("tab") or "all"
    if current not in {k for k, _l, _q in tabs_def}:
        current = "all"
    tabs = _tabs(base, tabs_def, current)
    q_tab = next(tq for k, _l, tq in tabs_def if k == current)
    page = Paginator(by_deadline(with_related(base.filter(q_tab))), PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [a.pk for a in page]
    triage = set(Appeal.objects.restrict(user, "triage").filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    context = {
        **filter_context(user, flt),
        "tabs": tabs,
        "current": current,
        "page": page,
        "rows": rows_of(page, now, triage=triage),
        "unit": _unit_name(user),
        "export_query": flt.querystring(),
    }
    return render(request, "appeals/board.html", context)


def _unit_name(user) -> str:
    if user.region_id:
        return f"{user.region.name} · {_('专班')}"
    return str(_("全国"))
