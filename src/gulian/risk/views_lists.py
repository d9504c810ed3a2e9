"""Risk list pages (断链断供风险清单).

The four lists and the overseas-dependence list, an item's page with its evidence and history, a
task force's edit, manual items, and the .xlsx export.

Officials of a region subtree read its items, task forces change them (RiskItem.objects.restrict);
enterprises get 404 (these are the government's internal lists). A single item is fetched through
get_scoped, so an item outside the user's scope is a 404. Writes go through gulian.risk.services.
"""

from __future__ import annotations

import copy
import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from pydantic import ValidationError as PydanticError

from gulian.core.models import AuditRecord
from gulian.core.regionview import enterprise_q, narrowed_prefix
from gulian.core.services import get_scoped
from gulian.core.views import save_or_form_errors
from gulian.registry.models import Chain, Enterprise, Segment
from gulian.registry.scope import LinkScope
from gulian.risk import export, services
from gulian.risk.access import may_change, risk_page
from gulian.risk.forms_lists import RiskItemCreateForm, RiskItemEditForm
from gulian.risk.models import (
    Mitigation,
    RiskItem,
    RiskSource,
    RiskStatus,
    Severity,
)
from gulian.risk.schemas import RiskItemFilter, list_q

PAGE_SIZE = 50
LIST_TABS = [
    ("", gettext_lazy("全部")),
    ("city", LinkScope.CITY.label),
    ("province", LinkScope.PROVINCE.label),
    ("domestic", LinkScope.DOMESTIC.label),
    ("foreign", LinkScope.FOREIGN.label),
    ("overseas", gettext_lazy("境外依赖")),
]
SEVERITY_RANK = Case(*(When(severity=s, then=Value(i)) for i, s in enumerate(Severity.values)),
                     default=Value(9), output_field=IntegerField())  # fmt: skip
SORTS = {
    "days": (F("days_to_impact").asc(nulls_last=True), "-score", "id"),
    "score": ("-score", "id"),
    "severity": (SEVERITY_RANK, F("days_to_impact").asc(nulls_last=True), "id"),
    "updated": ("-updated_at", "id"),
    "enterprise": ("enterprise__name", "id"),
}
# Other apps' pages an item can open, with the query they are given; shown only once they exist.
FOLLOW_UPS = (
    ("appeal", gettext_lazy("发起诉求"), ("appeals:appeal_create", "appeal:create", "appeals:create")),
    ("matching", gettext_lazy("发布对接需求"), ("matching:need_create", "matching:create", "matching:demand_create")),
)
# key -> check(user, item): may this user use that follow-up on this item? Registered by the other app's
# hooks (appeals: only a user who may file for the item's enterprise); no check means every reader may.
FOLLOW_UP_CHECKS: dict = {}



def _filter(request) -> tuple[RiskItemFilter, list[str]]:
    data = {k: v.strip() for k, v in request.GET.items() if k in RiskItemFilter.model_fields and v.strip()}
    try:
        return RiskItemFilter(**data), []
    except PydanticError as e:
        bad = {str(err["loc"][0]) for err in e.errors() if err.get("loc")}
        return RiskItemFilter(**{k: v for k, v in data.items() if k not in bad}), sorted(bad)


def scoped_items(request):
    """Items the user may read, narrowed to the region chosen in the switcher (list or firm there)."""
    qs = RiskItem.objects.restrict(request.user, "view")
    prefix = narrowed_prefix(request)
    if prefix:
        qs = qs.filter(Q(region__code__startswith=prefix) | enterprise_q(prefix, "enterprise__"))
    return qs


def _sorted(qs, sort: str):
    keys = SORTS.get(sort)
    return qs.order_by(*keys) if keys else qs


def with_related(qs):
    """Everything a list row shows, in a fixed number of queries."""
    owners = Prefetch("affected_owners", queryset=Enterprise.objects.only("pk", "name"))
    return qs.select_related("enterprise", "enterprise__region", "chain", "segment", "responsible").prefetch_related(
        owners
    )


@risk_page
@require_GET
def item_list(request):
    """The lists as tabs with counts, filters, sort and pages."""
    user = request.user
    flt, bad = _filter(request)
    base = scoped_items(request)
    current = flt.list or ""
    # tab counts follow every filter but the list itself
    others = flt.model_copy(update={"list": None})
    counted = others.filter(base).aggregate(
        all=Count("pk"), **{k: Count("pk", filter=list_q(k)) for k, _label in LIST_TABS if k}
    )
    tabs = [{"key": k, "label": label, "count": counted["all" if not k else k], "active": k == current}
            for k, label in LIST_TABS]  # fmt: skip
    sort = request.GET.get("sort", "")
    qs = _sorted(with_related(flt.filter(base)), sort)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [it.pk for it in page]
    changeable = set(RiskItem.objects.restrict(user, "change").filter(pk__in=ids).values_list("pk", flat=True))
    chains = list(Chain.objects.restrict(user, "view").only("pk", "name").order_by("code"))
    segments = (
        list(Segment.objects.restrict(user, "view").filter(chain_id=flt.chain).only("pk", "name"))
        if flt.chain else []
    )
    departments = list(
        base.exclude(department="").order_by("department").values_list("department", flat=True).distinct()[:100]
    )
    context = {
        "page": page,
        "tabs": tabs,
        "current_list": current,
        "bad_filters": bad,
        "sort": sort,
        "sorts": [("", _("默认")), ("days", _("距影响天数")), ("score", _("风险分值")), ("severity", _("严重程度")),
                  ("updated", _("最近更新")), ("enterprise", _("企业名称"))],  # fmt: skip
        "chains": chains,
        "segments": segments,
        "departments": departments,
        "statuses": RiskStatus.choices,
        "severities": Severity.choices,
        "sources": RiskSource.choices,
        "mitigations": Mitigation.choices,
        "changeable": changeable,
        "can_create": may_change(user),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "risk/item_list.html", context)


