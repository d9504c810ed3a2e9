"""API: regions and industries (reference data) and the signed-in user (``/me``)."""

from ninja import Query, Router
from ninja.pagination import PageNumberPagination, paginate

from gulian.core.models import Industry, Region
from gulian.core.schemas import IndustryFilter, IndustryOut, MeOut, RegionFilter, RegionOut
from gulian.core.services import get_scoped

router = Router(tags=["reference"])

# Shared by every list endpoint of the API (registry/api.py imports it too).
PAGE = {"page_size": 50, "max_page_size": 500}


@router.get("/me", response=MeOut, tags=["me"], summary="当前用户、角色与管辖范围")
def me(request):
    return request.auth


@router.get("/regions", response=list[RegionOut], summary="行政区划列表")
@paginate(PageNumberPagination, **PAGE)
def list_regions(request, filters: Query[RegionFilter]):
    return filters.filter(Region.objects.restrict(request.auth, "view")).order_by("code")


@router.get("/regions/{code}", response=RegionOut, summary="一个行政区划")
def get_region(request, code: str):
    return get_scoped(Region.objects.all(), request.auth, "view", code=code)


@router.get("/industries", response=list[IndustryOut], summary="国民经济行业分类列表")
@paginate(PageNumberPagination, **PAGE)
def list_industries(request, filters: Query[IndustryFilter]):
    return filters.filter(Industry.objects.restrict(request.auth, "view")).order_by("code")


@router.get("/industries/{code}", response=IndustryOut, summary="一个行业分类")
def get_industry(request, code: str):
    return get_scoped(Industry.objects.all(), request.auth, "view", code=code)
