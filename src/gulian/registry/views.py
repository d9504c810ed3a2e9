"""Registry pages: enterprises, chains (the chain page), segments, memberships, supply links.

Reads go through restrict() (single objects through get_scoped, so out of scope is a 404) and are
narrowed by the region switcher; writes go through gulian.registry.services only.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError as PydanticError

from gulian.core.models import Role
from gulian.core.regionview import chain_q, enterprise_q, narrowed_prefix
from gulian.core.services import OutOfScope, get_scoped
from gulian.core.views import save_or_form_errors, usable_required
from gulian.registry import chainpage, services
from gulian.registry.filters import ChainFilter, EnterpriseFilter, SupplyLinkFilter
from gulian.registry.forms import ChainForm, EnterpriseForm, LinkForm, MembershipForm, SegmentForm
from gulian.registry.models import Chain, Enterprise, MemberRole, Membership, Scale, Segment, SupplyLink
from gulian.registry.scope import LinkScope

PAGE_SIZE = 50
RELATED_ROWS = 200  # suppliers/customers listed on an enterprise page before "see all"
SCALE_RANK = Case(*(When(scale=s, then=Value(i)) for i, s in enumerate(Scale.values)), default=Value(9),
                  output_field=IntegerField())  # fmt: skip
BY_VALUE = F("annual_value").desc(nulls_last=True)  # the largest suppliers and customers first
ENTERPRISE_SORTS = {"name": ("name",), "region": ("region__code", "name"), "scale": (SCALE_RANK, "name")}


def _filter(filter_cls, request):
    """The shared FilterSchema built from GET; fields that do not parse are dropped and reported."""
    data = {k: v.strip() for k, v in request.GET.items() if k in filter_cls.model_fields and v.strip()}
    try:
        return filter_cls(**data), []
    except PydanticError as e:
        bad = {str(err["loc"][0]) for err in e.errors() if err.get("loc")}
        return filter_cls(**{k: v for k, v in data.items() if k not in bad}), sorted(bad)


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _can(qs, user, pk) -> bool:
    return qs.restrict(user, "change").filter(pk=pk).exists()




# ---- enterprises ----------------------------------------------------------------------------------


@usable_required
def enterprise_list(request):
    user, prefix = request.user, narrowed_prefix(request)
    flt, bad = _filter(EnterpriseFilter, request)
    qs = flt.filter(Enterprise.objects.restrict(user, "view").filter(enterprise_q(prefix)))
    sort = request.GET.get("sort", "name")
    keys = ENTERPRISE_SORTS.get(sort.lstrip("-"), ENTERPRISE_SORTS["name"])
    if sort.startswith("-"):
        keys = tuple(k.desc() if hasattr(k, "desc") else f"-{k}" for k in keys)
    qs = qs.select_related("region", "industry").order_by(*keys)
    chains = Chain.objects.restrict(user, "view").filter(chain_q(prefix)).only("pk", "name")
    context = {
        "page": _page(request, qs),
        "bad_filters": bad,
        "sort": sort,
        "sort_next": {k: f"-{k}" if sort == k else k for k in ENTERPRISE_SORTS},
        "sort_arrow": {k: "▲" if sort == k else "▼" if sort == f"-{k}" else "" for k in ENTERPRISE_SORTS},
        "scales": Scale.choices,
        "chains": chains,
        "can_create": user.is_admin or user.role == Role.TASKFORCE,
    }
    return render(request, "registry/enterprise_list.html", context)


@usable_required
def enterprise_detail(request, pk: int):
    user = request.user
    ent = get_scoped(Enterprise.objects.select_related("region", "industry", "liaison"), user, pk=pk)
    links = SupplyLink.objects.restrict(user, "view")
    suppliers = links.filter(customer=ent).select_related("supplier", "supplier__region")
    customers = links.filter(supplier=ent).select_related("customer", "customer__region")
    memberships = (
        Membership.objects.restrict(user, "view").filter(enterprise=ent).select_related("chain", "segment")
    )
    changeable = set(
        Membership.objects.restrict(user, "change").filter(enterprise=ent).values_list("pk", flat=True)
    )
    context = {
        "ent": ent,
        "suppliers": list(
            suppliers.order_by(BY_VALUE, "input_category", "supplier__name")[: RELATED_ROWS + 1]
        ),
        "customers": list(
            customers.order_by(BY_VALUE, "input_category", "customer__name")[: RELATED_ROWS + 1]
        ),
        "related_rows": RELATED_ROWS,
        "memberships": memberships,
        "changeable_memberships": changeable,
        "can_edit": _can(Enterprise.objects, user, ent.pk),
    }
    return render(request, "registry/enterprise_detail.html", context)


@usable_required
def enterprise_create(request):
    user = request.user
    form = EnterpriseForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k in form.fields}
        created = save_or_form_errors(form, services.create_enterprise, user, **fields)
        if created:
            messages.success(request, _("企业已登记"))
            return redirect("registry:enterprise_detail", pk=created.pk)
    return render(
        request,
        "registry/form.html",
        {"form": form, "title": _("登记企业"), "cancel_url": reverse("registry:enterprise_list")},
    )


@usable_required
def enterprise_edit(request, pk: int):
    user = request.user
    ent = get_scoped(Enterprise.objects.all(), user, "change", pk=pk)
    # the form works on a copy: ModelForm validation writes into its instance, and the service must see
    # the old values to audit the change
    form = EnterpriseForm(request.POST or None, instance=copy.copy(ent), user=user)
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in form.changed_data}
        if save_or_form_errors(form, services.update_enterprise, user, ent, **changes):
            messages.success(request, _("企业信息已保存"))
            return redirect("registry:enterprise_detail", pk=ent.pk)
    cancel = reverse("registry:enterprise_detail", args=[ent.pk])
    context = {"form": form, "title": _("编辑企业：%(name)s") % {"name": ent.name}, "cancel_url": cancel}
    return render(request, "registry/form.html", context)


# ---- chains ---------------------------------------------------------------------------------------


@usable_required
def chain_list(request):
    user, prefix = request.user, narrowed_prefix(request)
    flt, bad = _filter(ChainFilter, request)
    chains = list(
        flt.filter(Chain.objects.restrict(user, "view").filter(chain_q(prefix))).select_related("region")[
            :500
        ]
    )
    members = Membership.objects.restrict(user, "view").filter(chain__in=[c.pk for c in chains])
    if prefix:
        members = members.filter(enterprise_q(prefix, "enterprise__"))
    counts = {
        r["chain"]: r
        for r in members.order_by()
        .values("chain")
        .annotate(n=Count("pk"), owners=Count("pk", filter=Q(role=MemberRole.OWNER)))
    }
    for c in chains:
        c.member_count = counts.get(c.pk, {}).get("n", 0)
        c.owner_count = counts.get(c.pk, {}).get("owners", 0)
    context = {
        "chains": chains,
        "bad_filters": bad,
        "can_create": user.is_admin or user.role == Role.TASKFORCE,
    }
    return render(request, "registry/chain_list.html", context)


@usable_required
def chain_detail(request, pk: int):
    user = request.user
    chain = get_scoped(Chain.objects.select_related("region"), user, pk=pk)
    detail_url = reverse("registry:enterprise_detail", args=[0])[:-2]  # ".../enterprises/" + id + "/"
    page = chainpage.build(user, chain, narrowed_prefix(request), detail_url)
    can_change = _can(Chain.objects, user, chain.pk)
    segments = [b for b in page.segments if b.pk]
    context = {
        "chain": chain,
        "page": page,
        "detail_url": detail_url,
        # row links are built from these prefixes: one reverse() per page instead of one per member
        "remove_url": reverse("registry:membership_remove", args=[0])[: -len("0/remove/")],
        "remove_title": _("移出产业链"),
        "can_change": can_change,
        "member_form": MembershipForm(user=user, chain=chain, segments=segments) if can_change else None,
        "members_per_group": chainpage.MEMBERS_PER_GROUP,
        "graph_nodes": chainpage.GRAPH_NODES,
    }
    return render(request, "registry/chain_detail.html", context)


@usable_required
def chain_create(request):
    user = request.user
    form = ChainForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        segments = [s.strip() for s in request.POST.get("segments", "").splitlines() if s.strip()]
        created = save_or_form_errors(form, services.create_chain, user, segments=segments, **form.cleaned_data)
        if created:
            messages.success(request, _("产业链已创建"))
            return redirect("registry:chain_detail", pk=created.pk)
    cancel = reverse("registry:chain_list")
    context = {"form": form, "title": _("新建产业链"), "cancel_url": cancel, "segments_box": True}
    return render(request, "registry/form.html", context)


@usable_required
def chain_edit(request, pk: int):
    user = request.user
    chain = get_scoped(Chain.objects.all(), user, "change", pk=pk)
    form = ChainForm(request.POST or None, instance=copy.copy(chain), user=user)
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in form.changed_data}
        if save_or_form_errors(form, services.update_chain, user, chain, **changes):
            messages.success(request, _("产业链已保存"))
            return redirect("registry:chain_detail", pk=chain.pk)
    cancel = reverse("registry:chain_detail", args=[chain.pk])
    context = {"form": form, "title": _("编辑产业链：%(name)s") % {"name": chain.name}, "cancel_url": cancel}
    return render(request, "registry/form.html", context)


@usable_required
def segment_create(request, pk: int):
    user = request.user
    chain = get_scoped(Chain.objects.all(), user, "change", pk=pk)
    form = SegmentForm(request.POST or None, instance=Segment(chain=chain))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if save_or_form_errors(
            form, services.create_segment, user, chain, d["name"], d.get("order"), d.get("description", "")
        ):
            messages.success(request, _("环节已添加"))
            return redirect("registry:chain_detail", pk=chain.pk)
    cancel = reverse("registry:chain_detail", args=[chain.pk])
    context = {"form": form, "title": _("添加环节：%(name)s") % {"name": chain.name}, "cancel_url": cancel}
    return render(request, "registry/form.html", context)


@usable_required
def segment_edit(request, pk: int):
    user = request.user
    segment = get_scoped(Segment.objects.select_related("chain"), user, "change", pk=pk)
    form = SegmentForm(request.POST or None, instance=copy.copy(segment))
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in form.changed_data if form.cleaned_data[k] is not None}
        if save_or_form_errors(form, services.update_segment, user, segment, **changes):
            messages.success(request, _("环节已保存"))
            return redirect("registry:chain_detail", pk=segment.chain_id)
    cancel = reverse("registry:chain_detail", args=[segment.chain_id])
    context = {"form": form, "title": _("编辑环节：%(name)s") % {"name": segment.name}, "cancel_url": cancel}
    return render(request, "registry/form.html", context)


@require_POST
@usable_required
def membership_add(request, pk: int):
    user = request.user
    chain = get_scoped(Chain.objects.all(), user, "change", pk=pk)
    form = MembershipForm(request.POST, user=user, chain=chain)
    if form.is_valid():
        d = form.cleaned_data
        fields = {"segment": d["segment"], "role": d["role"], "note": d["note"]}
        if save_or_form_errors(form, services.save_membership, user, d["enterprise"], chain, **fields):
            messages.success(request, _("已加入产业链：%(name)s") % {"name": d["enterprise"].name})
            return redirect("registry:chain_detail", pk=chain.pk)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("registry:chain_detail", pk=chain.pk)


@require_POST
@usable_required
def membership_remove(request, pk: int):
    user = request.user
    membership = get_scoped(Membership.objects.select_related("enterprise"), user, "change", pk=pk)
    try:
        services.delete_membership(user, membership)
    except OutOfScope:
        raise Http404("未找到 / not found")
    if request.headers.get("HX-Request"):
        return HttpResponse("")  # the chain page drops the row itself
    messages.success(request, _("已移出产业链：%(name)s") % {"name": membership.enterprise.name})
    target = request.POST.get("next")
    if target == "enterprise":
        return redirect("registry:enterprise_detail", pk=membership.enterprise_id)
    return redirect("registry:chain_detail", pk=membership.chain_id)


# ---- supply links ---------------------------------------------------------------------------------


@usable_required
def link_list(request):
    user, prefix = request.user, narrowed_prefix(request)
    flt, bad = _filter(SupplyLinkFilter, request)
    qs = SupplyLink.objects.restrict(user, "view")
    if prefix:
        qs = qs.filter(enterprise_q(prefix, "customer__") | enterprise_q(prefix, "supplier__"))
    qs = flt.filter(qs).select_related("supplier", "supplier__region", "customer", "customer__region")
    page = _page(request, qs.order_by("customer__name", "input_category", "supplier__name", "pk"))
    ids = [link.pk for link in page]
    changeable = set(
        SupplyLink.objects.restrict(user, "change").filter(pk__in=ids).values_list("pk", flat=True)
    )
    context = {
        "page": page,
        "changeable": changeable,
        "bad_filters": bad,
        "scopes": LinkScope.choices,
        "can_create": bool(changeable) or user.is_admin or user.role in (Role.TASKFORCE, Role.LIAISON),
    }
    return render(request, "registry/link_list.html", context)


def _link_form_page(request, link=None):
    user = request.user
    form = LinkForm(request.POST or None, user=user, link=link)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        key = (d["supplier"], d["customer"], d["input_category"])
        if save_or_form_errors(form, services.save_link, user, *key, **form.link_fields()):
            messages.success(request, _("供应关系已保存"))
            return redirect(f"{reverse('registry:link_list')}?customer={d['customer'].pk}")
    title = _("编辑供应关系") if link else _("新增供应关系")
    return render(request, "registry/link_form.html", {"form": form, "title": title, "link": link})


@usable_required
def link_create(request):
    return _link_form_page(request)


@usable_required
def link_edit(request, pk: int):
    link = get_scoped(
        SupplyLink.objects.select_related("supplier", "customer"), request.user, "change", pk=pk
    )
    return _link_form_page(request, link)


@require_POST
@usable_required
def link_delete(request, pk: int):
    link = get_scoped(SupplyLink.objects.all(), request.user, "change", pk=pk)
    try:
        services.delete_link(request.user, link)
    except OutOfScope:
        raise Http404("未找到 / not found")
    messages.success(request, _("供应关系已删除"))
    return redirect("registry:link_list")
