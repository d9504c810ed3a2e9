"""The nowcast page (断链预警): chain owners predicted to stall in the next 30 days, and why.

Officials and administrators read it (an enterprise user gets 404, as for the dispatch pages); only
task forces (and administrators) may put the predictions on the risk list (403 for other officials).
The computation is cached per scope, filters, date and data version (gulian.risk.nowcasting).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gulian.core.models import Role
from gulian.dispatch.slicing import parse_date, require_metrics_reader
from gulian.engine.nowcast import CAVEATS
from gulian.registry.models import Chain
from gulian.risk import nowcasting

MAX_HORIZON = 90


def may_create_items(user) -> bool:
    """Task forces and administrators put nowcast predictions on the risk list."""
    return bool(user.is_admin or user.role == Role.TASKFORCE)


def _bilingual(zh: str, en: str) -> str:
    """The engine's (Chinese, English) pair as a bilingual msgid shows: English alone on English pages."""
    return en if (get_language() or "").startswith("en") else f"{zh} / {en}"


def _args(request) -> dict:
    """date, region, chain and horizon from the query (or the POST form), checked."""
    data = request.POST if request.method == "POST" else request.GET
    region = (data.get("region") or "").strip() or (
        request.view_region.code if getattr(request, "view_region", None) else None
    )
    chain = (data.get("chain") or "").strip() or None
    horizon_text = (data.get("horizon") or "30").strip()
    horizon = int(horizon_text) if horizon_text.isdigit() and 1 <= int(horizon_text) <= MAX_HORIZON else 30
    day = None
    error = ""
    if (data.get("date") or "").strip():
        try:
            day = parse_date(data.get("date"))
        except ValidationError:
            error = _("日期格式应为 YYYY-MM-DD，已显示最近有日报的日期 / dates are YYYY-MM-DD; showing the latest day")
    return {"day": day, "region": region, "chains": [chain] if chain else [], "horizon": horizon, "error": error}


def _run(request, args) -> dict:
    return nowcasting.compute(
        request.user, args["day"], region=args["region"], chains=args["chains"], horizon=args["horizon"]
    )


@login_required
@require_GET
def nowcast_page(request):
    """Owners predicted to stall, earliest first, with the causing supplier and a mini curve."""
    require_metrics_reader(request.user)
    args = _args(request)
    result = _run(request, args)
    rows = [
        {
            **r,
            "caveat_texts": [_bilingual(*CAVEATS[c]) for c in r["caveats"]],
            "cause_status": _bilingual(*nowcasting.STATUS_LABELS[r["cause"]["status"]]) if r["cause"] else "",
            "cause_scope": nowcasting.scope_label(r["cause"]["scope"]) if r["cause"] else "",
            "chain_names": "、".join(c["name"] for c in r["chains"]),
        }
        for r in result["rows"]
    ]
    # what a task force can act on first: stalls traced to a supplier, earliest first; then the rest
    rows.sort(key=lambda r: (r["cause"] is None, r["days"]))
    context = {
        "result": result,
        "rows": rows,
        "traced": sum(1 for r in rows if r["cause"]),
        "args": args,
        "date_error": args["error"],
        "chains": list(Chain.objects.restrict(request.user, "view").only("pk", "code", "name").order_by("code")),
        "can_create": may_create_items(request.user) and bool(rows),
        "curves": [{"id": i, "curve": r["curve"], "days": r["days"], "threshold": result["assumptions"]["threshold"]}
                   for i, r in enumerate(rows)],  # fmt: skip
        "caveat_legend": [(code, _bilingual(zh, en)) for code, (zh, en) in CAVEATS.items()],
    }
    return render(request, "risk/nowcast.html", context)


@login_required
@require_POST
def nowcast_create_items(request):
    """Put the page's predictions on the risk list (task forces); back to the page with a message."""
    require_metrics_reader(request.user)
    if not may_create_items(request.user):
        raise PermissionDenied(_("仅专班可登记风险清单 / only task forces add items to the risk list"))
    args = _args(request)
    if args["error"]:
        raise Http404(args["error"])
    result = _run(request, args)
    items = nowcasting.create_items(request.user, result)
    messages.success(
        request,
        ngettext("已登记或更新 %(n)d 条风险清单条目", "已登记或更新 %(n)d 条风险清单条目", len(items))
        % {"n": len(items)},
    )
    query = {k: v for k, v in (("date", result["date"]), ("region", args["region"] or ""),
                                ("chain", (args["chains"] or [""])[0]), ("horizon", args["horizon"])) if v}  # fmt: skip
    return redirect(reverse("risk:nowcast") + "?" + urlencode(query))