def _follow_ups(item: RiskItem, user) -> list[dict[str, str]]:
    """Buttons to open an appeal or a matching need from the item, for the apps that exist and the user may use."""
    out = []
    for key, label, names in FOLLOW_UPS:
        check = FOLLOW_UP_CHECKS.get(key)
        if check is not None and not check(user, item):
            continue
        for name in names:
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            out.append({"key": key, "label": label, "url": f"{url}?risk_item={item.pk}&enterprise={item.enterprise_id}"})
            break
    return out


def _evidence_rows(evidence) -> list[tuple[str, str]]:
    if not isinstance(evidence, dict):
        return [("", json.dumps(evidence, ensure_ascii=False))] if evidence else []
    rows = []
    for k, v in evidence.items():
        text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, indent=1)
        rows.append((str(k), text))
    return rows


def _timeline(item: RiskItem) -> list[dict]:
    """The item's audit records, oldest first: who did what, and which fields changed to what."""
    records = AuditRecord.objects.filter(model=RiskItem._meta.label, object_pk=str(item.pk)).order_by("seq")
    labels = {f.attname: str(f.verbose_name) for f in RiskItem._meta.concrete_fields}
    labels["affected_owners"] = str(RiskItem._meta.get_field("affected_owners").verbose_name)
    out = []
    for r in records:
        after = r.after or {}
        shown = {} if r.action == "create" else {labels.get(k, k): v for k, v in after.items()}
        out.append({"at": r.created_at, "who": r.actor_name, "action": r.action, "changes": shown})
    return out


@risk_page
@require_GET
def item_detail(request, pk: int):
    """One item: facts, affected owners, evidence, history, follow-up buttons."""
    user = request.user
    item = get_scoped(with_related(RiskItem.objects.all()).select_related("region"), user, pk=pk)
    context = {
        "item": item,
        "owners": list(item.affected_owners.all()),
        "evidence": _evidence_rows(item.evidence),
        "timeline": _timeline(item),
        "can_edit": RiskItem.objects.restrict(user, "change").filter(pk=item.pk).exists(),
        "follow_ups": _follow_ups(item, request.user),
    }
    return render(request, "risk/item_detail.html", context)




@risk_page
def item_edit(request, pk: int):
    """A task force's edit: status, mitigation, note, department, responsible, days to impact."""
    user = request.user
    item = get_scoped(RiskItem.objects.select_related("enterprise"), user, "change", pk=pk)
    form = RiskItemEditForm(request.POST or None, instance=copy.copy(item), user=user)
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in form.changed_data}
        if not changes or save_or_form_errors(form, services.update_item, user, item, **changes):
            messages.success(request, _("风险条目已保存"))
            return redirect("risk:item_detail", pk=item.pk)
    context = {
        "form": form,
        "title": _("处置风险：%(title)s") % {"title": item.title},
        "cancel_url": reverse("risk:item_detail", args=[item.pk]),
    }
    return render(request, "risk/item_form.html", context)


@risk_page
def item_create(request):
    """A manually registered item (task forces and administrators)."""
    user = request.user
    if not may_change(user):
        raise Http404("未找到 / not found")
    form = RiskItemCreateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        owners = d.pop("affected_owners")
        created = save_or_form_errors(form, services.create_item, user, affected_owners=owners, **d)
        if created:
            messages.success(request, _("风险条目已登记"))
            return redirect("risk:item_detail", pk=created.pk)
    context = {"form": form, "title": _("登记风险"), "cancel_url": reverse("risk:item_list")}
    return render(request, "risk/item_form.html", context)


@risk_page
@require_GET
def item_export(request):
    """The filtered items as .xlsx, one sheet per list (市内/省内/省外/境外, 境外依赖)."""
    flt, _bad = _filter(request)
    qs = with_related(flt.model_copy(update={"list": None}).filter(scoped_items(request)))
    out = export.write_lists(_sorted(qs, request.GET.get("sort", "")))
    return FileResponse(out, as_attachment=True, filename="断链断供风险清单.xlsx", content_type=export.XLSX)
