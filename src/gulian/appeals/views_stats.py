"""Appeal statistics for the user's scope, with the board's filters: page with charts and tables, .xlsx export.

The figures and their definitions are in ``gulian.appeals.stats``; the workbook in ``gulian.appeals.export``.
Handlers see their department's appeals in their area, task forces their region's, chain offices their
chains' members', administrators all (``restrict(user, "view")``); enterprises and liaisons get 404.
"""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gulian.appeals import export, stats
from gulian.appeals.filters import AppealFilter
from gulian.appeals.views_officials import (
    STATS_ROLES,
    filter_context,
    officials_page,
    scoped_appeals,
    with_related,
)
from gulian.core.regionview import narrowed_prefix


def base_prefix(request, flt: AppealFilter) -> str:
    """The region whose children the region table lists: the filter's, else the switcher's, else the user's."""
    own = request.user.scope_prefix
    for candidate in (flt.region, narrowed_prefix(request)):
        if candidate and candidate.startswith(own):
            return candidate
    return own


def _filtered(request):
    flt = AppealFilter.from_params(request.GET)
    now = timezone.now()
    return flt, flt.apply(scoped_appeals(request), now=now), now


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def chart_data(s: stats.Summary) -> dict:
    """What the charts draw (the page's tables show the same figures)."""
    return {
        "category": {"labels": [r.label for r in s.by_category], "values": [r.total for r in s.by_category]},
        "region": {"labels": [r.label for r in s.by_region], "values": [r.total for r in s.by_region]},
        "weekly": {"labels": [w.isoformat() for w, _n in s.weekly], "values": [n for _w, n in s.weekly]},
        "ratings": {"labels": [f"{n}★" for n in s.ratings], "values": list(s.ratings.values())},
        "names": {"category": _("按类别"), "region": _("按地区"), "weekly": _("每周诉求量"), "ratings": _("满意度分布"),
                  "count": _("诉求数")},  # fmt: skip
    }


@officials_page(STATS_ROLES)
@require_GET
def stats_page(request):
    """Volume by category, region and week; time to accept and resolve; satisfaction; overdue and escalation rates."""
    flt, qs, now = _filtered(request)
    summary = stats.summarize(qs, base_prefix=base_prefix(request, flt), now=now)
    timeliness = [
        {"label": _("受理时长"), "d": summary.accept},
        {"label": _("办结时长"), "d": summary.resolve},
    ]
    context = {
        **filter_context(request.user, flt),
        "s": summary,
        "timeliness": timeliness,
        "overdue_pct": _pct(summary.overdue_rate),
        "escalation_pct": _pct(summary.escalation_rate),
        "mean_rating": _round(summary.mean_rating, 2),
        "charts": chart_data(summary),
        "export_query": flt.querystring(),
    }
    return render(request, "appeals/stats.html", context)


@officials_page(STATS_ROLES)
@require_GET
def stats_export(request):
    """The filtered appeals and the summary tables as .xlsx (sheets 诉求清单, 按类别, 按地区, 时效)."""
    flt, qs, now = _filtered(request)
    summary = stats.summarize(qs, base_prefix=base_prefix(request, flt), now=now)
    appeals = with_related(qs).order_by("-created_at", "-id")
    out = export.write_workbook(appeals, summary)
    name = _("企业诉求统计") + f"{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(out, as_attachment=True, filename=name, content_type=export.XLSX)
