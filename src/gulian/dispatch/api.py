"""API: daily report submission (one, or a batch under an Idempotency-Key), reading, missing reports.

Writes go through gulian.dispatch.services (scope, versions, late flag, audit, roll-up marks); reads
through ``restrict(user, "view")``. An enterprise named in a request body that the user may not
report for is a 422 on that field, worded the same whether it exists or not (docs/api.md).
"""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import JsonResponse
from django.utils.translation import gettext as _
from ninja import Header, Query, Router
from ninja.pagination import PageNumberPagination, paginate

from gulian.core.api import PAGE
from gulian.core.schemas import ErrorOut
from gulian.core.services import get_scoped
from gulian.core.uscc import compact as compact_uscc
from gulian.dispatch import services
from gulian.dispatch.filters import DailyReportFilter
from gulian.dispatch.missing import missing_reports
from gulian.dispatch.models import DailyReport, DailyReportVersion, Source
from gulian.dispatch.reportdata import FIELDS, problem
from gulian.dispatch.schemas import (
    DailyReportBatchIn,
    DailyReportBatchOut,
    DailyReportDetailOut,
    DailyReportIn,
    DailyReportOut,
    DailyReportSubmitOut,
    MissingOut,
    MissingQuery,
)
from gulian.registry.models import Enterprise

router = Router(tags=["dispatch"])

READ_ERRORS = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
KEY_MAX = 128


def _reports():
    return DailyReport.objects.select_related("enterprise")


def _enterprise(user, payload: DailyReportIn) -> Enterprise:
    """The enterprise the report is for, if the user may report for it; else a 422 on the field used."""
    scope = Enterprise.objects.domestic(user, "change")
    if payload.enterprise is not None:
        name, firm = "enterprise", scope.filter(pk=payload.enterprise).first()
    elif payload.uscc:
        name, firm = "uscc", scope.filter(uscc=compact_uscc(payload.uscc)).first()
    else:
        raise ValidationError({"enterprise": [problem("enterprise", "enterprise_required").message]})
    if firm is None:
        raise ValidationError({name: [problem(name, "enterprise_scope").message]})
    return firm


@router.post(
    "/reports",
    response={200: DailyReportSubmitOut, 201: DailyReportSubmitOut, **WRITE_ERRORS},
    summary="提交一份日报（新建 201，更正或内容相同 200）",
)
def submit_report(request, payload: DailyReportIn):
    user = request.auth
    firm = _enterprise(user, payload)
    outcome = services.submit(user, firm, payload.date, payload.dict(include=set(FIELDS)), Source.API)
    report = _reports().get(pk=outcome.report.pk)
    report.outcome = outcome.status
    return (201 if outcome.status == services.CREATED else 200), report


def _batch_body(result: services.BatchResult) -> dict:
    return {
        "created": result.count(services.CREATED),
        "corrected": result.count(services.CORRECTED),
        "unchanged": result.count(services.UNCHANGED),
        "items": [
            {
                "index": o.index,
                "id": o.report.pk,
                "enterprise": o.report.enterprise_id,
                "date": o.report.date.isoformat(),
                "version": o.report.version,
                "outcome": o.status,
                "late": o.report.late,
            }
            for o in result.outcomes
        ],
    }


def _rejection(result: services.BatchResult) -> dict:
    errors: dict[str, list[str]] = {}
    for index, p in result.problems:
        errors.setdefault(f"items.{index}.{p.field}", []).append(p.message)
    rows = len({index for index, _p in result.problems})
    detail = f"{rows} 条日报未通过校验，整批未写入 / {rows} items failed validation; nothing was written"
    return {"detail": detail, "errors": errors}


@router.post(
    "/reports/batch",
    response={200: DailyReportBatchOut, 409: ErrorOut, **WRITE_ERRORS},
    summary="批量提交日报（须带 Idempotency-Key；全部写入或全部不写）",
)
def submit_batch(
    request,
    payload: DailyReportBatchIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    user = request.auth
    key = (idempotency_key or "").strip()
    if not key or len(key) > KEY_MAX:
        raise ValidationError(
            {"Idempotency-Key": [_("须带 Idempotency-Key 请求头（至多 128 个字符） / the Idempotency-Key header "
                                   "is required (at most 128 characters)")]}
        )  # fmt: skip
    items = [item.dict() for item in payload.items]

    def run() -> tuple[int, dict]:
        result = services.submit_batch(user, items, Source.API)
        return (200, _batch_body(result)) if result.applied else (422, _rejection(result))

    try:
        status, body, replayed = services.run_once(user, key, services.request_hash(items), run)
    except services.IdempotencyConflictError:
        return 409, {
            "detail": _(
                "该 Idempotency-Key 已用于内容不同的请求 / this Idempotency-Key was used with a different body"
            )
        }
    if status != 200:
        return status, body
    # The body was built to DailyReportBatchOut's shape (and is what a replay returns): sent as it is,
    # without validating a thousand items again.
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@router.get("/reports", response=list[DailyReportOut], summary="日报列表（当前版本）")
@paginate(PageNumberPagination, **PAGE)
def list_reports(request, filters: Query[DailyReportFilter]):
    qs = filters.filter(_reports().restrict(request.auth, "view"))
    return qs.order_by("-date", "enterprise_id", "pk")


@router.get(
    "/reports/{id}", response={200: DailyReportDetailOut, **READ_ERRORS}, summary="一份日报及其全部版本"
)
def get_report(request, id: int):
    versions = DailyReportVersion.objects.select_related("submitted_by").order_by("version")
    qs = _reports().prefetch_related(Prefetch("versions", queryset=versions))
    return get_scoped(qs, request.auth, id=id)


@router.get("/missing", response=MissingOut, summary="未报企业（按联络员分组）")
def list_missing(request, params: Query[MissingQuery]):
    day = params.date or services.local_today()
    return missing_reports(request.auth, day, prefix=params.region, liaison=params.liaison)
