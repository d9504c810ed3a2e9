"""API: enterprises, chains, segments, memberships, supply links.

Reads go through ``restrict(user, "view")``; writes through gulian.registry.services, which check the
'change' scope and audit. Errors (Django ValidationError → 422, OutOfScope → 403, Http404 → 404) are
turned into JSON by the handlers in gulian/api.py. A record referenced in a request body that the user
cannot see is reported as a 422 on that field, with the same words as a missing one.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import PageNumberPagination, paginate

from gulian.core.api import PAGE
from gulian.core.models import Industry, Region, Role, User
from gulian.core.schemas import ErrorOut
from gulian.core.services import get_scoped
from gulian.core.uscc import compact as compact_uscc
from gulian.registry import services
from gulian.registry.filters import (
    ChainFilter,
    EnterpriseFilter,
    MembershipFilter,
    SegmentFilter,
    SupplyLinkFilter,
)
from gulian.registry.models import Chain, Enterprise, Membership, Segment, SupplyLink
from gulian.registry.schemas import (
    ChainIn,
    ChainOut,
    ChainPatch,
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePatch,
    MembershipIn,
    MembershipOut,
    MembershipPatch,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
    SupplyLinkIn,
    SupplyLinkOut,
    SupplyLinkPatch,
)

router = Router(tags=["registry"])

READ_ERRORS = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# Non-null text columns: an explicit null in a request means "blank".
TEXT_FIELDS = set("scale contact_name contact_phone contact_email address leader description note".split())


def _not_found(field: str) -> ValidationError:
    return ValidationError({field: _("不存在或不在管辖范围内 / does not exist or is outside your scope")})


def _visible(model, user, field: str, pk: int | None):
    """The record ``pk`` of ``model`` if ``user`` may view it (None stays None), else a 422 on ``field``."""
    if pk is None:
        return None
    obj = model.objects.restrict(user, "view").filter(pk=pk).first()
    if obj is None:
        raise _not_found(field)
    return obj


def _code(model, field: str, code: str | None) -> str | None:
    """A region or industry code checked to exist (reference data is public)."""
    if code and not model.objects.filter(pk=code).exists():
        raise _not_found(field)
    return code or None


def _fields(payload, user, refs: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Model keyword arguments from a request body: references resolved, text nulls blanked."""
    data = payload.dict(exclude_unset=partial)
    out = {}
    for name, value in data.items():
        if name in refs:
            name, value = refs[name](name, value)
        elif name in TEXT_FIELDS and value is None:
            value = ""
        out[name] = value
    return out


def _enterprise_refs(user) -> dict[str, Any]:
    def liaison(name, pk):
        if pk is not None:
            users = User.objects.restrict(user, "view").filter(role=Role.LIAISON)
            if not users.filter(pk=pk).exists():
                raise _not_found(name)
        return "liaison_id", pk

    return {
        "uscc": lambda name, v: (name, compact_uscc(v) if v else None),
        "country": lambda name, v: (name, v.upper() if v else v),
        "region": lambda name, v: ("region_id", _code(Region, name, v)),
        "industry": lambda name, v: ("industry_id", _code(Industry, name, v)),
        "liaison": liaison,
    }


def _reread(queryset, obj):
    """The written record as the database now holds it (normalised decimals, related names)."""
    return queryset.get(pk=obj.pk)


# --- enterprises -------------------------------------------------------------------------------


def _enterprises():
    return Enterprise.objects.select_related("region", "industry")


@router.get("/enterprises", response=list[EnterpriseOut], summary="企业列表")
@paginate(PageNumberPagination, **PAGE)
def list_enterprises(request, filters: Query[EnterpriseFilter]):
    return filters.filter(_enterprises().restrict(request.auth, "view")).order_by("name", "pk")


@router.get("/enterprises/{id}", response={200: EnterpriseOut, **READ_ERRORS}, summary="一家企业")
def get_enterprise(request, id: int):
    return get_scoped(_enterprises(), request.auth, id=id)


@router.post("/enterprises", response={201: EnterpriseOut, **WRITE_ERRORS}, summary="登记企业")
def create_enterprise(request, payload: EnterpriseIn):
    user = request.auth
    fields = _fields(payload, user, _enterprise_refs(user), partial=False)
    return 201, _reread(_enterprises(), services.create_enterprise(user, **fields))


@router.patch("/enterprises/{id}", response={200: EnterpriseOut, **WRITE_ERRORS}, summary="修改企业")
def update_enterprise(request, id: int, payload: EnterprisePatch):
    user = request.auth
    enterprise = get_scoped(_enterprises(), user, id=id)
    fields = _fields(payload, user, _enterprise_refs(user), partial=True)
    return _reread(_enterprises(), services.update_enterprise(user, enterprise, **fields))


# --- chains ------------------------------------------------------------------------------------


def _chains():
    return Chain.objects.select_related("region").prefetch_related("segments")


REGION_REF = {"region": lambda name, v: ("region_id", _code(Region, name, v))}


@router.get("/chains", response=list[ChainOut], summary="产业链列表")
@paginate(PageNumberPagination, **PAGE)
def list_chains(request, filters: Query[ChainFilter]):
    return filters.filter(_chains().restrict(request.auth, "view")).order_by("code")


@router.get("/chains/{id}", response={200: ChainOut, **READ_ERRORS}, summary="一条产业链")
def get_chain(request, id: int):
    return get_scoped(_chains(), request.auth, id=id)


@router.post("/chains", response={201: ChainOut, **WRITE_ERRORS}, summary="新建产业链（可带环节）")
def create_chain(request, payload: ChainIn):
    fields = _fields(payload, request.auth, REGION_REF, partial=False)
    return 201, _reread(_chains(), services.create_chain(request.auth, **fields))


