"""Open311 GeoReport v2 endpoints under /open311/v2/ (docs/api.md, "Open311 GeoReport v2")."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from gulian.appeals import open311, services
from gulian.appeals.models import OPEN_STATUSES, Appeal, Category, Urgency
from gulian.registry.models import Enterprise

MAX_SPAN = dt.timedelta(days=90)
MAX_RESULTS = 1000


def _reader(request, fmt):
    """(user or None, redacted, error response or None) for a read."""
    user = open311.caller(request)
    if user is open311.INVALID:
        return None, False, open311.errors(fmt, 403, "api_key 无效 / invalid api_key")
    if user is None and not settings.OPEN311_PUBLIC_READ:
        return None, False, open311.errors(fmt, 401, "需要 api_key / an api_key is required")
    return user, user is None, None


@require_GET
def service_list(request, fmt):
    """GET services: one service per appeal category."""
    _user, _redacted, error = _reader(request, fmt)
    if error:
        return error
    return open311.render(fmt, "services", "service", [open311.service(c) for c in Category])


@require_GET
def service_definition(request, code, fmt):
    """GET services/{code}: the attributes a request of that category may carry."""
    _user, _redacted, error = _reader(request, fmt)
    if error:
        return error
    if code not in Category.values:
        return open311.errors(fmt, 404, f"未知的服务代码 / unknown service_code: {code}")
    return open311.render(fmt, "service_definition", "", open311.definition(Category(code)))


def _visible(user):
    qs = Appeal.objects.select_related("enterprise", "department", "handling_region")
    return qs if user is None else qs.restrict(user, "view")


def _parse_when(value, name):
    moment = parse_datetime(value)
    if moment is None:
        raise ValueError(f"{name} 须为 W3C 日期时间 / {name} must be a W3C datetime, e.g. 2020-02-01T00:00:00Z")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_view(request, fmt):
    """GET requests (filtered, scoped) or POST requests (file an appeal with an api_key)."""
    if request.method == "POST":
        return _create(request, fmt)
    user, redacted, error = _reader(request, fmt)
    if error:
        return error
    qs = _visible(user)
    ids = [i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        qs = qs.filter(tracking_number__in=ids)  # overrides every other parameter, as the spec says
    else:
        try:
            end = _parse_when(request.GET["end_date"], "end_date") if request.GET.get("end_date") else None
            start = _parse_when(request.GET["start_date"], "start_date") if request.GET.get("start_date") else None
        except ValueError as e:
            return open311.errors(fmt, 400, str(e))
        if start is None and end is None:
            end = timezone.now()
        if start is None:
            start = end - MAX_SPAN
        if end is None:
            end = start + MAX_SPAN
        if end - start > MAX_SPAN or end < start:
            return open311.errors(fmt, 400, "日期范围不能超过 90 天 / the date range may not exceed 90 days")
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
        codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
        if codes:
            qs = qs.filter(category__in=codes)
        statuses = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            return open311.errors(fmt, 400, "status 只能为 open 或 closed / status must be open or closed")
        if statuses == {"open"}:
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif statuses == {"closed"}:
            qs = qs.exclude(status__in=OPEN_STATUSES)
    items = [open311.request_fields(a, redacted=redacted) for a in qs.order_by("-created_at", "-id")[:MAX_RESULTS]]
    return open311.render(fmt, "service_requests", "request", items)


@require_GET
def request_detail(request, request_id, fmt):
    """GET requests/{id}: one appeal by tracking number, if the caller may see it."""
    user, redacted, error = _reader(request, fmt)
    if error:
        return error
    appeal = _visible(user).filter(tracking_number=request_id).first()
    if appeal is None:
        return open311.errors(fmt, 404, f"未找到 / no such service request: {request_id}")
    return open311.render(fmt, "service_requests", "request", [open311.request_fields(appeal, redacted=redacted)])


@require_GET
def token_lookup(request, token, fmt):
    """GET tokens/{token}: the service_request_id a POST's token was given."""
    user, _redacted, error = _reader(request, fmt)
    if error:
        return error
    qs = Appeal.objects.filter(client_token=token, channel="open311")
    if user is not None:
        qs = qs.restrict(user, "view")
    appeal = qs.first()
    if appeal is None:
        return open311.errors(fmt, 404, f"未知的 token / unknown token: {token}")
    return open311.render(fmt, "service_requests", "request",
                          [{"service_request_id": appeal.tracking_number, "token": token}])


def _create(request, fmt):
    # a key only: this view is CSRF-exempt, so a browser session must never be enough to file
    has_key = request.POST.get("api_key") or request.GET.get("api_key") or request.headers.get("Authorization")
    user = open311.caller(request) if has_key else None
    if user is None:
        return open311.errors(fmt, 403, "提交需要 api_key / an api_key is required to post")
    if user is open311.INVALID:
        return open311.errors(fmt, 403, "api_key 无效 / invalid api_key")
    p = request.POST
    code = p.get("service_code", "").strip()
    if not code:
        return open311.errors(fmt, 400, "缺少 service_code / service_code is required")
    if code not in Category.values:
        return open311.errors(fmt, 404, f"未知的服务代码 / unknown service_code: {code}")
    uscc = p.get("attribute[uscc]", "").strip().upper()
    if uscc:
        enterprise = Enterprise.objects.filter(uscc=uscc).first()
        if enterprise is None:
            return open311.errors(fmt, 400, f"未知的统一社会信用代码 / unknown USCC: {uscc}")
    elif user.enterprise_id:
        enterprise = user.enterprise
    else:
        return open311.errors(fmt, 400, "缺少 attribute[uscc] / attribute[uscc] is required")
    related = []
    for other in filter(None, (u.strip().upper() for u in p.get("attribute[related_uscc]", "").split(","))):
        found = Enterprise.objects.filter(uscc=other).first()
        if found is None:
            return open311.errors(fmt, 400, f"未知的相关企业信用代码 / unknown related USCC: {other}")
        related.append(found)
    urgency = p.get("attribute[urgency]", "").strip() or Urgency.NORMAL
    token = (request.headers.get("Idempotency-Key") or p.get("token") or p.get("client_token") or "").strip()
    token = token[:64] or uuid.uuid4().hex
    try:
        result = services.submit(
            user, enterprise=enterprise, title=p.get("attribute[title]", ""), text=p.get("description", ""),
            category=code, urgency=urgency, related_enterprises=related, client_token=token, channel="open311",
            address=p.get("address_string", ""),
        )
    except PermissionDenied as e:
        return open311.errors(fmt, 403, str(e))
    except ValidationError as e:
        messages = [m for ms in e.message_dict.values() for m in ms] if hasattr(e, "error_dict") else e.messages
        return open311.errors(fmt, 400, "; ".join(messages))
    a = result.appeal
    notice = f"已受理登记，编号 {a.tracking_number} / received as {a.tracking_number}"
    body = [{"service_request_id": a.tracking_number, "token": a.client_token, "service_notice": notice,
             "account_id": None}]
    return open311.render(fmt, "service_requests", "request", body, status=201 if result.created else 200)
