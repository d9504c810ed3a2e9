"""The REST API (django-ninja): OpenAPI at /api/docs, session or bearer-token auth.

Every error response has the body ``{"detail": "中文 / English", "errors": {field: [message, ...]}}``
(``errors`` only for 422); the handlers below produce it. docs/api.md describes them.
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as ModelValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as RequestValidationError

from gulian.core.api_auth import auth_methods

api = NinjaAPI(
    title="Gulian API",
    version="1",
    description="固链 REST API. Every handler is scoped by restrict(); see docs/api.md.",
    auth=auth_methods(),
    urls_namespace="api",
)


def error(request, status: int, detail: str, errors: dict[str, list[str]] | None = None):
    """The JSON error response every handler returns."""
    body: dict = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


@api.exception_handler(ModelValidationError)
def model_validation_failed(request, exc: ModelValidationError):
    """A service's full_clean() failed: 422, field errors by field name, others under "__all__"."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    return error(request, 422, "数据校验未通过 / validation failed", {k: list(v) for k, v in errors.items()})


@api.exception_handler(RequestValidationError)
def request_validation_failed(request, exc: RequestValidationError):
    """The request did not match the schema: 422 with the field errors."""
    # pydantic errors carry a location like ("body", "payload", "share") or ("query", "page")
    errors: dict[str, list[str]] = {}
    for e in exc.errors:
        loc = [str(part) for part in e.get("loc", ())]
        field = ".".join(loc[2:] if loc[:1] == ["body"] else loc[1:]) or NON_FIELD_ERRORS
        errors.setdefault(field, []).append(e.get("msg", ""))
    return error(request, 422, "请求数据格式错误 / invalid request data", errors)


@api.exception_handler(PermissionDenied)
def out_of_scope(request, exc: PermissionDenied):
    """A write outside the user's scope: 403."""
    # OutOfScope from a service: creating or moving a record outside the user's scope.
    # Records the user cannot see never get here: get_scoped() raises Http404 for them first.
    return error(request, 403, str(exc) or "无权操作 / permission denied")


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    """Missing, or outside the user's scope (the two look the same): 404."""
    return error(request, 404, "未找到 / not found")


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc: AuthenticationError):
    """No usable token or session: 401."""
    return error(
        request, 401, "未登录、令牌无效或账号未审核 / not signed in, invalid token or account not approved"
    )


# Routers register here (one per app).
from gulian.core.api import router as core_router  # noqa: E402
from gulian.registry.api import router as registry_router  # noqa: E402

api.add_router("/", core_router)
api.add_router("/registry/", registry_router)

from gulian.dispatch.api import router as dispatch_router  # noqa: E402
from gulian.dispatch.api_metrics import router as dispatch_metrics_router  # noqa: E402

api.add_router("/dispatch/", dispatch_router)
api.add_router("/dispatch/", dispatch_metrics_router)

from gulian.risk.api import router as risk_router  # noqa: E402

api.add_router("/risk/", risk_router)

from gulian.appeals.api import router as appeals_router  # noqa: E402

api.add_router("/appeals", appeals_router)  # no trailing slash: POST /api/appeals