@router.patch("/chains/{id}", response={200: ChainOut, **WRITE_ERRORS}, summary="修改产业链")
def update_chain(request, id: int, payload: ChainPatch):
    chain = get_scoped(_chains(), request.auth, id=id)
    fields = _fields(payload, request.auth, REGION_REF, partial=True)
    return _reread(_chains(), services.update_chain(request.auth, chain, **fields))


# --- segments ----------------------------------------------------------------------------------


def _segments():
    return Segment.objects.select_related("chain")


@router.get("/segments", response=list[SegmentOut], summary="环节列表")
@paginate(PageNumberPagination, **PAGE)
def list_segments(request, filters: Query[SegmentFilter]):
    return filters.filter(_segments().restrict(request.auth, "view")).order_by("chain_id", "order")


@router.get("/segments/{id}", response={200: SegmentOut, **READ_ERRORS}, summary="一个环节")
def get_segment(request, id: int):
    return get_scoped(_segments(), request.auth, id=id)


@router.post("/segments", response={201: SegmentOut, **WRITE_ERRORS}, summary="新增环节")
def create_segment(request, payload: SegmentIn):
    chain = _visible(Chain, request.auth, "chain", payload.chain)
    segment = services.create_segment(
        request.auth, chain, payload.name, order=payload.order, description=payload.description
    )
    return 201, _reread(_segments(), segment)


@router.patch("/segments/{id}", response={200: SegmentOut, **WRITE_ERRORS}, summary="修改环节")
def update_segment(request, id: int, payload: SegmentPatch):
    segment = get_scoped(_segments(), request.auth, id=id)
    fields = _fields(payload, request.auth, {}, partial=True)
    return _reread(_segments(), services.update_segment(request.auth, segment, **fields))


# --- memberships -------------------------------------------------------------------------------


def _memberships():
    return Membership.objects.select_related("enterprise", "chain", "segment")


def _segment_ref(user):
    return {"segment": lambda name, pk: (name, _visible(Segment, user, name, pk))}


@router.get("/memberships", response=list[MembershipOut], summary="产业链成员列表")
@paginate(PageNumberPagination, **PAGE)
def list_memberships(request, filters: Query[MembershipFilter]):
    qs = filters.filter(_memberships().restrict(request.auth, "view"))
    return qs.order_by("chain_id", "segment__order", "enterprise__name", "pk")


@router.get("/memberships/{id}", response={200: MembershipOut, **READ_ERRORS}, summary="一条成员关系")
def get_membership(request, id: int):
    return get_scoped(_memberships(), request.auth, id=id)


@router.post("/memberships", response={201: MembershipOut, **WRITE_ERRORS}, summary="企业加入产业链")
def create_membership(request, payload: MembershipIn):
    user = request.auth
    enterprise = _visible(Enterprise, user, "enterprise", payload.enterprise)
    chain = _visible(Chain, user, "chain", payload.chain)
    if Membership.objects.filter(enterprise=enterprise, chain=chain).exists():
        raise ValidationError(
            _("该企业已在此产业链中，请用 PATCH 修改 / already a member; use PATCH to change it")
        )
    fields = _fields(payload, user, _segment_ref(user), partial=False)
    del fields["enterprise"], fields["chain"]
    return 201, _reread(_memberships(), services.save_membership(user, enterprise, chain, **fields))


@router.patch("/memberships/{id}", response={200: MembershipOut, **WRITE_ERRORS}, summary="修改成员关系")
def update_membership(request, id: int, payload: MembershipPatch):
    user = request.auth
    membership = get_scoped(_memberships(), user, id=id)
    fields = _fields(payload, user, _segment_ref(user), partial=True)
    return _reread(
        _memberships(), services.save_membership(user, membership.enterprise, membership.chain, **fields)
    )


# --- supply links ------------------------------------------------------------------------------


def _links():
    return SupplyLink.objects.select_related("supplier", "customer")


@router.get("/links", response=list[SupplyLinkOut], summary="供应关系列表")
@paginate(PageNumberPagination, **PAGE)
def list_links(request, filters: Query[SupplyLinkFilter]):
    qs = filters.filter(_links().restrict(request.auth, "view"))
    return qs.order_by("customer__name", "input_category", "supplier__name", "pk")


@router.get("/links/{id}", response={200: SupplyLinkOut, **READ_ERRORS}, summary="一条供应关系")
def get_link(request, id: int):
    return get_scoped(_links(), request.auth, id=id)


@router.post("/links", response={201: SupplyLinkOut, **WRITE_ERRORS}, summary="新增供应关系（范围自动判定）")
def create_link(request, payload: SupplyLinkIn):
    user = request.auth
    supplier = _visible(Enterprise, user, "supplier", payload.supplier)
    customer = _visible(Enterprise, user, "customer", payload.customer)
    fields = _fields(payload, user, {}, partial=False)
    del fields["supplier"], fields["customer"]
    category = fields.pop("input_category")
    if SupplyLink.objects.filter(supplier=supplier, customer=customer, input_category=category).exists():
        raise ValidationError(
            {
                "input_category": _(
                    "该供应关系已存在，请用 PATCH 修改 / this link exists; use PATCH to change it"
                )
            }
        )
    return 201, _reread(_links(), services.save_link(user, supplier, customer, category, **fields))


@router.patch("/links/{id}", response={200: SupplyLinkOut, **WRITE_ERRORS}, summary="修改供应关系")
def update_link(request, id: int, payload: SupplyLinkPatch):
    user = request.auth
    link = get_scoped(_links(), user, id=id)
    fields = _fields(payload, user, {}, partial=True)
    services.update_link(user, link, **fields)
    return _reread(_links(), link)
