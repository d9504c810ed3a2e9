"""The enterprise side of appeals: "my appeals", the filing form and its live category suggestion.

Enterprise users file for their own enterprise, liaisons for the enterprises assigned to them
(administrators for any); everyone else gets 404 on these pages. Every write goes through
``gulian.appeals.services.submit``; docs/appeals.md ("Pages") describes what the pages show.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from gulian.appeals import routing, services
from gulian.appeals.filters import AppealFilter, overdue_q
from gulian.appeals.forms import AppealForm, filing_enterprises, heldback_owner_for, may_file
from gulian.appeals.models import ANSWERED_STATUSES, OPEN_STATUSES, Appeal, Category, Level, Status
from gulian.core.models import Role
from gulian.core.services import OutOfScope
from gulian.core.views import apply_form_errors, usable_required

PAGE_SIZE = 20
# the filters "my appeals" offers (a subset of AppealFilter's)
LIST_PARAMS = ("status", "category", "overdue", "q")
# tabs: (key, label, AppealFilter parameters)
TABS = [
    ("", gettext_lazy("全部"), {}),
    ("open", gettext_lazy("办理中"), {"status": "open"}),
    ("answered", gettext_lazy("待确认"), {"status": "answered"}),
    ("confirmed", gettext_lazy("已确认"), {"status": Status.CONFIRMED}),
    ("closed", gettext_lazy("已销号"), {"status": Status.CLOSED}),
    ("overdue", gettext_lazy("已超期"), {"overdue": "true"}),
]
SUGGESTIONS = 3  # chips under the text box
MIN_SUGGEST_CHARS = 4


def _follower_page(view):
    """Enterprise users, liaisons and administrators; 404 for other roles."""

    @usable_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_admin or user.role in (Role.ENTERPRISE, Role.LIAISON)):
            raise Http404("未找到 / not found")
        return view(request, *args, **kwargs)

    return wrapper


@_follower_page
@require_GET
def my_appeals(request):
    """The appeals of the user's enterprise (a liaison: of their enterprises), newest first, with tabs."""
    user = request.user
    params = QueryDict(mutable=True)
    for key in LIST_PARAMS:
        for value in request.GET.getlist(key):
            if value.strip():
                params.appendlist(key, value)
    flt = AppealFilter.from_params(params)
    now = timezone.now()
    base = Appeal.objects.restrict(user, "follow")
    tab_filters = {key: AppealFilter.from_params(p) for key, _label, p in TABS}
    # the tab counts follow the category and the search, not the status
    counted = flt.without("status", "overdue").apply(base, now=now).aggregate(
        **{f"n_{key or 'all'}": Count("pk", filter=_tab_q(f, now)) if key else Count("pk")
           for key, f in tab_filters.items()}
    )
    current = next((key for key, f in tab_filters.items()
                    if f.status == flt.status and f.overdue == flt.overdue), None)  # fmt: skip
    tabs = [{"key": key, "label": label, "count": counted[f"n_{key or 'all'}"], "active": key == current,
             "query": _tab_query(request.GET, tab_filters[key])} for key, label, _p in TABS]  # fmt: skip
    qs = (
        flt.apply(base, now=now)
        .select_related("enterprise", "department", "handling_region")
        .annotate(late=ExpressionWrapper(overdue_q(now), output_field=BooleanField()))
        .order_by("-created_at", "-id")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "tabs": tabs,
        "filter": flt,
        "bad_filters": sorted(flt.errors),
        "categories": Category.choices,
        "statuses": Status.choices,
        "show_enterprise": user.role != Role.ENTERPRISE,
        "can_file": may_file(user),
        "open_statuses": list(OPEN_STATUSES),
    }
    return render(request, "appeals/my_appeals.html", context)


def _tab_q(f: AppealFilter, now) -> Q:
    q = Q()
    if f.status:
        q &= Q(status__in=f.status)
    if f.overdue:
        q &= overdue_q(now)
    return q


def _tab_query(get: QueryDict, f: AppealFilter) -> str:
    """The current query string with the tab's status/overdue in place of the current ones (page reset)."""
    q = get.copy()
    for key in ("status", "overdue", "page"):
        q.pop(key, None)
    for key, value in f.params().items():
        q.setlist(key, value if isinstance(value, list) else [value])
    if f.status == list(OPEN_STATUSES):
        q.setlist("status", ["open"])
    elif f.status == list(ANSWERED_STATUSES):
        q.setlist("status", ["answered"])
    return q.urlencode()


