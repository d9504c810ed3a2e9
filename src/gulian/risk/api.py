"""Risk API under /api/risk/: risk items, scenarios and runs, nowcast (docs/api.md)."""

from ninja import Router

router = Router(tags=["risk"])


# --- risk items (断链断供风险清单), gulian.risk.services ----------------------------------------------
from django.db.models import Prefetch as _Prefetch  # noqa: E402
from ninja import Query as _ItemQuery  # noqa: E402
from ninja.pagination import PageNumberPagination as _Pages  # noqa: E402
from ninja.pagination import paginate as _paginate  # noqa: E402

from gulian.core.api import PAGE as _PAGE  # noqa: E402
from gulian.core.schemas import ErrorOut as _ItemError  # noqa: E402
from gulian.core.services import get_scoped as _get_scoped  # noqa: E402
from gulian.registry.models import Enterprise as _Enterprise  # noqa: E402
from gulian.risk import services as _risk_services  # noqa: E402
from gulian.risk.models import RiskItem as _RiskItem  # noqa: E402
from gulian.risk.schemas import RiskItemFilter, RiskItemOut, RiskItemPatch  # noqa: E402

_TEXT = {"mitigation", "mitigation_note", "department"}  # non-null text: an explicit null means blank


def _items():
    owners = _Prefetch("affected_owners", queryset=_Enterprise.objects.only("pk"))
    return _RiskItem.objects.select_related("enterprise", "chain", "segment").prefetch_related(owners)


@router.get("/items", response=list[RiskItemOut], summary="风险清单条目列表")
@_paginate(_Pages, **_PAGE)
def list_items(request, filters: _ItemQuery[RiskItemFilter]):
    """Items in scope, filtered (list=city|province|domestic|foreign|overseas, chain, status, ...)."""
    return filters.filter(_items().restrict(request.auth, "view")).order_by(*_RiskItem._meta.ordering)


@router.get("/items/{id}", response={200: RiskItemOut, 404: _ItemError}, summary="一个风险条目")
def get_item(request, id: int):
    """One item (404 outside the user's scope)."""
    return _get_scoped(_items(), request.auth, id=id)


@router.patch("/items/{id}", response={200: RiskItemOut, 403: _ItemError, 404: _ItemError, 422: _ItemError},
              summary="处置风险条目（状态、处置方式、责任部门等）")  # fmt: skip
def patch_item(request, id: int, payload: RiskItemPatch):
    """A task force's change: status, mitigation, note, department, responsible, days to impact."""
    user = request.auth
    item = _get_scoped(_items(), user, id=id)
    changes = {}
    for name, value in payload.dict(exclude_unset=True).items():
        if name == "status" and value is None:
            continue
        if name in _TEXT and value is None:
            value = ""
        changes["responsible_id" if name == "responsible" else name] = value
    _risk_services.update_item(user, item, **changes)
    return _items().get(pk=item.pk)


# --- nowcast (断链预警), gulian.risk.nowcasting ------------------------------------------------------
from ninja import Query as _NowcastQueryParam  # noqa: E402

from gulian.core.schemas import ErrorOut as _NowcastError  # noqa: E402
from gulian.risk import nowcasting  # noqa: E402
from gulian.risk.nowcast_schemas import NowcastOut, NowcastQuery  # noqa: E402


@router.get("/nowcast", response={200: NowcastOut, 404: _NowcastError, 422: _NowcastError},
            summary="断链预警：预计停产的链主、日期与断供企业")  # fmt: skip
def get_nowcast(request, q: _NowcastQueryParam[NowcastQuery]):
    """Chain owners in scope predicted to stall within the horizon, on which day and through which supplier."""
    chains = [q.chain] if q.chain else ()
    return nowcasting.compute(request.auth, q.date, region=q.region, chains=chains, horizon=q.horizon)
