"""API: dispatch metrics (overview, breakdown, series), the held-back list and power anomalies.

All read the roll-ups or the registry through restrict(); a region, chain or segment outside the
user's scope is a 404; malformed parameters are a 422 (handlers in gulian/api.py). Enterprise
users get 404: their own reports are under the report endpoints.
"""

import datetime as dt

from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import PageNumberPagination, paginate

from gulian.core.api import PAGE
from gulian.core.schemas import ErrorOut
from gulian.dispatch import heldback, metrics, power
from gulian.dispatch.metrics_schemas import (
    AnomalyOut,
    AnomalyQuery,
    BreakdownQuery,
    BreakdownRowOut,
    DayQuery,
    HeldBackOut,
    HeldBackQuery,
    OverviewOut,
    SeriesPointOut,
    SeriesQuery,
)

router = Router(tags=["dispatch-metrics"])
ERRORS = {404: ErrorOut, 422: ErrorOut}
DEFAULT_SERIES_DAYS = 30


def _slice(q) -> dict:
    return {"region": q.region, "chain": q.chain, "segment": q.segment, "scale": q.scale, "above_size": q.above_size}


@router.get("/overview", response={200: OverviewOut, **ERRORS}, summary="日调度总览（某日、某区域/产业链）")
def get_overview(request, q: Query[DayQuery]):
    """Expected and reporting enterprises, rates, blockers and changes against the day and week before."""
    return metrics.overview(request.auth, q.date or timezone.localdate(), **_slice(q))


@router.get("/breakdown", response={200: list[BreakdownRowOut], **ERRORS}, summary="分区域/产业链/环节/规模")
def get_breakdown(request, q: Query[BreakdownQuery]):
    """One row per child region (one level down), chain, segment, scale or 规上/规下."""
    return metrics.breakdown(request.auth, q.date or timezone.localdate(), by=q.by, **_slice(q))


@router.get("/series", response={200: list[SeriesPointOut], **ERRORS}, summary="逐日序列（趋势图）")
def get_series(request, q: Query[SeriesQuery]):
    """One point per day from start to end (at most 731 days); days without data have null rates."""
    end = q.end or timezone.localdate()
    start = q.start or end - dt.timedelta(days=DEFAULT_SERIES_DAYS - 1)
    return metrics.series(request.auth, start, end, **_slice(q))


@router.get("/held-back", response={200: list[HeldBackOut], **ERRORS}, summary="龙头企业未复工达产配套企业名单")
@paginate(PageNumberPagination, **PAGE)
def get_held_back(request, q: Query[HeldBackQuery]):
    """Core and tier-1 suppliers of chain owners in scope that have not resumed, are below threshold or did not report."""
    return heldback.held_back(
        request.auth, q.date or timezone.localdate(), chain=q.chain, owner=q.owner, region=q.region,
        owner_region=q.owner_region, scope=q.scope, status=q.status, sort=q.sort,
    )  # fmt: skip


@router.get("/anomalies", response={200: list[AnomalyOut], **ERRORS}, summary="产能利用率与电力指数不一致的企业")
@paginate(PageNumberPagination, **PAGE)
def get_anomalies(request, q: Query[AnomalyQuery]):
    """Enterprises whose reported utilisation and power index/100 differ by more than the margin."""
    return power.anomalies(request.auth, q.date or timezone.localdate(), region=q.region, margin=q.margin)