def _prefill(request) -> dict:
    """Initial values from ``?enterprise=&risk_item=&heldback_owner=``; unusable values are left out.

    The risk item's and the held-back list's "发起诉求" buttons open the form with these.
    """
    from gulian.risk.models import RiskItem

    user = request.user
    initial: dict = {}
    enterprise = None
    raw = request.GET.get("enterprise", "")
    if raw.isdigit():
        enterprise = filing_enterprises(user).filter(pk=int(raw)).first()
        if enterprise is not None:
            initial["enterprise"] = str(enterprise.pk)
    raw = request.GET.get("risk_item", "")
    if raw.isdigit():
        item = RiskItem.objects.restrict(user, "view").filter(pk=int(raw)).first()
        if item is not None:
            initial["risk_item"] = item.pk
            initial["title"] = item.title[:100]
            if enterprise is None:
                enterprise = filing_enterprises(user).filter(pk=item.enterprise_id).first()
                if enterprise is not None:
                    initial["enterprise"] = str(enterprise.pk)
    if enterprise is None and user.role == Role.ENTERPRISE:
        enterprise = user.enterprise
    raw = request.GET.get("heldback_owner", "")
    if raw.isdigit() and heldback_owner_for(user, enterprise, int(raw)) is not None:
        initial["heldback_owner"] = int(raw)
    return initial


def _linked(form: AppealForm, user) -> dict:
    """The risk item and held-back owner the form carries, for display."""
    from gulian.registry.models import Enterprise
    from gulian.risk.models import RiskItem

    if form.is_bound:
        return {"risk_item": form.risk_item_obj, "heldback_owner": form.heldback_owner_obj}
    item_id, owner_id = form.initial.get("risk_item"), form.initial.get("heldback_owner")
    return {
        "risk_item": RiskItem.objects.restrict(user, "view").filter(pk=item_id).first() if item_id else None,
        "heldback_owner": Enterprise.objects.filter(pk=owner_id).only("pk", "name").first() if owner_id else None,
    }


@_follower_page
@require_http_methods(["GET", "POST"])
def appeal_create(request):
    """The filing form; on success the appeal's page with its tracking number."""
    user = request.user
    if not may_file(user):
        raise Http404("未找到 / not found")
    if request.method == "POST":
        form = AppealForm(request.POST, request.FILES, user=user)
    else:
        form = AppealForm(user=user, initial=_prefill(request))
    if form.is_bound and form.is_valid():
        try:
            result = services.submit(user, **form.submit_kwargs())
        except OutOfScope as e:
            form.add_error("enterprise", str(e))
        except ValidationError as e:
            apply_form_errors(form, e)
        else:
            appeal = result.appeal
            if result.created:
                messages.success(request, _("诉求已提交，受理编号 %(n)s") % {"n": appeal.tracking_number})
            else:
                messages.info(request, _("该诉求此前已提交，受理编号 %(n)s") % {"n": appeal.tracking_number})
            if result.duplicate_of is not None:
                messages.warning(request, _("与 %(n)s 内容相近，已关联") % {"n": result.duplicate_of.tracking_number})
            return redirect("appeals:appeal_detail", pk=appeal.pk)
    fixed = None
    if user.role == Role.ENTERPRISE and not user.is_admin:
        fixed = user.enterprise
    context = {
        "form": form,
        "fixed_enterprise": fixed,
        "no_enterprise": not user.is_admin and not form.choosable,
        "max_text": settings.APPEALS_MAX_TEXT,
        **_linked(form, user),
    }
    return render(request, "appeals/appeal_form.html", context)


@usable_required
@require_http_methods(["GET", "POST"])
def suggest(request):
    """htmx: the classifier's top categories for the typed text as chips, with the unit that would handle each.

    The unit is the routing table's at the chosen enterprise's level (county level without one).
    """
    from gulian.appeals import classifier

    data = request.POST if request.method == "POST" else request.GET
    text = f"{data.get('title', '')}\n{data.get('text', '')}".strip()[: settings.APPEALS_MAX_TEXT]
    context = {"chips": [], "too_short": len("".join(text.split())) < MIN_SUGGEST_CHARS}
    if not context["too_short"]:
        enterprise = None
        raw = (data.get("enterprise") or "").strip().lstrip("#")
        if raw.isdigit():
            enterprise = filing_enterprises(request.user).filter(pk=int(raw)).select_related("region").first()
        suggestion = classifier.suggest(text)
        labels = dict(Category.choices)
        for category, score in suggestion.ranked[:SUGGESTIONS]:
            if enterprise is not None and enterprise.region_id:
                route = routing.initial_route(enterprise, category)
                unit = routing.unit_label(route.level, route.region, route.department)
            else:
                department = routing.department_for(category, Level.COUNTY)
                unit = department.name if department is not None else _("专班")
            context["chips"].append({"category": category, "label": labels.get(category, category),
                                     "percent": round(100 * score), "unit": unit})
    return render(request, "appeals/_suggest.html", context)
