"""Dispatch pages: the overview (cards, trends, drill-down), the held-back list, power anomalies.

Every figure comes from gulian.dispatch.metrics / heldback / power, which read through restrict();
a region, chain or segment outside the user's scope is a 404. The pages exist for officials and
administrators only (an enterprise user gets 404). The region switcher's choice is the default
region. Query counts do not depend on the number of rows (tests/dispatch/test_overview_views.py).
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gulian.dispatch import heldback, metrics, power
from gulian.dispatch.models import Blocker
from gulian.dispatch.slicing import parse_date, require_metrics_reader
from gulian.registry.models import Chain, Scale, Segment
from gulian.registry.scope import LinkScope

TREND_DAYS = (30, 60, 120)
HELD_BACK_PAGE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SLICE_KEYS = ("region", "chain", "segment", "scale", "above_size")


def metrics_page(view):
    """Signed-in officials and administrators; 404 for everyone else (as an out-of-scope record)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        require_metrics_reader(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def pct(value: float | None, digits: int = 1) -> str:
    """0.853 → '85.3%'; None → '—'."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def points(value: float | None, scale: float = 100) -> str:
    """A change in percentage points (or index points with scale=1): '+5.0', '−2.1', '—'."""
    if value is None:
        return "—"
    v = value * scale
    return f"+{v:.1f}" if v > 0.0005 else (f"−{abs(v):.1f}" if v < -0.0005 else "0.0")


def index_text(value: float | None) -> str:
    """Power index to one decimal, or '—'."""
    return "—" if value is None else f"{value:.1f}"


def _date(request) -> tuple[dt.date, str]:
    """The asked-for date; without one, the last day with reports in scope (else today)."""
    if not (request.GET.get("date") or "").strip():
        region = (request.GET.get("region") or "").strip() or getattr(request.view_region, "code", None)
        try:
            return metrics.latest_date(request.user, region) or timezone.localdate(), ""
        except Http404:
            return timezone.localdate(), ""
    try:
        return parse_date(request.GET.get("date")), ""
    except ValidationError:
        return timezone.localdate(), _("日期格式应为 YYYY-MM-DD，已显示今天 / dates are YYYY-MM-DD; showing today")


def _slice(request) -> dict:
    """The slice from GET; the region defaults to the region switcher's choice."""
    params = {k: (request.GET.get(k) or "").strip() or None for k in SLICE_KEYS}
    if params["scale"] not in (None, *Scale.values):
        params["scale"] = None
    if params["region"] is None and getattr(request, "view_region", None) is not None:
        params["region"] = request.view_region.code
    return params


def _fmt(row: metrics.Measures) -> dict:
    """Display strings of a row's rates."""
    return {
        "reporting_rate": pct(row.reporting_rate),
        "resumption_rate": pct(row.resumption_rate),
        "recovery_rate": pct(row.recovery_rate),
        "utilisation": pct(row.utilisation),
        "on_duty_rate": pct(row.on_duty_rate),
        "power_index": index_text(row.power_index),
    }


def _cards(ov: metrics.Overview) -> list[dict]:
    def change(name, scale=100):
        return {"dod": points(ov.day_on_day.get(name), scale), "wow": points(ov.week_on_week.get(name), scale)}

    return [
        {"id": "reporting", "label": _("报送率"), "value": pct(ov.reporting_rate),
         "sub": f"{ov.reporting:,} / {ov.expected:,}", **change("reporting_rate")},
        {"id": "resumption", "label": _("复工率"), "value": pct(ov.resumption_rate),
         "sub": f"{ov.resumed:,} / {ov.reporting:,}", **change("resumption_rate")},
        {"id": "recovery", "label": _("达产率"), "value": pct(ov.recovery_rate),
         "sub": f"{ov.recovered:,} / {ov.reporting:,}", **change("recovery_rate")},
        {"id": "utilisation", "label": _("产能利用率（产值加权）"), "value": pct(ov.utilisation), "sub": "",
         **change("utilisation")},
        {"id": "on-duty", "label": _("员工到岗率"), "value": pct(ov.on_duty_rate),
         "sub": f"{ov.staff_on_duty:,} / {ov.staff_normal:,}", **change("on_duty_rate")},
        {"id": "power", "label": _("电力复工指数"), "value": index_text(ov.power_index), "sub": "",
         **change("power_index", 1)},
    ]  # fmt: skip


def _trend(series: list[metrics.SeriesPoint]) -> dict:
    def share(v):
        return None if v is None else round(v * 100, 2)

    return {
        "dates": [p.date.isoformat() for p in series],
        "series": [
            {"name": _("复工率"), "data": [share(p.resumption_rate) for p in series]},
            {"name": _("达产率"), "data": [share(p.recovery_rate) for p in series]},
            {"name": _("产能利用率"), "data": [share(p.utilisation) for p in series]},
            {"name": _("电力复工指数"), "data": [None if p.power_index is None else round(p.power_index, 2) for p in series]},
            {"name": _("报送率"), "data": [share(p.reporting_rate) for p in series]},
        ],
        "unit": "%",
    }


def _link(name: str, request, **changes) -> str:
    params = {k: v for k, v in request.GET.items() if v}
    params.update({k: v for k, v in changes.items()})
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return reverse(name) + ("?" + urlencode(params) if params else "")


@metrics_page
@require_GET
def overview(request):
    """The day's cards, trend lines over 30/60/120 days, breakdowns by child region, chain and segment."""
    user = request.user
    day, date_error = _date(request)
    s = _slice(request)
    days = int(request.GET.get("days") or 30) if (request.GET.get("days") or "30").isdigit() else 30
    days = days if days in TREND_DAYS else 30
    sl = metrics.resolve(user, **s)
    ov = metrics.overview(user, day, **s)
    series = metrics.series(user, day - dt.timedelta(days=days - 1), day, refresh=False, **s)
    by_region = metrics.breakdown(user, day, by="region", refresh=False, **s)
    here = ov.region
    region_rows = []
    for r in by_region:
        leaf = r.key == here or not r.key  # a county (or the not-subdivided rest): drill to the enterprises
        target = (
            reverse("registry:enterprise_list") + "?" + urlencode({"region": r.key or here})
            if leaf
            else _link("dispatch:overview", request, region=r.key)
        )
        region_rows.append({"row": r, "fmt": _fmt(r), "href": target, "leaf": leaf})
    chain = sl.chain
    by_chain = [] if chain else metrics.breakdown(user, day, by="chain", refresh=False, **s)
    by_segment = metrics.breakdown(user, day, by="segment", refresh=False, **s) if chain else []
    blockers = sorted(
        ({"label": str(b.label), "count": ov.blockers.get(b.value, 0)} for b in Blocker if ov.blockers.get(b.value)),
        key=lambda x: -x["count"],
    )
    context = {
        "day": day,
        "date_error": date_error,
        "ov": ov,
        "cards": _cards(ov),
        "trend": _trend(series),
        "days": days,
        "trend_days": [(d, _link("dispatch:overview", request, days=d)) for d in TREND_DAYS],
        "region_rows": region_rows,
        "chain_rows": [{"row": r, "fmt": _fmt(r), "href": _link("dispatch:overview", request, chain=r.key, segment="")}
                       for r in by_chain],  # fmt: skip
        "segment_rows": [{"row": r, "fmt": _fmt(r), "href": _link("dispatch:overview", request, segment=r.key)}
                         for r in by_segment if r.key],  # fmt: skip
        "chain": chain,
        "segments": list(Segment.objects.filter(chain=chain)) if chain else [],
        "chains": list(Chain.objects.restrict(user, "view").only("pk", "code", "name").order_by("code")),
        "scales": Scale.choices,
        "params": s,
        "blockers": blockers,
        "up_link": _up_link(request, sl),
        "held_back_link": _link("dispatch:held_back", request, region="", days="", scale="", above_size="", segment=""),
        "bulletin_link": _link(
            "dispatch:bulletin", request, date=day.isoformat(), days="", scale="", above_size="", segment=""
        ),
    }
    return render(request, "dispatch/overview.html", context)


def _up_link(request, sl: metrics.Slice) -> str:
    """The overview one level up, while that is still inside the user's scope ('' otherwise)."""
    user, region = request.user, sl.region
    if region is None or region.parent_id is None or region.code == (user.region_id or ""):
        return ""
    parent = region.parent
    if not parent.prefix.startswith(user.scope_prefix):
        return ""
    return _link("dispatch:overview", request, region=parent.code)


def _held_back_args(request) -> dict:
    g = request.GET
    owner = g.get("owner", "").strip()
    return {
        "chain": g.get("chain") or None,
        "owner": int(owner) if owner.isdigit() else None,
        "region": g.get("region") or None,
        "owner_region": request.view_region.code if getattr(request, "view_region", None) else None,
        "scope": g.get("scope") if g.get("scope") in LinkScope.values else None,
        "status": g.get("status") if g.get("status") in heldback.STATUS_LABELS else None,
        "sort": g.get("sort") if (g.get("sort") or "").lstrip("-") in heldback.SORTS else "days",
    }


@metrics_page
@require_GET
def held_back(request):
    """The held-back list: chain owners' suppliers not resumed, below threshold or not reported."""
    day, date_error = _date(request)
    args = _held_back_args(request)
    rows = heldback.held_back(request.user, day, **args)
    page = Paginator(rows, HELD_BACK_PAGE).get_page(request.GET.get("page"))
    counts = {k: sum(1 for r in rows if r.status == k) for k in heldback.STATUS_LABELS}
    context = {
        "day": day,
        "date_error": date_error,
        "page": page,
        "total": len(rows),
        "counts": [(str(label), counts[k]) for k, label in heldback.STATUS_LABELS.items()],
        "args": args,
        "chains": list(Chain.objects.restrict(request.user, "view").only("pk", "code", "name").order_by("code")),
        "scopes": LinkScope.choices,
        "statuses": [(k, str(v)) for k, v in heldback.STATUS_LABELS.items()],
        "sorts": [("days", _("持续天数")), ("share", _("投入占比")), ("scope", _("范围")), ("owner", _("链主企业"))],
        "export_link": _link("dispatch:held_back_export", request, page=""),
        "fmt_rows": [{"r": r, "util": pct(r.utilisation), "share": pct(r.share), "value_share": pct(r.value_share)}
                     for r in page.object_list],  # fmt: skip
    }
    return render(request, "dispatch/heldback.html", context)


@metrics_page
@require_GET
def held_back_export(request):
    """The held-back list with the page's filters, as an .xlsx."""
    day, _error = _date(request)
    rows = heldback.held_back(request.user, day, **_held_back_args(request))
    response = HttpResponse(heldback.export_xlsx(rows, day), content_type=XLSX)
    name = f"未复工达产配套企业名单-{day.isoformat()}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@metrics_page
@require_GET
def anomalies(request):
    """Enterprises whose reported utilisation and power index disagree beyond the margin."""
    day, date_error = _date(request)
    region = request.GET.get("region") or (request.view_region.code if getattr(request, "view_region", None) else None)
    margin_text = (request.GET.get("margin") or "").strip().rstrip("%")
    try:
        margin = float(margin_text) if margin_text else None
        margin = margin / 100 if margin is not None and margin > 2 else margin  # "30" means 30 points
    except ValueError:
        margin = None
    found = power.anomalies(request.user, day, region=region, margin=margin)
    page = Paginator(found, HELD_BACK_PAGE).get_page(request.GET.get("page"))
    context = {
        "day": day,
        "date_error": date_error,
        "page": page,
        "total": len(found),
        "margin": pct(margin if margin is not None else settings.POWER_ANOMALY_MARGIN, 0),
        "rows": [{"a": a, "util": pct(a.utilisation), "index": index_text(a.power_index), "gap": points(a.gap)}
                 for a in page.object_list],  # fmt: skip
    }
    return render(request, "dispatch/anomalies.html", context)
