"""The REST API (django-ninja): OpenAPI at /api/docs, session or bearer-token auth."""

from ninja import NinjaAPI

from gulian.core.api_auth import auth_methods

api = NinjaAPI(
    title="Gulian API",
    version="1",
    description="固链 REST API. Every handler is scoped by restrict(); see docs/api.md.",
    auth=auth_methods(),
    urls_namespace="api",
)

# Routers register here (one per app).
from gulian.core.api import router as core_router  # noqa: E402
from gulian.registry.api import router as registry_router  # noqa: E402

api.add_router("/", core_router)
api.add_router("/registry/", registry_router)
